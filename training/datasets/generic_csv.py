"""A user's own labelled clips, listed in a CSV with header ``path,valence,arousal``.

``path`` is absolute or relative to the CSV's folder; valence and arousal are on a scale
``(lo, hi)`` the user declares, mapped linearly to [-1, 1]. Optional ``artist`` and
``genre`` columns fill the fold groups. Unlike the published sets, every listed file must
exist: the list is the user's own, so a missing file is a mistake worth stopping for.
"""

from __future__ import annotations

import os
from pathlib import Path

from training.datasets import Item
from training.datasets._common import read_rows, to_unit

CITATION = "A user-supplied CSV of labelled clips; cite the source of its labels."

TERMS = "The user's own clips and labels, under the user's terms."

TARGETS = (
    "valence, arousal = the CSV's values mapped linearly from the declared scale [lo, hi] "
    "to [-1, 1] by 2 (x - lo) / (hi - lo) - 1."
)


def load(csv_path: Path, scale: tuple[float, float]) -> list[Item]:
    """One item per row of ``csv_path``.

    Parameters
    ----------
    csv_path : Path
        The CSV file.
    scale : (lo, hi)
        The scale of its valence and arousal columns, lo < hi.

    Raises
    ------
    ValueError
        If ``scale`` is empty, a column is missing, a value is outside ``scale`` or a file
        is listed twice (each error names the line).
    FileNotFoundError
        If a listed audio file does not exist.
    """
    csv_path = Path(csv_path)
    lo, hi = (float(s) for s in scale)
    if not lo < hi:
        raise ValueError(f"the scale must have lo < hi, got ({lo:g}, {hi:g})")
    rows = read_rows(csv_path, "path", "valence", "arousal")
    if not rows:
        raise ValueError(f"{csv_path}: no clips listed")
    items: dict[Path, Item] = {}
    for line, row in rows:
        where = f"{csv_path} line {line}"
        path = (csv_path.parent / row["path"]).resolve()  # an absolute path replaces the folder
        if not path.is_file():
            raise FileNotFoundError(f"{where}: no audio file at {path}")
        if path in items:
            raise ValueError(f"{where}: {row['path']} is listed twice")
        items[path] = Item(
            # relative to the list, so a key does not depend on where the user keeps it
            key=f"csv/{Path(os.path.relpath(path, csv_path.parent.resolve())).as_posix()}",
            path=path,
            valence=to_unit(row["valence"], (lo, hi), f"{where} valence"),
            arousal=to_unit(row["arousal"], (lo, hi), f"{where} arousal"),
            artist=row.get("artist") or None,
            genre=row.get("genre") or None,
        )
    return list(items.values())
