"""4Q audio emotion dataset (Panda, Malheiro & Paiva 2018): Russell quadrants of 30-s clips.

The folder is ``4q/`` under the shared datasets root (a module name cannot start with a
digit, hence ``fourq``). ``metadata.csv`` gives each song's quadrant (from its AllMusic
mood tags), artist and genres (the first listed is kept as the coarse genre), the mood
tags themselves (``MoodsStrSplit``, else ``MoodsStr``) and ``PQuad``, the share of those
tags that agree with the quadrant; the audio is ``audio/<Song>.mp3``.
"""

from __future__ import annotations

import csv
from pathlib import Path

from training.datasets import Item
from training.datasets._common import listed_audio

CITATION = (
    "Panda, Malheiro & Paiva, 'Novel audio features for music emotion recognition', "
    "IEEE Transactions on Affective Computing (2018)."
)

TERMS = (
    "A research dataset of AllMusic's 30-s excerpts: research use (cite the paper); the "
    "audio belongs to its rights holders."
)

TARGETS = (
    "Russell quadrant from the AllMusic mood tags: Q1 valence+ arousal+, Q2 valence- "
    "arousal+, Q3 valence- arousal-, Q4 valence+ arousal-. Scored by ROC-AUC of predicted "
    "valence for Q1+Q4 vs Q2+Q3, of predicted arousal for Q1+Q2 vs Q3+Q4, and 4-way quadrant "
    "accuracy from the signs of the predicted valence and arousal (0 = neutral)."
)


def load(root: Path) -> list[Item]:
    """Read ``root/metadata.csv`` and pair each song with ``root/audio/<Song>.mp3``.

    Raises
    ------
    FileNotFoundError
        If a listed song has no audio file.
    ValueError
        If a quadrant is not one of Q1..Q4.
    """
    root = Path(root)
    items = []
    with open(root / "metadata.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            song = row["Song"].strip()
            quadrant = row["Quadrant"].strip().upper()
            if quadrant not in ("Q1", "Q2", "Q3", "Q4"):
                raise ValueError(f"4Q song {song} has quadrant {quadrant!r}")
            items.append(
                Item(
                    key=f"4q/{song}",
                    path=listed_audio(root, song, f"4Q song {song}"),
                    quadrant=int(quadrant[1]),
                    artist=row.get("Artist", "").strip() or None,
                    genre=(row.get("GenresStr") or "").split(";")[0].strip() or None,
                    tags=_tags(row.get("MoodsStrSplit") or row.get("MoodsStr") or ""),
                    confidence=float(row["PQuad"]) if row.get("PQuad") else None,
                )
            )
    return items


def _tags(text: str) -> tuple[str, ...]:
    """The distinct ``;``-separated tags of ``text``, lower case, in order."""
    return tuple(dict.fromkeys(t.strip().lower() for t in text.split(";") if t.strip()))
