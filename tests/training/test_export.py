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
from training.network import (
    EMBEDDING_SIZE,
    INPUT_NAMES,
    OUTPUT_NAMES,
    EmotionNet,
    Ensemble,
    example_inputs,
)

from .conftest import fitted

VARIANTS = {
    "pooled": {},
    "musicnn": {"n_embedding": EMBEDDING_SIZE},
}


def inputs_for(net: EmotionNet, batch: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Random inputs of every input ``net`` reads."""
    example = example_inputs(batch, seed, embedding=net.n_embedding > 0)
    return {k: v.numpy() for k, v in example.items()}


@pytest.fixture(scope="module", params=list(VARIANTS))
def exported(tmp_path_factory, request):
    net = EmotionNet(**VARIANTS[request.param])
    fitted(net, inputs_for(net, 32, seed=1))
    # Nonzero biases so that every layer matters in the comparison.
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    path = tmp_path_factory.mktemp("onnx") / "model.onnx"
    export_onnx(net, path)
    return net, path


def test_onnx_matches_pytorch(exported):
    net, path = exported
    assert check_parity(net, path, inputs_for(net, 17, seed=5)) <= PARITY_ATOL


def test_graph_has_the_contract_names_and_a_dynamic_batch(exported):
    net, path = exported
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    card = contract(embedding=net.n_embedding > 0)
    assert [(i.name, i.shape) for i in session.get_inputs()] == [
        (i["name"], i["shape"]) for i in card["inputs"]
    ]
    assert [o.name for o in session.get_outputs()] == list(GRAPH_OUTPUTS)
    assert [o["name"] for o in card["outputs"]] == list(GRAPH_OUTPUTS)
    for batch in (1, 5):
        feed = inputs_for(net, batch)
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
    inputs = inputs_for(net, 3)
    assert parity(other, path, inputs) > 0.01
    with pytest.raises(ParityError):
        check_parity(other, path, inputs)
    assert set(inputs) == set(net.input_names) and np.isfinite(parity(net, path, inputs))
    assert net.input_names == (*INPUT_NAMES, "musicnn")[: len(inputs)]


@pytest.mark.parametrize("n_embedding", [0, EMBEDDING_SIZE])
def test_an_ensemble_exports_as_one_graph(tmp_path, n_embedding):
    members = []
    for seed in range(2):
        torch.manual_seed(seed)
        net = EmotionNet(hidden=4, n_embedding=n_embedding)
        members.append(fitted(net, inputs_for(net, 16, seed=1)))
    ensemble = Ensemble(members).eval()
    export_onnx(ensemble, tmp_path / "model.onnx")
    inputs = inputs_for(members[0], 4, seed=7)
    assert check_parity(ensemble, tmp_path / "model.onnx", inputs) <= PARITY_ATOL
    session = ort.InferenceSession(str(tmp_path / "model.onnx"))
    assert tuple(i.name for i in session.get_inputs()) == ensemble.input_names
