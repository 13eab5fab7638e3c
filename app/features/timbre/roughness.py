"""Apparent roughness: Vassilakis' roughness of spectral peak pairs, averaged over 50-ms frames.

Port of ``Timbral_Roughness`` from the AudioCommons ``timbral_models`` 0.4.0 (Apache-2.0,
Andy Pearce, University of Surrey). Vassilakis, P., "SRA: A web-based research tool for
spectral and roughness analysis of sound signals", SMC 2007; peak picking after MIRtoolbox.

All frames are processed at once: peaks of every frame in one batch, then the roughness of
every pair of peaks within a frame (sums taken in a different order than the reference's).
"""

import numpy as np
import scipy.fft

from app.features.timbre.peaks import detect_peaks_rows

_SLOPE, _INTERCEPT = 13.98779569, 48.97606571545886
_CHUNK = 128  # frames per FFT batch


def frame_spectra(audio: np.ndarray, fs: int) -> tuple[np.ndarray, np.ndarray]:
    """Magnitude spectra (frames x bins) of 50-ms Hamming frames overlapping by half.

    The signal is preceded by 512 zeros and frames are zero-padded to the next power of two.
    """
    audio = np.pad(audio, (512, 0))
    step = int(fs * 0.05)
    half = step / 2
    nfft = 2 ** int(np.log(step) / np.log(2) + 1)
    # The reference allocates this many frames but fills only those that fit in the signal;
    # the remaining all-zero frames still count (as zero roughness) in the mean.
    n_frames = int(len(audio) / (step - half))
    spec = np.zeros((n_frames, nfft // 2 + 1))
    if len(audio) > step:
        window = np.hamming(step + 2)[1:-1]
        starts = (np.arange(n_frames) * half).astype(int)
        starts = starts[starts + step <= len(audio)]
        for first in range(0, len(starts), _CHUNK):
            idx = starts[first : first + _CHUNK, None] + np.arange(step)
            spec[first : first + len(idx)] = np.abs(scipy.fft.rfft(audio[idx] * window, nfft))
    else:
        spec[0] = np.abs(scipy.fft.rfft(audio, nfft))
    return spec, fs / 2 * np.linspace(0, 1, nfft // 2 + 1)


def pair_roughness(
    rows: np.ndarray, freqs: np.ndarray, levels: np.ndarray, n_rows: int
) -> np.ndarray:
    """Sum over each row's peak pairs of Vassilakis' roughness with Plomp's curve.

    Peaks are given grouped by row and, within a row, in descending order of level; a pair
    is a peak and any earlier one in its row (the reference's lower triangle).
    """
    counts = np.bincount(rows, minlength=n_rows)
    row_start = np.cumsum(counts) - counts
    rank = np.arange(len(rows)) - row_start[rows]  # earlier peaks in the same row
    later = np.repeat(np.arange(len(rows)), rank)
    earlier = row_start[rows[later]] + (
        np.arange(len(later)) - np.repeat(np.cumsum(rank) - rank, rank)
    )
    f1, f2 = freqs[later], freqs[earlier]
    v1, v2 = levels[later], levels[earlier]
    s = 0.24 / (0.0207 * np.minimum(f1, f2) + 18.96)
    df = np.abs(f2 - f1)
    plomp = np.exp(-3.51 * s * df) - np.exp(-5.75 * s * df)
    rough = (v1 * v2) ** 0.1 * (0.5 * ((2 * v2) / (v1 + v2)) ** 3.11) * plomp
    return np.bincount(rows[later], weights=rough, minlength=n_rows)


def roughness(audio: np.ndarray, fs: int, peak_threshold: float = 0.01) -> float:
    """Apparent roughness of prepared audio (see :func:`.prepare.prepare`), about 0-100."""
    spec, freq = frame_spectra(audio, fs)
    low, high = np.min(spec), np.max(spec)
    rows, _, levels, positions = detect_peaks_rows(
        (spec - low) / (high - low), freq, peak_threshold, spec
    )
    mean_roughness = np.mean(pair_roughness(rows, positions, levels, len(spec)))
    if mean_roughness < 0.01:
        return 0.0
    return float(np.log10(mean_roughness) * _SLOPE + _INTERCEPT)
