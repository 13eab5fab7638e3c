"""The similarity index of a catalogue's sound, kept beside its dataset.

An HNSW graph (usearch) over the songs' sound vectors, cosine distance, stored in
half precision: the key of a vector is its song's number in :class:`Songs` order. It
lives in the dataset's ``_index`` folder, which Parquet readers skip:

- ``_index/sound-<dataset>.usearch``: the index of one state of the dataset, named after
  it (the first 16 hex digits of :func:`app.dataset.fingerprint`);
- ``_index/sound.json``: the manifest naming the current index file, the dataset state
  it indexes, its size and SHA-256, and how it was built.

:func:`open_index` uses the index when the manifest's dataset state is the dataset's:
else (missing, or stale after the dataset changed) it builds a new one, writes it under
its new name, then the manifest, then removes the old file, so a reader never meets a
half-written index and a killed build leaves the previous state whole. A file whose
size or SHA-256 differs from its manifest is damaged: it is refused with
:class:`CorruptIndexError`, never loaded (a damaged graph can crash the library) and
never deleted. A dataset where nothing can be written (a read-only folder or bucket)
gets its index built in memory at every load.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass

import numpy as np
from pyarrow import fs as pafs

from app import table
from app.dataset import filesystem
from app.errors import CorruptIndexError
from app.search.songs import Songs, sound_vectors

logger = logging.getLogger("music_emotion.search")

FOLDER = "_index"
MANIFEST = f"{table.SOUND}.json"
WRITING = "_writing-"
"""Files being written; renamed once whole."""
FORMAT = 1
"""Version of the manifest and of how the index is built; another version is rebuilt."""

METRIC = "cos"
DTYPE = "f16"
"""Half precision: recall@10 stays at 1.0 where 8-bit integers lose 8 % of the true
neighbours (``benchmarks/bench_search.py --libraries``), at 400 bytes a song."""
CONNECTIVITY = 16
EXPANSION_ADD = 128
EXPANSION_SEARCH = 64


@dataclass
class SoundIndex:
    """The songs' sound vectors, searchable by cosine distance.

    Attributes
    ----------
    index : usearch.index.Index
    size : number of songs with a sound vector
    """

    index: object
    size: int

    def nearest(self, vector: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        """About the ``count`` songs nearest to ``vector`` in sound (approximate, one
        thread): their numbers and cosine distances, nearest first."""
        if not self.size:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        matches = self.index.search(np.asarray(vector, np.float32), count, threads=1)
        return matches.keys.astype(np.int64), matches.distances

    def has(self, songs: np.ndarray) -> np.ndarray:
        """Whether each song has a sound vector."""
        return np.atleast_1d(self.index.contains(np.asarray(songs, np.uint64)))

    def vectors(self, songs: np.ndarray) -> np.ndarray:
        """(n, SOUND_SIZE) float32 sound vectors of songs that have one."""
        if not len(songs):
            return np.empty((0, table.SOUND_SIZE), np.float32)
        found = self.index.get(np.asarray(songs, np.uint64), dtype=np.float32)
        return np.vstack(found) if isinstance(found, tuple) else np.atleast_2d(found)


def cosine_distances(vector: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """The cosine distance (1 - cosine similarity) of ``vector`` to each row of ``vectors``,
    as the index measures it."""
    norms = np.linalg.norm(vectors, axis=1) * np.linalg.norm(vector)
    return 1.0 - (vectors @ vector) / np.where(norms > 0, norms, 1.0)


def open_index(songs: Songs, *, build_threads: int | None = None) -> SoundIndex:
    """The index of ``songs``: the one beside their dataset if it indexes this state of
    it, else one built now (and written beside the dataset if possible).

    Raises
    ------
    CorruptIndexError
        If the index file or its manifest is damaged.
    """
    fs, root = filesystem(songs.location)
    folder = f"{root}/{FOLDER}"
    manifest = _read_manifest(fs, folder)
    if manifest is not None and manifest["dataset"] == songs.fingerprint:
        return SoundIndex(_load(fs, folder, manifest), manifest["vectors"])
    if manifest is not None:
        logger.info("the index of %s is stale (the dataset changed): rebuilding", songs.location)
    built = build(songs, threads=build_threads)
    _write(fs, folder, built, songs.fingerprint)
    return built


def build(songs: Songs, *, threads: int | None = None) -> SoundIndex:
    """A new index of the songs' sound vectors (every core by default)."""
    from usearch.index import Index

    threads = threads or len(os.sched_getaffinity(0))
    started = time.perf_counter()
    index = Index(
        ndim=table.SOUND_SIZE,
        metric=METRIC,
        dtype=DTYPE,
        connectivity=CONNECTIVITY,
        expansion_add=EXPANSION_ADD,
        expansion_search=EXPANSION_SEARCH,
    )
    size = 0
    for keys, vectors in sound_vectors(songs):
        index.add(keys.astype(np.uint64), vectors, threads=threads)
        size += len(keys)
    logger.info(
        "indexed the sound of %d songs of %s in %.1f s",
        size,
        songs.location,
        time.perf_counter() - started,
    )
    return SoundIndex(index, size)


def _read_manifest(fs: pafs.FileSystem, folder: str) -> dict | None:
    """The manifest, None if there is none or it is of another format (rebuilt)."""
    path = f"{folder}/{MANIFEST}"
    if fs.get_file_info(path).type == pafs.FileType.NotFound:
        return None
    with fs.open_input_stream(path) as stream:
        text = stream.read()
    try:
        manifest = json.loads(text)
        keys = {"format", "file", "dataset", "bytes", "sha256", "vectors"}
        if not isinstance(manifest, dict) or not keys <= set(manifest):
            raise ValueError("fields are missing")
    except ValueError as error:
        raise CorruptIndexError(
            f"the index manifest {path} is damaged ({error}); delete {folder} to rebuild it"
        ) from None
    return manifest if manifest["format"] == FORMAT else None


def _load(fs: pafs.FileSystem, folder: str, manifest: dict) -> object:
    """The index file the manifest names, once its size and SHA-256 are the manifest's."""
    from usearch.index import Index

    path = f"{folder}/{manifest['file']}"
    damaged = f"the index {path} is damaged"
    advice = f"delete {folder} to rebuild it"
    if fs.get_file_info(path).type == pafs.FileType.NotFound:
        raise CorruptIndexError(f"the index {path} named by its manifest is missing; {advice}")
    local = isinstance(fs, pafs.LocalFileSystem)
    if local:  # checked, then mapped: processes share its pages
        with open(path, "rb") as stream:
            digest = hashlib.file_digest(stream, "sha256").hexdigest()
        size, source = os.path.getsize(path), path
    else:  # object storage: read whole, then checked
        with fs.open_input_stream(path) as stream:
            data = stream.read()
        size, digest = len(data), hashlib.sha256(data).hexdigest()
        source = data
    if size != manifest["bytes"] or digest != manifest["sha256"]:
        raise CorruptIndexError(
            f"{damaged} (its size or SHA-256 differs from its manifest's); {advice}"
        )
    index = Index.restore(source, view=local)
    if index is None or len(index) != manifest["vectors"]:
        raise CorruptIndexError(f"{damaged} (it does not hold the manifest's vectors); {advice}")
    return index


def _write(fs: pafs.FileSystem, folder: str, built: SoundIndex, dataset: str) -> None:
    """Write ``built`` under its dataset's name, then the manifest, then remove older
    index files; a dataset where nothing can be written keeps the index in memory."""
    name = f"{table.SOUND}-{dataset[:16]}.usearch"
    writing = f"{folder}/{WRITING}{name}"
    try:
        fs.create_dir(folder)
        with tempfile.TemporaryDirectory() as scratch:
            # A local dataset gets the file in place; object storage gets a copy.
            local = writing if isinstance(fs, pafs.LocalFileSystem) else os.path.join(scratch, name)
            built.index.save(local)
            with open(local, "rb") as stream:
                digest = hashlib.file_digest(stream, "sha256").hexdigest()
            size = os.path.getsize(local)
            if local != writing:
                _put(fs, local, writing)
        fs.move(writing, f"{folder}/{name}")
        manifest = {
            "format": FORMAT,
            "file": name,
            "dataset": dataset,
            "bytes": size,
            "sha256": digest,
            "vectors": built.size,
            "column": table.SOUND,
            "source": table.SOUND_SOURCE,
            "library": "usearch",
            "metric": METRIC,
            "dtype": DTYPE,
            "connectivity": CONNECTIVITY,
            "expansion_add": EXPANSION_ADD,
        }
        with fs.open_output_stream(f"{folder}/{WRITING}{MANIFEST}") as stream:
            stream.write(json.dumps(manifest, indent=1).encode())
        fs.move(f"{folder}/{WRITING}{MANIFEST}", f"{folder}/{MANIFEST}")
        for info in fs.get_file_info(pafs.FileSelector(folder)):
            if info.base_name.startswith(f"{table.SOUND}-") and info.base_name != name:
                fs.delete_file(info.path)
    except OSError as error:
        logger.warning("cannot keep the index beside the dataset (%s): it stays in memory", error)


def _put(fs: pafs.FileSystem, local: str, path: str) -> None:
    """Copy the local file ``local`` to ``path`` on ``fs``."""
    with open(local, "rb") as source, fs.open_output_stream(path) as target:
        while chunk := source.read(1 << 24):
            target.write(chunk)
