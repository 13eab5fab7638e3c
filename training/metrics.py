"""Per-song metrics: valence/arousal regression, 4Q's quadrant signs, Emotify's moods.

4Q is scored by its quadrant signs; every other dataset (continuous valence/arousal) by
r, R² and RMSE; Emotify's GEMS shares by per-category r and top-category agreement.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import r2_score, roc_auc_score

from app.analysis import quadrant_numbers
from app.model import MOODS
from training.data import FOURQ, quadrant_signs
from training.network import OUTPUT_NAMES

REGRESSION_METRICS = (
    "valence_r",
    "arousal_r",
    "valence_r2",
    "arousal_r2",
    "valence_rmse",
    "arousal_rmse",
)
QUADRANT_METRICS = ("valence_auc", "arousal_auc", "quadrant_accuracy")
MOOD_METRICS = (*(f"{m}_r" for m in MOODS), "top_agreement")

METRIC_LABELS = {
    "valence_r": "valence r",
    "arousal_r": "arousal r",
    "valence_r2": "valence R²",
    "arousal_r2": "arousal R²",
    "valence_rmse": "valence RMSE",
    "arousal_rmse": "arousal RMSE",
    "valence_auc": "valence AUC",
    "arousal_auc": "arousal AUC",
    "quadrant_accuracy": "quadrant acc.",
    "top_agreement": "top category agrees",
}
"""How tables and reports label the metrics."""


def metrics_of(dataset: str) -> tuple[str, ...]:
    """Metrics reported for ``dataset``, in report order: 4Q is scored by quadrant signs,
    every other dataset (continuous valence/arousal) by r, R² and RMSE."""
    return QUADRANT_METRICS if dataset == FOURQ else REGRESSION_METRICS


def pearson(truth: np.ndarray, predicted: np.ndarray) -> float | None:
    """Pearson r; None where either side is constant (r is undefined)."""
    if np.ptp(predicted) > 0 and np.ptp(truth) > 0:
        return float(np.corrcoef(truth, predicted)[0, 1])
    return None


def regression_metrics(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float | None]:
    """Pearson r (:func:`pearson`), R² and RMSE per output for (songs, 2) arrays."""
    result: dict[str, float | None] = {}
    for k, name in enumerate(OUTPUT_NAMES):
        t, p = truth[:, k].astype(np.float64), predicted[:, k].astype(np.float64)
        result[f"{name}_r"] = pearson(t, p)
        result[f"{name}_r2"] = float(r2_score(t, p))
        result[f"{name}_rmse"] = float(np.sqrt(np.mean((t - p) ** 2)))
    return result


def quadrant_metrics(quadrant: np.ndarray, predicted: np.ndarray) -> dict[str, float | None]:
    """ROC-AUC per axis (None if one class is absent) and quadrant accuracy from signs."""
    signs = quadrant_signs(quadrant)
    result: dict[str, float | None] = {}
    for k, name in enumerate(OUTPUT_NAMES):
        positive = signs[:, k] > 0
        result[f"{name}_auc"] = (
            float(roc_auc_score(positive, predicted[:, k]))
            if 0 < positive.sum() < len(positive)
            else None
        )
    result["quadrant_accuracy"] = float(
        np.mean(quadrant_numbers(predicted[:, 0], predicted[:, 1]) == np.asarray(quadrant))
    )
    return result


def mood_metrics(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float | None]:
    """Per GEMS category, Pearson r (:func:`pearson`) of predicted and true shares over
    songs; and the share of songs whose largest category agrees."""
    result: dict[str, float | None] = {}
    for k, name in enumerate(MOODS):
        t, p = truth[:, k].astype(np.float64), predicted[:, k].astype(np.float64)
        result[f"{name}_r"] = pearson(t, p)
    result["top_agreement"] = float(np.mean(truth.argmax(axis=1) == predicted.argmax(axis=1)))
    return result
