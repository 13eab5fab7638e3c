"""The model card's figures of out-of-fold predictions (PNG, written with matplotlib)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from training.data import quadrant_signs
from training.metrics import pearson, quadrant_metrics
from training.network import OUTPUT_NAMES


def _pyplot() -> Any:
    """matplotlib's pyplot on the file-only Agg backend (imported here: only the card
    page needs it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure: Any, title: str, path: Path) -> None:
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    _pyplot().close(figure)


def plot_scatter(truth: np.ndarray, predicted: np.ndarray, title: str, path: Path) -> None:
    """Predicted versus true valence and arousal (one panel each), out-of-fold."""
    fig, axes = _pyplot().subplots(1, 2, figsize=(9, 4.2))
    for k, (ax, name) in enumerate(zip(axes, OUTPUT_NAMES, strict=True)):
        t, p = truth[:, k], predicted[:, k]
        r = pearson(t, p)
        ax.scatter(t, p, s=10, alpha=0.6)
        lo, hi = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
        ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8, ls="--")
        ax.set_xlabel(f"true {name}")
        ax.set_ylabel(f"predicted {name}")
        ax.set_title(f"{name}: r = {'n/a' if r is None else f'{r:.3f}'} (n = {len(t)})")
    _save(fig, title, path)


def plot_signs(quadrants: np.ndarray, predicted: np.ndarray, title: str, path: Path) -> None:
    """Predicted valence/arousal against the true sign of each axis (4Q), out-of-fold."""
    signs = quadrant_signs(quadrants)
    scores = quadrant_metrics(np.asarray(quadrants), predicted)
    jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(signs))
    fig, axes = _pyplot().subplots(1, 2, figsize=(9, 4.2))
    for k, (ax, name) in enumerate(zip(axes, OUTPUT_NAMES, strict=True)):
        ax.scatter(signs[:, k] + jitter, predicted[:, k], s=10, alpha=0.5)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xticks([-1, 1], [f"{name} -", f"{name} +"])
        ax.set_xlabel(f"true {name} sign (from the quadrant)")
        ax.set_ylabel(f"predicted {name}")
        ax.set_title(f"{name}: AUC = {scores[f'{name}_auc']:.3f} (n = {len(signs)})")
    _save(fig, title + f"; quadrant accuracy {scores['quadrant_accuracy']:.3f}", path)


def plot_plane(points: Mapping[str, tuple[np.ndarray, np.ndarray]], title: str, path: Path) -> None:
    """Out-of-fold (valence, arousal) predictions on the plane, one panel per dataset.

    ``points`` maps a panel title to ((songs, 2) predictions, per-song colour labels).
    """
    fig, axes = _pyplot().subplots(1, len(points), figsize=(5 * len(points), 4.8), squeeze=False)
    for ax, (panel, (predicted, labels)) in zip(axes[0], points.items(), strict=True):
        labels = np.asarray(labels)
        for label in sorted(set(labels.tolist())):
            chosen = labels == label
            ax.scatter(predicted[chosen, 0], predicted[chosen, 1], s=10, alpha=0.7, label=label)
        ax.axhline(0, color="grey", lw=0.8)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_xlim(-1, 1)
        ax.set_ylim(-1, 1)
        ax.set_xlabel("predicted valence")
        ax.set_ylabel("predicted arousal")
        ax.set_title(panel)
        ax.legend(fontsize=7, loc="lower right")
    _save(fig, title, path)
