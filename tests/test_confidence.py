"""The calibrated confidence of an analysis, from a model whose card has a calibration."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.analysis import Analyzer
from app.result import EmotionResult, ModelInfo
from tests.audio_fixtures import song, write
from tests.model_fixtures import CALIBRATION, copy_model

INFO = ModelInfo(name="m", version="0")


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory) -> Analyzer:
    folder = copy_model(tmp_path_factory.mktemp("model"), calibration=CALIBRATION)
    return Analyzer(folder, warm_up=False)


def test_an_analysis_carries_the_card_s_calibrated_probabilities(calibrated, tmp_path):
    emotion = calibrated(write(tmp_path / "a.flac", song(10.0), 44100))
    expected = calibrated.model.calibration(emotion.valence, emotion.arousal)
    assert emotion.confidence == expected
    confidence = EmotionResult.of(emotion, INFO, features=False, timeline=False).confidence
    assert confidence is not None
    for p in (confidence.quadrant, confidence.valence_positive, confidence.arousal_positive):
        assert 0 <= p <= 1


def test_a_point_nearer_the_axes_gets_a_lower_probability(calibrated, tmp_path):
    emotion = calibrated(write(tmp_path / "a.flac", song(10.0), 44100))
    calibration = calibrated.model.calibration
    quadrants = []
    for scale in (1.0, 0.5, 0.1):
        v, a = scale * emotion.valence, scale * emotion.arousal
        nearer = replace(emotion, valence=v, arousal=a, confidence=calibration(v, a))
        result = EmotionResult.of(nearer, INFO, features=False, timeline=False)
        quadrants.append(result.confidence.quadrant)
    assert quadrants[0] > quadrants[1] > quadrants[2]


def test_without_a_calibration_the_answer_has_no_confidence(tmp_path):
    analyzer = Analyzer(copy_model(tmp_path / "model"), warm_up=False)
    emotion = analyzer(write(tmp_path / "a.flac", song(5.0), 44100))
    assert emotion.confidence is None
    result = EmotionResult.of(emotion, INFO, features=False, timeline=False)
    assert "confidence" not in result.model_dump(exclude_none=True)
