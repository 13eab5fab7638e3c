"""Frame-level spectral features from one shared STFT, pooled into time steps.

Every feature is librosa's own function, fed the same precomputed spectrogram so
that the STFT and the mel filterbank are computed once per song.
"""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np

from app.features.config import FeatureConfig


@dataclass(frozen=True)
class SpectralFeatures:
    """Spectral features of a song, one column per time step.

    Attributes
    ----------
    spectral_centroid, spectral_rolloff : np.ndarray
        Shape (steps,), in Hz.
    mfcc : np.ndarray
        Shape (n_mfcc, steps).
    chroma : np.ndarray
        Shape (n_chroma, steps), each frame normalised to a maximum of 1.
    tempo_bpm : float
        Global tempo estimate of the whole signal.
    """

    spectral_centroid: np.ndarray
    spectral_rolloff: np.ndarray
    mfcc: np.ndarray
    chroma: np.ndarray
    tempo_bpm: float


def spectral_features(y: np.ndarray, config: FeatureConfig) -> SpectralFeatures:
    """Compute the spectral features of mono samples ``y`` at ``config.sample_rate``.

    Examples
    --------
    >>> y = np.sin(2 * np.pi * 440 * np.arange(22050 * 3) / 22050).astype(np.float32)
    >>> round(float(spectral_features(y, FeatureConfig()).spectral_centroid.mean()))
    440
    """
    sr, hop = config.sample_rate, config.hop_length
    magnitude = np.abs(librosa.stft(y, n_fft=config.n_fft, hop_length=hop))
    power = magnitude**2
    log_mel = librosa.power_to_db(librosa.feature.melspectrogram(S=power, sr=sr))
    onset_envelope = librosa.onset.onset_strength(S=log_mel, sr=sr, hop_length=hop)
    tempo = librosa.feature.tempo(onset_envelope=onset_envelope, sr=sr, hop_length=hop)
    frames = SpectralFeatures(
        spectral_centroid=librosa.feature.spectral_centroid(S=magnitude, sr=sr)[0],
        spectral_rolloff=librosa.feature.spectral_rolloff(
            S=magnitude, sr=sr, roll_percent=config.rolloff_percent
        )[0],
        mfcc=librosa.feature.mfcc(S=log_mel, n_mfcc=config.n_mfcc),
        chroma=librosa.feature.chroma_stft(S=power, sr=sr, n_chroma=config.n_chroma),
        tempo_bpm=float(tempo[0]),
    )
    return pool_steps(frames, config.frames_per_step)


def pool_steps(frames: SpectralFeatures, frames_per_step: int) -> SpectralFeatures:
    """Average each run of ``frames_per_step`` frames into one step; a partial tail is dropped."""

    def pool(x: np.ndarray) -> np.ndarray:
        steps = x.shape[-1] // frames_per_step
        blocks = x[..., : steps * frames_per_step].reshape(*x.shape[:-1], steps, frames_per_step)
        return blocks.mean(axis=-1).astype(np.float32)

    return SpectralFeatures(
        spectral_centroid=pool(frames.spectral_centroid),
        spectral_rolloff=pool(frames.spectral_rolloff),
        mfcc=pool(frames.mfcc),
        chroma=pool(frames.chroma),
        tempo_bpm=frames.tempo_bpm,
    )
