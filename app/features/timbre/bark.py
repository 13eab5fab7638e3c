"""Specific loudness weighted over a region of the Bark scale.

Port of ``normal_dist`` and ``weighted_bark_level`` in ``timbral_util`` of the AudioCommons
``timbral_models`` 0.4.0 (Apache-2.0, Andy Pearce, University of Surrey).
"""

import numpy as np

from app.features.timbre.loudness_model import windowed_specific_loudness

N_BARK_STEPS = 240
"""Specific loudness is sampled every 0.1 Bark from 0.1 to 24 Bark."""


def bark_weights(low_bark_band: int = 0, upper_bark_band: int = N_BARK_STEPS) -> np.ndarray:
    """Bell-shaped weights over the 0.1-Bark steps ``low_bark_band:upper_bark_band``, 0 elsewhere.

    The reference's ``normal_dist(theta=0.01)`` scaled to span [0, 1] over the region; with
    its operator precedence the exponent is ``-(x - mean)**2 / 2 * theta**2``.
    """
    steps = np.arange(low_bark_band, upper_bark_band)
    theta = 0.01
    mean = (low_bark_band + upper_bark_band) / 2.0
    bell = (1.0 / (theta * np.sqrt(2.0 * np.pi))) * np.exp(
        (-1.0 * ((steps - mean) ** 2.0)) / 2.0 * (theta**2.0)
    )
    bell -= bell.min()
    bell /= bell.max()
    weights = np.zeros(N_BARK_STEPS)
    weights[low_bark_band:upper_bark_band] = bell
    return weights


def weighted_bark_level(
    audio: np.ndarray, fs: float, low_bark_band: int = 0, upper_bark_band: int = N_BARK_STEPS
) -> tuple[float, float]:
    """Weighted specific loudness of each 4096-sample window, averaged over the windows.

    Parameters
    ----------
    audio
        Prepared samples (see :func:`.prepare.prepare`); the windowed specific loudness of a
        read-only array is shared with the other descriptors.
    fs
        Sample rate in Hz.
    low_bark_band, upper_bark_band
        Region of the 240 0.1-Bark steps to weight (see :func:`bark_weights`).

    Returns
    -------
    mean_level, rms_weighted_level
        Plain mean over the windows and mean weighted by each window's RMS.
    """
    loudness = windowed_specific_loudness(audio, fs)
    per_window = loudness.n_single @ bark_weights(low_bark_band, upper_bark_band)
    return float(np.mean(per_window)), float(np.average(per_window, weights=loudness.rms))
