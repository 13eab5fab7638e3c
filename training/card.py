"""The model card: what :class:`app.model.EmotionModel` checks, and what a reader needs.

Besides the contract keys (name, version, feature_config, scalar_names, inputs,
outputs), the card records the data and targets, the training settings and the
cross-validated metrics of the network beside those of the baselines.
"""

from __future__ import annotations

import json
import platform
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import onnxruntime
import sklearn
import torch

from app.features.config import DEFAULT_CONFIG, FeatureConfig
from app.features.windows import SCALAR_NAMES
from training.datasets import Item, dataset
from training.export import OPSET, PARITY_ATOL
from training.features import FEATURES_VERSION
from training.fit import TrainConfig
from training.network import INPUT_NAMES, OUTPUT_NAMES


def contract(config: FeatureConfig = DEFAULT_CONFIG) -> dict[str, list[dict]]:
    """The ``inputs`` and ``outputs`` entries: names, shapes (batch axis named) and dtypes."""
    shapes = {
        "mfcc": ["batch", config.n_mfcc, config.n_steps],
        "chroma": ["batch", config.n_chroma, config.n_steps],
        "spectral": ["batch", 2, config.n_steps],
        "scalars": ["batch", len(SCALAR_NAMES)],
    }
    return {
        "inputs": [{"name": n, "shape": shapes[n], "dtype": "float32"} for n in INPUT_NAMES],
        "outputs": [
            {"name": n, "shape": ["batch"], "dtype": "float32", "range": [-1.0, 1.0]}
            for n in OUTPUT_NAMES
        ],
    }


def data_section(items: Mapping[str, Sequence[Item]], n_windows: int) -> dict:
    """Per dataset: citation, target derivation, song count and songs per group."""
    section = {}
    for name, dataset_items in items.items():
        module = dataset(name)
        section[name] = {
            "citation": module.CITATION,
            "targets": module.TARGETS,
            "songs": len(dataset_items),
            "groups": dict(sorted(Counter(i.genre or "all" for i in dataset_items).items())),
        }
    return {"datasets": section, "windows": n_windows}


def build_card(
    *,
    name: str,
    version: str,
    items: Mapping[str, Sequence[Item]],
    n_windows: int,
    train_config: TrainConfig,
    n_folds: int,
    seed: int,
    cv_summary: Mapping,
    parity: float,
    config: FeatureConfig = DEFAULT_CONFIG,
) -> dict:
    """Assemble the card as a JSON-ready dict."""
    return {
        "name": name,
        "version": version,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "description": (
            "Two-branch convolutional network (one branch per output) predicting valence and "
            "arousal in [-1, 1] for each 20-s window; a song's value is the mean over its "
            "windows. Inputs are raw features: standardisation is inside the graph."
        ),
        "data": data_section(items, n_windows),
        "feature_config": config.to_dict(),
        "features_version": FEATURES_VERSION,
        "scalar_names": list(SCALAR_NAMES),
        **contract(config),
        "training": {
            **asdict(train_config),
            "seed": seed,
            "loss": "sum of the valence and arousal mean squared errors over windows",
            "final_fit": "all songs, same settings as in cross-validation",
        },
        "evaluation": {
            "method": (
                f"{n_folds}-fold cross-validation over songs, stratified by group (genre); "
                "all windows of a song in the same fold; metrics per song (mean of its "
                "windows' predictions) on each held-out fold, then mean and std over folds"
            ),
            "headline": "pearson_r",
            "models": {
                "network": "this model's architecture and training settings",
                "baseline_mean": "predicts the training folds' mean target (r undefined)",
                "baseline_ridge": (
                    "ridge regression (penalty by leave-one-out on the training folds) on "
                    "standardised time-averaged MFCC, chroma, centroid, rolloff and the scalars"
                ),
            },
            "metrics": cv_summary,
        },
        "onnx": {
            "opset": OPSET,
            "parity_max_abs_diff": parity,
            "parity_tolerance": PARITY_ATOL,
        },
        "software": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "onnxruntime": onnxruntime.__version__,
            "scikit-learn": sklearn.__version__,
        },
    }


def write_card(card: Mapping, path: Path) -> None:
    """Write ``card`` as indented JSON."""
    Path(path).write_text(json.dumps(card, indent=2) + "\n")
