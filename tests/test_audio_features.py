"""Spotify's AudioFeatures object from the shipped model's analysis of real audio files."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from app.analysis import Analyzer
from app.audio_features import (
    CALIBRATION_FILE,
    AudioFeatures,
    AudioFeaturesCalibration,
    audio_features,
)
from app.errors import ModelContractError
from app.settings import default_model_path
from tests.audio_fixtures import FORMATS, metered_clicks, noise, progression, spoken, write
from tests.features.test_evidence import SPEECH
from tests.features.test_key import A_MINOR, C_MAJOR

SPOTIFY_TYPES = {
    "acousticness": float,
    "danceability": float,
    "duration_ms": int,
    "energy": float,
    "instrumentalness": float,
    "key": int,
    "liveness": float,
    "loudness": float,
    "mode": int,
    "speechiness": float,
    "tempo": float,
    "time_signature": int,
    "type": str,
    "valence": float,
}
"""Every field of Spotify's object (but its track identifiers) and its JSON type."""


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(default_model_path(), warm_up=False)


@pytest.fixture(scope="module")
def calibration() -> AudioFeaturesCalibration:
    return AudioFeaturesCalibration.load(default_model_path() / CALIBRATION_FILE)


@pytest.fixture(scope="module")
def features_of(analyzer, calibration, tmp_path_factory):
    """Encode samples in a format, analyse the file, return its audio features."""
    folder = tmp_path_factory.mktemp("audio_features")

    def run(name: str, samples: np.ndarray, sr: int) -> AudioFeatures:
        return audio_features(analyzer(write(folder / name, samples, sr)), calibration)

    return run


def assert_spotify_object(features: AudioFeatures) -> None:
    """Names, types and ranges exactly as Spotify documented them."""
    answer = features.to_dict()
    assert {k: type(v) for k, v in answer.items()} == SPOTIFY_TYPES
    for name in ("acousticness", "danceability", "energy", "instrumentalness"):
        assert 0.0 <= answer[name] <= 1.0, name
    for name in ("liveness", "speechiness", "valence"):
        assert 0.0 <= answer[name] <= 1.0, name
    assert -60.0 <= answer["loudness"] <= 0.0
    assert -1 <= answer["key"] <= 11
    assert answer["mode"] in (0, 1)
    assert 3 <= answer["time_signature"] <= 7
    assert 30.0 <= answer["tempo"] <= 300.0
    assert answer["type"] == "audio_features"


def test_the_shipped_calibration_is_for_the_shipped_model(analyzer, calibration):
    card = analyzer.model.card
    calibration.check(card["name"], card["version"], card["embedding"]["sha256"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_field_in_range_for_every_format(analyzer, calibration, song_files, fmt):
    features = audio_features(analyzer(song_files[fmt]), calibration)
    assert_spotify_object(features)
    assert features.duration_ms == pytest.approx(8000, abs=60)


@pytest.mark.parametrize(("meter", "bpm"), [(3, 90), (4, 120), (3, 140), (4, 100)])
def test_tempo_and_time_signature_of_a_click_track(features_of, meter, bpm):
    features = features_of(f"clicks-{meter}-{bpm}.mp3", metered_clicks(bpm, meter, 24.0), 44100)
    assert_spotify_object(features)
    assert features.time_signature == meter
    assert features.tempo == pytest.approx(bpm, rel=0.04)


@pytest.mark.parametrize(("chords", "key", "mode"), [(A_MINOR, 9, 0), (C_MAJOR, 0, 1)])
def test_key_and_mode_of_a_chord_progression(features_of, chords, key, mode):
    features = features_of(f"chords-{key}.ogg", progression(chords, 1.5, 4), 44100)
    assert (features.key, features.mode) == (key, mode)


def test_noise_has_no_key(features_of):
    assert features_of("noise.flac", noise(12.0, 44100, 0.2), 44100).key == -1


def test_speech_is_speechier_and_less_instrumental_than_music(features_of):
    speech = spoken(SPEECH)
    if speech is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    spoken_word = features_of("speech.mp3", speech[0], speech[1])
    music = features_of("music.mp3", progression(C_MAJOR, 1.5, 4), 44100)
    assert_spotify_object(spoken_word)
    assert spoken_word.speechiness > music.speechiness
    assert spoken_word.instrumentalness < music.instrumentalness


def test_a_calibration_for_another_model_is_refused(calibration):
    with pytest.raises(ModelContractError, match="made for"):
        calibration.check("another-model", "9.9.9", calibration.musicnn_sha256)
    with pytest.raises(ModelContractError, match="musicnn"):
        calibration.check(calibration.model["name"], calibration.model["version"], "0" * 64)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c | {"format": 0}, "format"),
        (
            lambda c: c | {"fields": {k: v for k, v in c["fields"].items() if k != "energy"}},
            "lacks",
        ),
    ],
)
def test_an_unusable_calibration_file_is_refused(tmp_path, change, message):
    source = default_model_path() / CALIBRATION_FILE
    content = json.loads(source.read_text())
    (tmp_path / CALIBRATION_FILE).write_text(json.dumps(change(content)))
    with pytest.raises(ModelContractError, match=message):
        AudioFeaturesCalibration.load(tmp_path / CALIBRATION_FILE)
    shutil.rmtree(tmp_path)
    with pytest.raises(ModelContractError, match="cannot read"):
        AudioFeaturesCalibration.load(tmp_path / CALIBRATION_FILE)
