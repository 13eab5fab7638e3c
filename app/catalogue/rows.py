"""The catalogue's table: one flat, typed row per file, a result or a problem.

The values are the HTTP API's answer for the same file (built by the same
:meth:`app.result.EmotionResult.of`), flattened: ``spread.valence`` becomes
``valence_spread``, ``features.timbre.hardness`` becomes ``timbre_hardness``,
``moods.tension`` becomes ``mood_tension``, ``confidence.quadrant`` becomes
``quadrant_probability``. The audio features (``--audio-features``) are
``/v1/audio-features``' answer under Spotify's names, but ``spotify_valence`` for its
valence (``valence`` is the emotion's), without ``duration_ms`` and ``type``
(``duration_s`` is there already). Beside them, the song's ``sound``
(:func:`app.table.sound_of`), which similarity reads. A failed file has nulls for every
value and the API's problem type URI and detail in ``error_type`` and ``error``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from app import table as names
from app.analysis import Emotion
from app.audio_features import AudioFeatures, AudioFeaturesCalibration
from app.catalogue.sources import Entry
from app.features import Timbre
from app.problems import ProblemDetail
from app.result import (
    Confidence,
    EmotionResult,
    FeatureSummary,
    ModelInfo,
    reported_audio_features,
)

IDENTITY = [
    pa.field("path", pa.string(), nullable=False),
    pa.field("size_bytes", pa.int64()),
    pa.field("modified", pa.timestamp("ns", tz="UTC")),
]
"""The columns that identify a file (see :attr:`Entry.identity`)."""

RESULT = [
    pa.field("valence", pa.float64()),
    pa.field("arousal", pa.float64()),
    pa.field("quadrant", pa.string()),
    pa.field("valence_spread", pa.float64()),
    pa.field("arousal_spread", pa.float64()),
    pa.field("duration_s", pa.float64()),
    pa.field("truncated", pa.bool_()),
    pa.field("model", pa.string()),
    pa.field("error_type", pa.string()),
    pa.field("error", pa.string()),
]

FEATURES = [
    *(pa.field(name, pa.float64()) for name in FeatureSummary.model_fields if name != "timbre"),
    *(pa.field(f"timbre_{name}", pa.float64()) for name in Timbre.__dataclass_fields__),
]

MOOD_COLUMNS = [pa.field(name, pa.float64()) for name in names.MOOD_COLUMNS.values()]

CONFIDENCE = [pa.field(f"{name}_probability", pa.float64()) for name in Confidence.model_fields]
"""The calibrated probabilities, ``quadrant_probability``, ``valence_positive_probability``
and ``arousal_positive_probability`` (when the model's card has a calibration)."""

AUDIO_FEATURE_NAMES = tuple(
    name for name in AudioFeatures.model_fields if name not in ("duration_ms", "type")
)
AUDIO_FEATURES = [
    pa.field(
        names.audio_feature_column(name),
        pa.int64() if AudioFeatures.model_fields[name].annotation is int else pa.float64(),
    )
    for name in AUDIO_FEATURE_NAMES
]
"""Spotify's audio features (``--audio-features``), valence as ``spotify_valence``
(:func:`app.table.audio_feature_column`); key, mode and time signature are integers."""

SOUND = pa.field(
    names.SOUND,
    pa.list_(pa.float32(), names.SOUND_SIZE),
    metadata={"description": names.SOUND_SOURCE},
)

ADDED_LATER = frozenset(
    {SOUND.name, *(f.name for f in CONFIDENCE), *(f.name for f in AUDIO_FEATURES)}
)
"""Columns a catalogue written before them gains on a rerun: the files of its parts that
lack them are scored again (:func:`app.catalogue.store.prepare`)."""

TIMELINE = pa.field(
    "timeline",
    pa.list_(
        pa.struct([(name, pa.float64()) for name in ("start_s", "end_s", "valence", "arousal")])
    ),
)


@dataclass(frozen=True)
class Columns:
    """Which optional columns a catalogue has: the feature summary, the mood shares
    (when the model has a mood head), the timeline of windows, the sound (when the
    model computes musicnn's embedding), the calibrated probabilities (when its card has
    a calibration) and Spotify's audio features."""

    features: bool = False
    moods: bool = False
    timeline: bool = False
    sound: bool = False
    confidence: bool = False
    audio_features: bool = False

    def schema(self) -> pa.Schema:
        """The table's schema."""
        return pa.schema(
            [
                *IDENTITY,
                *RESULT,
                *(CONFIDENCE if self.confidence else []),
                *(FEATURES if self.features else []),
                *(MOOD_COLUMNS if self.moods else []),
                *([TIMELINE] if self.timeline else []),
                *([SOUND] if self.sound else []),
                *(AUDIO_FEATURES if self.audio_features else []),
            ]
        )


def result_row(
    entry: Entry,
    emotion: Emotion,
    info: ModelInfo,
    columns: Columns,
    calibration: AudioFeaturesCalibration | None = None,
) -> dict:
    """The row of a scored file; ``calibration`` makes the audio features (needed with
    ``columns.audio_features``)."""
    result = EmotionResult.of(
        emotion, info, features=columns.features, timeline=columns.timeline, moods=columns.moods
    ).model_dump(mode="json")
    row: dict[str, Any] = identity_row(entry) | {
        "valence": result["valence"],
        "arousal": result["arousal"],
        "quadrant": result["quadrant"],
        "valence_spread": result["spread"]["valence"],
        "arousal_spread": result["spread"]["arousal"],
        "duration_s": result["duration_s"],
        "truncated": result["truncated"],
        "model": info.label(),
        "error_type": None,
        "error": None,
    }
    if columns.confidence:
        row |= {f"{k}_probability": p for k, p in (result.get("confidence") or {}).items()}
    if columns.features:
        summary = result["features"]
        row |= {key: value for key, value in summary.items() if key != "timbre"}
        row |= {f"timbre_{key}": value for key, value in summary["timbre"].items()}
    if columns.moods:
        row |= {f"mood_{name}": share for name, share in (result["moods"] or {}).items()}
    if columns.timeline:
        row["timeline"] = result["timeline"]
    if columns.sound:
        sound = names.sound_of(emotion.features.embedding)
        row[names.SOUND] = None if sound is None else sound.tolist()
    if columns.audio_features:
        reported = reported_audio_features(emotion, calibration).to_dict()
        row |= {names.audio_feature_column(name): reported[name] for name in AUDIO_FEATURE_NAMES}
    return row


def problem_row(entry: Entry, problem: ProblemDetail, info: ModelInfo) -> dict:
    """The row of a file that could not be scored (the missing columns are nulls)."""
    return identity_row(entry) | {
        "model": info.label(),
        "error_type": problem.type,
        "error": problem.detail,
    }


def identity_row(entry: Entry) -> dict[str, Any]:
    """The identity columns of ``entry``."""
    return {"path": entry.path, "size_bytes": entry.size_bytes, "modified": entry.modified_ns}


def table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """Rows as a table of ``schema``; absent keys are nulls."""
    return pa.Table.from_pylist(rows, schema=schema)


def entries_of(batch: pa.Table) -> list[Entry]:
    """The entries of a table with the identity columns (the Ray engine's input)."""
    modified = batch.column("modified").cast(pa.int64()).to_pylist()
    return [
        Entry(path, size, mtime)
        for path, size, mtime in zip(
            batch.column("path").to_pylist(),
            batch.column("size_bytes").to_pylist(),
            modified,
            strict=True,
        )
    ]
