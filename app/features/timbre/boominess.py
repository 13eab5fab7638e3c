"""Apparent boominess: Hatano & Hashimoto's booming index with a low-band loudness term.

Port of ``Timbral_Booming`` from the AudioCommons ``timbral_models`` 0.4.0 (Apache-2.0,
Andy Pearce, University of Surrey). Booming index: Hatano, S. and Hashimoto, T., "Booming
index as a measure for evaluating booming sensation", Inter-Noise 2000.
"""

import numpy as np

from app.features.timbre.bark import weighted_bark_level
from app.features.timbre.loudness_model import windowed_specific_loudness

_COEFFICIENTS = (43.67402696195865, -10.90054738389845, 26.836530575185435)
# fmt: off
_THIRD_OCTAVES = [25, 31.5, 40, 50, 63, 80, 100, 125, 160, 200, 250, 315, 400, 500, 630, 800,
                  1000, 1250, 1600, 2000, 2500, 3150, 4000, 5000, 6300, 8000, 10000, 12500]
# fmt: on


def _index_weights() -> tuple[np.ndarray, int]:
    """Weighting over 0.1..24 Bark and the first Bark step at or above 280 Hz."""
    z = np.arange(0.1, 24.05, 0.1)
    f = 600 * np.sinh(z / 6.0)
    log_fr = np.log10(_THIRD_OCTAVES)
    # Position of each Bark step on the (1-based) third-octave band index scale.
    band_index = (np.log10(f) - log_fr[0]) / float(log_fr[1] - log_fr[0]) + 1
    weights = 2.13 * np.exp(-0.151 * band_index)
    weights[:4] = [0.8, 1.05, 1.10, 1.18]  # the reference's low-frequency roll-off
    return weights, int(np.flatnonzero(f >= 280)[0])


_WEIGHTS, _BELOW_280 = _index_weights()


def booming_index(n_single: np.ndarray) -> np.ndarray:
    """Booming index of each row of specific loudness (sone/Bark on 0.1-Bark steps)."""
    n_single = np.atleast_2d(n_single)
    band_sum = 10 * np.log10(np.sum(10 ** (n_single * _WEIGHTS / 10.0), axis=-1))
    return band_sum * (np.sum(n_single[:, :_BELOW_280], axis=-1) / np.sum(n_single, axis=-1))


def boominess(audio: np.ndarray, fs: int) -> float:
    """Apparent boominess of prepared audio (see :func:`.prepare.prepare`), about 0-100."""
    loud = windowed_specific_loudness(audio, fs)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_window = np.where(loud.n_entire > 0, booming_index(loud.n_single), 0.0)
    boom = np.log10(np.average(per_window, weights=loud.rms * loud.rms))
    low_level = np.log10(weighted_bark_level(audio, fs, 0, 70)[0])
    return float(_COEFFICIENTS[0] * boom + _COEFFICIENTS[1] * low_level + _COEFFICIENTS[2])
