"""Level and texture evidence: speech against music, noise against tones, limited against
dynamic masters, and indifference to an encoder's low-pass."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from app.features import extract
from app.features.config import SAMPLE_RATE
from tests.audio_fixtures import noise, progression, song, spoken, tone, write
from tests.features.test_key import C_MAJOR
from training.evidence import evidence_file

SPEECH = (
    "Good evening. The weather over the city stays calm tonight, with a light wind from "
    "the west. Tomorrow brings rain in the morning and sun in the afternoon, so take an "
    "umbrella when you leave, and enjoy the evening while it lasts."
)


@pytest.fixture(scope="module")
def speech_and_music(tmp_path_factory):
    """The evidence of espeak-ng speech and of a chord progression, both as Ogg Vorbis."""
    speech = spoken(SPEECH)
    if speech is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    folder = tmp_path_factory.mktemp("speech")
    music = progression(C_MAJOR, 1.5, 4, 44100)
    return (
        evidence_file(write(folder / "speech.ogg", *speech)),
        evidence_file(write(folder / "music.ogg", music, 44100)),
    )


def test_speech_holds_pitches_less_than_music(speech_and_music):
    speech, music = speech_and_music
    assert speech.chroma_continuity < music.chroma_continuity
    assert speech.key.clarity < music.key.clarity


def test_noise_is_flat_and_a_tone_is_not(tmp_path):
    hiss = evidence_file(write(tmp_path / "noise.wav", noise(6.0, 44100), 44100))
    sine = evidence_file(write(tmp_path / "tone.wav", tone(440.0, 6.0, 44100), 44100))
    assert hiss.flatness > 0.5 > 0.05 > sine.flatness


def test_a_limited_master_has_a_lower_peak_to_loudness_ratio(tmp_path):
    """Limiting (here: hard clipping after 12 dB of gain) raises the loudness more than the
    peak; a gain alone changes neither the ratio nor anything but the loudness."""
    y = song(10.0, 44100)
    dynamic = evidence_file(write(tmp_path / "dynamic.flac", 0.5 * y / np.abs(y).max(), 44100))
    quieter = evidence_file(write(tmp_path / "quieter.flac", 0.125 * y / np.abs(y).max(), 44100))
    limited = np.clip(4 * y / np.abs(y).max(), -0.5, 0.5)
    loud = evidence_file(write(tmp_path / "limited.flac", limited, 44100))
    assert loud.peak_to_loudness_db < dynamic.peak_to_loudness_db - 3
    assert quieter.peak_to_loudness_db == pytest.approx(dynamic.peak_to_loudness_db, abs=0.1)
    assert quieter.mono_loudness_lufs == pytest.approx(dynamic.mono_loudness_lufs - 12.04, abs=0.1)


def test_brightness_ignores_what_an_encoder_cuts_above_11_khz():
    """The shared training files hold almost nothing above 11 kHz, real uploads reach 16
    kHz: the brightness reads only up to 8 kHz, so both measure alike."""
    y = song(8.0, SAMPLE_RATE) + noise(8.0, SAMPLE_RATE, 0.05)
    low_passed = scipy.signal.sosfiltfilt(
        scipy.signal.butter(8, 11000, fs=SAMPLE_RATE, output="sos"), y
    ).astype(np.float32)
    full, cut = (extract(x[None]).evidence for x in (y, low_passed))
    assert cut.brightness_hz == pytest.approx(full.brightness_hz, rel=0.02)


def test_extract_carries_the_evidence():
    features = extract(song(6.0, SAMPLE_RATE)[None])
    assert features.evidence.rhythm.tempo_salience.shape == (400,)
    assert features.evidence.key.pitch_classes.shape == (12,)
    assert features.taggram is None  # no musicnn network given
