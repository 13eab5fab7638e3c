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


def _ml_estimates(frames: np.ndarray, par: _Params) -> np.ndarray:
    """Maximum-likelihood RT of each row (a sound decay) among the decay rates ``par.a``."""
    n_len = frames.shape[1]
    n = np.arange(n_len)
    inv_powers = par.a[None, :] ** (-1.0 * n[:, None])  # a ** -n, shape (n_len, n_rates)
    sum1 = np.abs(frames) @ inv_powers
    sigma = (1 / n_len) * sum1
    log_prior = np.array([np.sum(np.log(a**n)) for a in par.a])
    ll = -n_len * np.log(2) - n_len * np.log(sigma) - log_prior - (1 / sigma) * sum1
    return par.t_quant[np.argmax(ll, axis=1)]


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
            length = cnt * par.n_sub
            rt[rows] = _ml_estimates(sliding_window_view(d, length)[offsets[rows]], par)
    return rt


@numba.njit(cache=True, nogil=True)
def _decay_lengths(d, offsets, n_sub):  # pragma: no cover - compiled
    # Per frame: how many sub-frames after the first keep falling, and whether the fall ends
    # within the frame. Sub-frame 0 has n_sub samples; the reference lets every later one
    # overlap the next by a sample, so they have n_sub + 1. Each frame stops at its first
    # failed test, so most read only two sub-frames.
    count = np.zeros(len(offsets), dtype=np.int64)
    ended = np.zeros(len(offsets), dtype=np.bool_)
    for f in range(len(offsets)):
        max_pre, min_pre = _extrema(d, offsets[f], n_sub)
        var_pre = -1.0  # the first sub-frame's variance, computed only where needed
        for m in range(1, _NOS_MAX - 1):
            start = offsets[f] + m * n_sub
            max_cur, min_cur = _extrema(d, start, n_sub + 1)
            falling = max_pre > max_cur and min_pre < min_cur
            if falling:
                if var_pre < 0:
                    var_pre = _variance(d, offsets[f], n_sub)
                var_cur = _variance(d, start, n_sub + 1)
                falling = var_pre > var_cur
            if not falling:
                ended[f] = True
                break
            count[f] += 1
            max_pre, min_pre, var_pre = max_cur, min_cur, var_cur
    return count, ended


@numba.njit(cache=True, nogil=True)
def _extrema(d, start, length):  # pragma: no cover - compiled
    high = d[start]
    low = d[start]
    for i in range(start + 1, start + length):
        high = max(high, d[i])
        low = min(low, d[i])
    return high, low


@numba.njit(cache=True, nogil=True)
def _variance(d, start, length):  # pragma: no cover - compiled
    # As np.var: the mean of squared deviations from the mean.
    total = 0.0
    for i in range(start, start + length):
        total += d[i]
    mean = total / length
    squares = 0.0
    for i in range(start, start + length):
        squares += (d[i] - mean) ** 2
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
    hist = np.zeros(len(par.t_quant))
    buffer = [0] * par.buffer_size
    hist_counter = 0
    rt_last = rt_raw = _RT_INITIAL
    t_quant = par.t_quant.tolist()
    smoothed = np.empty(len(ml))
    for i, rt_ml in enumerate(ml.tolist()):
        if rt_ml >= 0:
            hist_counter += 1
            index = int(bins[i])
            hist[index] += 1
            if hist_counter > par.buffer_size + 1:
                hist[buffer[0]] -= 1
            buffer.pop(0)
            buffer.append(index)
            rt_raw = t_quant[int(np.argmax(hist))]
        rt_last = _ALPHA * rt_last + (1 - _ALPHA) * rt_raw
        smoothed[i] = rt_last

    valid = ml > 0
    if not valid.any():
        return float(par.t_quant[0])
    return float(np.mean(smoothed[valid]))


def reverb_probability(audio: np.ndarray, fs: int) -> float:
    """Probability that the audio sounds reverberant."""
    logit = _COEFFICIENT * estimate_rt60(audio, fs) + _INTERCEPT
    return float(np.exp(logit) / (1.0 + np.exp(logit)))


def reverb(audio: np.ndarray, fs: int) -> float:
    """1.0 if prepared audio (see :func:`.prepare.prepare`) sounds reverberant, else 0.0."""
    return 1.0 if reverb_probability(audio, fs) >= 0.5 else 0.0
