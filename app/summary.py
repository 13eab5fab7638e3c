"""What the service and the command line report of a song: one feature summary, one
rounding, so that both give the same numbers for the same file."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from app.features import Features
from app.features.config import DEFAULT_CONFIG

DECIMALS = 4
"""Decimals of every reported number: the model cannot mean finer differences."""


def rounded(value: Any) -> Any:
    """``value`` with every float in it (in nested dicts and lists too) rounded to
    :data:`DECIMALS`."""
    if isinstance(value, float):
        return round(value, DECIMALS)
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [rounded(item) for item in value]
    return value


def feature_summary(features: Features) -> dict[str, Any]:
    """The song-level features behind a prediction: the scalars, the timbral descriptors,
    and the whole song's mean spectral centroid and rolloff."""
    return {
        "tempo_bpm": features.tempo_bpm,
        "loudness_lufs": features.loudness_lufs,
        "zero_crossings_per_s": features.zero_crossings_per_s,
        "spectral_centroid_mean_hz": float(features.spectral_centroid.mean()),
        "spectral_rolloff_mean_hz": float(features.spectral_rolloff.mean()),
        "timbre": asdict(features.timbre),
    }


def feature_series(features: Features) -> dict[str, Any]:
    """The song's time series, one value per ``step_s`` seconds from its start; of a song
    read through excerpts (longer than a minute), the excerpts' values one after the other,
    each excerpt ``excerpt_steps`` long from its ``excerpt_starts_s``."""
    excerpts = {}
    if features.excerpts is not None:
        excerpts = {
            "excerpt_starts_s": (features.excerpts * DEFAULT_CONFIG.step_s).tolist(),
            "excerpt_steps": DEFAULT_CONFIG.n_steps,
        }
    return {
        "step_s": DEFAULT_CONFIG.step_s,
        **excerpts,
        "spectral_centroid_hz": features.spectral_centroid.tolist(),
        "spectral_rolloff_hz": features.spectral_rolloff.tolist(),
        "mfcc": features.mfcc.tolist(),
        "chroma": features.chroma.tolist(),
    }
