"""Fitting the calibration on out-of-fold outputs only, and judging it out of fold."""

from __future__ import annotations

import numpy as np
import pytest

from training.calibration import (
    RELIABILITY_FILE,
    OutOfFold,
    card_entry,
    cross_fitted,
    fit_calibration,
    fit_sign_slope,
    out_of_fold,
    probabilities,
    reliability,
    write_page,
)
from training.cross_validation import cross_validate, split_folds
from training.data import SIGNS
from training.train import TrainConfig

QUADRANT_OF_SIGNS = {signs: q for q, signs in SIGNS.items()}


def synthetic(n: int, slopes=(4.0, 8.0), seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Outputs uniform on [-1, 1]^2 and quadrants whose signs are drawn with
    P(positive) = sigmoid(slope * output), independently per axis."""
    rng = np.random.default_rng(seed)
    outputs = rng.uniform(-1, 1, (n, 2))
    positive = rng.random((n, 2)) < 1 / (1 + np.exp(-np.asarray(slopes) * outputs))
    signs = np.where(positive, 1, -1)
    return outputs, np.array([QUADRANT_OF_SIGNS[(v, a)] for v, a in signs])


def test_the_fit_recovers_the_slopes_and_states_true_probabilities():
    outputs, quadrants = synthetic(20000)
    calibration = fit_calibration(outputs, quadrants)
    assert calibration.valence_slope == pytest.approx(4.0, rel=0.1)
    assert calibration.arousal_slope == pytest.approx(8.0, rel=0.1)
    # Independent signs: the product is already right, the quadrant map stays near identity.
    assert calibration.quadrant_slope == pytest.approx(1.0, abs=0.15)
    fresh = synthetic(20000, seed=1)
    for name, (p, came) in probabilities(calibration, *fresh).items():
        assert reliability(p, came)["ece"] < 0.02, name


def test_uninformative_outputs_give_coin_tosses():
    rng = np.random.default_rng(2)
    outputs = rng.uniform(-1, 1, (4000, 2))
    quadrants = rng.integers(1, 5, 4000)
    calibration = fit_calibration(outputs, quadrants)
    assert calibration.valence_slope < 0.3 and calibration.arousal_slope < 0.3
    assert abs(calibration(1.0, -1.0).quadrant - 0.25) < 0.05
    assert fit_sign_slope(outputs[:, 0], outputs[:, 0] < 0) == pytest.approx(0.0, abs=1e-3)


def test_the_reliability_of_a_fold_never_uses_that_fold():
    """Flipping what came true in one fold changes the other folds' probabilities, never
    that fold's own: each fold is judged by a calibration fitted without it."""
    outputs, quadrants = synthetic(600, seed=3)
    fold = np.arange(600) % 5
    repeat = (np.arange(600) >= 300).astype(int)
    data = OutOfFold(outputs, quadrants, repeat, fold)
    before = cross_fitted(data)
    flipped = quadrants.copy()
    target = (repeat == 0) & (fold == 2)
    flipped[target] = [{1: 3, 2: 4, 3: 1, 4: 2}[q] for q in quadrants[target]]
    after = cross_fitted(OutOfFold(outputs, flipped, repeat, fold))
    for name in before:
        np.testing.assert_array_equal(before[name][0][target], after[name][0][target])
        others = (repeat == 0) & ~target
        assert not np.allclose(before[name][0][others], after[name][0][others])
        # The other split never sees repeat 0's labels.
        np.testing.assert_array_equal(before[name][0][repeat == 1], after[name][0][repeat == 1])


@pytest.mark.slow
def test_the_card_entry_is_fitted_on_the_outer_out_of_fold_outputs(songs):
    config = TrainConfig(epochs=1, batch_size=16, hidden=4, ensemble=1)
    runs = [cross_validate(songs, 2, config, seed=s, baselines=False) for s in (0, 1)]
    data = out_of_fold(runs, songs, [0, 1])
    fourq = runs[0].indices["4q"]
    assert len(data.outputs) == 2 * len(fourq)
    np.testing.assert_array_equal(data.outputs[: len(fourq)], runs[0].predictions["4q"]["network"])
    np.testing.assert_array_equal(data.quadrants[: len(fourq)], [songs[i].quadrant for i in fourq])
    for repeat, seed in enumerate((0, 1)):
        for k, (_, test) in enumerate(split_folds(songs, 2, seed)):
            held = set(test.tolist())
            in_fold = [i in held for i in fourq]
            assert (data.fold[data.repeat == repeat][in_fold] == k).all()
    entry = card_entry(runs, songs, [0, 1])
    assert entry["valence_slope"] == fit_calibration(data.outputs, data.quadrants).valence_slope
    assert set(entry["reliability"]) == {"valence_sign", "arousal_sign", "quadrant"}
    for figures in entry["reliability"].values():
        assert sum(b["count"] for b in figures["bins"]) == len(data.outputs)


def test_the_card_page_gets_the_section_and_the_diagram(tmp_path):
    outputs, quadrants = synthetic(800, seed=4)
    data = OutOfFold(outputs, quadrants, np.zeros(800, dtype=int), np.arange(800) % 4)
    entry = {
        **fit_calibration(outputs, quadrants).parameters(),
        "description": "maps",
        "fitted_on": "800 synthetic outputs",
        "reliability_method": "cross-fitted",
        "reliability": {name: reliability(*values) for name, values in cross_fitted(data).items()},
    }
    (tmp_path / "card.md").write_text("# Model card\n")
    write_page(entry, tmp_path, "card.md")
    page = (tmp_path / "card.md").read_text()
    assert page.startswith("# Model card\n") and "## Calibrated probabilities" in page
    assert f"]({RELIABILITY_FILE})" in page and "| quadrant |" in page
    assert (tmp_path / RELIABILITY_FILE).stat().st_size > 10_000
