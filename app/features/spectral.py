"""Frame-level spectral features from one shared STFT, pooled into time steps.

Each feature is librosa's definition computed from one STFT of the song: the
spectrogram, the mel and chroma filterbanks are built once and shared, where
calling each ``librosa.feature`` function on the signal would recompute them. The STFT
is :func:`app.features.stft.stft_blocks` (librosa's, in float32 blocks).
``tests/features/test_spectral.py`` checks equality with librosa's own functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import librosa
import numba
import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import get_window

from app.features.config import FeatureConfig
from app.features.stft import n_frames, stft_blocks


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
    onset_envelope : np.ndarray
        Shape (frames,): librosa's onset strength, one value per STFT hop (not pooled); of
        each excerpt, end to end, for a song read through excerpts.
    log_mel : np.ndarray
        Shape (n_mels, frames): the log-power mel spectrogram the MFCC and the onset
        envelope come from (not pooled), for the song-level evidence.
    """

    spectral_centroid: np.ndarray
    spectral_rolloff: np.ndarray
    mfcc: np.ndarray
    chroma: np.ndarray
    tempo_bpm: float
    onset_envelope: np.ndarray
    log_mel: np.ndarray


TEMPO_CHUNK = 256
"""Tempogram columns computed at once: they stay in cache, and memory stays bounded
whatever the song's length."""


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


def spectral_features(
    y: np.ndarray,
    config: FeatureConfig,
    tempo_spans: list[tuple[int, int]] | None = None,
    excerpts: np.ndarray | None = None,
) -> SpectralFeatures:
    """Compute the spectral features of mono samples ``y`` at ``config.sample_rate``.

    The tempo reads the frames centred in ``tempo_spans`` (sample ranges; all frames if
    None), the other features every frame. With ``excerpts`` (the first step of each
    window a long song is read through: :func:`app.features.budget.excerpt_starts`) only
    the frames of those windows are computed, their steps concatenated, and the tempo
    reads all of them.

    Examples
    --------
    >>> y = np.sin(2 * np.pi * 440 * np.arange(22050 * 3) / 22050).astype(np.float32)
    >>> round(float(spectral_features(y, FeatureConfig()).spectral_centroid.mean()))
    440
    """
    sr, hop, n_fft = config.sample_rate, config.hop_length, config.n_fft
    freqs, mel_basis, chroma_basis = _filterbanks(config)
    total = n_frames(y.shape[0], n_fft, hop)
    per_window = config.n_steps * config.frames_per_step
    ranges = (
        [(0, total)]
        if excerpts is None
        else [
            (s * config.frames_per_step, s * config.frames_per_step + per_window) for s in excerpts
        ]
    )
    count = sum(stop - first for first, stop in ranges)
    centroids = np.empty(count, dtype=np.float32)
    rolloffs = np.empty(count, dtype=np.float32)
    chroma = np.empty((count, chroma_basis.shape[0]), dtype=np.float32)
    mel = np.empty((count, mel_basis.shape[0]), dtype=np.float32)
    row = 0
    for frame_range in ranges:
        # Each block of frames is reduced while its spectra are in cache.
        for _, spectra in stft_blocks(y, n_fft, hop, frames=frame_range):
            frames = slice(row, row + len(spectra))
            magnitude = np.abs(spectra)
            power = magnitude**2
            centroids[frames] = centroid(magnitude, freqs)
            rolloffs[frames] = rolloff(magnitude, freqs, config.rolloff_percent)
            chroma[frames] = power @ chroma_basis.T
            mel[frames] = power @ mel_basis.T
            row += len(spectra)
    # The decibel floor is relative to the loudest frame read, as in librosa (which reads
    # the whole song).
    log_mel = librosa.power_to_db(np.ascontiguousarray(mel.T))
    if excerpts is None:
        envelopes = [librosa.onset.onset_strength(S=log_mel, sr=sr, hop_length=hop)]
        tempo_ranges = [_frame_ranges(tempo_spans, hop, total)]
    else:
        envelopes = [
            librosa.onset.onset_strength(S=part, sr=sr, hop_length=hop)
            for part in np.split(log_mel, len(ranges), axis=1)
        ]
        tempo_ranges = [None] * len(envelopes)
    steps = SpectralFeatures(
        spectral_centroid=centroids,
        spectral_rolloff=rolloffs,
        mfcc=librosa.feature.mfcc(S=log_mel, n_mfcc=config.n_mfcc),
        chroma=librosa.util.normalize(chroma.T, norm=np.inf, axis=0),
        tempo_bpm=tempo(envelopes, sr, hop, tempo_ranges),
        onset_envelope=np.concatenate(envelopes),
        log_mel=log_mel,
    )
    return pool_steps(steps, config.frames_per_step)


def _frame_ranges(
    spans: list[tuple[int, int]] | None, hop: int, total: int
) -> list[tuple[int, int]] | None:
    """The frames (of ``total``, one every ``hop`` samples) centred in the sample ranges."""
    if spans is None:
        return None
    return [(-(-start // hop), min(stop // hop + 1, total)) for start, stop in spans]


def tempo(
    onset_envelopes: Sequence[np.ndarray],
    sr: int,
    hop_length: int,
    frame_ranges: Sequence[list[tuple[int, int]] | None],
) -> float:
    """``librosa.feature.tempo`` of onset envelopes (of one song, or of each of its
    excerpts), in bounded memory; of the tempogram columns in each envelope's
    ``frame_ranges`` (``[first, stop)`` pairs) where given, else of all of them.

    librosa averages an autocorrelation tempogram (8-s windows, one per onset frame, each
    normalised to a peak of 1) over the whole song: 0.5 GB for a 10-minute song. A
    column's autocorrelation peaks at lag 0, at the window's energy, and is the inverse
    transform of its power spectrum, so the mean of the columns is one inverse transform
    of their power spectra, each divided by that energy, summed in chunks (equal up to
    rounding). librosa then applies its tempo prior to the mean, as it would.
    """
    win = librosa.time_to_frames(8.0, sr=sr, hop_length=hop_length).item()
    window = get_window("hann", win, fftbins=True)
    # librosa.autocorrelate transforms 2 * win - 1 points (767: slow); any longer transform
    # gives the same lags 0 to win - 1.
    n_pad = scipy.fft.next_fast_len(2 * win - 1, real=True)
    total = np.zeros(n_pad // 2 + 1)
    used = 0
    for onset_envelope, envelope_ranges in zip(onset_envelopes, frame_ranges, strict=True):
        n = onset_envelope.shape[-1]
        # librosa's centring of the tempogram: column t reads padded[t : t + win].
        padded = np.pad(onset_envelope, win // 2, mode="linear_ramp", end_values=0)
        columns = sliding_window_view(padded, win)[:n]
        ranges = envelope_ranges or [(0, n)]
        for start, stop in ranges:
            for first in range(start, stop, TEMPO_CHUNK):
                x = columns[first : min(first + TEMPO_CHUNK, stop)] * window
                spectra = scipy.fft.rfft(x, n=n_pad, axis=1)
                energy = np.einsum("ij,ij->i", x, x)
                # librosa.util.normalize leaves silent columns (all zero) as they are.
                energy[energy < np.finfo(energy.dtype).tiny] = 1.0
                total += ((spectra.real**2 + spectra.imag**2) / energy[:, None]).sum(axis=0)
        used += sum(stop - start for start, stop in ranges)
    mean = scipy.fft.irfft(total / used, n=n_pad)[:win, None]
    return float(librosa.feature.tempo(tg=mean, sr=sr, hop_length=hop_length, aggregate=None)[0])


def centroid(magnitude: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """``librosa.feature.spectral_centroid`` of spectra ``magnitude`` (frames, bins): the
    magnitude-weighted mean frequency of each frame."""
    total = magnitude.sum(axis=1)
    return (magnitude @ freqs) / np.where(total > 0, total, np.finfo(np.float32).tiny)


def rolloff(magnitude: np.ndarray, freqs: np.ndarray, percent: float) -> np.ndarray:
    """``librosa.feature.spectral_rolloff`` of spectra ``magnitude`` (frames, bins): the
    lowest bin frequency holding ``percent`` of the frame's magnitude.

    librosa takes the cumulative sum over the bins of every frame; the same running sums
    (same order, same dtype, so the same values) are accumulated here without storing them.
    """
    magnitude = np.ascontiguousarray(magnitude)
    return freqs[_first_reaching(magnitude, magnitude.dtype.type(percent))]


@numba.njit(cache=True, nogil=True)
def _first_reaching(x, percent):  # pragma: no cover - compiled
    # Per row, the first column where the running sum reaches percent of the row's sum
    # (its running sum at the last column).
    first = np.zeros(x.shape[0], dtype=np.int64)
    for row in range(x.shape[0]):
        total = x.dtype.type(0)
        for col in range(x.shape[1]):
            total += x[row, col]
        threshold = total * percent
        running = x.dtype.type(0)
        for col in range(x.shape[1]):
            running += x[row, col]
            if running >= threshold:
                first[row] = col
                break
    return first


def pool_steps(frames: SpectralFeatures, frames_per_step: int) -> SpectralFeatures:
    """Average each run of ``frames_per_step`` frames into one step; a partial tail is
    dropped. The onset envelope and the mel spectrogram stay frame-level."""

    def pool(x: np.ndarray) -> np.ndarray:
        steps = x.shape[-1] // frames_per_step
        blocks = x[..., : steps * frames_per_step].reshape(*x.shape[:-1], steps, frames_per_step)
        return blocks.mean(axis=-1).astype(np.float32)

    return replace(
        frames,
        spectral_centroid=pool(frames.spectral_centroid),
        spectral_rolloff=pool(frames.spectral_rolloff),
        mfcc=pool(frames.mfcc),
        chroma=pool(frames.chroma),
    )
