"""ONNX export: names, dynamic batch, and parity with PyTorch."""

from __future__ import annotations

import copy

import numpy as np
import onnxruntime as ort
import pytest
import torch

from app.model import MOODS
from training.card import contract
from training.export import (
    GRAPH_OUTPUTS,
    PARITY_ATOL,
    ParityError,
    check_parity,
    export_onnx,
    parity,
)
from training.network import INPUT_NAMES, OUTPUT_NAMES, EmotionNet, Ensemble, example_inputs


@pytest.fixture(scope="module", params=[0, 2], ids=["pooled", "convolutions"])
def exported(tmp_path_factory, request):
    net = EmotionNet(channels=request.param)
    net.fit_standardization({k: v.numpy() for k, v in example_inputs(32, seed=1).items()})
    # Nonzero biases so that every layer matters in the comparison.
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    path = tmp_path_factory.mktemp("onnx") / "model.onnx"
    export_onnx(net, path)
    return net, path


def test_onnx_matches_pytorch(exported):
    net, path = exported
    inputs = {k: v.numpy() for k, v in example_inputs(17, seed=5).items()}
    assert check_parity(net, path, inputs) <= PARITY_ATOL


def test_graph_has_the_contract_names_and_a_dynamic_batch(exported):
    _, path = exported
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    card = contract()
    assert [(i.name, i.shape) for i in session.get_inputs()] == [
        (i["name"], i["shape"]) for i in card["inputs"]
    ]
    assert [o.name for o in session.get_outputs()] == list(GRAPH_OUTPUTS)
    assert [o["name"] for o in card["outputs"]] == list(GRAPH_OUTPUTS)
    for batch in (1, 5):
        feed = {k: v.numpy() for k, v in example_inputs(batch).items()}
        valence, arousal, moods = session.run(list(GRAPH_OUTPUTS), feed)
        assert valence.shape == arousal.shape == (batch,)
        assert moods.shape == (batch, len(MOODS)) and (moods >= 0).all()
        np.testing.assert_allclose(moods.sum(axis=1), 1.0, atol=1e-5)
    assert GRAPH_OUTPUTS == (*OUTPUT_NAMES, "moods") == ("valence", "arousal", "moods")


def test_parity_failure_is_reported(exported):
    net, path = exported
    other = copy.deepcopy(net)
    with torch.no_grad():
        other.valence.out.bias.add_(0.5)
    inputs = {k: v.numpy() for k, v in example_inputs(3).items()}
    assert parity(other, path, inputs) > 0.01
    with pytest.raises(ParityError):
        check_parity(other, path, inputs)
    assert set(inputs) == set(INPUT_NAMES) and np.isfinite(parity(net, path, inputs))


def test_an_ensemble_exports_as_one_graph(tmp_path):
    members = []
    for seed in range(2):
        torch.manual_seed(seed)
        net = EmotionNet(hidden=4)
        net.fit_standardization({k: v.numpy() for k, v in example_inputs(16, seed=1).items()})
        members.append(net)
    ensemble = Ensemble(members).eval()
    export_onnx(ensemble, tmp_path / "model.onnx")
    inputs = {k: v.numpy() for k, v in example_inputs(4, seed=7).items()}
    assert check_parity(ensemble, tmp_path / "model.onnx", inputs) <= PARITY_ATOL
