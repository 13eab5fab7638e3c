"""Spectral measures used by the hardness model: spectral centroid, bandwidth, percussive ratio.

Port of ``get_spectral_features``, ``get_bandwidth_array`` and ``get_percussive_audio`` in
``timbral_util`` of the AudioCommons ``timbral_models`` 0.4.0 (Apache-2.0, Andy Pearce,
University of Surrey).

Known deviations: only the options the descriptors use are ported (the centroid on a linear
frequency scale without window; percentile roll-on and no normalisation for the bandwidth).
"""

import numba
import numpy as np
import scipy.fft
from scipy.signal import get_window

from app.features.stft import stft
from app.features.timbre.envelope import REFERENCE_RATE, at_rate, rms_envelope


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

    ``chunk_frames`` frames are transformed at a time to bound memory. The density scaling
    makes the magnitudes independent of the rate (for band-limited audio), so the same
    threshold applies at 22.05 kHz with frames and hop halved. Computed in float32.
    """
    audio = np.asarray(audio, dtype=np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(audio, nperseg)[::overlap_step]
    freq = np.fft.rfftfreq(nperseg, 1.0 / fs)
    scale = np.float32(np.sqrt(1.0 / (fs * nperseg)))

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


EXCERPT_S = 1.5
"""Length (s) of each excerpt :func:`percussive_ratio` analyses..."""

EXCERPT_EVERY_S = 9.0
"""...one centred in every this many seconds of the song: a sixth of it. A third of it (every
4.5 s) moved hardness by 0.25 points on average (at most 0.8) from the whole song's ratio;
excerpts three times as long, as far apart, did slightly worse (0.33)."""

CONTEXT_S = 0.25
"""Audio (s) analysed on each side of an excerpt: enough for the median filters (15 frames,
0.17 s, each way), the STFT frames and the resynthesis (23 ms each way) to see the excerpt's
true surroundings, so that its frames equal the whole song's."""


def percussive_ratio(audio: np.ndarray, fs: float = REFERENCE_RATE) -> float:
    """Share of percussive level after librosa's default harmonic-percussive separation.

    At 44.1 kHz, the reference takes ``librosa.decompose.hpss`` (31-bin median filters, soft
    masks of power 2) of ``librosa.stft(audio)``, resynthesises both parts with
    ``librosa.istft``, and measures their RMS over 1024-sample frames every 512 samples; the
    ratio is the power-weighted mean of ``p / (p + h)`` over frames where either is nonzero,
    which reduces to ``sum(p) / sum(p + h)``. At other rates every length is scaled
    (:func:`.at_rate`): the same frame times and bin frequencies, so the median filters span
    the same time and frequency ranges. Computed in float32 (the ratio is a quotient of sums).

    The sums are taken over evenly spaced excerpts covering a sixth of a long song (see
    :data:`EXCERPT_S`), each separated with :data:`CONTEXT_S` of audio around it, where the
    reference takes the whole song; within an excerpt every frame equals the whole song's.
    The two soft masks sum to one, so the harmonic part is the signal minus the percussive
    part and only the percussive part is resynthesised (equal up to rounding).
    """
    audio = np.asarray(audio, dtype=np.float32)
    frame, step = at_rate(1024, fs), at_rate(512, fs)
    context = int(CONTEXT_S * fs) // step * step
    percussive_sum = total_sum = 0.0
    for start, stop in _excerpts(len(audio), fs, step):
        lo, hi = max(start - context, 0), min(stop + context, len(audio))
        percussive = _percussive_part(audio[lo:hi], fs, start - lo, stop - lo)
        p = rms_envelope(percussive, frame, step, normalise=False)
        h = rms_envelope(audio[start:stop] - percussive, frame, step, normalise=False)
        percussive_sum += np.sum(p)
        total_sum += np.sum(p + h)
    return float(percussive_sum / total_sum)


def _excerpts(n: int, fs: float, step: int) -> list[tuple[int, int]]:
    """Sample ranges of the excerpts of an ``n``-sample song, starting on ``step`` multiples.

    One excerpt of :data:`EXCERPT_S` centred in each of the ``n / EXCERPT_EVERY_S`` (rounded)
    equal blocks of the song; the whole song when excerpts and context would cover it.
    """
    n_blocks = max(1, round(n / (EXCERPT_EVERY_S * fs)))
    block = n / n_blocks
    length = int(EXCERPT_S * fs) // step * step
    if length + 2 * CONTEXT_S * fs >= block:
        return [(0, n)]
    starts = [int((k + 0.5) * block - length / 2) // step * step for k in range(n_blocks)]
    return [(start, start + length) for start in starts]


def _percussive_part(audio: np.ndarray, fs: float, start: int, stop: int) -> np.ndarray:
    """The percussive part of ``audio[start:stop]`` after librosa's default HPSS of
    ``audio``, resynthesised.

    The median filters, the masks and the resynthesis run on the frames that overlap
    ``[start, stop)`` only; the time median reads the frames around them as well.
    """
    n_fft, hop = at_rate(2048, fs), at_rate(512, fs)
    spectra = stft(audio, n_fft, hop)
    # Frame t spans samples [t * hop - n_fft / 2, t * hop + n_fft / 2).
    first = max((start - n_fft // 2) // hop + 1, 0)
    last = min(-(-(stop + n_fft // 2) // hop), spectra.shape[1])
    magnitude = np.abs(spectra)
    harmonic = median_filter_columns(magnitude.T, 31, first, last).T
    percussive = median_filter_columns(magnitude[:, first:last], 31)
    mask = _softmask(percussive, harmonic)
    offset = first * hop - n_fft // 2  # where the first frame starts
    return overlap_add(spectra[:, first:last] * mask, hop)[start - offset : stop - offset]


def overlap_add(spectra: np.ndarray, hop: int) -> np.ndarray:
    """Inverse STFT of consecutive frames ``spectra`` (bins, frames) as ``librosa.istft``
    computes it (Hann window, divided by the frames' summed squared windows), from the
    start of the first frame to the end of the last.

    Wherever all the frames of an STFT that overlap a sample are given, the sample equals
    librosa's (up to rounding). ``hop`` must divide the frame length.
    """
    n_fft = 2 * (spectra.shape[0] - 1)
    window = get_window("hann", n_fft, fftbins=True)
    frames = np.fft.irfft(spectra, n=n_fft, axis=0).T * window
    n = spectra.shape[1]
    signal = np.zeros((n - 1) * hop + n_fft)
    envelope = np.zeros(len(signal))
    squares = np.broadcast_to(window * window, frames.shape)
    for k in range(0, n_fft, hop):
        # The k-th hop-long piece of every frame, all at once.
        signal[k : k + n * hop] += frames[:, k : k + hop].reshape(-1)
        envelope[k : k + n * hop] += squares[:, k : k + hop].reshape(-1)
    tiny = np.finfo(np.float32).tiny
    return (signal / np.where(envelope > tiny, envelope, 1.0)).astype(np.float32)


def _softmask(x: np.ndarray, x_ref: np.ndarray) -> np.ndarray:
    """``librosa.util.softmask(x, x_ref, power=2, split_zeros=True)``."""
    z = np.maximum(x, x_ref)
    bad = z < np.finfo(z.dtype).tiny
    z[bad] = 1.0
    mask = (x / z) ** 2
    # Where both are zero this is 0 / 0, replaced just below.
    with np.errstate(invalid="ignore"):
        mask /= mask + (x_ref / z) ** 2
    mask[bad] = 0.5
    return mask


def median_filter_columns(
    x: np.ndarray, size: int, first: int = 0, last: int | None = None
) -> np.ndarray:
    """Running median of odd ``size`` down each column of 2-D ``x``, 'reflect' boundaries.

    Equal to ``scipy.ndimage.median_filter(x, size=(size, 1), mode='reflect')[first:last]``
    (an order statistic, so no rounding differences), in the dtype of ``x`` (float32 or
    float64): only rows ``first`` to ``last`` are filtered.

    Each column keeps its window in a ring buffer and its current median ``m``. Replacing
    one value moves the median by at most one rank, so after each step it is ``m`` itself,
    the smallest value above ``m`` or the largest below, as the counts of values below and
    up to ``m`` tell; all are found in one branch-free pass over the window, for
    :data:`_LANES` adjacent columns at once.
    """
    x = np.asarray(x)
    if x.dtype != np.float32:
        x = x.astype(np.float64)
    n, m = x.shape
    last = n if last is None else last
    padded = np.zeros((n, m + -m % _LANES), dtype=x.dtype)
    padded[:, :m] = x
    return _median_columns(padded, size // 2, first, last)[:, :m]


_LANES = 16
"""Columns whose medians :func:`_median_columns` updates together."""


@numba.njit(cache=True, nogil=True)
def _reflect(j, n):  # pragma: no cover - compiled
    # Symmetric extension (d c b a | a b c d | d c b a), repeated for short columns.
    while j < 0 or j >= n:
        j = -j - 1 if j < 0 else 2 * n - j - 1
    return j


@numba.njit(cache=True, nogil=True, fastmath=True)
def _median_columns(x, half, first, last):  # pragma: no cover - compiled
    n, m = x.shape
    width = 2 * half + 1
    out = np.empty((max(last - first, 0), m), dtype=x.dtype)
    big = np.finfo(x.dtype).max  # finite sentinels: fastmath assumes no infinities
    window = np.empty((width, _LANES), dtype=x.dtype)
    sorted_column = np.empty(width, dtype=x.dtype)
    median = np.empty(_LANES, dtype=x.dtype)
    above = np.empty(_LANES, dtype=x.dtype)
    below = np.empty(_LANES, dtype=x.dtype)
    n_below = np.empty(_LANES, dtype=np.int32)
    n_upto = np.empty(_LANES, dtype=np.int32)
    for c0 in range(0, m, _LANES):
        if last <= first:
            break
        for k in range(width):
            j = _reflect(first + k - half, n)
            for lane in range(_LANES):
                window[k, lane] = x[j, c0 + lane]
        for lane in range(_LANES):
            sorted_column[:] = window[:, lane]
            sorted_column.sort()
            median[lane] = sorted_column[half]
            out[0, c0 + lane] = median[lane]
        oldest = 0  # ring-buffer slot of the value leaving next
        for i in range(first + 1, last):
            j = _reflect(i + half, n)
            for lane in range(_LANES):
                window[oldest, lane] = x[j, c0 + lane]
            oldest = oldest + 1 if oldest + 1 < width else 0
            for lane in range(_LANES):
                n_below[lane] = 0
                n_upto[lane] = 0
                above[lane] = big
                below[lane] = -big
            for k in range(width):
                for lane in range(_LANES):
                    v = window[k, lane]
                    current = median[lane]
                    n_below[lane] += np.int32(v < current)
                    n_upto[lane] += np.int32(v <= current)
                    above[lane] = min(above[lane], v if v > current else big)
                    below[lane] = max(below[lane], v if v < current else -big)
            for lane in range(_LANES):
                if n_upto[lane] <= half:
                    median[lane] = above[lane]
                elif n_below[lane] > half:
                    median[lane] = below[lane]
                out[i - first, c0 + lane] = median[lane]
    return out
