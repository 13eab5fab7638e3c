"""Feature extraction over many files, cached on disk and run in parallel.

Each clip's :class:`app.features.Features` is stored as one ``.npz`` file named by a
hash of the file's content, the feature configuration and :data:`FEATURES_VERSION`, so
a second run (or a run on a copy of the data) reads the cache and any change to the
audio or to the configuration recomputes. Bump :data:`FEATURES_VERSION` whenever the
feature code changes its output for the same configuration.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from app.analysis import decode_to_mono
from app.features import DEFAULT_CONFIG, FeatureConfig, Features, extract
from app.settings import Settings

FEATURES_VERSION = 3
"""Version of the feature code's output; part of every cache key."""

MAX_DURATION_S: float = Settings.model_fields["max_duration_s"].default
"""Longest audio decoded per file: the service's default, so both see the same audio."""


def file_cache_key(path: Path, **code: object) -> str:
    """Hash of a file's content and of what the ``code`` that reads it says determines its
    output (JSON-ready values): a cache file name. A copied, moved or re-downloaded
    dataset keeps its cache; a changed file does not."""
    content = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    identity = {"content_sha256": content, **code}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]


def cache_key(path: Path, config: FeatureConfig = DEFAULT_CONFIG) -> str:
    """Hash of what determines a file's features: its content and the code."""
    return file_cache_key(path, config=config.to_dict(), features_version=FEATURES_VERSION)


T = TypeVar("T")


def cached(
    paths: Sequence[Path], cache_dir: Path, key: Callable[[Path], str], load: Callable[[Path], T]
) -> tuple[list[Path], list[T | None]]:
    """Each path's cache file ``<cache_dir>/<key(path)>.npz``, and what ``load`` reads of
    it where it exists (None where the file is not cached yet)."""
    files = [Path(cache_dir) / f"{key(p)}.npz" for p in paths]
    return files, [load(f) if f.is_file() else None for f in files]


def save_npz(arrays: dict[str, np.ndarray], file: Path) -> None:
    """Write ``arrays`` to ``file`` (.npz) atomically, so a killed run leaves no torn file."""
    file.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=file.parent, suffix=".tmp", delete=False) as handle:
        np.savez(handle, **arrays)
    os.replace(handle.name, file)


def save_features(features: Features, file: Path) -> None:
    """Write ``features`` to ``file`` (.npz) atomically, so a killed run leaves no torn file.

    A nested record (the timbre, the evidence and its parts) is stored field by field
    under dotted names (``timbre.hardness``, ``evidence.rhythm.tempo_bpm``)."""
    save_npz(flatten_record(features), file)


def load_features(file: Path) -> Features:
    """Read features written by :func:`save_features`; a field missing from the file (an
    optional one that was None, or one added since it was written) is left at its default."""
    with np.load(file) as data:
        return unflatten_record(Features, {name: data[name] for name in data.files})


def flatten_record(record: object, prefix: str = "") -> dict[str, np.ndarray]:
    """A dataclass's fields as arrays under dotted names, None fields left out."""
    arrays = {}
    for field in fields(record):
        value = getattr(record, field.name)
        if value is None:
            continue
        if is_dataclass(value):
            arrays |= flatten_record(value, f"{prefix}{field.name}.")
        else:
            arrays[prefix + field.name] = np.asarray(value)
    return arrays


def unflatten_record(kind: type, arrays: dict[str, np.ndarray], prefix: str = "") -> Any:
    """The ``kind`` dataclass :func:`flatten_record` stored in ``arrays``: 0-d arrays become
    floats, arrays of a tuple field tuples."""
    hints = get_type_hints(kind)
    values = {}
    for field in fields(kind):
        name, hint = prefix + field.name, hints[field.name]
        nested = next((t for t in (hint, *get_args(hint)) if is_dataclass(t)), None)
        if nested is not None:
            if any(key.startswith(f"{name}.") for key in arrays):
                values[field.name] = unflatten_record(nested, arrays, f"{name}.")
        elif name in arrays:
            array = arrays[name]
            if get_origin(hint) is tuple:
                values[field.name] = tuple(array.tolist())
            else:
                values[field.name] = float(array) if array.ndim == 0 else array
    return kind(**values)


def extract_file(path: Path, config: FeatureConfig = DEFAULT_CONFIG) -> Features:
    """Decode ``path`` and compute its features, exactly as the service does."""
    try:
        audio = decode_to_mono(path, MAX_DURATION_S)
        return extract(
            audio.mono,
            config,
            loudness_lufs=audio.loudness_lufs,
            mono_loudness_lufs=audio.mono_loudness_lufs,
        )
    except Exception as exc:
        exc.add_note(f"while extracting the features of {path}")
        raise


def _limit_threads() -> None:
    # Parallelism comes from the worker processes; nested BLAS threads would oversubscribe.
    threadpool_limits(1)


def extract_all(
    paths: Sequence[Path],
    cache_dir: Path,
    config: FeatureConfig = DEFAULT_CONFIG,
    *,
    jobs: int = 1,
    progress: bool = True,
) -> list[Features]:
    """Features of every file in ``paths`` (same order), from the cache or computed.

    Parameters
    ----------
    paths : sequence of Path
        Audio files.
    cache_dir : Path
        Folder of cached ``.npz`` files; created if missing.
    config : FeatureConfig
        The feature configuration.
    jobs : int
        Worker processes for files not in the cache; 1 computes in this process.
    progress : bool
        Show a tqdm progress bar.
    """
    files, results = cached(paths, cache_dir, lambda p: cache_key(p, config), load_features)
    todo = [i for i, r in enumerate(results) if r is None]
    bar = tqdm(
        total=len(paths),
        initial=len(paths) - len(todo),
        desc="features",
        unit="clip",
        disable=not progress,
    )
    with bar:
        if jobs <= 1:
            for i in todo:
                results[i] = extract_file(paths[i], config)
                save_features(results[i], files[i])
                bar.update()
        elif todo:
            # "spawn": forking a parent that has started torch's thread pools can deadlock.
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(jobs, mp_context=context, initializer=_limit_threads) as pool:
                futures = {pool.submit(extract_file, paths[i], config): i for i in todo}
                try:
                    for future in as_completed(futures):
                        i = futures[future]
                        results[i] = future.result()
                        save_features(results[i], files[i])
                        bar.update()
                except BaseException:
                    # Fail fast (error or Ctrl-C) instead of finishing the queue first.
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
    return results
