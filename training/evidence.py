"""The song evidence (:mod:`app.features.evidence`) of many files, cached on disk.

Calibrating the audio features needs the evidence of a whole corpus; the full feature
extraction (timbral models included) is not needed for it, so only the decoding, the
spectral features and the evidence are computed, exactly as :func:`app.features.extract`
computes them. Each file's evidence is one ``.npz`` named by a hash of the file's
content, the feature configuration and :data:`EVIDENCE_VERSION`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from app.analysis import decode_to_mono
from app.audio import mono_mix
from app.features import DEFAULT_CONFIG, Evidence
from app.features.budget import descriptor_spans, excerpt_starts
from app.features.evidence import song_evidence
from app.features.spectral import spectral_features
from training.features import (
    MAX_DURATION_S,
    cached,
    file_cache_key,
    flatten_record,
    save_npz,
    unflatten_record,
)

EVIDENCE_VERSION = 1
"""Version of the evidence code's output; part of every cache key."""


def cache_key(path: Path) -> str:
    """Hash of what determines a file's evidence: the file and the code."""
    return file_cache_key(path, config=DEFAULT_CONFIG.to_dict(), evidence_version=EVIDENCE_VERSION)


def evidence_file(path: Path) -> Evidence:
    """Decode ``path`` as the service does and compute its evidence."""
    try:
        audio = decode_to_mono(path, MAX_DURATION_S)
        mono = mono_mix(audio.mono)
        spans = descriptor_spans(mono.shape[0], DEFAULT_CONFIG)
        excerpts = excerpt_starts(mono.shape[0], DEFAULT_CONFIG)
        spectral = spectral_features(mono, DEFAULT_CONFIG, tempo_spans=spans, excerpts=excerpts)
        return song_evidence(
            mono,
            DEFAULT_CONFIG.sample_rate,
            DEFAULT_CONFIG.hop_length,
            spectral,
            audio.mono_loudness_lufs,
        )
    except Exception as exc:
        exc.add_note(f"while computing the evidence of {path}")
        raise


def load_evidence(file: Path) -> Evidence:
    """Read evidence written by :func:`evidence_all`."""
    with np.load(file) as data:
        return unflatten_record(Evidence, {name: data[name] for name in data.files})


def evidence_all(
    paths: Sequence[Path], cache_dir: Path, *, progress: bool = True
) -> list[Evidence]:
    """Evidence of every file in ``paths`` (same order), from the cache or computed."""
    files, results = cached(paths, cache_dir, cache_key, load_evidence)
    todo = [i for i, r in enumerate(results) if r is None]
    for i in tqdm(todo, desc="evidence", unit="clip", disable=not progress):
        results[i] = evidence_file(paths[i])
        save_npz(flatten_record(results[i]), files[i])
    return results
