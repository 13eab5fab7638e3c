"""The bounded sample of a song that its song-level descriptors read.

The timbral models and the tempo describe a whole song with one value each, and their
cost grows with the audio they read. A song longer than the budget
(:attr:`~app.features.config.FeatureConfig.descriptor_budget_s`) is read through evenly
spaced excerpts that share the budget, so that they describe the whole song, not only its
start, at the cost of the budget's duration whatever the song's length.
"""

from __future__ import annotations

from app.features.config import FeatureConfig


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
