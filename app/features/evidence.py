"""Song-level musical evidence beyond the model's inputs: rhythm, key, level, texture.

Computed once per analysis from what the pipeline already has (the mono mix, its
loudness, the onset envelope, mel spectrogram and chroma of
:func:`app.features.spectral.spectral_features`), it is what
:mod:`app.audio_features` turns into Spotify's audio features, together with the
model's valence and arousal and musicnn's tags. Every measure here avoids what the
encoding of a file changes: the level (``peak_to_loudness_db`` is a ratio) and, for
the brightness, everything above :data:`BRIGHTNESS_MAX_HZ`, which a low-bitrate encoder
cuts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import librosa
import numpy as np

from app.features.key import KeyEvidence, key_evidence
from app.features.rhythm import Rhythm, periodicity, pulse_clarity, rhythm
from app.features.spectral import SpectralFeatures

BRIGHTNESS_MAX_HZ = 8000.0
"""Highest frequency the brightness reads: below the low-pass of 48 kbps MP3 (about
11 kHz) and of musicnn's 16-kHz input, so a file's encoding barely moves it."""

BASS_MAX_HZ = 150.0
"""Bands up to here carry the bass drum and the bass line: their pulse is the beat one
dances to."""

DYNAMICS_BLOCK_S = 0.5
"""Blocks whose levels' spread is the song's dynamics."""

DYNAMICS_RANGE_DB = 50.0
"""Blocks more than this below the loudest are silence, left out of the dynamics."""


@dataclass(frozen=True)
class Evidence:
    """Song-level evidence for the audio features.

    Attributes
    ----------
    rhythm : Rhythm
        Tempo salience, beat strength, pulse clarity, regularity, meter.
    key : KeyEvidence
        Fit of the 24 keys.
    mono_loudness_lufs : float
        BS.1770 integrated loudness of the mono mix (of every channel for a mono file).
    peak_to_loudness_db : float
        Sample peak of the mono mix over its loudness, in dB: low for heavily limited
        (loud, modern) masters, high for dynamic ones, whatever the file's gain.
    brightness_hz : float
        Mean spectral centroid below :data:`BRIGHTNESS_MAX_HZ` of the mel spectrum.
    dynamic_spread_db : float
        Standard deviation of the levels of :data:`DYNAMICS_BLOCK_S` blocks, in dB.
    chroma_continuity : float
        Mean cosine similarity of consecutive chroma steps: high where pitches are held
        (chords, sung notes), lower for speech and noise.
    bass_pulse_clarity : float
        :func:`app.features.rhythm.pulse_clarity` of the rises of the level below
        :data:`BASS_MAX_HZ`: a bass drum on the beat makes it high.
    flatness : float
        Mean spectral flatness (geometric over arithmetic mean of the mel power below
        :data:`BRIGHTNESS_MAX_HZ`) of the sounding frames: near 1 for noise (applause,
        crowds, distortion), near 0 for clear tones.
    """

    rhythm: Rhythm
    key: KeyEvidence
    mono_loudness_lufs: float
    peak_to_loudness_db: float
    brightness_hz: float
    dynamic_spread_db: float
    chroma_continuity: float
    bass_pulse_clarity: float
    flatness: float


def song_evidence(
    mono: np.ndarray,
    sr: int,
    hop_length: int,
    spectral: SpectralFeatures,
    mono_loudness_lufs: float,
) -> Evidence:
    """The evidence of the mono mix ``mono`` at ``sr`` from its ``spectral`` features
    (STFT hop ``hop_length``) and its integrated loudness ``mono_loudness_lufs``."""
    power = librosa.db_to_power(spectral.log_mel)
    energy = power.sum(axis=0)
    level_db = 10 * np.log10(np.maximum(energy, energy.max() * 1e-12 + 1e-30))
    peak = float(np.abs(mono).max())
    frame_rate = sr / hop_length
    return Evidence(
        rhythm=rhythm(spectral.onset_envelope, level_db, frame_rate),
        key=key_evidence(spectral.chroma),
        mono_loudness_lufs=mono_loudness_lufs,
        peak_to_loudness_db=20 * np.log10(max(peak, 1e-9)) - mono_loudness_lufs,
        brightness_hz=brightness(power, sr),
        dynamic_spread_db=dynamic_spread(energy, round(DYNAMICS_BLOCK_S * frame_rate)),
        chroma_continuity=chroma_continuity(spectral.chroma),
        bass_pulse_clarity=bass_pulse_clarity(power, sr, frame_rate),
        flatness=flatness(power, sr),
    )


@lru_cache(maxsize=4)
def _mel_centres(n_mels: int, sr: int) -> np.ndarray:
    """Centre frequencies of librosa's mel bands."""
    return librosa.mel_frequencies(n_mels=n_mels + 2, fmax=sr / 2)[1:-1]


def brightness(power: np.ndarray, sr: int) -> float:
    """Mean over frames of the magnitude-weighted centre frequency of the mel bands below
    :data:`BRIGHTNESS_MAX_HZ` (``power``: mel power spectrogram, bands by frames)."""
    centres = _mel_centres(power.shape[0], sr)
    band = centres <= BRIGHTNESS_MAX_HZ
    magnitude = np.sqrt(power[band])
    total = magnitude.sum(axis=0)
    sounding = total > 0
    if not sounding.any():
        return 0.0
    return float(np.mean(centres[band] @ magnitude[:, sounding] / total[sounding]))


def dynamic_spread(energy: np.ndarray, block_frames: int) -> float:
    """Standard deviation in dB of the mean of ``energy`` (one value per frame) over
    consecutive blocks of ``block_frames`` frames, leaving out blocks
    :data:`DYNAMICS_RANGE_DB` below the loudest."""
    n_blocks = max(energy.size // block_frames, 1)
    blocks = energy[: n_blocks * block_frames].reshape(n_blocks, -1).mean(axis=1)
    if blocks.max() <= 0:
        return 0.0
    level = 10 * np.log10(np.maximum(blocks, blocks.max() * 1e-12))
    return float(level[level > level.max() - DYNAMICS_RANGE_DB].std())


def chroma_continuity(chroma: np.ndarray) -> float:
    """Mean cosine similarity of consecutive columns of ``chroma`` (12, steps); 1 for a
    single step."""
    norms = np.linalg.norm(chroma, axis=0)
    unit = chroma / np.where(norms > 0, norms, 1.0)
    if unit.shape[1] < 2:
        return 1.0
    return float(np.mean(np.sum(unit[:, 1:] * unit[:, :-1], axis=0)))


def bass_pulse_clarity(power: np.ndarray, sr: int, frame_rate: float) -> float:
    """Pulse clarity of the rises (half-wave rectified first difference) of the level in dB
    of the mel bands up to :data:`BASS_MAX_HZ` (``power``: bands by frames)."""
    bass = power[_mel_centres(power.shape[0], sr) <= BASS_MAX_HZ].sum(axis=0)
    if bass.max() <= 0:
        return 0.0
    level = 10 * np.log10(np.maximum(bass, bass.max() * 1e-8))
    rises = np.maximum(np.diff(level, prepend=level[0]), 0.0)
    return pulse_clarity(periodicity(rises, frame_rate), frame_rate)


def flatness(power: np.ndarray, sr: int) -> float:
    """Mean spectral flatness of the mel bands up to :data:`BRIGHTNESS_MAX_HZ` over the
    frames within 60 dB of the loudest (``power``: bands by frames)."""
    band = power[_mel_centres(power.shape[0], sr) <= BRIGHTNESS_MAX_HZ]
    energy = band.mean(axis=0)
    sounding = energy > energy.max() * 1e-6
    if not sounding.any():
        return 0.0
    floor = energy.max() * 1e-12
    geometric = np.exp(np.log(np.maximum(band[:, sounding], floor)).mean(axis=0))
    return float(np.mean(geometric / energy[sounding]))
