"""Folds, and joint cross-validation of the network and its baselines (synthetic features)."""

from __future__ import annotations

import numpy as np
import pytest

from training.baselines import models_of
from training.cross_validation import CrossValidation, cross_validate, split_folds
from training.metrics import metrics_of
from training.train import TrainConfig

TINY = TrainConfig(epochs=2, batch_size=16, hidden=8, ensemble=1)


def test_folds_partition_songs_and_keep_artists_together(songs):
    folds = split_folds(songs, 2, seed=0)
    tests = np.concatenate([test for _, test in folds])
    assert sorted(tests) == list(range(len(songs)))
    for train, test in folds:
        assert not {songs[i].group for i in train} & {songs[i].group for i in test}
        assert {songs[i].dataset for i in test} == {"emotify", "4q"}


@pytest.fixture(scope="module")
def cv(songs) -> CrossValidation:
    return cross_validate(songs, 2, TINY, seed=0)


@pytest.mark.slow
def test_cross_validation_reports_every_model_per_dataset(cv):
    summary = cv.summary()
    assert set(summary) == {"emotify", "4q"}
    for dataset in summary:
        assert set(summary[dataset]) == set(models_of(dataset))
        for model in models_of(dataset):
            assert set(summary[dataset][model]) == set(metrics_of(dataset))
    assert summary["emotify"]["baseline_mean"]["valence_r"]["mean"] is None
    assert np.isfinite(summary["emotify"]["network"]["arousal_rmse"]["mean"])
    assert summary["4q"]["baseline_mean"]["valence_auc"]["mean"] == pytest.approx(0.5)
    assert cv.predictions["4q"]["network"].shape == (16, 2)
    assert cv.emotify_scale.shape == (12, 2)


@pytest.mark.slow
def test_cross_validation_scores_the_moods_against_baselines(cv):
    summary = cv.mood_summary()
    assert set(summary) == {"network", "baseline_mean", "baseline_ridge"}
    assert np.isfinite(summary["network"]["tension_r"]["mean"])
    assert 0 <= summary["baseline_mean"]["top_agreement"]["mean"] <= 1
    assert summary["baseline_mean"]["calmness_r"]["mean"] is None
    for shares in cv.moods.values():
        assert shares.shape == (12, 9) and np.allclose(shares.sum(axis=1), 1.0)
    assert cv.configs == [TINY, TINY]
