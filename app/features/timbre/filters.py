"""Butterworth filters as the timbral descriptors apply them (direct form, zero initial state).

Port of the filter helpers in ``timbral_util`` of the AudioCommons ``timbral_models`` 0.4.0
(Apache-2.0, Andy Pearce, University of Surrey).
"""

import numpy as np
from scipy.signal import butter, sosfilt, sosfreqz

from app.features.timbre.memo import PerSignal


def cascade(
    audio: np.ndarray, crossover: float, fs: float, btype: str, times: int = 3, order: int = 2
) -> np.ndarray:
    """Apply the same Butterworth filter ``times`` times in series, in one pass.

    The reference filters three times in a row with ``lfilter``; running the repeated
    second-order sections through ``sosfilt`` computes the same cascade in a single pass
    (results agree to rounding). The result for a read-only ``audio`` (as
    :func:`.prepare.half_rate` returns) is read-only and remembered while ``audio`` lives:
    depth and brightness high-pass the same audio at the same 20 Hz.
    """
    sos = butter(order, crossover / (0.5 * fs), btype, output="sos")
    key = (float(crossover), float(fs), btype, times, order)
    return _filtered.get(audio, key, lambda: sosfilt(np.tile(sos, (times, 1)), audio))


_filtered: PerSignal[np.ndarray] = PerSignal()


def cascade_power_response(
    freqs: np.ndarray, crossover: float, fs: float, btype: str, times: int = 3, order: int = 2
) -> np.ndarray:
    """Power gain of :func:`cascade` at ``freqs`` (Hz).

    Multiplying a power spectrogram by it stands in for filtering the signal first, where
    frames are long next to the filter's impulse response.
    """
    sos = butter(order, crossover / (0.5 * fs), btype, output="sos")
    _, response = sosfreqz(np.tile(sos, (times, 1)), worN=freqs, fs=fs)
    return np.abs(response) ** 2
