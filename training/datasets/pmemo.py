"""PMEmo2019 (Zhang et al. 2018): static valence/arousal of the choruses of 767 pop songs.

Expected layout (the PMEmo2019 folder)::

    root/annotations/static_annotations.csv  musicId, Arousal(mean), Valence(mean) in [0, 1]
    root/metadata.csv                        musicId, fileName, title, artist, album, ...
                                             (optional: the artist, for fold groups)
    root/chorus/<musicId>.mp3

Targets are the [0, 1] means mapped to [-1, 1] by ``2x - 1``. Songs whose audio is
missing are skipped with a logged warning; if none has audio, loading raises.
"""

from __future__ import annotations

from pathlib import Path

from training.datasets import Item
from training.datasets._common import read_rows, to_unit, with_audio

CITATION = (
    "Zhang, Meng, Hou, Jiang & Wang, 'The PMEmo dataset for music emotion recognition', "
    "ICMR 2018. Chorus excerpts of popular songs from Billboard, iTunes and UK charts."
)

TARGETS = (
    "valence, arousal = Valence(mean), Arousal(mean) of annotations/static_annotations.csv "
    "(annotators' means in [0, 1]) mapped to [-1, 1] by 2x - 1."
)

SCALE = (0.0, 1.0)


def artists(root: Path) -> dict[str, str]:
    """musicId -> artist from ``root/metadata.csv``; empty if the file is absent."""
    path = Path(root) / "metadata.csv"
    if not path.is_file():
        return {}
    rows = read_rows(path, "musicId")
    return {row["musicId"]: row["artist"] for _, row in rows if row.get("artist")}


def load(root: Path) -> list[Item]:
    """The annotated songs whose ``chorus/<musicId>.mp3`` exists.

    Raises
    ------
    FileNotFoundError
        If the annotations are missing or no song has audio.
    ValueError
        If a value is outside [0, 1] or a musicId is listed twice.
    """
    root = Path(root)
    path = root / "annotations" / "static_annotations.csv"
    by_id = artists(root)
    items = []
    for line, row in read_rows(path, "musicId", "Valence(mean)", "Arousal(mean)"):
        song = row["musicId"]
        where = f"{path} line {line}"
        items.append(
            Item(
                key=f"pmemo/{song}",
                path=root / "chorus" / f"{song}.mp3",
                valence=to_unit(row["Valence(mean)"], SCALE, f"{where} Valence(mean)"),
                arousal=to_unit(row["Arousal(mean)"], SCALE, f"{where} Arousal(mean)"),
                artist=by_id.get(song),
            )
        )
    if len({i.key for i in items}) < len(items):
        raise ValueError(f"{path}: a musicId appears twice")
    return with_audio(items, "PMEmo", root / "chorus")
