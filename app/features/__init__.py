"""The one feature pipeline, shared by the service and the training package.

:func:`extract` turns decoded samples into a :class:`Features` record: song-level
scalars (tempo, loudness, zero crossings, eight timbral descriptors) and 0.1-s time
steps of spectral centroid, rolloff, MFCC and chroma over the whole analysed audio.
:mod:`app.features.windows` cuts those steps into the network's 200-step windows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.errors import SilentAudioError
from app.features.config import DEFAULT_CONFIG, SAMPLE_RATE, FeatureConfig
from app.features.loudness import SILENCE_LUFS, integrated_loudness
from app.features.spectral import spectral_features
from app.features.timbre import Timbre
from app.features.timbre import timbre as timbral_descriptors
from app.features.zero_crossings import zero_crossings_per_s

__all__ = ["DEFAULT_CONFIG", "SAMPLE_RATE", "FeatureConfig", "Features", "Timbre", "extract"]


@dataclass(frozen=True)
class Features:
    """Everything the model reads about one song.

    Attributes
    ----------
    duration_s : float
        Duration of the analysed audio.
    tempo_bpm, loudness_lufs, zero_crossings_per_s : float
        Song-level scalars; loudness is BS.1770 integrated over all channels.
    timbre : Timbre
        The eight AudioCommons timbral descriptors.
    spectral_centroid, spectral_rolloff : np.ndarray
        Shape (steps,), Hz, one value per ``config.step_s`` seconds.
    mfcc, chroma : np.ndarray
        Shapes (n_mfcc, steps) and (n_chroma, steps).
    """

    duration_s: float
    tempo_bpm: float
    loudness_lufs: float
    zero_crossings_per_s: float
    timbre: Timbre
    spectral_centroid: np.ndarray
    spectral_rolloff: np.ndarray
    mfcc: np.ndarray
    chroma: np.ndarray

    @property
    def n_steps(self) -> int:
        """Number of time steps."""
        return self.spectral_centroid.shape[0]


def extract(samples: np.ndarray, config: FeatureConfig = DEFAULT_CONFIG) -> Features:
    """Compute all features of ``samples``, shape (channels, n) at ``config.sample_rate``.

    Loudness is measured on all channels (as BS.1770 defines it); every other feature
    on their average.

    Raises
    ------
    SilentAudioError
        If no part of the audio is louder than BS.1770's absolute gate (-70 LUFS).

    Examples
    --------
    >>> from app.audio import decode
    >>> features = extract(decode("song.mp3").samples)  # doctest: +SKIP
    """
    samples = np.atleast_2d(samples)
    sr = config.sample_rate
    mono = samples[0] if samples.shape[0] == 1 else samples.mean(axis=0)
    loudness = integrated_loudness(samples, sr)
    if loudness <= SILENCE_LUFS:
        raise SilentAudioError("the audio is silent (below -70 LUFS throughout)")
    spectral = spectral_features(mono, config)
    return Features(
        duration_s=mono.shape[0] / sr,
        tempo_bpm=spectral.tempo_bpm,
        loudness_lufs=loudness,
        zero_crossings_per_s=zero_crossings_per_s(mono, sr),
        timbre=timbral_descriptors(mono, sr, loudness_lufs=loudness),
        spectral_centroid=spectral.spectral_centroid,
        spectral_rolloff=spectral.spectral_rolloff,
        mfcc=spectral.mfcc,
        chroma=spectral.chroma,
    )
