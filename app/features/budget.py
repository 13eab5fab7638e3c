"""The bounded sample of a song that its analysis reads.

The timbral models and the tempo describe a whole song with one value each, and their
cost grows with the audio they read. A song longer than the budget
(:attr:`~app.features.config.FeatureConfig.descriptor_budget_s`) is read through evenly
spaced excerpts that share the budget, so that they describe the whole song, not only its
start, at the cost of the budget's duration whatever the song's length.

The windows the model reads start every ``window_hop_s`` (:func:`window_starts`); a song
with more of them than :attr:`~app.features.config.FeatureConfig.max_windows` (one longer
than a minute) is read through that many windows evenly spread from its start to its end
(:func:`excerpt_starts`), and its frame-level features and embedding are computed only
there. Every song of at most a minute, as every training clip, is read whole.
"""

from __future__ import annotations

import numpy as np

from app.features.config import FeatureConfig
from app.features.stft import n_frames


def descriptor_spans(n_samples: int, config: FeatureConfig) -> list[tuple[int, int]]:
    """Sample ranges ``[start, stop)`` the song-level descriptors read in a song of
    ``n_samples`` samples at ``config.sample_rate``.

    The whole song when it fits the budget; otherwise ``config.descriptor_excerpts``
    excerpts of equal length, together as long as the budget, each centred in one of as
    many equal parts of the song.

    Examples
    --------
    >>> config = FeatureConfig(sample_rate=10, descriptor_budget_s=4.0, descriptor_excerpts=2)
    >>> descriptor_spans(40, config)
    [(0, 40)]
    >>> descriptor_spans(100, config)
    [(15, 35), (65, 85)]
    """
    budget = int(config.descriptor_budget_s * config.sample_rate)
    if n_samples <= budget:
        return [(0, n_samples)]
    count = config.descriptor_excerpts
    length = budget // count
    part = n_samples / count
    starts = [int((k + 0.5) * part - length / 2) for k in range(count)]
    return [(start, start + length) for start in starts]


def n_steps_of(n_samples: int, config: FeatureConfig) -> int:
    """Time steps of a song of ``n_samples`` samples: its STFT frames, ``frames_per_step``
    to a step (a partial step at the end is dropped)."""
    return n_frames(n_samples, config.n_fft, config.hop_length) // config.frames_per_step


def window_starts(n_steps: int, config: FeatureConfig) -> np.ndarray:
    """First step of each window of a song of ``n_steps`` steps read whole: one every
    ``window_hop_s`` while they fit, and one more aligned with the end if the last stops
    short of it."""
    size = config.n_steps
    if n_steps <= size:
        return np.zeros(1, dtype=int)
    hop = round(config.window_hop_s / config.step_s)
    starts = list(range(0, n_steps - size + 1, hop))
    if starts[-1] + size < n_steps:
        starts.append(n_steps - size)
    return np.asarray(starts)


def excerpt_starts(n_samples: int, config: FeatureConfig) -> np.ndarray | None:
    """First step of each window a song of ``n_samples`` samples is read through, or None
    when it is read whole (it has at most ``config.max_windows`` windows).

    A longer song is read through ``max_windows`` windows evenly spread, the first at its
    start and the last at its end, whatever its length.

    Examples
    --------
    >>> config = FeatureConfig()
    >>> excerpt_starts(60 * config.sample_rate, config) is None  # 5 windows
    True
    >>> excerpt_starts(240 * config.sample_rate, config).tolist()  # 23 windows
    [0, 550, 1100, 1650, 2200]
    """
    n_steps = n_steps_of(n_samples, config)
    if len(window_starts(n_steps, config)) <= config.max_windows:
        return None
    last = n_steps - config.n_steps
    return np.round(np.linspace(0, last, config.max_windows)).astype(int)
