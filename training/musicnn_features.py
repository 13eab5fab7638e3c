"""musicnn embeddings of many files, cached on disk.

Each clip's outputs of the converted musicnn network (:mod:`app.features.musicnn`), one
row per non-overlapping 3-s patch, are stored as one ``.npz`` file named by a hash of the
file's content, the ONNX graph's content and :data:`MUSICNN_FEATURES_VERSION`: a second
run reads the cache, and a change to the audio or to the network recomputes.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
from tqdm import tqdm

from app.analysis import decode_to_mono
from app.features.musicnn import MusicnnEmbedder, graph_sha256
from app.model import EMBEDDER_FILE
from app.settings import default_model_path
from training.features import MAX_DURATION_S, cached, file_cache_key, save_npz

MUSICNN_FEATURES_VERSION = 1
"""Version of this module's output; part of every cache key."""

DEFAULT_CACHE = Path(".cache") / "musicnn"

SHIPPED_MUSICNN = default_model_path() / EMBEDDER_FILE
"""The shipped model's musicnn network (``.onnx``, ``.json``, ``-LICENSE.md``): what the
training reads and carries into a model unless told another."""

graph_digest = cache(graph_sha256)
""":func:`graph_sha256`, read once per graph: the cache follows the network, not its name."""


def cache_key(path: Path, model: Path) -> str:
    """Hash of what determines a file's embeddings: the file, the network, this code."""
    graph = graph_digest(Path(model).resolve())
    return file_cache_key(path, graph=graph, version=MUSICNN_FEATURES_VERSION)


def embed_file(path: Path, embedder: MusicnnEmbedder) -> dict[str, np.ndarray]:
    """Decode ``path`` as the service does and run every 3-s patch through ``embedder``."""
    try:
        return embedder.embed(decode_to_mono(path, MAX_DURATION_S).mono)
    except Exception as exc:
        exc.add_note(f"while computing the musicnn embeddings of {path}")
        raise


def load_embeddings(file: Path) -> dict[str, np.ndarray]:
    """Read embeddings written by :func:`embed_all`."""
    with np.load(file) as data:
        return {name: data[name] for name in data.files}


def embed_all(
    paths: Sequence[Path],
    cache_dir: Path = DEFAULT_CACHE,
    model: Path = SHIPPED_MUSICNN,
    *,
    threads: int = 1,
    progress: bool = True,
) -> list[dict[str, np.ndarray]]:
    """musicnn outputs of every file in ``paths`` (same order), from the ``.npz`` files in
    ``cache_dir`` or computed (one file at a time, with ``threads`` onnxruntime threads) and
    cached; a tqdm bar shows the progress unless ``progress`` is false.

    ``model`` is the network without extension (see :class:`MusicnnEmbedder`). Returns,
    per file, each output name (``taggram``, ``penultimate``, ``max_pool``,
    ``mean_pool``) -> array (patches, size).
    """
    files, results = cached(paths, cache_dir, lambda p: cache_key(p, model), load_embeddings)
    todo = [i for i, r in enumerate(results) if r is None]
    embedder = MusicnnEmbedder(model, threads=threads) if todo else None
    for i in tqdm(todo, desc="musicnn", unit="clip", disable=not progress):
        results[i] = embed_file(paths[i], embedder)
        save_npz(results[i], files[i])
    return results
