"""Preparation shared by the timbral descriptors: loudness normalisation and resampling.

Port of ``timbral_util.file_read`` / ``loud_norm`` / ``check_upsampling`` from the
AudioCommons ``timbral_models`` 0.4.0 (Apache-2.0, Andy Pearce, University of Surrey).

Known deviations from the reference: the input is already decoded mono audio, so there is
no channel summing; upsampling uses soxr 'HQ' instead of librosa's ``kaiser_best``; audio at
or below -70 LUFS (the absolute gate: silence to BS.1770) is left at its level.

Audio decoded at 22.05 kHz holds nothing above 11.025 kHz, so the descriptors run their
costly analyses (onsets, HPSS, bandwidth, spectrograms) on :func:`half_rate`, the same audio
at half the model rate, with every frame length and hop halved: the same frames in time and
the same frequency bins, for a quarter of the work. The 44.1-kHz audio is kept where a
model counts samples or reads the empty upper octave (specific loudness, the envelopes and
attack centroids of hardness and warmth, warmth's note spectra, reverb).
"""

import numpy as np
import soxr

from app.features.loudness import SILENCE_LUFS, integrated_loudness
from app.features.timbre.memo import PerSignal

TARGET_LUFS = -24.0
"""Integrated loudness every descriptor expects its input at."""

MODEL_RATE = 44100
"""Lowest sample rate the models accept; lower rates are upsampled to it."""

_half_rate: PerSignal[tuple[np.ndarray, int]] = PerSignal()


def prepare(y: np.ndarray, sr: int, loudness_lufs: float | None = None) -> tuple[np.ndarray, int]:
    """Bring decoded mono audio to the level and rate the timbral models were fitted on.

    Parameters
    ----------
    y
        Mono samples, any float dtype.
    sr
        Sample rate of ``y`` in Hz.
    loudness_lufs
        Integrated loudness of ``y`` if already known; measured here otherwise.

    Returns
    -------
    audio, fs
        Read-only float64 samples normalised to -24 LUFS (scaled down to a peak of 1 if that
        would clip), upsampled to 44.1 kHz when ``sr`` is lower; and their sample rate.

    Raises
    ------
    ValueError
        If ``y`` is empty or silent, as the reference refuses such input.
    """
    audio = np.asarray(y, dtype=np.float64).reshape(-1)
    if audio.size == 0:
        raise ValueError("audio contains no samples")
    if not np.any(audio):
        raise ValueError("audio is silent, cannot be analysed")

    if loudness_lufs is None:
        # As the reference, measure clips shorter than one 0.4-s gating block zero-padded.
        min_len = int(sr * 0.4)
        loudness_lufs = integrated_loudness(np.pad(audio, (0, max(0, min_len - len(audio)))), sr)
    # Silence gated out entirely has no meaningful loudness (pyloudnorm: -inf, where the
    # reference would produce non-finite audio): leave the level alone then.
    if np.isfinite(loudness_lufs) and loudness_lufs > SILENCE_LUFS:
        audio = audio * 10.0 ** ((TARGET_LUFS - loudness_lufs) / 20.0)
        peak = np.max(np.abs(audio))
        if peak > 1.0:
            audio /= peak

    low = None
    if sr < MODEL_RATE:
        if 2 * sr == MODEL_RATE:
            low = np.ascontiguousarray(audio, dtype=np.float64)
            low.flags.writeable = False
        audio = soxr.resample(audio, sr, MODEL_RATE, quality="HQ")
        sr = MODEL_RATE

    # Read-only, so per-signal intermediates (e.g. windowed specific loudness) can be cached.
    audio = np.ascontiguousarray(audio, dtype=np.float64)
    audio.flags.writeable = False
    if low is not None:
        _half_rate.remember(audio, (), (low, sr // 2))
    return audio, int(sr)


def half_rate(audio: np.ndarray, fs: int) -> tuple[np.ndarray, int]:
    """``audio`` at half its rate ``fs`` (read-only float64), and that rate.

    For audio :func:`prepare` upsampled from half the model rate this is the normalised
    input itself; otherwise it is resampled (soxr 'HQ'). Remembered while ``audio`` lives,
    if it is read-only, so the descriptors share it.
    """

    def compute() -> tuple[np.ndarray, int]:
        low = soxr.resample(np.asarray(audio, dtype=np.float64), fs, fs // 2, quality="HQ")
        low = np.ascontiguousarray(low, dtype=np.float64)
        low.flags.writeable = False
        return low, fs // 2

    return _half_rate.get(audio, (), compute)
