"""Augmentations that real uploads bring: each changes what it says and nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from app.features.config import SAMPLE_RATE
from training.augment import AUGMENTATIONS, gain, pitch, reencode, tempo, tilt


def tone(frequency: float, seconds: float = 2.0, amplitude: float = 0.2) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def rms(y: np.ndarray) -> float:
    return float(np.sqrt(np.mean(y.astype(np.float64) ** 2)))


def peak_hz(y: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return float(np.fft.rfftfreq(len(y), 1 / SAMPLE_RATE)[spectrum.argmax()])


def test_gain_scales_by_its_decibels_and_clips_at_full_scale():
    y = tone(440.0)
    assert 20 * np.log10(rms(gain(-10.0)(y)) / rms(y)) == pytest.approx(-10.0, abs=1e-3)
    assert np.abs(gain(30.0)(y)).max() == pytest.approx(1.0)


def test_tilt_moves_bass_and_treble_opposite_ways():
    low, mid, high = tone(60.0), tone(1000.0), tone(9000.0)
    warm = tilt(6.0)
    assert 20 * np.log10(rms(warm(low)[2000:]) / rms(low)) == pytest.approx(6.0, abs=0.5)
    assert 20 * np.log10(rms(warm(high)[2000:]) / rms(high)) == pytest.approx(-6.0, abs=0.5)
    assert abs(20 * np.log10(rms(warm(mid)[2000:]) / rms(mid))) < 1.5


def test_reencoding_keeps_length_and_sound():
    y = tone(440.0) + tone(2000.0, amplitude=0.05)
    coded = reencode(quality=0.95)(y)
    assert len(coded) <= len(y) and len(coded) > 0.95 * len(y)
    assert peak_hz(coded) == pytest.approx(440.0, abs=2.0)


def test_pitch_shifts_by_semitones_and_tempo_changes_duration():
    y = tone(440.0)
    assert peak_hz(pitch(1.0)(y)) == pytest.approx(440.0 * 2 ** (1 / 12), rel=0.01)
    assert len(tempo(1.06)(y)) == pytest.approx(len(y) / 1.06, rel=0.01)
    assert peak_hz(tempo(1.06)(y)) == pytest.approx(440.0, abs=2.0)


def test_every_named_augmentation_gives_finite_mono_float32():
    y = tone(330.0, seconds=3.0)
    for name, augment in AUGMENTATIONS.items():
        out = augment(y)
        assert out.dtype == np.float32 and out.ndim == 1 and np.isfinite(out).all(), name
