"""musicnn embeddings of many files, cached on disk.

Each clip's outputs of the converted musicnn network (:mod:`app.features.musicnn`), one
row per non-overlapping 3-s patch, are stored as one ``.npz`` file named by a hash of the
file's content, the ONNX graph's content and
:data:`MUSICNN_FEATURES_VERSION`: a second run reads the cache, and a change to the audio
or to the network recomputes. :func:`clip_statistics` pools the patches of each clip
into the mean and standard deviation that a linear probe reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
from tqdm import tqdm

from app.audio import decode
from app.features.musicnn import DEFAULT_MODEL, MusicnnEmbedder, graph_sha256
from training.features import MAX_DURATION_S, file_cache_key, save_npz

MUSICNN_FEATURES_VERSION = 1
"""Version of this module's output; part of every cache key."""

DEFAULT_CACHE = Path(".cache") / "musicnn"


graph_digest = cache(graph_sha256)
""":func:`graph_sha256`, read once per graph: the cache follows the network, not its name."""


def cache_key(path: Path, model: Path = DEFAULT_MODEL) -> str:
    """Hash of what determines a file's embeddings: the file, the network, this code."""
    graph = graph_digest(Path(model).resolve())
    return file_cache_key(path, graph=graph, version=MUSICNN_FEATURES_VERSION)


def embed_file(path: Path, embedder: MusicnnEmbedder) -> dict[str, np.ndarray]:
    """Decode ``path`` as the service does and run every 3-s patch through ``embedder``."""
    try:
        return embedder.embed(decode(path, max_duration_s=MAX_DURATION_S).mono)
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
    model: Path = DEFAULT_MODEL,
    *,
    threads: int = 1,
    progress: bool = True,
) -> list[dict[str, np.ndarray]]:
    """musicnn outputs of every file in ``paths`` (same order), from the cache or computed.

    Parameters
    ----------
    paths : sequence of Path
        Audio files.
    cache_dir : Path
        Folder of cached ``.npz`` files; created if missing.
    model : Path
        The converted network, without extension (see :class:`MusicnnEmbedder`).
    threads : int
        onnxruntime threads for the files not in the cache.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    list of dict
        Per file, each output name (``taggram``, ``penultimate``, ``max_pool``,
        ``mean_pool``) -> array (patches, size).
    """
    files = [Path(cache_dir) / f"{cache_key(p, model)}.npz" for p in paths]
    results = [load_embeddings(f) if f.is_file() else None for f in files]
    todo = [i for i, r in enumerate(results) if r is None]
    embedder = MusicnnEmbedder(model, threads=threads) if todo else None
    bar = tqdm(todo, desc="musicnn", unit="clip", disable=not progress)
    for i in bar:
        results[i] = embed_file(paths[i], embedder)
        save_npz(results[i], files[i])
    return results


def clip_statistics(
    embeddings: Sequence[dict[str, np.ndarray]], output: str = "penultimate"
) -> np.ndarray:
    """Per clip, the mean and the standard deviation over its patches of one output.

    Returns an array (clips, 2 * size): the means, then the standard deviations.
    """
    return np.stack(
        [np.concatenate([e[output].mean(axis=0), e[output].std(axis=0)]) for e in embeddings]
    )
