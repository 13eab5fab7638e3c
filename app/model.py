"""Load an exported model with its card and run it with onnxruntime.

Built once at start-up, cheap to call: :class:`EmotionModel` checks that the card
agrees with the running feature code and with the graph and refuses to load otherwise,
so a model can never silently read features computed differently from the ones it was
trained on. Every model gives valence and arousal; a model with a mood head also gives
the nine GEMS shares per window (output ``moods``), an older one simply has no moods. A
model whose graph reads musicnn's embedding (input ``musicnn``) carries the musicnn
network beside it (``musicnn.onnx`` and ``musicnn.json``), loaded as its
:attr:`EmotionModel.embedder`; the features then include the embedding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from app.calibration import Calibration
from app.errors import ModelContractError
from app.features.config import DEFAULT_CONFIG, FeatureConfig
from app.features.musicnn import MusicnnEmbedder, graph_sha256
from app.features.windows import EMBEDDING_INPUT, SCALAR_NAMES, Windows

CARD_FILE = "card.json"
MODEL_FILE = "model.onnx"
EMBEDDER_FILE = "musicnn"
"""The musicnn network of a model that reads its embedding, without extension: ``.onnx``
and its card ``.json``, in the model's folder."""
OUTPUTS = ("valence", "arousal")
"""The outputs every model has, each (batch,) in [-1, 1]."""

MOODS_OUTPUT = "moods"
"""The optional output: (batch, 9) GEMS shares, each row summing to 1, in :data:`MOODS` order."""

MOODS: tuple[str, ...] = (
    "amazement",
    "solemnity",
    "tenderness",
    "nostalgia",
    "calmness",
    "power",
    "joyful_activation",
    "tension",
    "sadness",
)
"""The nine GEMS categories (Zentner et al. 2008) as Emotify names them."""


@dataclass(frozen=True)
class Prediction:
    """Per-window predictions of one song: valence and arousal in [-1, 1], and the
    (windows, 9) GEMS shares when the model has a mood head."""

    valence: np.ndarray
    arousal: np.ndarray
    moods: np.ndarray | None = None


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
        self.directory = directory
        """The model's folder (the files beside the graph, such as the audio features'
        calibration, are read from it)."""
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
        self.has_moods = any(o["name"] == MOODS_OUTPUT for o in self.card["outputs"])
        self._outputs = [*OUTPUTS, MOODS_OUTPUT] if self.has_moods else list(OUTPUTS)
        self._inputs = [i.name for i in self.session.get_inputs()]
        self.calibration = Calibration.of_card(self.card)
        """The calibrated probabilities of signs and quadrant, or None (older models)."""
        self.embedder: MusicnnEmbedder | None = None
        """The musicnn network whose embedding the graph reads, or None."""
        if EMBEDDING_INPUT in self._inputs:
            self.embedder = load_embedder(directory, self.card, threads)

    def __call__(self, windows: Windows) -> Prediction:
        """Predict valence, arousal and (if the model has them) the moods of every window."""
        inputs = windows.inputs()
        if any(name not in inputs for name in self._inputs):
            raise ModelContractError("the model reads musicnn's embedding: extract it too")
        feed = {name: inputs[name] for name in self._inputs}
        valence, arousal, *moods = self.session.run(self._outputs, feed)
        return Prediction(
            np.asarray(valence).reshape(-1),
            np.asarray(arousal).reshape(-1),
            np.asarray(moods[0]).reshape(-1, len(MOODS)) if moods else None,
        )


def load_embedder(directory: Path, card: dict, threads: int) -> MusicnnEmbedder:
    """The musicnn network in ``directory``, once its graph is the one the card names."""
    graph = directory / EMBEDDER_FILE
    expected = card.get("embedding", {}).get("sha256")
    try:
        digest = graph_sha256(graph)
    except OSError as exc:
        raise ModelContractError(f"the model reads musicnn's embedding: {exc}") from exc
    if digest != expected:
        raise ModelContractError(f"{graph}.onnx is not the musicnn graph the model card names")
    return MusicnnEmbedder(graph, threads=threads)


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
    graph_outputs = {o.name: o.shape[1:] for o in session.get_outputs()}
    card_outputs = {o["name"]: o["shape"][1:] for o in card["outputs"]}
    if graph_outputs != card_outputs:
        raise ModelContractError(
            f"the ONNX outputs {graph_outputs} differ from the card's {card_outputs}"
        )
    if not set(OUTPUTS) <= graph_outputs.keys():
        missing = sorted(set(OUTPUTS) - graph_outputs.keys())
        raise ModelContractError(f"the ONNX model lacks outputs {missing}")
    if MOODS_OUTPUT in card_outputs:
        labels = next(o.get("labels") for o in card["outputs"] if o["name"] == MOODS_OUTPUT)
        if card_outputs[MOODS_OUTPUT] != [len(MOODS)] or tuple(labels or ()) != MOODS:
            raise ModelContractError(
                f"the moods output must be (batch, {len(MOODS)}) shares labelled {list(MOODS)}"
            )
