"""Features and musicnn embeddings of plausible scale without any audio, for tests of the
model and the training alike (no PyTorch needed)."""

from __future__ import annotations

import numpy as np

from app.features import Features, Timbre
from app.features.config import DEFAULT_CONFIG
from app.features.musicnn import PATCH_S

TIMBRE_KEYS = {
    "hardness",
    "depth",
    "brightness",
    "roughness",
    "warmth",
    "sharpness",
    "boominess",
    "reverb",
}
"""The eight AudioCommons timbral descriptors every feature summary reports."""


def random_features(n_steps: int, seed: int) -> Features:
    """Features of plausible scale without any audio (fast)."""
    rng = np.random.default_rng(seed)
    return Features(
        duration_s=n_steps * DEFAULT_CONFIG.step_s,
        tempo_bpm=float(rng.uniform(60, 180)),
        loudness_lufs=float(rng.uniform(-30, -8)),
        zero_crossings_per_s=float(rng.uniform(500, 5000)),
        timbre=Timbre(*rng.uniform(0, 100, 7), 1.0),
        spectral_centroid=rng.uniform(200, 5000, n_steps).astype(np.float32),
        spectral_rolloff=rng.uniform(1000, 10000, n_steps).astype(np.float32),
        mfcc=(rng.standard_normal((DEFAULT_CONFIG.n_mfcc, n_steps)) * 20).astype(np.float32),
        chroma=rng.uniform(0, 1, (DEFAULT_CONFIG.n_chroma, n_steps)).astype(np.float32),
    )


def random_embeddings(features: list[Features]) -> list[np.ndarray]:
    """Per song, a random 200-value musicnn embedding of each of its 3-s patches."""
    rng = np.random.default_rng(1)
    return [
        rng.uniform(0, 2, (max(1, int(f.duration_s // PATCH_S)), 200)).astype(np.float32)
        for f in features
    ]
