"""Metrics of known predictions."""

from __future__ import annotations

import numpy as np
import pytest

from training.metrics import mood_metrics, quadrant_metrics, regression_metrics


def test_regression_metrics_of_known_predictions():
    truth = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0]])
    result = regression_metrics(truth, truth * 2)
    assert result["valence_r"] == pytest.approx(1.0)
    assert result["valence_rmse"] == pytest.approx(np.sqrt(5 / 3))
    assert result["valence_r2"] == pytest.approx(1 - 5 / 2)
    assert regression_metrics(truth, np.ones_like(truth))["arousal_r"] is None


def test_quadrant_metrics_of_known_predictions():
    quadrants = np.array([1, 2, 3, 4])
    perfect = np.array([[0.5, 0.5], [-0.5, 0.2], [-0.1, -0.3], [0.2, -0.9]])
    scored = quadrant_metrics(quadrants, perfect)
    assert scored == {"valence_auc": 1.0, "arousal_auc": 1.0, "quadrant_accuracy": 1.0}
    flipped = quadrant_metrics(quadrants, -perfect)
    assert flipped["valence_auc"] == 0.0 and flipped["quadrant_accuracy"] == 0.0
    # The core's rule: 0 counts as positive, so a neutral song is in Q1.
    assert quadrant_metrics(np.array([1, 2]), np.zeros((2, 2)))["quadrant_accuracy"] == 0.5


def test_mood_metrics_of_known_shares():
    truth = np.array([[0.7, 0.2, 0.1] + [0.0] * 6, [0.1, 0.6, 0.3] + [0.0] * 6])
    truth = np.vstack([truth, truth[::-1] * 0.5 + 0.5 / 9])
    result = mood_metrics(truth, truth)
    assert result["amazement_r"] == pytest.approx(1.0) and result["top_agreement"] == 1.0
    swapped = truth[:, [1, 0, *range(2, 9)]]
    assert mood_metrics(truth, swapped)["top_agreement"] == 0.0
    assert mood_metrics(truth, np.full_like(truth, 1 / 9))["sadness_r"] is None
