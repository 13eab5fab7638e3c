"""The two-branch network: shapes, range, standardisation inside the module."""

from __future__ import annotations

import numpy as np
import torch

from app.features.config import DEFAULT_CONFIG
from app.features.windows import SCALAR_NAMES, windows
from training.network import INPUT_NAMES, EmotionNet, example_inputs

from .conftest import random_features


def fitted_net(seed: int = 0) -> EmotionNet:
    net = EmotionNet()
    net.fit_standardization({k: v.numpy() for k, v in example_inputs(16, seed).items()})
    return net.eval()


def test_outputs_are_one_value_per_window_in_range():
    w = windows(random_features(600, seed=1))
    inputs = {k: torch.from_numpy(v) for k, v in w.inputs().items()}
    valence, arousal = fitted_net()(*(inputs[n] for n in INPUT_NAMES))
    assert valence.shape == arousal.shape == (len(w),)
    assert torch.all(valence.abs() <= 1) and torch.all(arousal.abs() <= 1)


def test_input_shapes_follow_the_feature_config():
    inputs = example_inputs(3)
    assert inputs["mfcc"].shape == (3, DEFAULT_CONFIG.n_mfcc, DEFAULT_CONFIG.n_steps)
    assert inputs["chroma"].shape == (3, DEFAULT_CONFIG.n_chroma, DEFAULT_CONFIG.n_steps)
    assert inputs["spectral"].shape == (3, 2, DEFAULT_CONFIG.n_steps)
    assert inputs["scalars"].shape == (3, len(SCALAR_NAMES))


def test_standardisation_is_stored_in_the_state_dict():
    net = EmotionNet()
    mfcc = np.random.default_rng(0).normal(5.0, 3.0, (40, 20, 200)).astype(np.float32)
    inputs = {k: v.numpy() for k, v in example_inputs(40).items()} | {"mfcc": mfcc}
    net.fit_standardization(inputs)
    state = net.state_dict()
    assert np.allclose(state["standardize.mfcc.mean"].numpy().ravel(), mfcc.mean(axis=(0, 2)))
    assert np.allclose(state["standardize.mfcc.std"].numpy().ravel(), mfcc.std(axis=(0, 2)))
    restored = EmotionNet()
    restored.load_state_dict(state)
    assert torch.equal(restored.standardize["mfcc"].mean, net.standardize["mfcc"].mean)


def test_constant_and_infinite_inputs_stay_finite():
    inputs = {k: v.numpy() for k, v in example_inputs(8).items()}
    inputs["scalars"][:, -1] = 1.0  # reverb constant over the training data
    net = EmotionNet()
    net.fit_standardization(inputs)
    net.eval()
    scalars = torch.from_numpy(inputs["scalars"]).clone()
    scalars[0, SCALAR_NAMES.index("loudness_lufs")] = -np.inf
    raw = {k: torch.from_numpy(v) for k, v in inputs.items()} | {"scalars": scalars}
    valence, arousal = net(*(raw[n] for n in INPUT_NAMES))
    assert torch.isfinite(valence).all() and torch.isfinite(arousal).all()


def test_a_window_does_not_depend_on_the_rest_of_the_batch():
    net = fitted_net()
    inputs = example_inputs(4, seed=2)
    together = net(*(inputs[n] for n in INPUT_NAMES))[0]
    alone = net(*(inputs[n][1:2] for n in INPUT_NAMES))[0]
    assert torch.allclose(together[1:2], alone, atol=1e-6)
