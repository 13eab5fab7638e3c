"""Helpers shared by the dataset loaders: tolerant CSV reading, scale mapping, audio pairing."""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Sequence
from pathlib import Path

from training.datasets import Item

log = logging.getLogger("training.datasets")


def read_rows(path: Path, *required: str) -> list[tuple[int, dict[str, str]]]:
    """The rows of CSV ``path`` as ``(line number, row)``, keys and values stripped.

    Stripping covers the published files' quirks: emoMusic pads fields with tabs and
    DEAM's headers have spaces after the commas. A byte-order mark is dropped too.

    Raises
    ------
    ValueError
        If the header lacks one of the ``required`` columns.
    """
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [name.strip() for name in next(reader, [])]
        missing = [name for name in required if name not in header]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; has {header}")
        return [
            (reader.line_num, dict(zip(header, (v.strip() for v in values), strict=False)))
            for values in reader
            if any(v.strip() for v in values)  # skip blank lines
        ]


def to_unit(value: str | float, scale: tuple[float, float], where: str) -> float:
    """Map ``value`` linearly from ``scale`` = (lo, hi) to [-1, 1].

    Raises
    ------
    ValueError
        Naming ``where`` (file, line, column) if the value is not a number inside the scale.
    """
    lo, hi = scale
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {value!r} is not a number") from None
    if not (math.isfinite(x) and lo <= x <= hi):
        raise ValueError(f"{where}: {x:g} is outside the declared scale [{lo:g}, {hi:g}]")
    return 2.0 * (x - lo) / (hi - lo) - 1.0


def listed_audio(root: Path, name: str, what: str) -> Path:
    """``<root>/audio/<name>.mp3``, the clip of a published set's listed item ``what``.

    Raises
    ------
    FileNotFoundError
        If the file is missing: these sets ship every clip they list.
    """
    path = root / "audio" / f"{name}.mp3"
    if not path.is_file():
        raise FileNotFoundError(f"{what} is listed but has no audio at {path}")
    return path


def with_audio(items: Sequence[Item], dataset: str, folder: Path, summary: str = "") -> list[Item]:
    """The items whose audio file exists; warns how many were skipped.

    A user may own only part of a dataset's audio, so missing files are skipped rather than
    fatal; but when none is found the folder is almost surely wrong, so that raises.

    Raises
    ------
    FileNotFoundError
        If no item has its audio file.
    """
    found = [item for item in items if item.path.is_file()]
    counts = f"{len(items)} annotated songs{f' ({summary})' if summary else ''}"
    if not found:
        raise FileNotFoundError(f"{dataset}: none of the {counts} has audio in {folder}")
    if len(found) < len(items):
        log.warning(
            "%s: %d of the %s have no audio in %s and are skipped; loading %d",
            dataset,
            len(items) - len(found),
            counts,
            folder,
            len(found),
        )
    else:
        log.info("%s: %s, all with audio", dataset, counts)
    return found
