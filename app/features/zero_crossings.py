"""Zero crossings per second, the seed's definition."""

import numpy as np


def zero_crossings_per_s(y: np.ndarray, sr: int) -> float:
    """Count sign changes of mono ``y`` per second of audio.

    This is ``np.where(np.diff(np.sign(y)))[0].size / duration``: a step into or out
    of an exact zero counts as a crossing, as in the seed.

    Examples
    --------
    >>> t = np.arange(22050) / 22050
    >>> zero_crossings_per_s(np.sin(2 * np.pi * 100 * t + 0.1), 22050)
    200.0
    """
    signs = np.sign(y)
    return float(np.count_nonzero(signs[1:] != signs[:-1]) / (len(y) / sr))
