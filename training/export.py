"""Export the network to ONNX and check that onnxruntime reproduces PyTorch.

Uses the TorchScript-based exporter (``dynamo=False``): the torch.export-based default
of torch >= 2.9 needs the separate ``onnxscript`` package, and this small static graph
gains nothing from it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from app.features.windows import EMBEDDING_INPUT
from app.model import MOODS_OUTPUT
from training.network import (
    OUTPUT_NAMES,
    EmotionNet,
    Ensemble,
    example_inputs,
)

GRAPH_OUTPUTS: tuple[str, ...] = (*OUTPUT_NAMES, MOODS_OUTPUT)
"""The exported graph's outputs: valence and arousal, each (batch,), and the (batch, 9)
GEMS shares."""

OPSET = 17
"""ONNX opset; onnxruntime >= 1.18 runs it."""

PARITY_ATOL = 1e-4
"""Largest allowed |ONNX - PyTorch| difference of any output. The in-graph pooling sums 200
time steps in float32, and onnxruntime reduces in another order than PyTorch: about 1e-5
after standardisation, far below any meaningful difference of outputs in [-1, 1]."""


class ParityError(AssertionError):
    """The exported graph's outputs differ from PyTorch's."""


def export_onnx(model: EmotionNet | Ensemble, path: Path) -> None:
    """Write ``model`` (put in eval mode) to ``path`` with a dynamic batch axis."""
    model.eval()
    names = model.input_names
    first = model.members[0] if isinstance(model, Ensemble) else model
    example = example_inputs(embedding=EMBEDDING_INPUT in names, width=first.n_embedding)
    dynamic_axes = {name: {0: "batch"} for name in (*names, *GRAPH_OUTPUTS)}
    with warnings.catch_warnings():
        # The legacy exporter warns about its own deprecation; the choice is explained above.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            tuple(example[name] for name in names),
            str(path),
            input_names=list(names),
            output_names=list(GRAPH_OUTPUTS),
            dynamic_axes=dynamic_axes,
            opset_version=OPSET,
            dynamo=False,
        )


@torch.no_grad()
def parity(model: EmotionNet | Ensemble, path: Path, inputs: Mapping[str, np.ndarray]) -> float:
    """Largest absolute difference between PyTorch's and onnxruntime's outputs on ``inputs``."""
    model.eval()
    names = model.input_names
    expected = model(*(torch.from_numpy(inputs[name]) for name in names))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {name: np.ascontiguousarray(inputs[name], dtype=np.float32) for name in names}
    actual = session.run(list(GRAPH_OUTPUTS), feed)
    return max(float(np.max(np.abs(e.numpy() - a))) for e, a in zip(expected, actual, strict=True))


def check_parity(
    model: EmotionNet | Ensemble,
    path: Path,
    inputs: Mapping[str, np.ndarray],
    atol: float = PARITY_ATOL,
) -> float:
    """Return :func:`parity`, raising :class:`ParityError` if it exceeds ``atol``."""
    difference = parity(model, path, inputs)
    if not difference <= atol:
        raise ParityError(f"ONNX and PyTorch outputs differ by {difference:.3g} (> {atol:g})")
    return difference
