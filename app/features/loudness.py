"""Integrated loudness (ITU-R BS.1770-4) exactly as pyloudnorm's ``Meter`` computes it.

pyloudnorm loops over gating blocks in Python; this computes the same sums from
one cumulative sum, using pyloudnorm's own K-weighting filter coefficients (run as one
cascade of second-order sections: equal up to rounding, in one pass).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyloudnorm
import scipy.signal

BLOCK_S = 0.4
STEP = 0.25
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
CHANNEL_GAINS = (1.0, 1.0, 1.0, 1.41, 1.41)

SILENCE_LUFS = ABSOLUTE_GATE_LUFS
"""Reported for audio with no block above the absolute gate (pyloudnorm says -inf)."""


@lru_cache(maxsize=4)
def _k_weighting_sos(sr: int) -> np.ndarray:
    """pyloudnorm's K-weighting stages at ``sr`` as second-order sections, gains included."""
    stages = list(pyloudnorm.Meter(sr)._filters.values())
    sos = np.vstack([scipy.signal.tf2sos(stage.b, stage.a) for stage in stages])
    sos[0, :3] *= np.prod([stage.passband_gain for stage in stages])
    return sos


CHUNK_SAMPLES = 1 << 20
"""Samples K-weighted at once: bounds memory for long songs (filter state carries over)."""


def _weighted_energy_at(
    samples: np.ndarray, sr: int, bounds: np.ndarray, with_mix: bool = False
) -> np.ndarray:
    """Energy of the K-weighted signal before each sample index in sorted ``bounds``.

    Equals the cumulative sum of the squared K-weighted signal read at ``bounds - 1``
    (0 at index 0), computed chunk by chunk; one row per channel and, with ``with_mix``,
    a last row for the channels' average (K-weighting is linear, so the mix of the weighted
    channels is the weighted mix).
    """
    sos = _k_weighting_sos(sr)
    channels, n = samples.shape
    rows = channels + 1 if with_mix else channels
    state = np.zeros((sos.shape[0], channels, 2))
    energy = np.zeros((rows, bounds.size))
    total = np.zeros(rows)
    for start in range(0, n, CHUNK_SAMPLES):
        chunk = samples[:, start : start + CHUNK_SAMPLES].astype(np.float64)
        weighted, state = scipy.signal.sosfilt(sos, chunk, axis=-1, zi=state)
        if with_mix:
            weighted = np.vstack((weighted, weighted.mean(axis=0)))
        running = np.cumsum(weighted**2, axis=-1)
        running += total[:, None]
        inside = (bounds > start) & (bounds <= start + chunk.shape[1])
        energy[:, inside] = running[:, bounds[inside] - start - 1]
        total = running[:, -1]
    return energy


def integrated_loudness(samples: np.ndarray, sr: int) -> float:
    """Gated integrated loudness in LUFS of ``samples`` with shape (channels, n) or (n,).

    Examples
    --------
    >>> t = np.arange(48000 * 5) / 48000
    >>> round(integrated_loudness(np.sin(2 * np.pi * 997 * t), 48000), 1)
    -3.0
    """
    samples = np.atleast_2d(samples)
    bounds, lower, upper = _blocks(samples.shape[1], sr)
    cumulative = _weighted_energy_at(samples, sr, bounds)
    return _gated_loudness(cumulative[:, upper] - cumulative[:, lower], sr)


def integrated_loudness_and_mix(samples: np.ndarray, sr: int) -> tuple[float, float]:
    """Integrated loudness of all channels of ``samples`` (channels, n), and of their mix.

    The mix is the channels' average (:attr:`app.audio.Audio.mono`), whose loudness the
    timbral models normalise; both come from one K-weighting of the channels (the mix's
    equal to ``integrated_loudness(samples.mean(axis=0), sr)`` up to rounding). For one
    channel both are the same measurement.
    """
    samples = np.atleast_2d(samples)
    if samples.shape[0] == 1:
        loudness = integrated_loudness(samples, sr)
        return loudness, loudness
    bounds, lower, upper = _blocks(samples.shape[1], sr)
    cumulative = _weighted_energy_at(samples, sr, bounds, with_mix=True)
    z = cumulative[:, upper] - cumulative[:, lower]
    return _gated_loudness(z[:-1], sr), _gated_loudness(z[-1:], sr)


def _blocks(n: int, sr: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted unique bounds of the 400-ms gating blocks of ``n`` samples, and each block's
    lower and upper bound as indices into them."""
    n_blocks = int(np.round((n / sr - BLOCK_S) / (BLOCK_S * STEP))) + 1
    j = np.arange(max(n_blocks, 0))
    lower = np.minimum((BLOCK_S * j * STEP * sr).astype(int), n)
    upper = np.minimum((BLOCK_S * (j * STEP + 1) * sr).astype(int), n)
    bounds, where = np.unique(np.concatenate([lower, upper]), return_inverse=True)
    return bounds, where[: j.size], where[j.size :]


def _gated_loudness(energy: np.ndarray, sr: int) -> float:
    """BS.1770 gated loudness from each channel's K-weighted energy per block (channels,
    blocks)."""
    z = energy / (BLOCK_S * sr)
    gains = np.asarray(CHANNEL_GAINS[: z.shape[0]])[:, None]
    with np.errstate(divide="ignore"):
        block_loudness = -0.691 + 10 * np.log10((gains * z).sum(axis=0))
    gated = block_loudness >= ABSOLUTE_GATE_LUFS
    if not gated.any():
        return SILENCE_LUFS
    relative_gate = -0.691 + 10 * np.log10((gains * z[:, gated].mean(axis=1)[:, None]).sum())
    gated &= block_loudness > relative_gate + RELATIVE_GATE_LU
    loudness = -0.691 + 10 * np.log10((gains[:, 0] * z[:, gated].mean(axis=1)).sum())
    return max(float(loudness), SILENCE_LUFS)
