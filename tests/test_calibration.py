"""Calibrated probabilities of a song's signs and quadrant, and their check at load."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.calibration import CARD_KEY, Calibration
from app.errors import ModelContractError
from app.model import CARD_FILE, EmotionModel
from tests.model_fixtures import copy_model

CALIBRATION = Calibration(
    valence_slope=6.0, arousal_slope=9.0, quadrant_slope=1.2, quadrant_intercept=-0.3
)
GRID = np.linspace(-1, 1, 81)


def test_probabilities_lie_in_the_unit_interval():
    v, a = np.meshgrid(GRID, GRID)
    positive = CALIBRATION.sign_probabilities(v, a)
    quadrant = CALIBRATION.quadrant_probability(v, a)
    for values in (positive, quadrant):
        assert np.isfinite(values).all() and (values >= 0).all() and (values <= 1).all()
    extreme = Calibration(1000.0, 1000.0, 1000.0, 20.0)
    assert 0 <= extreme.quadrant_probability(1.0, -1.0) <= 1


def test_probabilities_grow_with_the_distance_from_the_axes():
    distances = np.abs(GRID[GRID >= 0])
    for other in (-0.7, -0.05, 0.0, 0.3):
        for sign in (1, -1):
            along_valence = [CALIBRATION(sign * d, other) for d in distances]
            along_arousal = [CALIBRATION(other, sign * d) for d in distances]
            assert np.all(np.diff([c.valence_sign for c in along_valence]) >= 0)
            assert np.all(np.diff([c.arousal_sign for c in along_arousal]) >= 0)
            assert np.all(np.diff([c.quadrant for c in along_valence]) >= 0)
            assert np.all(np.diff([c.quadrant for c in along_arousal]) >= 0)
    # Strictly: a song further from both axes is surer of its quadrant.
    assert CALIBRATION(0.5, 0.5).quadrant > CALIBRATION(0.1, 0.1).quadrant


def test_a_song_at_the_origin_is_a_coin_toss_for_each_sign():
    """The issue's example: valence -0.05, arousal 0.02 is shown as angry/tense today."""
    origin = CALIBRATION(0.0, 0.0)
    assert origin.valence_positive == origin.arousal_positive == 0.5
    near = CALIBRATION(-0.05, 0.02)
    assert 0.5 <= near.valence_sign < 0.6 and 0.5 <= near.arousal_sign < 0.6
    assert near.quadrant < CALIBRATION(-0.6, 0.6).quadrant
    assert near.valence_positive == pytest.approx(1 - near.valence_sign)
    assert near.arousal_positive == pytest.approx(near.arousal_sign)


def test_signs_agree_with_the_shown_quadrant():
    for v, a in ((0.3, 0.2), (-0.3, 0.2), (-0.3, -0.2), (0.3, -0.2)):
        c = CALIBRATION(v, a)
        assert (c.valence_positive > 0.5) == (v > 0)
        assert (c.arousal_positive > 0.5) == (a > 0)


def test_the_card_round_trips_and_an_old_card_has_none():
    card = {CARD_KEY: {**CALIBRATION.parameters(), "description": "extra keys are kept"}}
    assert Calibration.of_card(card) == CALIBRATION
    assert Calibration.of_card({}) is None


@pytest.mark.parametrize(
    "entry",
    [
        {"valence_slope": 1.0},
        {**CALIBRATION.parameters(), "arousal_slope": -1.0},
        {**CALIBRATION.parameters(), "quadrant_slope": float("nan")},
        {**CALIBRATION.parameters(), "quadrant_intercept": "0.1"},
        [1.0, 2.0, 3.0, 4.0],
    ],
)
def test_a_malformed_calibration_is_refused(entry):
    with pytest.raises(ModelContractError):
        Calibration.of_card({CARD_KEY: entry})


def test_the_model_checks_its_calibration_at_load(tmp_path):
    folder = copy_model(tmp_path / "m")
    card = json.loads((folder / CARD_FILE).read_text())
    card[CARD_KEY] = CALIBRATION.parameters()
    (folder / CARD_FILE).write_text(json.dumps(card))
    assert EmotionModel(folder).calibration == CALIBRATION
    card[CARD_KEY]["valence_slope"] = -2.0
    (folder / CARD_FILE).write_text(json.dumps(card))
    with pytest.raises(ModelContractError, match="slopes"):
        EmotionModel(folder)
