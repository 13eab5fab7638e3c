"""End to end: a tiny train-export run on synthesized clips, loaded by the service."""

from __future__ import annotations

import json

import numpy as np

from app.audio import decode
from app.features import extract
from app.features.windows import windows
from app.model import EmotionModel
from training.cli import main


def test_tiny_run_produces_a_model_the_service_loads(mini_datasets, tmp_path, capsys):
    out = tmp_path / "model_store"
    args = [
        "--data",
        str(mini_datasets),
        "--out",
        str(out),
        "--name",
        "tiny",
        "--version",
        "0.0.1",
        "--folds",
        "2",
        "--epochs",
        "2",
        "--cache",
        str(tmp_path / "cache"),
        "--jobs",
        "1",
        "--no-progress",
    ]
    assert main(args) == 0
    folder = out / "tiny-0.0.1"
    assert sorted(p.name for p in out.iterdir()) == ["tiny-0.0.1"]
    card = json.loads((folder / "card.json").read_text())
    assert card["onnx"]["parity_max_abs_diff"] <= 1e-5
    assert card["data"]["datasets"]["emotify"]["songs"] == 8
    assert "baseline_ridge" in capsys.readouterr().out

    model = EmotionModel(folder)
    clip = windows(extract(decode(mini_datasets / "emotify" / "audio" / "3.mp3").samples))
    prediction = model(clip)
    assert prediction.valence.shape == (len(clip),)
    assert np.all(np.abs(prediction.arousal) <= 1)

    # A second run reads every feature from the cache and replaces the model.
    assert main([*args, "--epochs", "1"]) == 0
    assert json.loads((folder / "card.json").read_text())["training"]["epochs"] == 1
