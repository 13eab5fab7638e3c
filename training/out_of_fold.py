"""The outer cross-validation's out-of-fold song predictions, as a CSV.

Evaluations made elsewhere (agreement with Spotify's values, search quality, ...) need
every song's valence and arousal from a model that never saw it: these are the served
outputs of the outer fold that held each song out. The quadrant's probability is out of
fold too: each fold's songs get it from a calibration fitted on the 4Q outputs of the
other folds (:func:`training.calibration.fit_calibration`).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from app.analysis import quadrant_numbers
from training.calibration import fit_calibration
from training.cross_validation import CrossValidation, split_folds
from training.data import FOURQ, Song

COLUMNS = ("path", "dataset", "fold", "valence", "arousal", "quadrant", "quadrant_probability")


def out_of_fold_rows(
    cv: CrossValidation, songs: Sequence[Song], paths: Sequence[Path], seed: int
) -> list[dict]:
    """One row (:data:`COLUMNS`) per song of ``cv``, the outer cross-validation of
    ``songs`` (audio files ``paths``) with split ``seed``; ``quadrant_probability`` is
    None without 4Q songs to calibrate on."""
    served = np.full((len(songs), 2), np.nan)
    for dataset, idx in cv.indices.items():
        served[idx] = cv.predictions[dataset]["network"]
    fold_of = np.full(len(songs), -1)
    for k, (_, test) in enumerate(split_folds(songs, cv.n_folds, seed)):
        fold_of[test] = k
    probability = np.full(len(songs), np.nan)
    fourq = cv.indices.get(FOURQ, np.zeros(0, dtype=int))
    for k in range(cv.n_folds):
        fit = fourq[fold_of[fourq] != k]
        if len(fit):
            quadrants = np.array([songs[i].quadrant for i in fit])
            calibration = fit_calibration(served[fit], quadrants)
            held = fold_of == k
            probability[held] = calibration.quadrant_probability(*served[held].T)
    shown = quadrant_numbers(served[:, 0], served[:, 1])
    return [
        {
            "path": str(paths[i]),
            "dataset": song.dataset,
            "fold": int(fold_of[i]),
            "valence": float(served[i, 0]),
            "arousal": float(served[i, 1]),
            "quadrant": int(shown[i]),
            "quadrant_probability": None if np.isnan(probability[i]) else float(probability[i]),
        }
        for i, song in enumerate(songs)
    ]


def write_out_of_fold(rows: Sequence[dict], path: Path) -> None:
    """Write :func:`out_of_fold_rows` to the CSV ``path`` (its folder made if needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def read_out_of_fold(path: Path) -> dict[Path, tuple[float, float]]:
    """The (valence, arousal) of every song of a file written by :func:`write_out_of_fold`,
    keyed by its audio file's resolved path."""
    with open(path, newline="") as handle:
        return {
            Path(row["path"]).resolve(): (float(row["valence"]), float(row["arousal"]))
            for row in csv.DictReader(handle)
        }
