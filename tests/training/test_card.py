"""The model card satisfies the service's contract check."""

from __future__ import annotations

import json
from pathlib import Path

from app.features.config import DEFAULT_CONFIG
from app.model import MOODS, check_card
from training.card import build_card, write_card
from training.datasets import Item
from training.train import TrainConfig


def test_card_passes_the_contract_check(tmp_path):
    items = {
        "emotify": [Item("emotify/1", Path("1.mp3"), 0.1, -0.2, genre="pop")],
        "4q": [Item("4q/a", Path("a.mp3"), quadrant=2, artist="x", genre="Jazz")],
    }
    summary = {
        "emotify": {"network": {"valence_r": {"mean": 0.5, "std": 0.1}}},
        "4q": {"network": {"quadrant_accuracy": {"mean": 0.6, "std": 0.05}}},
    }
    card = build_card(
        name="m",
        version="0.0.1",
        items=items,
        n_windows=5,
        train_config=TrainConfig(),
        n_folds=5,
        seed=0,
        cv_summary=summary,
        parity=1e-7,
    )
    write_card(card, tmp_path / "card.json")
    loaded = json.loads((tmp_path / "card.json").read_text())
    check_card(loaded, DEFAULT_CONFIG)
    assert loaded["data"]["datasets"]["emotify"]["groups"] == {"pop": 1}
    assert loaded["evaluation"]["metrics"] == summary
    assert [o["name"] for o in loaded["outputs"]] == ["valence", "arousal", "moods"]
    assert loaded["outputs"][2]["labels"] == list(MOODS)
    assert loaded["data"]["datasets"]["4q"]["quadrants"] == {"Q2": 1}
    assert "means over its windows" in loaded["aggregation"]
