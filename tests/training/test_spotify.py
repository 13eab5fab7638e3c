"""Spotify's valence and energy as a weak target of the matched 4Q songs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tests.feature_fixtures import random_features
from training.data import make_songs
from training.datasets import Item
from training.spotify import spotify_targets
from training.train import TrainConfig, predict_songs, train_network


def test_matched_4q_songs_get_twice_the_values_minus_one(tmp_path):
    table = tmp_path / "spotify.csv"
    table.write_text("Song,valence,energy\nMT1,0.75,0.1\nMT2,0.5,1.0\n")
    items = [
        Item("4q/MT1", None, quadrant=1),
        Item("4q/MT3", None, quadrant=2),
        Item("emotify/MT2", None, 0.1, 0.2),
    ]
    values = spotify_targets(items, table)
    np.testing.assert_allclose(values[0], [0.5, -0.8], rtol=1e-6)
    assert np.isnan(values[1]).all() and np.isnan(values[2]).all()


@pytest.mark.slow
def test_the_spotify_loss_pulls_the_outputs_toward_the_values():
    items = [Item(f"4q/MT{k}", None, quadrant=k % 4 + 1, artist=f"a{k}") for k in range(8)]
    features = [random_features(200, seed=k) for k in range(8)]
    target = np.array([0.9, -0.9], dtype=np.float32)
    songs = make_songs(items, features, spotify=[target] * 8)
    config = TrainConfig(epochs=8, hidden=4, ensemble=1, fourq_weight=0.0, gems_weight=0.0)
    errors = []
    for weight in (0.0, 5.0):
        network = train_network(songs, replace(config, spotify_weight=weight))
        errors.append(np.abs(predict_songs(network, songs) - target).mean())
    assert errors[1] < errors[0]
