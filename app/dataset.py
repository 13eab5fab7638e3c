"""Where a catalogue lives: a folder or an object-storage prefix of Parquet part files.

The catalogue job writes the dataset and the query layer reads it; both find it here.
Every location is a local path or a URI that pyarrow's filesystem layer opens
(``s3://bucket/prefix``, ``gs://...``); S3 credentials and endpoint come from the
usual AWS variables (``AWS_ACCESS_KEY_ID``, ``AWS_ENDPOINT_URL``...). Needs pyarrow
(the ``catalogue`` extra).
"""

from __future__ import annotations

import hashlib
import os
from functools import cache

from pyarrow import fs as pafs


def is_uri(location: str) -> bool:
    """Whether ``location`` names object storage rather than a local path."""
    return "://" in location and not location.startswith("file://")


@cache
def _filesystem_of(scheme_and_bucket: str) -> pafs.FileSystem:
    """One filesystem per bucket, built once (an S3 client resolves its region)."""
    return pafs.FileSystem.from_uri(scheme_and_bucket)[0]


def filesystem(location: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem holding ``location`` and the path within it."""
    if not is_uri(location):
        return pafs.LocalFileSystem(), os.path.abspath(location.removeprefix("file://"))
    scheme, rest = location.split("://", 1)
    return _filesystem_of(f"{scheme}://{rest.split('/', 1)[0]}"), rest.rstrip("/")


def part_infos(out: str) -> list[pafs.FileInfo]:
    """The complete part files of the catalogue at ``out``, sorted by path (none if it
    is absent). Names starting with ``_`` or ``.`` are not parts: files being written,
    and what lives beside the dataset (its index)."""
    fs, path = filesystem(out)
    if fs.get_file_info(path).type == pafs.FileType.NotFound:
        return []
    return sorted(
        (
            info
            for info in fs.get_file_info(pafs.FileSelector(path))
            if info.base_name.endswith(".parquet") and not info.base_name.startswith(("_", "."))
        ),
        key=lambda info: info.path,
    )


def part_files(out: str) -> list[str]:
    """The paths of the complete part files of the catalogue at ``out``, sorted."""
    return [info.path for info in part_infos(out)]


def fingerprint(parts: list[pafs.FileInfo]) -> str:
    """What identifies a state of the dataset: the names, sizes and modification times of
    its parts. Parts are written whole and never modified, so any change of rows changes
    it, and only a change of rows does."""
    digest = hashlib.sha256()
    for info in parts:
        digest.update(f"{info.base_name}\0{info.size}\0{info.mtime_ns}\n".encode())
    return digest.hexdigest()
