"""Emotify (Aljanaki et al. 2016): induced GEMS emotions for 400 one-minute clips.

The targets are fixed by the shared datasets README: each track's GEMS profile is
the share of its listeners who ticked each category, and valence/arousal are the
share-weighted mean of the categories' Warriner et al. (2013) norms mapped from
[1, 9] to [-1, 1].
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np

from app.model import MOODS
from training.datasets import Item
from training.datasets._common import listed_audio

WARRINER_NORMS: dict[str, tuple[float, float]] = {
    "amazement": (7.29, 6.30),
    "solemnity": (4.66, 2.90),
    "tenderness": (6.89, 3.10),
    "nostalgia": (6.65, 4.38),
    "calmness": (6.89, 1.67),
    "power": (5.97, 5.41),
    "joyful_activation": (8.21, 5.53),
    "tension": (3.60, 5.08),
    "sadness": (2.40, 2.81),
}
"""(valence, arousal) norms on the 1-9 scale of each GEMS category's word."""

CATEGORIES: tuple[str, ...] = MOODS
"""The nine categories in the order of the model's ``moods`` output (the norms' order)."""

CITATION = (
    "Aljanaki, Wiering & Veltkamp, 'Studying emotion induced by music through a "
    "crowdsourcing game', Information Processing & Management 52 (2016). Music from Magnatune."
)

TERMS = "Published for research use (cite the paper); the music is Magnatune's."

TARGETS = (
    "share_k = fraction of a track's listeners who ticked GEMS category k; valence, arousal = "
    "sum_k share_k * norm_k / sum_k share_k with norm_k the Warriner, Kuperman & Brysbaert "
    "(2013) valence/arousal norm of category k's word mapped from [1, 9] to [-1, 1] by "
    "(x - 5) / 4. Compressed (valence about -0.3..0.6, arousal about -0.5..0.1): only their "
    "ordering across tracks is meaningful."
)


def gems_shares(rows: list[dict[str, str]]) -> np.ndarray:
    """Fraction of listeners (rows) who ticked each of :data:`CATEGORIES`."""
    ticks = np.array([[float(row[c]) for c in CATEGORIES] for row in rows])
    return ticks.mean(axis=0)


def valence_arousal(shares: np.ndarray) -> tuple[float, float]:
    """Share-weighted mean of the norms, mapped to [-1, 1]; NaN if nobody ticked anything."""
    norms = (np.array(list(WARRINER_NORMS.values())) - 5.0) / 4.0
    total = shares.sum()
    if total == 0:
        return float("nan"), float("nan")
    valence, arousal = shares @ norms / total
    return float(valence), float(arousal)


def load(root: Path) -> list[Item]:
    """Read ``root/annotations.csv`` and pair each track with ``root/audio/<track id>.mp3``.

    Tracks whose listeners ticked no category have no defined target and are skipped.

    Raises
    ------
    FileNotFoundError
        If an annotated track has no audio file.
    """
    root = Path(root)
    by_track: dict[int, list[dict[str, str]]] = defaultdict(list)
    with open(root / "annotations.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, skipinitialspace=True):
            by_track[int(row["track id"])].append(row)
    items = []
    for track, rows in sorted(by_track.items()):
        shares = gems_shares(rows)
        valence, arousal = valence_arousal(shares)
        if np.isnan(valence):
            continue
        items.append(
            Item(
                key=f"emotify/{track}",
                path=listed_audio(root, str(track), f"Emotify track {track}"),
                valence=valence,
                arousal=arousal,
                gems=tuple(float(s) for s in shares),
                genre=rows[0]["genre"].strip(),
            )
        )
    return items
