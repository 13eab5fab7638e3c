"""Load an exported model with its card and run it with onnxruntime.

Built once at start-up, cheap to call: :class:`EmotionModel` checks that the card
agrees with the running feature code and refuses to load otherwise, so a model can
never silently read features computed differently from the ones it was trained on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from app.errors import ModelContractError
from app.features.config import DEFAULT_CONFIG, FeatureConfig
from app.features.windows import SCALAR_NAMES, Windows

CARD_FILE = "card.json"
MODEL_FILE = "model.onnx"
OUTPUTS = ("valence", "arousal")


@dataclass(frozen=True)
class Prediction:
    """Per-window predictions of one song, each value in [-1, 1]."""

    valence: np.ndarray
    arousal: np.ndarray


class EmotionModel:
    """An ONNX valence/arousal model and its card.

    Parameters
    ----------
    directory : Path
        A ``model_store/<name>-<version>/`` folder holding ``model.onnx`` and ``card.json``.
    threads : int
        onnxruntime intra-op threads; 1 suits a worker per core.
    """

    def __init__(self, directory: Path, *, threads: int = 1) -> None:
        directory = Path(directory)
        try:
            self.card: dict = json.loads((directory / CARD_FILE).read_text())
        except (OSError, ValueError) as exc:
            raise ModelContractError(f"cannot read the model card in {directory}: {exc}") from exc
        check_card(self.card, DEFAULT_CONFIG)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(directory / MODEL_FILE), options, providers=["CPUExecutionProvider"]
        )
        check_session(self.session, self.card)
        self.name: str = self.card["name"]
        self.version: str = self.card["version"]

    def __call__(self, windows: Windows) -> Prediction:
        """Predict valence and arousal for every window."""
        valence, arousal = self.session.run(list(OUTPUTS), windows.inputs())
        return Prediction(np.asarray(valence).reshape(-1), np.asarray(arousal).reshape(-1))


def check_card(card: dict, config: FeatureConfig) -> None:
    """Raise :class:`ModelContractError` unless the card matches the running feature code."""
    required = {"name", "version", "feature_config", "scalar_names", "inputs", "outputs"}
    missing = required - card.keys()
    if missing:
        raise ModelContractError(f"the model card lacks {sorted(missing)}")
    if card["feature_config"] != config.to_dict():
        raise ModelContractError(
            f"the model was trained on features {card['feature_config']}, "
            f"but this code computes {config.to_dict()}"
        )
    if tuple(card["scalar_names"]) != SCALAR_NAMES:
        raise ModelContractError(
            f"the model expects scalars {card['scalar_names']}, "
            f"this code gives {list(SCALAR_NAMES)}"
        )


def check_session(session: ort.InferenceSession, card: dict) -> None:
    """Raise :class:`ModelContractError` unless the ONNX graph has the card's inputs and outputs."""
    graph_inputs = {i.name: i.shape[1:] for i in session.get_inputs()}
    card_inputs = {i["name"]: i["shape"][1:] for i in card["inputs"]}
    if graph_inputs != card_inputs:
        raise ModelContractError(
            f"the ONNX inputs {graph_inputs} differ from the card's {card_inputs}"
        )
    names = {o.name for o in session.get_outputs()}
    if not set(OUTPUTS) <= names:
        raise ModelContractError(f"the ONNX model lacks outputs {sorted(set(OUTPUTS) - names)}")
