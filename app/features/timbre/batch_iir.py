"""IIR filters run on many equal-length signals at once, one per column.

``scipy.signal.lfilter(b, a, x, axis=0)`` on many columns filters each column in turn, each
a serial recurrence. Here every step of the recurrence (direct form II transposed, as
``lfilter``) advances a block of columns together, so the inner loops run over contiguous
values and vectorise (4x faster than ``lfilter``; equal up to rounding). The
specific-loudness filterbank filters hundreds of 4096-sample windows this way, each from a
zero state.
"""

import numba
import numpy as np

_BLOCK = 64
"""Columns filtered together: their filter state stays in the L1 cache."""


def band_power(x: np.ndarray, b: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum of squares and positive peak of each column of ``lfilter(b, a, x, axis=0)``.

    Parameters
    ----------
    x
        Signals, shape (n_samples, n_signals), float64.
    b, a
        Filter coefficients.

    Returns
    -------
    power, peak
        Shape (n_signals,) each; ``peak`` is the largest filtered value, or 0 if none is
        positive. The filtered signals themselves are not kept.
    """
    power, peak, _ = _filter_blocks(np.ascontiguousarray(x), *_normalised(b, a), 0)
    return power, peak


def filter_decimate(x: np.ndarray, b: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``lfilter(b, a, x, axis=0)[1::2]``: filter each column, keep every odd sample."""
    return _filter_blocks(np.ascontiguousarray(x), *_normalised(b, a), 2)[2]


def as_columns(rows: np.ndarray) -> np.ndarray:
    """``np.ascontiguousarray(rows.T)`` for 2-D float64 ``rows``: each row becomes a
    column, the layout the filters here take. Transposed tile by tile, which keeps both
    arrays' cache lines in use (twice as fast as numpy's transposing copy)."""
    return _transpose(np.ascontiguousarray(rows, dtype=np.float64))


@numba.njit(cache=True, nogil=True)
def _transpose(x):  # pragma: no cover - compiled
    n, m = x.shape
    out = np.empty((m, n))
    for i0 in range(0, n, _TILE):
        for j0 in range(0, m, _TILE):
            for i in range(i0, min(i0 + _TILE, n)):
                for j in range(j0, min(j0 + _TILE, m)):
                    out[j, i] = x[i, j]
    return out


_TILE = 64


def _normalised(b: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients padded to one length and scaled so that ``a[0] == 1``."""
    order = max(len(a), len(b))
    b_full = np.zeros(order)
    a_full = np.zeros(order)
    b_full[: len(b)] = b
    a_full[: len(a)] = a
    return b_full / a_full[0], a_full / a_full[0]


@numba.njit(cache=True, nogil=True, fastmath=True)
def _filter_blocks(x, b, a, keep_every):  # pragma: no cover - compiled
    # Direct form II transposed, a block of columns at a time: for each sample,
    # y = b0 x + z0 and z_i = b_(i+1) x + z_(i+1) - a_(i+1) y, each a loop over the block.
    # Returns the sum of squares and positive peak of each column and, if keep_every > 0,
    # every keep_every-th output sample from sample keep_every - 1 on.
    n, w = x.shape
    order = len(a) - 1
    power = np.zeros(w)
    peak = np.zeros(w)
    out = np.empty((n // keep_every if keep_every > 0 else 0, w))
    z = np.empty((order, _BLOCK))
    y = np.empty(_BLOCK)
    for start in range(0, w, _BLOCK):
        m = min(_BLOCK, w - start)
        z[:] = 0.0
        for t in range(n):
            x_t = x[t, start : start + m]
            for j in range(m):
                y[j] = b[0] * x_t[j] + z[0, j]
            for i in range(order - 1):
                if b[i + 1] != 0.0:
                    for j in range(m):
                        z[i, j] = b[i + 1] * x_t[j] + z[i + 1, j] - a[i + 1] * y[j]
                else:  # band-pass numerators are zero at every other power
                    for j in range(m):
                        z[i, j] = z[i + 1, j] - a[i + 1] * y[j]
            for j in range(m):
                z[order - 1, j] = b[order] * x_t[j] - a[order] * y[j]
            if keep_every > 0:
                if t % keep_every == keep_every - 1:
                    out[t // keep_every, start : start + m] = y[:m]
            else:
                for j in range(m):
                    power[start + j] += y[j] * y[j]
                    peak[start + j] = max(peak[start + j], y[j])
    return power, peak, out
