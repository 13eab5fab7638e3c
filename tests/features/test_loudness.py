"""Integrated loudness against BS.1770 calibration and against pyloudnorm."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest

from app.features.loudness import SILENCE_LUFS, integrated_loudness, integrated_loudness_and_mix
from app.features.zero_crossings import zero_crossings_per_s
from tests.audio_fixtures import noise, song, tone


@pytest.mark.parametrize("sr", [22050, 44100, 48000])
def test_calibrated_sine(sr):
    """BS.1770-4: a 997-Hz sine at -23 dBFS peak in both channels of a stereo pair reads -23.

    pyloudnorm's K-weighting coefficients at 22.05 kHz read it 0.056 LU low; we match them.
    """
    amplitude = 10 ** (-23 / 20)
    y = tone(997, 10.0, sr, amplitude)
    assert integrated_loudness(np.stack([y, y]), sr) == pytest.approx(-23.0, abs=0.06)


@pytest.mark.parametrize("channels", [1, 2, 5])
def test_equals_pyloudnorm(channels):
    sr = 22050
    rng = np.random.default_rng(channels)
    y = np.stack([song(7.0, sr) * rng.uniform(0.1, 1) for _ in range(channels)])
    expected = pyloudnorm.Meter(sr).integrated_loudness(y.T)
    assert integrated_loudness(y, sr) == pytest.approx(expected, abs=1e-3)


def test_gating_ignores_silence():
    sr = 22050
    loud = noise(30.0, sr, 0.1)
    padded = np.concatenate([loud, np.zeros(10 * sr, np.float32)])
    assert integrated_loudness(padded, sr) == pytest.approx(integrated_loudness(loud, sr), abs=0.1)


def test_silence_reads_the_absolute_gate():
    assert integrated_loudness(np.zeros(22050 * 3, np.float32), 22050) == SILENCE_LUFS


def test_zero_crossings_of_a_sine():
    sr = 22050
    assert zero_crossings_per_s(tone(440, 5.0, sr)[None][0] + 1e-9, sr) == pytest.approx(
        880, rel=0.01
    )


@pytest.mark.parametrize("channels", [1, 2])
def test_loudness_and_mix_in_one_pass(channels):
    sr = 22050
    rng = np.random.default_rng(channels)
    y = np.stack([song(7.0, sr) * rng.uniform(0.1, 1) for _ in range(channels)])
    y = y.astype(np.float32)
    loudness, mix = integrated_loudness_and_mix(y, sr)
    assert loudness == integrated_loudness(y, sr)
    assert mix == pytest.approx(integrated_loudness(y.mean(axis=0), sr), abs=1e-6)
