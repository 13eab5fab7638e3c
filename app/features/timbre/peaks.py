"""Peak picking with a contrast threshold, after MIRtoolbox's ``mirpeaks``.

Port of ``timbral_util.detect_peaks`` from the AudioCommons ``timbral_models`` 0.4.0
(Apache-2.0, Andy Pearce, University of Surrey). :func:`detect_peaks_rows` does the same for
every row of a 2-D array at once.

Known deviations, both in cases where the reference raises instead: where candidate maxima
exist but none survives the contrast test this returns no peaks, and a peak whose parabola is
degenerate keeps its sample position.
"""

import numba
import numpy as np

_SENTINEL = -2.0  # below any normalised value: lets the first and last samples be peaks


def detect_peaks(
    array: np.ndarray,
    freq: np.ndarray | None = None,
    cthr: float = 0.2,
    unprocessed_array: np.ndarray | None = None,
    fs: float = 44100,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Find contrasted peaks in ``array`` and refine them by parabolic interpolation.

    Parameters
    ----------
    array
        Values to search, normally scaled to [0, 1]; flattened.
    freq
        Position of each value (e.g. frequency); ``linspace(0, fs / 2, len(array))`` if None.
    cthr
        Minimum height of a peak and minimum dip between two retained peaks.
    unprocessed_array
        Values the peak levels are read from (e.g. the unnormalised spectrum); ``array``
        if None.
    fs
        Sample rate used for the default ``freq``.

    Returns
    -------
    peak_idx, peak_value, peak_x
        Indices into ``array`` sorted by descending height, the interpolated peak values of
        ``unprocessed_array`` and the interpolated positions on ``freq``.
    """
    array = np.asarray(array, dtype=np.float64).reshape(1, -1)
    levels = None if unprocessed_array is None else np.reshape(unprocessed_array, (1, -1))
    _, idx, value, position = detect_peaks_rows(array, freq, cthr, levels, fs)
    return idx, value, position


def detect_peaks_rows(
    arrays: np.ndarray,
    freq: np.ndarray | None = None,
    cthr: float = 0.2,
    unprocessed: np.ndarray | None = None,
    fs: float = 44100,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`detect_peaks` applied to each row of ``arrays`` (n_rows, n).

    Returns
    -------
    row, peak_idx, peak_value, peak_x
        One entry per peak, ordered by row and, within a row, by descending height.
    """
    arrays = np.asarray(arrays, dtype=np.float64)
    n = arrays.shape[1]
    freq = np.linspace(0, fs / 2.0, n) if freq is None else np.asarray(freq, dtype=np.float64)
    levels = arrays if unprocessed is None else np.asarray(unprocessed, dtype=np.float64)

    rows, mx, gaps = _candidate_maxima(arrays, cthr)
    if mx.size == 0:
        empty = np.empty(0)
        return rows, rows, empty, empty

    heights = arrays[rows, mx - 1]

    first = np.flatnonzero(np.diff(rows, prepend=-1))
    stops = np.append(first[1:], len(mx))
    # gaps[t] is the gap before candidate t; _contrasted_rows wants the one after it.
    keep = np.flatnonzero(_contrasted_rows(heights, gaps[1:], first, stops, cthr))
    rows, mx, heights = rows[keep], mx[keep], heights[keep]

    # Within a row by descending height; ties in descending position, as the reference's
    # reversed ascending argsort leaves them.
    order = np.lexsort((-mx, -heights, rows))
    rows, mx = rows[order], mx[order]

    # Parabolic interpolation wherever both neighbours are real samples.
    idx = mx - 1
    inner = (idx > 0) & (idx < n - 1)
    y0 = levels[rows, idx]
    ym = np.where(inner, levels[rows, np.maximum(idx - 1, 0)], y0)
    yp = np.where(inner, levels[rows, np.minimum(idx + 1, n - 1)], y0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(inner, (yp - ym) / (2 * (2 * y0 - yp - ym)), 0.0)
        value = np.where(inner, y0 - 0.25 * (ym - yp) * p, y0)
        f0 = freq[idx]
        f_next = freq[np.minimum(idx + 1, n - 1)]
        f_prev = freq[np.maximum(idx - 1, 0)]
        position = np.where(p >= 0, (1 - p) * f0 + p * f_next, (1 + p) * f0 - p * f_prev)
    position = np.where(inner & np.isfinite(p), position, f0)
    return rows, idx, value, position


@numba.njit(cache=True, nogil=True)
def _candidate_maxima(arrays, cthr):  # pragma: no cover - compiled
    """Local maxima of each row at or above ``cthr``, as the reference finds them.

    With the row padded by :data:`_SENTINEL` on each side, a candidate rises from the value
    before and does not fall to the value after. Returns each candidate's row, its index
    in the padded row, and the lowest padded value from the previous candidate of its row
    up to two before it (the reference's ``min(padded[previous:current - 1])``; meaningless
    for a row's first candidate).
    """
    n_rows, n = arrays.shape
    rows, cols, gaps = [], [], []
    for r in range(n_rows):
        row = arrays[r]
        previous = -1
        for c in range(n):
            value = row[c]
            before = row[c - 1] if c > 0 else _SENTINEL
            after = row[c + 1] if c + 1 < n else _SENTINEL
            if value >= cthr and value - before > 0 and after - value <= 0:
                gap = np.inf
                if previous >= 0:
                    for k in range(previous, c - 1):
                        gap = min(gap, row[k])
                rows.append(r)
                cols.append(c + 1)
                gaps.append(gap)
                previous = c
    return np.array(rows, dtype=np.intp), np.array(cols, dtype=np.intp), np.array(gaps)


@numba.njit(cache=True, nogil=True)
def _contrasted_rows(heights, gaps, first, stops, cthr):  # pragma: no cover - compiled
    """Mark the contrasted candidate maxima of every row (see :func:`_contrasted`)."""
    keep = np.zeros(len(heights), dtype=np.bool_)
    for r in range(len(first)):
        start, stop = first[r], stops[r]
        for i in _contrasted(heights[start:stop], gaps[start : stop - 1], cthr):
            keep[start + i] = True
    return keep


@numba.njit(cache=True, nogil=True)
def _contrasted(heights, gaps, cthr):  # pragma: no cover - compiled
    """Scan one row's candidate maxima and return the positions of the contrasted ones.

    ``gaps[t]`` is the lowest value between candidates ``t`` and ``t + 1``. The reference's
    lowest value before the first candidate and after the last one always include the
    sentinel, so they are the sentinel.
    """
    j = 0
    bufmin = 2.0
    bufmax = heights[0]
    oldbufmin = _SENTINEL
    final = []
    for jj in range(1, len(heights)):
        bufmin = min(bufmin, gaps[jj - 1])
        if bufmax - bufmin < cthr:
            # No contrastive notch: a higher new peak takes over the candidate's place.
            if heights[jj] > bufmax:
                j = jj
                bufmax = heights[jj]
                oldbufmin = min(oldbufmin, bufmin)
                bufmin = 2.0
            elif heights[jj] - bufmax <= 0:
                bufmax = max(bufmax, heights[jj])
                oldbufmin = min(oldbufmin, bufmin)
        else:
            # A contrastive notch: keep the previous candidate unless it is too weak.
            if bufmax - oldbufmin < cthr:
                oldbufmin = min(oldbufmin, bufmin)
            else:
                final.append(j)
                oldbufmin = bufmin
            bufmax = heights[jj]
            j = jj
            bufmin = 2.0
    if bufmax - oldbufmin >= cthr and bufmax - _SENTINEL >= cthr:
        final.append(j)
    return final
