"""Spotify's valence and energy of the 4Q songs matched to Spotify, as a weak target.

``../shared/datasets/spotify/fourq_spotify_features.csv`` gives, for 83 of 4Q's songs
(column ``Song``), Spotify's ``valence`` and ``energy`` in [0, 1]. Mapped to [-1, 1]
(``2 x - 1``), they are an auxiliary squared-error target of the valence and arousal
outputs (:attr:`training.train.TrainConfig.spotify_weight`): another annotator's view of
the same songs, on a scale that is not 4Q's, hence a small weight.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from training.datasets import Item

SPOTIFY_FILE = Path("spotify") / "fourq_spotify_features.csv"
"""The table under the shared datasets folder."""


def spotify_targets(items: Sequence[Item], table: Path) -> list[np.ndarray]:
    """Per item, (2,) Spotify's valence and energy mapped to [-1, 1], NaN where the song
    is not in ``table`` (or is no 4Q song)."""
    with open(table, newline="") as handle:
        rows = {row["Song"]: row for row in csv.DictReader(handle)}
    result = []
    for item in items:
        dataset, _, song = item.key.partition("/")
        row = rows.get(song) if dataset == "4q" else None
        values = [float(row["valence"]), float(row["energy"])] if row else [np.nan, np.nan]
        result.append(2 * np.asarray(values, dtype=np.float32) - 1)
    return result
