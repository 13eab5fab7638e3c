"""The files a catalogue job scores: local files and folders, lists, and object storage.

Every location is a local path or a URI (:mod:`app.dataset`). Folders and
prefixes are walked one level at a time, so the file list is streamed however large
the catalogue, in a stable (sorted) order.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pyarrow import fs as pafs

from app.dataset import filesystem, is_uri
from app.errors import InputTooLargeError
from app.problems import file_too_large

AUDIO_EXTENSIONS = frozenset({".mp3", ".wav", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac"})
"""Extensions of the formats the service reads; a folder's other files are skipped."""


@dataclass(frozen=True)
class Entry:
    """One file to score: where it is, and its size and modification time (its identity).

    ``size_bytes`` and ``modified_ns`` are None for a location that could not be read.
    """

    path: str
    size_bytes: int | None
    modified_ns: int | None

    @property
    def identity(self) -> tuple[str, int | None, int | None]:
        """What makes a file already scored: the same path, size and modification time."""
        return (self.path, self.size_bytes, self.modified_ns)


def _location(location: str, path: str) -> str:
    """The location string of ``path`` on the filesystem of ``location``."""
    return f"{location.split('://', 1)[0]}://{path}" if is_uri(location) else path


def entries(sources: Iterable[str], skipped: Counter) -> Iterator[Entry]:
    """Every file to score in ``sources``, in order; ``skipped`` counts what was passed over.

    A named file is scored whatever its extension; a folder (or prefix) contributes its
    audio files, recursively, and counts its other files under ``skipped["not audio"]``.
    A location that does not exist yields an entry without size, which scores as an
    ``unreadable-file`` row.
    """
    for source in sources:
        fs, path = filesystem(source)
        info = fs.get_file_info(path)
        if info.type == pafs.FileType.Directory:
            yield from _walk(source, fs, path, skipped)
        elif info.type == pafs.FileType.NotFound:
            yield Entry(_location(source, path), None, None)
        else:
            yield _entry(source, fs, info)


def _walk(source: str, fs: pafs.FileSystem, folder: str, skipped: Counter) -> Iterator[Entry]:
    """The audio files under ``folder``, depth first, one directory listed at a time."""
    listing = sorted(fs.get_file_info(pafs.FileSelector(folder)), key=lambda i: i.path)
    for info in listing:
        if info.type == pafs.FileType.Directory:
            yield from _walk(source, fs, info.path, skipped)
        elif info.type != pafs.FileType.File:
            skipped["not a regular file"] += 1
        elif os.path.splitext(info.path)[1].lower() in AUDIO_EXTENSIONS:
            yield _entry(source, fs, info)
        else:
            skipped["not audio"] += 1


def _entry(source: str, fs: pafs.FileSystem, info: pafs.FileInfo) -> Entry:
    return Entry(_location(source, info.path), info.size, info.mtime_ns)


def read_list(list_file: Path) -> Iterator[str]:
    """The locations in a list file, one per line; blank lines and ``#`` comments skipped."""
    with open(list_file, encoding="utf-8") as lines:
        for line in lines:
            location = line.strip()
            if location and not location.startswith("#"):
                yield location


def read_bytes(location: str, max_bytes: int) -> bytes:
    """The content of a file in object storage, refused past ``max_bytes``.

    Raises
    ------
    InputTooLargeError
        For a file larger than ``max_bytes`` (it would be held in memory whole).
    """
    fs, path = filesystem(location)
    with fs.open_input_file(path) as stream:
        if stream.size() > max_bytes:
            raise InputTooLargeError(file_too_large(max_bytes))
        return stream.read()
