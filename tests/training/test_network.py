"""The two-branch network: shapes, range, standardisation inside the module."""

from __future__ import annotations

import numpy as np
import torch

from app.features.config import DEFAULT_CONFIG
from app.features.windows import SCALAR_NAMES, windows
from training.network import INPUT_NAMES, KK_MAJOR, EmotionNet, Pooling, example_inputs

from .conftest import fitted, random_features


def fitted_net(seed: int = 0) -> EmotionNet:
    return fitted(EmotionNet(), example_inputs(16, seed)).eval()


def test_outputs_are_one_value_per_window_in_range():
    w = windows(random_features(600, seed=1))
    inputs = {k: torch.from_numpy(v) for k, v in w.inputs().items()}
    net = fitted_net()
    valence, arousal, moods = net(*(inputs[n] for n in INPUT_NAMES))
    assert valence.shape == arousal.shape == (len(w),)
    assert torch.all(valence.abs() <= 1) and torch.all(arousal.abs() <= 1)
    assert moods.shape == (len(w), 9) and torch.allclose(moods.sum(1), torch.ones(len(w)))
    assert net.tags is None and net.head(net.pooling(*inputs.values())).tags is None


def test_a_tag_head_gives_one_logit_per_tag():
    net = fitted(EmotionNet(n_tags=5), example_inputs(16))
    heads = net.head(net.pooling(*example_inputs(3).values()))
    assert heads.tags.shape == (3, 5) and heads.gems.shape == (3, 9)


def test_input_shapes_follow_the_feature_config():
    inputs = example_inputs(3)
    assert inputs["mfcc"].shape == (3, DEFAULT_CONFIG.n_mfcc, DEFAULT_CONFIG.n_steps)
    assert inputs["chroma"].shape == (3, DEFAULT_CONFIG.n_chroma, DEFAULT_CONFIG.n_steps)
    assert inputs["spectral"].shape == (3, 2, DEFAULT_CONFIG.n_steps)
    assert inputs["scalars"].shape == (3, len(SCALAR_NAMES))


def test_standardisation_is_stored_in_the_state_dict():
    inputs = example_inputs(40)
    net = fitted(EmotionNet(), inputs)
    pooled = net.pooling(*(inputs[n] for n in INPUT_NAMES)).numpy()
    state = net.state_dict()
    assert np.allclose(state["standardize.mean"].numpy().ravel(), pooled.mean(axis=0), rtol=1e-4)
    assert np.allclose(state["standardize.std"].numpy().ravel(), pooled.std(axis=0), rtol=1e-3)
    restored = EmotionNet()
    restored.load_state_dict(state)
    assert torch.equal(restored.standardize.mean, net.standardize.mean)


def test_pooling_names_every_column_and_finds_the_mode():
    pooling = Pooling()
    x = example_inputs(3)
    assert pooling(*(x[n] for n in INPUT_NAMES)).shape == (3, pooling.n_features)
    assert len(set(pooling.names)) == pooling.n_features
    # A steady C major profile: high major-key correlation, mode > 0, major triads win.
    chroma = torch.tensor(KK_MAJOR).repeat(2, 1)[..., None].expand(2, 12, 200) / 6.35
    chroma = chroma.clone()
    chroma[1] = torch.roll(chroma[1], 5, dims=0)  # F major: same mode, other key
    x = example_inputs(2) | {"chroma": chroma}
    pooled = pooling(*(x[n] for n in INPUT_NAMES))
    col = {n: pooled[:, pooling.names.index(n)] for n in pooling.names}
    assert torch.allclose(col["key_major_max"], torch.ones(2), atol=1e-4)
    assert torch.all(col["key_mode"] > 0.2)
    assert torch.allclose(col["interval1"][0], col["interval1"][1], atol=1e-5)


def test_constant_and_infinite_inputs_stay_finite():
    inputs = {k: v.numpy() for k, v in example_inputs(8).items()}
    inputs["scalars"][:, -1] = 1.0  # reverb constant over the training data
    net = fitted(EmotionNet(), inputs).eval()
    scalars = torch.from_numpy(inputs["scalars"]).clone()
    scalars[0, SCALAR_NAMES.index("loudness_lufs")] = -np.inf
    raw = {k: torch.from_numpy(v) for k, v in inputs.items()} | {"scalars": scalars}
    for output in net(*(raw[n] for n in INPUT_NAMES)):
        assert torch.isfinite(output).all()


def test_a_window_does_not_depend_on_the_rest_of_the_batch():
    net = fitted_net()
    inputs = example_inputs(4, seed=2)
    together = net(*(inputs[n] for n in INPUT_NAMES))[0]
    alone = net(*(inputs[n][1:2] for n in INPUT_NAMES))[0]
    assert torch.allclose(together[1:2], alone, atol=1e-5)


def test_pooling_names_label_their_own_columns_at_any_size():
    pooling = Pooling(n_mfcc=13, n_scalars=3, n_steps=100)
    x = example_inputs(2, seed=4)
    x = {
        "mfcc": x["mfcc"][:, :13, :100],
        "chroma": x["chroma"][..., :100],
        "spectral": x["spectral"][..., :100],
        "scalars": x["scalars"][:, :3],
    }
    pooled = pooling(*(x[n] for n in INPUT_NAMES))
    assert pooled.shape == (2, pooling.n_features) == (2, len(pooling.names))
    col = dict(zip(pooling.names, pooled.T, strict=True))
    assert torch.allclose(col["mfcc12_mean"], x["mfcc"][:, 12].mean(dim=1))
    assert torch.equal(col["mfcc4_p90"], x["mfcc"][:, 4].sort(dim=1).values[:, 89])
    log_rolloff = torch.log(x["spectral"][:, 1] + 1)
    assert torch.allclose(col["log_rolloff_mean"], log_rolloff.mean(dim=1))
    assert torch.allclose(col["chroma11_mean"], x["chroma"][:, 11].mean(dim=1))
    assert torch.equal(col["scalar2"], x["scalars"][:, 2])
