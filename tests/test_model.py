"""The model contract: what the service loads, what it refuses, and the optional moods."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from app.analysis import Analyzer, _warm_up_signal
from app.errors import ModelContractError
from app.features.windows import windows
from app.model import CARD_FILE, EMBEDDER_FILE, MOODS, EmotionModel
from app.settings import Settings
from tests.feature_fixtures import random_embeddings, random_features
from tests.model_fixtures import copy_model


@pytest.fixture(scope="module")
def cut():
    features = random_features(450, seed=3)
    return windows(replace(features, embedding=random_embeddings([features])[0]))


def test_the_served_model_gives_moods_that_sum_to_one(cut):
    model = EmotionModel(Settings().model_path)
    prediction = model(cut)
    assert model.has_moods and prediction.moods.shape == (len(cut), len(MOODS))
    assert (prediction.moods >= 0).all()
    np.testing.assert_allclose(prediction.moods.sum(axis=1), 1.0, atol=1e-5)


def test_a_model_without_the_mood_head_loads_and_has_no_moods(tmp_path, cut):
    folder = copy_model(tmp_path / "old", graph_moods=False, card_moods=False)
    model = EmotionModel(folder)
    prediction = model(cut)
    assert not model.has_moods and prediction.moods is None
    assert prediction.valence.shape == (len(cut),)
    emotion = Analyzer(folder, warm_up=False).analyse_samples(_warm_up_signal())
    assert emotion.moods is None


def test_the_song_moods_are_the_mean_of_its_windows():
    analyzer = Analyzer(Settings().model_path, warm_up=False)
    signal = np.tile(_warm_up_signal(), 10)  # 30 s: several windows
    emotion = analyzer.analyse_samples(signal)
    assert list(emotion.moods) == list(MOODS) and len(emotion.timeline) > 1
    assert sum(emotion.moods.values()) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(
    ("graph_moods", "card_moods"), [(False, True), (True, False)], ids=["graph", "card"]
)
def test_a_card_and_graph_that_disagree_on_moods_are_refused(tmp_path, graph_moods, card_moods):
    folder = copy_model(tmp_path / "m", graph_moods=graph_moods, card_moods=card_moods)
    with pytest.raises(ModelContractError, match="outputs"):
        EmotionModel(folder)


def test_moods_labelled_otherwise_are_refused(tmp_path):
    folder = copy_model(tmp_path / "m")
    card = json.loads((folder / CARD_FILE).read_text())
    moods = next(o for o in card["outputs"] if o["name"] == "moods")
    moods["labels"] = moods["labels"][::-1]
    (folder / CARD_FILE).write_text(json.dumps(card))
    with pytest.raises(ModelContractError, match="moods output"):
        EmotionModel(folder)


def test_the_served_model_reads_musicnn_through_the_network_beside_it(cut):
    model = EmotionModel(Settings().model_path)
    assert model.embedder is not None
    assert model.card["embedding"]["output"] == "penultimate"
    with pytest.raises(ModelContractError, match="musicnn"):
        model(replace(cut, musicnn=None))
    emotion = Analyzer(Settings().model_path, warm_up=False).analyse_samples(_warm_up_signal())
    assert emotion.features.embedding.shape == (1, 200)  # 3 s: one patch


@pytest.mark.parametrize("damage", ["missing", "other"])
def test_a_model_without_its_musicnn_graph_is_refused(tmp_path, damage):
    folder = copy_model(tmp_path / "m")
    graph = folder / f"{EMBEDDER_FILE}.onnx"
    if damage == "missing":
        graph.unlink()
    else:
        graph.write_bytes(graph.read_bytes() + b"\0")
    with pytest.raises(ModelContractError, match="musicnn"):
        EmotionModel(folder)
