"""Rhythm evidence of encoded click tracks in a known tempo and meter, and of noise."""

from __future__ import annotations

import numpy as np
import pytest

from app.features.rhythm import (
    TEMPO_GRID_BPM,
    default_tempo_prior,
    dfa_alpha,
    periodicity,
    rhythm,
    tempo_of,
    tempo_salience,
)
from tests.audio_fixtures import metered_clicks, noise, write
from training.evidence import evidence_file

FRAME_RATE = 50.0


@pytest.fixture(scope="module")
def click_evidence(tmp_path_factory):
    """(bpm, beats per bar) -> the evidence of that click track, encoded as MP3 or Ogg."""
    folder = tmp_path_factory.mktemp("clicks")
    cases = {}
    for k, (bpm, meter) in enumerate([(90, 4), (120, 4), (140, 4), (90, 3), (120, 3), (140, 3)]):
        name = f"{bpm}-{meter}.{'mp3' if k % 2 else 'ogg'}"
        path = write(folder / name, metered_clicks(bpm, meter, 24.0, 44100), 44100)
        cases[bpm, meter] = evidence_file(path)
    return cases


@pytest.mark.parametrize("bpm", [90, 120, 140])
@pytest.mark.parametrize("meter", [3, 4])
def test_tempo_of_a_click_track(click_evidence, bpm, meter):
    assert click_evidence[bpm, meter].rhythm.tempo_bpm == pytest.approx(bpm, rel=0.02)


@pytest.mark.parametrize("bpm", [90, 120, 140])
def test_meter_of_a_click_track(click_evidence, bpm):
    """Accents every third beat make the lag of three beats the most periodic; every
    fourth, the lag of four."""
    lag2, lag3, lag4 = click_evidence[bpm, 3].rhythm.meter
    assert lag3 > max(lag2, lag4)
    lag2, lag3, lag4 = click_evidence[bpm, 4].rhythm.meter
    assert lag4 > max(lag2, lag3)


def test_clicks_have_a_clear_strong_regular_pulse(click_evidence, tmp_path):
    clicks = click_evidence[120, 4].rhythm
    hiss = evidence_file(write(tmp_path / "noise.flac", noise(24.0, 44100), 44100)).rhythm
    assert clicks.pulse_clarity > 0.8 > 0.3 > hiss.pulse_clarity
    assert clicks.beat_strength > 2 * hiss.beat_strength
    assert clicks.dfa_alpha < hiss.dfa_alpha


def test_salience_peaks_at_the_period_and_the_prior_picks_the_level():
    """An envelope pulsing at 100 BPM is salient at 100 (and at its multiples); the prior
    chooses among them."""
    t = np.arange(int(30 * FRAME_RATE)) / FRAME_RATE
    envelope = (np.sin(2 * np.pi * t * 100 / 60) > 0.95).astype(float)
    salience = tempo_salience(periodicity(envelope, FRAME_RATE), FRAME_RATE)
    assert TEMPO_GRID_BPM[np.argmax(salience)] == pytest.approx(100, rel=0.01)
    assert tempo_of(salience, default_tempo_prior()) == pytest.approx(100, rel=0.01)
    slow = np.exp(-0.5 * np.log2(TEMPO_GRID_BPM / 50.0) ** 2 / 0.1**2)
    assert tempo_of(salience, slow) == pytest.approx(50, rel=0.02)


def test_silence_has_no_pulse():
    evidence = rhythm(np.zeros(500), np.full(500, -100.0), FRAME_RATE)
    assert evidence.tempo_bpm == 120.0
    assert evidence.pulse_clarity == 0.0
    assert evidence.meter == (0.0, 0.0, 0.0)
    assert not evidence.tempo_salience.any()


def test_dfa_of_white_noise_is_one_half():
    """Integrated white noise is a random walk: its fluctuation grows as the square root
    of the scale."""
    rng = np.random.default_rng(0)
    alphas = [dfa_alpha(rng.standard_normal(20_000), FRAME_RATE) for _ in range(3)]
    assert np.mean(alphas) == pytest.approx(0.5, abs=0.06)
