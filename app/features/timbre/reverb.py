"""Reverberance: blind RT60 estimate (Laplacian decay model) fed to a logistic classifier.

Port of ``Timbral_Reverb`` from the AudioCommons ``timbral_models`` 0.4.0 (Apache-2.0,
Andy Pearce, University of Surrey). RT estimation: Jan, T. and Wang, W., "Blind reverberation
time estimation based on Laplace distribution", EUSIPCO 2012, after Loellmann et al. (IWAENC
2010).

The estimate does not depend on the signal's scale, so prepared (loudness-normalised) audio
gives the same result as the raw file the reference reads.
"""

import numba
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# Logistic regression fitted by the reference on mean RT60 (s).
_COEFFICIENT = 2.97126461
_INTERCEPT = -1.45082989

_T_MIN, _T_MAX, _T_STEP = 0.2, 1.1, 0.1
_NOS_MIN, _NOS_MAX = 3, 7  # min and max number of sub-frames of a sound decay
_ALPHA = 0.995  # recursive smoothing of the final estimate
_RT_INITIAL = 0.3


class _Params:
    """Frame-wise processing parameters of ``init_rt_estimate_e``."""

    def __init__(self, fs: float):
        no = fs / 24000.0  # corrections for sample rates other than 24 kHz
        self.down = 2 if fs > 8e3 else 1
        self.n_sub = round(no * 700 / self.down)
        self.n_shift = round(no * 200 / self.down)
        self.n = _NOS_MAX * self.n_sub
        self.t_quant = np.arange(_T_MIN, _T_MAX + _T_STEP / 2, _T_STEP)
        self.a = np.exp(-3.0 * np.log(10) / (self.t_quant * (fs / self.down)))
        self.buffer_size = round(no * 800 / self.down)
        self.hist_limits = np.arange(_T_MIN - _T_STEP / 2.0, _T_MAX + _T_STEP, _T_STEP)


def _ml_estimates(d: np.ndarray, starts: np.ndarray, n_len: int, par: _Params) -> np.ndarray:
    """Maximum-likelihood RT of each sound decay ``d[start : start + n_len]`` among the decay
    rates ``par.a``."""
    frames = sliding_window_view(d, n_len)
    inv_powers, log_prior = _rate_tables(par, n_len)
    ml = np.empty(len(starts), dtype=np.intp)
    # A few decays at a time: copying all of them at once would take much memory.
    for first in range(0, len(starts), _ML_ROWS):
        sum1 = np.abs(frames[starts[first : first + _ML_ROWS]]) @ inv_powers
        sigma = (1 / n_len) * sum1
        ll = -n_len * np.log(2) - n_len * np.log(sigma) - log_prior - (1 / sigma) * sum1
        ml[first : first + _ML_ROWS] = np.argmax(ll, axis=1)
    return par.t_quant[ml]


_ML_ROWS = 64
"""Sound decays :func:`_ml_estimates` evaluates at once."""


def _rate_tables(par: _Params, n_len: int) -> tuple[np.ndarray, np.ndarray]:
    """``a ** -n`` (shape (n_len, n_rates)) and the log prior of each decay rate ``a``."""
    n = np.arange(n_len)
    inv_powers = par.a[None, :] ** (-1.0 * n[:, None])
    log_prior = np.array([np.sum(np.log(a**n)) for a in par.a])
    return inv_powers, log_prior


def _frame_rt(audio: np.ndarray, par: _Params) -> np.ndarray:
    """Per-frame ML RT estimate, -1 where the frame does not start with a usable decay.

    A frame is ``par.n`` samples taken every ``par.down`` from a start every ``par.n_shift``;
    it starts with a sound decay when, sub-frame after sub-frame, variance and maximum fall
    while the minimum rises, for at least ``_NOS_MIN`` sub-frames (only the first failure
    ends the test, and a decay lasting all sub-frames yields no estimate, as in the reference).
    """
    block = par.n * par.down
    starts = np.arange(0, len(audio) - block + 1, par.n_shift)
    rt = np.full(len(starts), -1.0)
    for residue in range(par.down):
        # Frames whose start has this residue are contiguous slices of one decimated signal.
        sel = np.flatnonzero(starts % par.down == residue)
        if sel.size == 0:
            continue
        d = audio[residue :: par.down]
        offsets = (starts[sel] - residue) // par.down
        rt[sel] = _decays(d, offsets, par)
    return rt


def _decays(d: np.ndarray, offsets: np.ndarray, par: _Params) -> np.ndarray:
    count, ended = _decay_lengths(np.ascontiguousarray(d, dtype=np.float64), offsets, par.n_sub)
    rt = np.full(len(offsets), -1.0)
    for cnt in range(_NOS_MIN, _NOS_MAX - 1):
        rows = np.flatnonzero(ended & (count == cnt))
        if rows.size:
            rt[rows] = _ml_estimates(d, offsets[rows], cnt * par.n_sub, par)
    return rt


_SPAN_SUBFRAMES = 64
"""Frames whose decays :func:`_decay_lengths` examines together: their sub-frame extrema
(64 sub-frames, with the reach of the last frame) stay in cache."""


@numba.njit(cache=True, nogil=True)
def _decay_lengths(d, offsets, n_sub):  # pragma: no cover - compiled
    # Per frame (sorted offsets): how many sub-frames after the first keep falling, and
    # whether the fall ends within the frame. Sub-frame 0 has n_sub samples; the reference
    # lets every later one overlap the next by a sample, so they have n_sub + 1. Each frame
    # stops at its first failed test, so most read only two sub-frames. Frames overlap
    # heavily, so the extrema of every n_sub-sample stretch are found once, a span at a time.
    span = _SPAN_SUBFRAMES * n_sub
    reach = (_NOS_MAX - 1) * n_sub  # last sub-frame start in a frame, plus one
    high, low = np.empty(span + reach), np.empty(span + reach)
    count = np.zeros(len(offsets), dtype=np.int64)
    ended = np.zeros(len(offsets), dtype=np.bool_)
    f = 0
    while f < len(offsets):
        first = offsets[f]
        _sliding_extrema(d, first, min(first + span + reach, len(d) - n_sub + 1), n_sub, high, low)
        while f < len(offsets) and offsets[f] < first + span:
            at = offsets[f] - first
            max_pre, min_pre = high[at], low[at]
            var_pre = -1.0  # the first sub-frame's variance, computed only where needed
            for m in range(1, _NOS_MAX - 1):
                start = at + m * n_sub
                last = d[first + start + n_sub]
                max_cur, min_cur = max(high[start], last), min(low[start], last)
                falling = max_pre > max_cur and min_pre < min_cur
                if falling:
                    if var_pre < 0:
                        var_pre = _variance(d, offsets[f], n_sub)
                    var_cur = _variance(d, first + start, n_sub + 1)
                    falling = var_pre > var_cur
                if not falling:
                    ended[f] = True
                    break
                count[f] += 1
                max_pre, min_pre, var_pre = max_cur, min_cur, var_cur
            f += 1
    return count, ended


@numba.njit(cache=True, nogil=True)
def _sliding_extrema(d, start, stop, width, high, low):  # pragma: no cover - compiled
    # Max and min of d[i : i + width] for i in [start, stop), into high and low from index 0
    # (van Herk / Gil-Werman): a window starting in one block of ``width`` samples ends in
    # the next, so its extrema are those of the rest of its block (running backwards) and of
    # the start of the next (running forwards). Comparisons rather than max() and min(),
    # which also handle NaN: twice as fast.
    back_max, back_min = np.empty(width), np.empty(width)
    for block in range(start, stop, width):
        size = min(width, stop - block)
        end = block + width - 1
        top = bottom = d[end]
        for k in range(width - 1, -1, -1):
            v = d[block + k]
            top = v if v > top else top
            bottom = v if v < bottom else bottom
            back_max[k], back_min[k] = top, bottom
        top = bottom = d[end]
        for k in range(size):
            v = d[end + k]
            top = v if v > top else top
            bottom = v if v < bottom else bottom
            high[block - start + k] = back_max[k] if back_max[k] > top else top
            low[block - start + k] = back_min[k] if back_min[k] < bottom else bottom


@numba.njit(cache=True, nogil=True, fastmath=True)
def _variance(d, start, length):  # pragma: no cover - compiled
    # As np.var: the mean of squared deviations from the mean (sums vectorised, so in
    # another order than numpy's pairwise ones: equal up to rounding).
    total = 0.0
    for i in range(start, start + length):
        total += d[i]
    mean = total / length
    squares = 0.0
    for i in range(start, start + length):
        deviation = d[i] - mean
        squares += deviation * deviation
    return squares / length


def estimate_rt60(audio: np.ndarray, fs: float) -> float:
    """Mean smoothed blind RT60 estimate (s) over the frames that contain a sound decay."""
    par = _Params(fs)
    if par.n * par.down >= len(audio):
        return float(par.t_quant[0])

    ml = _frame_rt(np.asarray(audio, dtype=np.float64), par)
    # Order statistics over the most recent ML estimates reduce outliers; the final
    # estimate is a recursive smoothing of the histogram's mode.
    bins = np.searchsorted(par.hist_limits, ml, side="left") - 1
    bins = np.maximum(bins, 0)
    smoothed = _smoothed_mode(ml, bins, par.t_quant, par.buffer_size)

    valid = ml > 0
    if not valid.any():
        return float(par.t_quant[0])
    return float(np.mean(smoothed[valid]))


@numba.njit(cache=True, nogil=True)
def _smoothed_mode(ml, bins, t_quant, buffer_size):  # pragma: no cover - compiled
    # After each frame, the recursively smoothed mode of the histogram of the last
    # buffer_size + 1 ML estimates (the reference's FIFO buffer starts full of bin 0, and
    # only removes from the histogram once it has counted more than that many).
    hist = np.zeros(len(t_quant))
    buffer = np.zeros(buffer_size, dtype=np.int64)  # a ring: head is the oldest entry
    head = 0
    hist_counter = 0
    rt_last = rt_raw = _RT_INITIAL
    smoothed = np.empty(len(ml))
    for i in range(len(ml)):
        if ml[i] >= 0:
            hist_counter += 1
            hist[bins[i]] += 1
            if hist_counter > buffer_size + 1:
                hist[buffer[head]] -= 1
            buffer[head] = bins[i]
            head = head + 1 if head + 1 < buffer_size else 0
            rt_raw = t_quant[np.argmax(hist)]
        rt_last = _ALPHA * rt_last + (1 - _ALPHA) * rt_raw
        smoothed[i] = rt_last
    return smoothed


def reverb_probability(audio: np.ndarray, fs: int) -> float:
    """Probability that the audio sounds reverberant."""
    logit = _COEFFICIENT * estimate_rt60(audio, fs) + _INTERCEPT
    return float(np.exp(logit) / (1.0 + np.exp(logit)))


def reverb(audio: np.ndarray, fs: int) -> float:
    """1.0 if prepared audio (see :func:`.prepare.prepare`) sounds reverberant, else 0.0."""
    return 1.0 if reverb_probability(audio, fs) >= 0.5 else 0.0
