"""Apparent roughness: Vassilakis' roughness of spectral peak pairs, averaged over 50-ms frames.

Port of ``Timbral_Roughness`` from the AudioCommons ``timbral_models`` 0.4.0 (Apache-2.0,
Andy Pearce, University of Surrey). Vassilakis, P., "SRA: A web-based research tool for
spectral and roughness analysis of sound signals", SMC 2007; peak picking after MIRtoolbox.

All frames are processed at once: peaks of every frame in one batch, then the roughness of
every pair of peaks within a frame (sums taken in a different order than the reference's).
The frames come from :func:`.prepare.half_rate` audio: 50-ms frames at half the rate, on the
same frequency bins (the Hamming window leaks little into the empty octave above 11 kHz,
where the reference finds no peaks).
"""

import numpy as np
import scipy.fft

from app.features.timbre.envelope import REFERENCE_RATE, at_rate
from app.features.timbre.peaks import detect_peaks_rows
from app.features.timbre.prepare import half_rate

_SLOPE, _INTERCEPT = 13.98779569, 48.97606571545886
_CHUNK = 128  # frames per FFT batch

FRAME_STRIDE = 4
"""Only every this many-th of the reference's frames (which overlap by half) is analysed: one
50-ms frame every 100 ms. Roughness is the mean over frames, so a regular sample of them
estimates it; over the reference clips this moves roughness by 0.53 points on average (at
most 1.65)."""


def frame_spectra(audio: np.ndarray, fs: int) -> tuple[np.ndarray, np.ndarray]:
    """Magnitude spectra (frames x bins) of every :data:`FRAME_STRIDE`-th 50-ms Hamming frame
    of the reference's, which overlap by half.

    The signal is preceded by 512 zeros (at 44.1 kHz) and frames are zero-padded to the
    reference's next power of two (so bins fall on the same frequencies). Magnitudes are
    scaled to what the reference's 44.1-kHz frames give for the same band-limited audio (its
    frames hold twice the samples at 22.05 kHz): the roughness of a pair grows with the 0.1th
    power of its levels.
    """
    audio = np.pad(audio, (at_rate(512, fs), 0))
    # Frame lengths and starts are the reference's at 44.1 kHz, scaled to this rate: the
    # spectra are normalised by their global maximum, which depends on where frames fall.
    ref_step = int(REFERENCE_RATE * 0.05)
    half = ref_step / 2
    step = at_rate(ref_step, fs)
    nfft = at_rate(2 ** int(np.log2(ref_step) + 1), fs)
    # The reference allocates this many frames but fills only those that fit in the signal;
    # the remaining all-zero frames still count (as zero roughness) in the mean.
    n_frames = int(round(len(audio) * REFERENCE_RATE / fs) / (ref_step - half))
    spec = np.zeros((len(range(0, n_frames, FRAME_STRIDE)), nfft // 2 + 1))
    if len(audio) > step:
        window = np.hamming(step + 2)[1:-1] * (ref_step / step)
        frames = np.arange(0, n_frames, FRAME_STRIDE)
        starts = np.round((frames * half).astype(int) * (fs / REFERENCE_RATE)).astype(int)
        starts = starts[starts + step <= len(audio)]
        for first in range(0, len(starts), _CHUNK):
            idx = starts[first : first + _CHUNK, None] + np.arange(step)
            spec[first : first + len(idx)] = np.abs(scipy.fft.rfft(audio[idx] * window, nfft))
    else:
        spec[0] = np.abs(scipy.fft.rfft(audio, nfft)) * (REFERENCE_RATE / fs)
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
    spec, freq = frame_spectra(*half_rate(audio, fs))
    low, high = np.min(spec), np.max(spec)
    rows, _, levels, positions = detect_peaks_rows(
        (spec - low) / (high - low), freq, peak_threshold, spec
    )
    mean_roughness = np.mean(pair_roughness(rows, positions, levels, len(spec)))
    if mean_roughness < 0.01:
        return 0.0
    return float(np.log10(mean_roughness) * _SLOPE + _INTERCEPT)
