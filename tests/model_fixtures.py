"""Variants of the shipped model for contract tests, made with the ``onnx`` package."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import onnx

from app.calibration import CARD_KEY
from app.model import CARD_FILE, MODEL_FILE, MOODS_OUTPUT
from app.settings import Settings

CALIBRATION = {
    "valence_slope": 6.0,
    "arousal_slope": 8.0,
    "quadrant_slope": 0.9,
    "quadrant_intercept": 0.1,
}
"""A plausible card ``calibration`` entry (:mod:`app.calibration`): positive slopes, a sign
at 0.25 from its axis about 0.8 to 0.9 sure."""


def copy_model(
    target: Path,
    *,
    graph_moods: bool = True,
    card_moods: bool = True,
    calibration: dict[str, float] | None = None,
) -> Path:
    """A copy of the served model (the settings' ``model_path``) in ``target``, with or
    without the ``moods`` output in its ONNX graph and in its card (a model without a mood
    head has neither), and with ``calibration`` as its card's calibration entry (None: a
    model without one, whatever the served model's card holds)."""
    source = Settings().model_path
    target.mkdir(parents=True, exist_ok=True)
    graph = onnx.load(str(source / MODEL_FILE))
    if not graph_moods:
        kept = [o for o in graph.graph.output if o.name != MOODS_OUTPUT]
        del graph.graph.output[:]
        graph.graph.output.extend(kept)
    onnx.save(graph, str(target / MODEL_FILE))
    card = json.loads((source / CARD_FILE).read_text())
    if not card_moods:
        card["outputs"] = [o for o in card["outputs"] if o["name"] != MOODS_OUTPUT]
    card.pop(CARD_KEY, None)
    if calibration is not None:
        card[CARD_KEY] = calibration
    (target / CARD_FILE).write_text(json.dumps(card))
    for file in source.iterdir():  # what the graph needs beside it (the musicnn network)
        if file.name not in (MODEL_FILE, CARD_FILE) and file.suffix in (".onnx", ".json"):
            shutil.copyfile(file, target / file.name)
    return target
