"""Folds, per-song prediction, metrics and cross-validation (on synthetic features)."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pytest
import torch

from app.features.windows import SCALAR_NAMES, Windows
from training.datasets import Item
from training.fit import (
    MODELS,
    TrainConfig,
    cross_validate,
    jitter_loudness,
    make_songs,
    metrics,
    predict_songs,
    split_folds,
    train_network,
)

from .conftest import GENRES, random_features

TINY = TrainConfig(epochs=1, batch_size=8)


@pytest.fixture(scope="module")
def songs():
    rng = np.random.default_rng(0)
    items = [
        Item(f"fake/{k}", None, *rng.uniform(-0.5, 0.5, 2), genre=GENRES[k % 4]) for k in range(12)
    ]
    return make_songs(items, [random_features(150 + 60 * k, seed=k) for k in range(12)])


def test_songs_carry_windows_targets_and_summaries(songs):
    assert [len(s.windows) for s in songs[:3]] == [1, 2, 2]
    assert songs[0].summary.shape == (20 + 12 + 2 + 11,)
    assert songs[0].target.dtype == np.float32


def test_folds_partition_songs_and_balance_groups(songs):
    folds = split_folds(songs, 3, seed=0)
    tests = np.concatenate([test for _, test in folds])
    assert sorted(tests) == list(range(len(songs)))
    for train, test in folds:
        assert not set(train) & set(test)
        assert sorted(songs[i].group for i in test) == sorted(GENRES)


def test_song_prediction_is_the_mean_of_its_windows(songs):
    net = train_network(songs[:4], TINY)
    song = songs[5]
    per_window = np.stack([predict_songs(net, [s])[0] for s in split_windows(song)])
    assert predict_songs(net, [song])[0] == pytest.approx(per_window.mean(axis=0), abs=1e-6)


def split_windows(song):
    """One pseudo-song per window of ``song``."""
    w = song.windows
    return [
        replace(song, windows=Windows(*(getattr(w, f.name)[i : i + 1] for f in fields(w))))
        for i in range(len(w))
    ]


def test_metrics_of_known_predictions():
    truth = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0]])
    result = metrics(truth, truth * 2)
    assert result["valence"]["pearson_r"] == pytest.approx(1.0)
    assert result["valence"]["rmse"] == pytest.approx(np.sqrt(5 / 3))
    assert result["valence"]["r2"] == pytest.approx(1 - 5 / 2)
    constant = metrics(truth, np.ones_like(truth))
    assert constant["arousal"]["pearson_r"] is None


def test_cross_validation_reports_every_model(songs):
    cv = cross_validate(songs, 2, TINY, seed=0)
    summary = cv.summary()
    assert set(summary) == set(MODELS)
    assert summary["baseline_mean"]["valence"]["pearson_r"]["mean"] is None
    for model in ("network", "baseline_ridge"):
        for output in ("valence", "arousal"):
            assert set(summary[model][output]) == {"pearson_r", "r2", "rmse"}
            assert np.isfinite(summary[model][output]["rmse"]["mean"])
    assert all(len(cv.fold_metrics[m]) == 2 for m in MODELS)


def test_training_is_reproducible(songs):
    first = predict_songs(train_network(songs[:6], TINY, seed=3), songs[6:])
    second = predict_songs(train_network(songs[:6], TINY, seed=3), songs[6:])
    assert np.array_equal(first, second)


def test_loudness_jitter_touches_only_loudness():
    scalars = torch.zeros(500, len(SCALAR_NAMES))
    jittered = jitter_loudness(scalars, 6.0, torch.Generator().manual_seed(0))
    column = SCALAR_NAMES.index("loudness_lufs")
    assert torch.all(scalars == 0)
    assert torch.all(jittered[:, column].abs() <= 6.0) and jittered[:, column].std() > 2.0
    assert torch.all(torch.cat([jittered[:, :column], jittered[:, column + 1 :]], 1) == 0)
