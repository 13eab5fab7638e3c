"""Spectral measures used by the hardness model: spectral centroid, bandwidth, percussive ratio.

Port of ``get_spectral_features``, ``get_bandwidth_array`` and ``get_percussive_audio`` in
``timbral_util`` of the AudioCommons ``timbral_models`` 0.4.0 (Apache-2.0, Andy Pearce,
University of Surrey).

Known deviations: only the options the descriptors use are ported (the centroid on a linear
frequency scale without window; percentile roll-on and no normalisation for the bandwidth).
"""

import librosa
import numba
import numpy as np
import scipy.fft

from app.features.timbre.envelope import rms_envelope


def spectral_centroid(audio: np.ndarray, fs: float, lf_limit: float = 20) -> float | None:
    """Spectral centroid (Hz) of ``audio`` above ``lf_limit`` Hz.

    The magnitude spectrum is one FFT of the whole (unwindowed) segment, zero-padded to a
    power of two. The reference computes its "unitless" centroid alongside, but the hardness
    model uses this one.

    Returns
    -------
    float or None
        None when the segment has no energy.
    """
    n_fft = int(2 ** np.ceil(np.log2(len(audio))))
    spectrum = np.abs(scipy.fft.rfft(audio, n_fft))
    if not np.sum(spectrum) > 0:
        return None
    freq = np.arange(len(spectrum)) * (fs / (2.0 * (len(spectrum) - 1)))
    lowest = int(np.flatnonzero(freq >= lf_limit)[0])
    spectrum, freq = spectrum[lowest:], freq[lowest:]
    return float(np.sum(spectrum * freq) / np.sum(spectrum))


def bandwidth_array(
    audio: np.ndarray,
    fs: float,
    nperseg: int = 512,
    overlap_step: int = 32,
    rolloff_thresh: float = 0.01,
    rollon_thresh_percent: float = 0.05,
    chunk_frames: int = 128,
) -> np.ndarray:
    """Spectral bandwidth of each frame: roll-off minus roll-on frequency (Hz).

    Frames of ``nperseg`` samples every ``overlap_step`` samples, boxcar window, mean removed,
    magnitude spectrum scaled as a density (``scipy.signal.spectrogram(mode='magnitude')``).
    The roll-on is where the cumulative magnitude reaches ``rollon_thresh_percent`` of the
    frame's total, the roll-off the highest bin at or above ``rolloff_thresh``. Frames whose
    total is below 10 % of the range of totals above the quietest frame get 0, as do frames
    with no bin above ``rolloff_thresh``.

    ``chunk_frames`` frames are transformed at a time to bound memory.
    """
    audio = np.asarray(audio, dtype=np.float64)
    frames = np.lib.stride_tricks.sliding_window_view(audio, nperseg)[::overlap_step]
    freq = np.fft.rfftfreq(nperseg, 1.0 / fs)
    scale = np.sqrt(1.0 / (fs * nperseg))

    total = np.empty(len(frames))
    rollon = np.empty(len(frames), dtype=np.intp)
    rolloff = np.empty(len(frames), dtype=np.intp)
    for start in range(0, len(frames), chunk_frames):
        chunk = frames[start : start + chunk_frames]
        # With a boxcar window, removing each frame's mean only zeroes the DC bin.
        mag = np.abs(scipy.fft.rfft(chunk, axis=1))
        mag[:, 0] = 0.0
        mag *= scale
        stop = start + len(chunk)
        total[start:stop] = mag.sum(axis=1)
        rollon_level = total[start:stop] * rollon_thresh_percent
        rollon[start:stop] = _first_cumulative_crossing(mag, rollon_level)
        above = mag >= rolloff_thresh
        # Highest bin at or above the threshold; -1 when there is none.
        rolloff[start:stop] = np.where(
            above.any(axis=1), mag.shape[1] - 1 - np.argmax(above[:, ::-1], axis=1), -1
        )

    min_total = 0.1 * (total.max() - total.min()) + total.min()
    bandwidth = freq[rolloff] - freq[rollon]
    return np.where((total > min_total) & (rolloff >= 0), bandwidth, 0.0)


def _first_cumulative_crossing(
    mag: np.ndarray, threshold: np.ndarray, prefix: int = 128
) -> np.ndarray:
    """Per row, the first index where the cumulative sum of ``mag`` reaches ``threshold``.

    The roll-on normally lies in the lowest bins, so the cumulative sum is taken over a
    ``prefix`` first and over whole rows only where that falls short.
    """
    head = np.cumsum(mag[:, :prefix], axis=1)
    reached = head >= threshold[:, None]
    index = np.argmax(reached, axis=1)
    rest = np.flatnonzero(~reached[:, -1])
    if rest.size:
        full = np.cumsum(mag[rest], axis=1)
        index[rest] = np.argmax(full >= threshold[rest, None], axis=1)
    return index


def percussive_ratio(audio: np.ndarray, stft: np.ndarray | None = None) -> float:
    """Share of percussive level after librosa's default harmonic-percussive separation.

    Equal to ``librosa.decompose.hpss`` (31-bin median filters, soft masks of power 2) on
    ``librosa.stft(audio)``, resynthesis of both parts with ``librosa.istft``, and their RMS over
    1024-sample frames every 512 samples; the ratio is the power-weighted mean of
    ``p / (p + h)`` over frames where either is nonzero, which reduces to
    ``sum(p) / sum(p + h)``.

    The two soft masks sum to one, so the harmonic part is the signal minus the percussive
    part and only the percussive part is resynthesised (equal up to rounding).

    Parameters
    ----------
    audio
        Samples.
    stft
        ``librosa.stft(audio)`` if already computed.
    """
    audio = np.asarray(audio, dtype=np.float64)
    if stft is None:
        stft = librosa.stft(audio)
    magnitude = np.abs(stft)
    harmonic = median_filter(magnitude, 31)
    percussive = median_filter(magnitude.T.copy(), 31).T
    percussive_audio = librosa.istft(stft * _softmask(percussive, harmonic))
    harmonic_audio = audio[: len(percussive_audio)] - percussive_audio
    p = rms_envelope(percussive_audio, 1024, 512, normalise=False)
    h = rms_envelope(harmonic_audio, 1024, 512, normalise=False)
    return float(np.sum(p) / np.sum(p + h))


def _softmask(x: np.ndarray, x_ref: np.ndarray) -> np.ndarray:
    """``librosa.util.softmask(x, x_ref, power=2, split_zeros=True)``."""
    z = np.maximum(x, x_ref)
    bad = z < np.finfo(z.dtype).tiny
    z[bad] = 1.0
    mask = (x / z) ** 2
    mask /= mask + (x_ref / z) ** 2
    mask[bad] = 0.5
    return mask


def median_filter(x: np.ndarray, size: int) -> np.ndarray:
    """Running median of odd ``size`` along the last axis of 2-D ``x``, 'reflect' boundaries.

    Equal to ``scipy.ndimage.median_filter(x, size=(1, size), mode='reflect')``, computed with
    a sorted sliding window per row (order statistics, so no rounding differences).
    """
    return _median_rows(np.ascontiguousarray(x, dtype=np.float64), size // 2)


@numba.njit(cache=True, nogil=True)
def _median_rows(x, half):  # pragma: no cover - compiled
    n_rows, n = x.shape
    width = 2 * half + 1
    out = np.empty_like(x)
    extended = np.empty(n + 2 * half)
    window = np.empty(width)
    for r in range(n_rows):
        for i in range(n + 2 * half):
            # Symmetric extension (d c b a | a b c d | d c b a), repeated for short rows.
            j = i - half
            while j < 0 or j >= n:
                j = -j - 1 if j < 0 else 2 * n - j - 1
            extended[i] = x[r, j]
        # Insertion sort of the first window (plain loops keep compilation quick).
        for i in range(width):
            value = extended[i]
            pos = i
            while pos > 0 and window[pos - 1] > value:
                window[pos] = window[pos - 1]
                pos -= 1
            window[pos] = value
        out[r, 0] = window[half]
        for i in range(1, n):
            old = extended[i - 1]
            new = extended[i - 1 + width]
            lo, hi = 0, width - 1
            while lo < hi:
                mid = (lo + hi) // 2
                if window[mid] < old:
                    lo = mid + 1
                else:
                    hi = mid
            pos = lo
            # Replace the outgoing value and slide the incoming one into sorted order.
            while pos + 1 < width and window[pos + 1] < new:
                window[pos] = window[pos + 1]
                pos += 1
            while pos > 0 and window[pos - 1] > new:
                window[pos] = window[pos - 1]
                pos -= 1
            window[pos] = new
            out[r, i] = window[half]
    return out
