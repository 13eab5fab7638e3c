"""Training and per-song prediction (on synthetic features)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from training.network import INPUT_NAMES
from training.train import (
    TrainConfig,
    emotify_map_of,
    predict_moods,
    predict_songs,
    to_emotify_scale,
    train_network,
)

pytestmark = pytest.mark.slow

TINY = TrainConfig(epochs=2, batch_size=16, hidden=8, ensemble=1)


@pytest.mark.parametrize("change", [{}, {"musicnn": True}], ids=["pooled", "musicnn"])
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


def test_emotify_scale_map_is_increasing_and_the_one_the_card_records(songs):
    net = train_network(songs, replace(TINY, ensemble=2))
    outputs = np.array([[-0.5, -0.5], [0.5, 0.5]])
    mapped = to_emotify_scale(net, outputs)
    assert np.all(mapped[1] > mapped[0])
    card = emotify_map_of(net)
    intercept = np.array([card[k]["intercept"] for k in ("valence", "arousal")])
    slope = np.array([card[k]["slope"] for k in ("valence", "arousal")])
    np.testing.assert_allclose(mapped, intercept + slope * outputs, rtol=1e-6)


def test_training_is_reproducible(songs):
    first = predict_songs(train_network(songs[:20], TINY, seed=3), songs[20:])
    second = predict_songs(train_network(songs[:20], TINY, seed=3), songs[20:])
    assert np.array_equal(first, second)


def test_an_ensemble_averages_its_members(songs):
    config = TrainConfig(epochs=1, batch_size=16, hidden=4, ensemble=2)
    ensemble = train_network(songs, config, seed=1)
    members = [predict_songs(m, songs[:3]) for m in ensemble.members]
    assert predict_songs(ensemble, songs[:3]) == pytest.approx(np.mean(members, axis=0))


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
