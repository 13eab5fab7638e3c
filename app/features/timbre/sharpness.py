"""Apparent sharpness: Fastl's sharpness of the specific loudness, RMS-weighted over windows.

Port of ``Timbral_Sharpness`` from the AudioCommons ``timbral_models`` 0.4.0 (Apache-2.0,
Andy Pearce, University of Surrey; after Claire Churchill's Matlab code).
"""

import numpy as np

from app.features.timbre.loudness_model import windowed_specific_loudness

_COEFFICIENTS = (102.50508921364404, 34.432655185001735)


def _fastl_weights(n: int = 240) -> np.ndarray:
    """Fastl's (1991) weighting g(z), fitted polynomial above 14 Bark, times z and dz."""
    z = np.arange(141, n + 1) / 10.0
    fitted = 0.00012 * z**4 - 0.0056 * z**3 + 0.1 * z**2 - 0.81 * z + 3.5
    gz = np.concatenate((np.ones(140), fitted))
    return gz * np.arange(0.1, n / 10.0 + 0.1, 0.1) * 0.1


def fastl_sharpness(n_single: np.ndarray) -> np.ndarray:
    """Sharpness (acum) of each row of specific loudness (sone/Bark on 0.1-Bark steps)."""
    n_single = np.atleast_2d(n_single)
    weights = _fastl_weights(n_single.shape[-1])
    return 0.11 * np.sum(n_single * weights, axis=-1) / np.sum(n_single * 0.1, axis=-1)


def sharpness(audio: np.ndarray, fs: int) -> float:
    """Apparent sharpness of prepared audio (see :func:`.prepare.prepare`), about 0-100."""
    loud = windowed_specific_loudness(audio, fs)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_window = np.where(loud.n_entire > 0, fastl_sharpness(loud.n_single), 0.0)
    weighted = np.average(per_window, weights=loud.rms * loud.rms)
    return float(_COEFFICIENTS[0] * np.log10(weighted) + _COEFFICIENTS[1])
