"""Frame-level spectral features from one shared STFT, pooled into time steps.

Each feature is librosa's definition computed from one STFT of the song: the
spectrogram, the mel and chroma filterbanks are built once and shared, where
calling each ``librosa.feature`` function on the signal would recompute them.
``tests/features/test_spectral.py`` checks equality with librosa's own functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import librosa
import numba
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


CHUNK_FRAMES = 3000
"""Frames transformed at once (60 s with the default hop): bounds memory for long songs.
Chunks are cut on frame boundaries, so every frame equals the whole-song STFT's."""


@lru_cache(maxsize=4)
def _filterbanks(config: FeatureConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bin frequencies, mel filterbank and chroma filterbank for ``config``."""
    sr, n_fft = config.sample_rate, config.n_fft
    return (
        librosa.fft_frequencies(sr=sr, n_fft=n_fft).astype(np.float32),
        librosa.filters.mel(sr=sr, n_fft=n_fft),
        librosa.filters.chroma(
            sr=sr, n_fft=n_fft, n_chroma=config.n_chroma, tuning=config.chroma_tuning
        ),
    )


def spectral_features(y: np.ndarray, config: FeatureConfig) -> SpectralFeatures:
    """Compute the spectral features of mono samples ``y`` at ``config.sample_rate``.

    Examples
    --------
    >>> y = np.sin(2 * np.pi * 440 * np.arange(22050 * 3) / 22050).astype(np.float32)
    >>> round(float(spectral_features(y, FeatureConfig()).spectral_centroid.mean()))
    440
    """
    sr, hop, n_fft = config.sample_rate, config.hop_length, config.n_fft
    freqs, mel_basis, chroma_basis = _filterbanks(config)
    n_frames = 1 + y.shape[0] // hop
    parts: dict[str, list[np.ndarray]] = {"centroid": [], "rolloff": [], "chroma": [], "mel": []}
    for first in range(0, n_frames, CHUNK_FRAMES):
        last = min(first + CHUNK_FRAMES, n_frames)
        segment = _centred_segment(y, first * hop, (last - 1) * hop, n_fft)
        magnitude = np.abs(librosa.stft(segment, n_fft=n_fft, hop_length=hop, center=False))
        power = magnitude**2
        parts["centroid"].append(centroid(magnitude, freqs))
        parts["rolloff"].append(rolloff(magnitude, freqs, config.rolloff_percent))
        parts["chroma"].append(librosa.util.normalize(chroma_basis @ power, norm=np.inf, axis=0))
        parts["mel"].append(mel_basis @ power)
    # The decibel floor is relative to the loudest frame of the whole song, as in librosa.
    log_mel = librosa.power_to_db(np.concatenate(parts["mel"], axis=1))
    onset_envelope = librosa.onset.onset_strength(S=log_mel, sr=sr, hop_length=hop)
    frames = SpectralFeatures(
        spectral_centroid=np.concatenate(parts["centroid"]),
        spectral_rolloff=np.concatenate(parts["rolloff"]),
        mfcc=librosa.feature.mfcc(S=log_mel, n_mfcc=config.n_mfcc),
        chroma=np.concatenate(parts["chroma"], axis=1),
        tempo_bpm=tempo(onset_envelope, sr, hop),
    )
    return pool_steps(frames, config.frames_per_step)


def _centred_segment(y: np.ndarray, first: int, last: int, n_fft: int) -> np.ndarray:
    """Samples of the frames centred on ``first`` to ``last``, zero-padded past the ends
    as ``librosa.stft(center=True)`` pads, without copying the whole signal."""
    half = n_fft // 2
    start, stop = first - half, last + half
    inner = y[max(start, 0) : min(stop, y.shape[0])]
    if start >= 0 and stop <= y.shape[0]:
        return inner
    return np.pad(inner, (max(-start, 0), max(stop - y.shape[0], 0)))


def tempo(onset_envelope: np.ndarray, sr: int, hop_length: int) -> float:
    """``librosa.feature.tempo`` of an onset envelope, in bounded memory.

    librosa averages an autocorrelation tempogram (8-s windows, one per onset frame)
    over the whole song: 0.5 GB for a 10-minute song. The same columns are summed
    here in chunks; librosa then applies its tempo prior to the mean, as it would.
    """
    win = librosa.time_to_frames(8.0, sr=sr, hop_length=hop_length).item()
    n = onset_envelope.shape[-1]
    # librosa's centring of the tempogram: column t reads padded[t : t + win].
    padded = np.pad(onset_envelope, win // 2, mode="linear_ramp", end_values=0)
    total = np.zeros(win)
    for first in range(0, n, CHUNK_FRAMES):
        last = min(first + CHUNK_FRAMES, n)
        columns = librosa.feature.tempogram(
            onset_envelope=padded[first : last + win - 1], win_length=win, center=False
        )
        total += columns.sum(axis=-1)
    mean = (total / n)[:, None]
    return float(librosa.feature.tempo(tg=mean, sr=sr, hop_length=hop_length, aggregate=None)[0])


def centroid(magnitude: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """``librosa.feature.spectral_centroid``: the magnitude-weighted mean frequency per frame."""
    total = magnitude.sum(axis=0)
    return (freqs @ magnitude) / np.where(total > 0, total, np.finfo(np.float32).tiny)


def rolloff(magnitude: np.ndarray, freqs: np.ndarray, percent: float) -> np.ndarray:
    """``librosa.feature.spectral_rolloff``: the lowest bin frequency holding ``percent`` of
    the frame's magnitude.

    librosa takes the cumulative sum over bins of every frame; the same running sums (same
    order, same dtype, so the same values) are accumulated here without storing them.
    """
    magnitude = np.ascontiguousarray(magnitude)
    threshold = _running_total(magnitude) * magnitude.dtype.type(percent)
    return freqs[_first_reaching(magnitude, threshold)]


@numba.njit(cache=True, nogil=True)
def _running_total(x):  # pragma: no cover - compiled
    # Column sums added row after row, as np.cumsum(x, axis=0)[-1] adds them.
    total = np.zeros(x.shape[1], dtype=x.dtype)
    for row in range(x.shape[0]):
        for col in range(x.shape[1]):
            total[col] += x[row, col]
    return total


@numba.njit(cache=True, nogil=True)
def _first_reaching(x, threshold):  # pragma: no cover - compiled
    # Per column, the first row where the running sum reaches the threshold.
    running = np.zeros(x.shape[1], dtype=x.dtype)
    first = np.full(x.shape[1], -1, dtype=np.int64)
    for row in range(x.shape[0]):
        for col in range(x.shape[1]):
            running[col] += x[row, col]
            if first[col] < 0 and running[col] >= threshold[col]:
                first[col] = row
    return first


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
