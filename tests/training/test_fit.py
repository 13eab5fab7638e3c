"""Folds, per-song prediction, metrics and joint cross-validation (on synthetic features)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from training.fit import (
    TrainConfig,
    cross_validate,
    emotify_metrics,
    fourq_metrics,
    metrics_of,
    models_of,
    moods_metrics,
    predict_moods,
    predict_songs,
    quadrant_of,
    split_folds,
    tag_vocabulary,
    to_emotify_scale,
    train_network,
)
from training.network import INPUT_NAMES

TINY = TrainConfig(epochs=2, batch_size=16, hidden=8, ensemble=1)


def test_songs_carry_windows_crops_and_labels(songs):
    assert [len(s.windows) for s in songs[:3]] == [1, 2, 2]
    assert len(songs[2].train_pooled) > len(songs[2].windows)  # crops hop 2 s, windows 10 s
    assert songs[0].pooled.shape[0] == len(songs[0].windows)
    assert songs[0].dataset == "emotify" and np.isfinite(songs[0].gems).all()
    four = songs[12]
    assert four.dataset == "4q" and four.quadrant == 1 and np.isnan(four.target).all()
    assert four.group == "artist:a0" and four.stratum == "4q:Q1"


def test_folds_partition_songs_and_keep_artists_together(songs):
    folds = split_folds(songs, 2, seed=0)
    tests = np.concatenate([test for _, test in folds])
    assert sorted(tests) == list(range(len(songs)))
    for train, test in folds:
        assert not {songs[i].group for i in train} & {songs[i].group for i in test}
        assert {songs[i].dataset for i in test} == {"emotify", "4q"}


@pytest.mark.parametrize(
    "change", [{}, {"channels": 2}, {"musicnn": True}], ids=["pooled", "convolutions", "musicnn"]
)
def test_song_prediction_is_the_mean_of_the_graphs_window_outputs(songs, change):
    net = train_network(songs[:20], replace(TINY, **change))
    song = songs[5]
    raw = {k: torch.from_numpy(v) for k, v in song.windows.inputs().items()}
    assert net.input_names == (*INPUT_NAMES, "musicnn")[: 4 + bool(change.get("musicnn"))]
    with torch.no_grad():
        valence, arousal, moods = net(*(raw[n] for n in net.input_names))
    expected = [valence.mean().item(), arousal.mean().item()]
    assert predict_songs(net, [song])[0] == pytest.approx(expected, abs=1e-5)
    shares = predict_moods(net, [song])[0]
    assert shares == pytest.approx(moods.mean(0).numpy(), abs=1e-5)
    assert shares.sum() == pytest.approx(1.0, abs=1e-5)


def test_emotify_scale_map_is_increasing(songs):
    net = train_network(songs, TINY)
    mapped = to_emotify_scale(net, np.array([[-0.5, -0.5], [0.5, 0.5]]))
    assert np.all(mapped[1] > mapped[0])


def test_metrics_of_known_predictions():
    truth = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0]])
    result = emotify_metrics(truth, truth * 2)
    assert result["valence_r"] == pytest.approx(1.0)
    assert result["valence_rmse"] == pytest.approx(np.sqrt(5 / 3))
    assert result["valence_r2"] == pytest.approx(1 - 5 / 2)
    assert emotify_metrics(truth, np.ones_like(truth))["arousal_r"] is None

    quadrants = np.array([1, 2, 3, 4])
    perfect = np.array([[0.5, 0.5], [-0.5, 0.2], [-0.1, -0.3], [0.2, -0.9]])
    scored = fourq_metrics(quadrants, perfect)
    assert scored == {"valence_auc": 1.0, "arousal_auc": 1.0, "quadrant_accuracy": 1.0}
    flipped = fourq_metrics(quadrants, -perfect)
    assert flipped["valence_auc"] == 0.0 and flipped["quadrant_accuracy"] == 0.0
    assert list(quadrant_of([0.0, -1, -1, 1], [0.0, 1, -1, -1])) == [1, 2, 3, 4]


def test_cross_validation_reports_every_model_per_dataset(songs):
    cv = cross_validate(songs, 2, TINY, seed=0)
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


def test_training_is_reproducible(songs):
    first = predict_songs(train_network(songs[:20], TINY, seed=3), songs[20:])
    second = predict_songs(train_network(songs[:20], TINY, seed=3), songs[20:])
    assert np.array_equal(first, second)


def test_an_ensemble_averages_its_members(songs):
    config = TrainConfig(epochs=1, batch_size=16, hidden=4, ensemble=2)
    ensemble = train_network(songs, config, seed=1)
    members = [predict_songs(m, songs[:3]) for m in ensemble.members]
    assert predict_songs(ensemble, songs[:3]) == pytest.approx(np.mean(members, axis=0))


def test_songs_carry_tags_and_confidence(songs):
    assert songs[12].tags == ("joyous", "happy", "rare") and songs[12].confidence == 0.5
    assert songs[0].tags == () and songs[0].confidence == 1.0
    assert tag_vocabulary(songs, 4) == ("happy", "joyous", "angry", "sad", "gloomy", "calm")
    assert "rare" in tag_vocabulary(songs, 1) and tag_vocabulary(songs, 8) == ("happy",)


def test_the_tag_head_is_trained_on_the_frequent_tags_only(songs):
    net = train_network(songs, replace(TINY, tag_weight=1.0, min_tag_songs=4))
    assert net.tags.out_features == 6
    assert train_network(songs, TINY).tags is None


def test_confidence_weights_the_sign_loss(songs):
    base = predict_songs(train_network(songs, TINY), songs)
    weighted = replace(TINY, confidence_power=2.0)
    assert not np.allclose(predict_songs(train_network(songs, weighted), songs), base)
    # Equal confidences are equal weights: the same training as without weighting.
    sure = [replace(s, confidence=1.0) for s in songs]
    assert np.allclose(predict_songs(train_network(sure, weighted), songs), base, atol=1e-6)


def test_mood_metrics_of_known_shares():
    truth = np.array([[0.7, 0.2, 0.1] + [0.0] * 6, [0.1, 0.6, 0.3] + [0.0] * 6])
    truth = np.vstack([truth, truth[::-1] * 0.5 + 0.5 / 9])
    result = moods_metrics(truth, truth)
    assert result["amazement_r"] == pytest.approx(1.0) and result["top_agreement"] == 1.0
    swapped = truth[:, [1, 0, *range(2, 9)]]
    assert moods_metrics(truth, swapped)["top_agreement"] == 0.0
    assert moods_metrics(truth, np.full_like(truth, 1 / 9))["sadness_r"] is None


def test_cross_validation_scores_the_moods_against_baselines(songs):
    cv = cross_validate(songs, 2, TINY, seed=0)
    summary = cv.mood_summary()
    assert set(summary) == {"network", "baseline_mean", "baseline_ridge"}
    assert np.isfinite(summary["network"]["tension_r"]["mean"])
    assert 0 <= summary["baseline_mean"]["top_agreement"]["mean"] <= 1
    assert summary["baseline_mean"]["calmness_r"]["mean"] is None
    for shares in cv.moods.values():
        assert shares.shape == (12, 9) and np.allclose(shares.sum(axis=1), 1.0)
    assert cv.configs == [TINY, TINY]
