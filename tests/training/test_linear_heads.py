"""The song-level linear heads, their blend with the network, and its export (synthetic)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from training.baselines import fit_logistic, fit_ridge, logistic_models, ridge_model
from training.data import EMOTIFY, FOURQ, SIGNS
from training.export import check_parity, export_onnx
from training.linear_heads import (
    EMBEDDING,
    Affine,
    NetworkScale,
    fit_heads,
    mean_head,
    raw_affine,
)
from training.network import EMBEDDING_SIZE, Blend, EmotionNet
from training.train import TrainConfig, network_scale, predict_songs, train_network

from .conftest import fitted

SCALE = NetworkScale(
    emotify_intercept=np.array([0.2, -0.1]),
    emotify_slope=np.array([0.5, 0.8]),
    sign_scale=np.array([4.0, 8.0]),
)
"""A network's learnt maps, made up."""


def statistics(songs) -> np.ndarray:
    return np.stack([EMBEDDING(s) for s in songs])


def test_a_pipeline_is_one_affine_map_of_the_raw_statistics(songs):
    emotify = [s for s in songs if s.dataset == EMOTIFY]
    weight, bias = raw_affine(ridge_model(emotify, inputs=EMBEDDING))
    expected = fit_ridge(emotify, inputs=EMBEDDING)(songs)
    np.testing.assert_allclose(statistics(songs) @ weight + bias, expected, rtol=1e-6, atol=1e-9)
    fourq = [s for s in songs if s.dataset == FOURQ]
    decisions = fit_logistic(fourq, EMBEDDING)(songs)
    for k, model in enumerate(logistic_models(fourq, EMBEDDING)):
        w, b = raw_affine(model)
        np.testing.assert_allclose(statistics(songs) @ w[:, 0] + b[0], decisions[:, k], atol=1e-9)


def test_each_head_states_its_fit_on_the_networks_scale(songs):
    heads = fit_heads(songs, SCALE)
    assert set(heads) == {EMOTIFY, FOURQ}
    x = statistics(songs)
    emotify = [s for s in songs if s.dataset == EMOTIFY]
    ridge = fit_ridge(emotify, inputs=EMBEDDING)(songs)
    # Through the network's own map onto Emotify's scale, the head is the ridge regression.
    mapped = SCALE.emotify_intercept + SCALE.emotify_slope * heads[EMOTIFY][0](x)
    np.testing.assert_allclose(mapped, ridge, atol=1e-9)
    # Times the network's logit scale, the 4Q head is the logistic regression's logit.
    decisions = fit_logistic([s for s in songs if s.dataset == FOURQ], EMBEDDING)(songs)
    np.testing.assert_allclose(SCALE.sign_scale * heads[FOURQ][0](x), decisions, atol=1e-9)
    assert set(heads[EMOTIFY][1]) == {"ridge_alpha"} and len(heads[FOURQ][1]["logistic_C"]) == 2


def test_the_4q_head_learns_the_signs(songs):
    """Quadrants given by the signs of two embedding statistics: the head recovers them."""
    fourq = [s for s in songs if s.dataset == FOURQ]
    x = statistics(fourq)
    centred = x[:, :2] - np.median(x[:, :2], axis=0)
    signs = {signs: q for q, signs in SIGNS.items()}
    relabelled = [
        replace(s, quadrant=signs[(1 if v >= 0 else -1, 1 if a >= 0 else -1)])
        for s, (v, a) in zip(fourq, centred, strict=True)
    ]
    head, _ = fit_heads(relabelled, SCALE)[FOURQ]
    np.testing.assert_array_equal(np.sign(head(x)), np.sign(centred))


def test_labels_on_the_served_scale_get_their_own_head(songs):
    own = [replace(s, dataset="csv", key=f"csv/{k}") for k, s in enumerate(songs[:12])]
    heads = fit_heads(own, SCALE)
    assert set(heads) == {"direct"}
    ridge = fit_ridge(own, inputs=EMBEDDING)(own)
    np.testing.assert_allclose(heads["direct"][0](statistics(own)), ridge, atol=1e-9)


def test_the_mean_of_heads_is_their_mean_value():
    rng = np.random.default_rng(0)
    heads = [Affine(rng.normal(size=(3, 2)), rng.normal(size=2)) for _ in range(2)]
    x = rng.normal(size=(5, 3))
    np.testing.assert_allclose(mean_head(heads)(x), (heads[0](x) + heads[1](x)) / 2)


def test_linear_heads_need_the_embedding():
    with pytest.raises(ValueError, match="musicnn"):
        TrainConfig(linear_weight=0.5)
    with pytest.raises(ValueError, match="linear_weight"):
        TrainConfig(musicnn=True, linear_weight=1.5)


def blend_of(weight: float = 0.5, seed: int = 0) -> Blend:
    torch.manual_seed(seed)
    net = EmotionNet(hidden=4, n_embedding=EMBEDDING_SIZE)
    inputs = {k: v.numpy() for k, v in example_inputs_of(16, seed=1).items()}
    fitted(net, inputs).eval()
    rng = np.random.default_rng(seed)
    return Blend(net, rng.normal(0, 0.01, (EMBEDDING_SIZE, 2)), rng.normal(0, 0.1, 2), weight)


def example_inputs_of(batch: int, seed: int) -> dict[str, torch.Tensor]:
    from training.network import example_inputs

    return example_inputs(batch, seed, embedding=True)


def test_the_blend_mixes_each_window_and_keeps_the_range():
    blend = blend_of(weight=0.25)
    example = example_inputs_of(6, seed=3)
    with torch.no_grad():
        valence, _, moods = blend(*example.values())
        network = blend.network(*example.values())
    heads = example["musicnn"].numpy() @ blend.head_weight.numpy() + blend.head_bias.numpy()
    expected = np.clip(0.75 * network.valence.numpy() + 0.25 * heads[:, 0], -1, 1)
    np.testing.assert_allclose(valence.numpy(), expected, atol=1e-6)
    np.testing.assert_allclose(moods.numpy(), network.moods.numpy())
    blend.head_bias.fill_(100.0)  # far outside: clipped to the served range
    with torch.no_grad():
        assert torch.all(blend(*example.values()).arousal == 1.0)


def test_a_blend_exports_as_one_graph_with_the_networks_contract(tmp_path):
    blend = blend_of()
    export_onnx(blend, tmp_path / "model.onnx")
    inputs = {k: v.numpy() for k, v in example_inputs_of(5, seed=9).items()}
    assert check_parity(blend, tmp_path / "model.onnx", inputs) <= 1e-4
    assert blend.input_names == blend.network.input_names


@pytest.mark.slow
def test_a_trained_blend_serves_the_heads_of_the_songs_mean_statistics(songs):
    """The graph runs the heads per window; the song's mean is the heads of its mean
    statistics, what they were fitted on."""
    config = TrainConfig(epochs=2, batch_size=16, hidden=8, ensemble=2, musicnn=True)
    blend = train_network(songs[:20], replace(config, linear_weight=0.5), seed=1)
    network = train_network(songs[:20], config, seed=1)
    assert isinstance(blend, Blend) and set(blend.record) == {EMOTIFY, FOURQ}
    heads = fit_heads(songs[:20], network_scale(network))
    expected = mean_head([h for h, _ in heads.values()])(statistics(songs[20:]))
    served = predict_songs(blend, songs[20:])
    np.testing.assert_allclose(
        served, 0.5 * predict_songs(network, songs[20:]) + 0.5 * expected, atol=1e-5
    )
    alone = predict_songs(blend.alone(blend.members[0]), songs[20:])
    assert not np.allclose(alone, served)
