"""Response bodies of the API beyond a song's result (:mod:`app.result`) and its audio
features (:mod:`app.audio_features`): batches, and the OpenAPI examples."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.api.problems import Problem
from app.audio_features import AudioFeatures
from app.result import EmotionResult
from app.settings import SHIPPED_MODEL


class BatchItem(BaseModel):
    """One file of a batch: its result, or the problem that stopped it."""

    filename: str | None = Field(
        None, description="The name the client sent; never used as a path."
    )
    result: EmotionResult | None = None
    error: Problem | None = None


class BatchResult(BaseModel):
    """The results of a batch, in the order of the uploaded files."""

    items: list[BatchItem]


class AudioFeaturesBatch(BaseModel):
    """The audio features of a batch's files, in their order; a file that could not be
    analysed has its problem in its place (Spotify put ``null``)."""

    audio_features: list[AudioFeatures | Problem]


AUDIO_FEATURES_EXAMPLE = {
    "acousticness": 0.1769,
    "danceability": 0.6283,
    "duration_ms": 30060,
    "energy": 0.7214,
    "instrumentalness": 0.0,
    "key": 10,
    "liveness": 0.128,
    "loudness": -12.4574,
    "mode": 1,
    "speechiness": 0.0641,
    "tempo": 165.5678,
    "time_signature": 4,
    "valence": 0.8342,
    "type": "audio_features",
}
"""A ``POST /v1/audio-features`` answer: the shipped model's, for the 4Q clip
MT0000004637.mp3."""

EMOTION_EXAMPLE = {
    "valence": 0.41,
    "arousal": 0.27,
    "quadrant": "happy/excited",
    "confidence": {"quadrant": 0.83, "valence_positive": 0.93, "arousal_positive": 0.88},
    "spread": {"valence": 0.06, "arousal": 0.09},
    "duration_s": 35.0,
    "truncated": False,
    "model": {"name": SHIPPED_MODEL[0], "version": SHIPPED_MODEL[1]},
    "features": {
        "tempo_bpm": 123.0,
        "loudness_lufs": -14.2,
        "zero_crossings_per_s": 1510.3,
        "spectral_centroid_mean_hz": 2210.5,
        "spectral_rolloff_mean_hz": 4650.0,
        "timbre": {
            "hardness": 52.1,
            "depth": 48.3,
            "brightness": 61.0,
            "roughness": 39.7,
            "warmth": 45.2,
            "sharpness": 55.9,
            "boominess": 33.4,
            "reverb": 0.0,
        },
    },
    "timeline": [
        {"start_s": 0.0, "end_s": 20.0, "valence": 0.35, "arousal": 0.18},
        {"start_s": 10.0, "end_s": 30.0, "valence": 0.44, "arousal": 0.31},
        {"start_s": 15.0, "end_s": 35.0, "valence": 0.45, "arousal": 0.33},
    ],
    "moods": {
        "amazement": 0.08,
        "solemnity": 0.05,
        "tenderness": 0.09,
        "nostalgia": 0.1,
        "calmness": 0.07,
        "power": 0.17,
        "joyful_activation": 0.27,
        "tension": 0.12,
        "sadness": 0.05,
    },
    "audio_features": AUDIO_FEATURES_EXAMPLE,
}
"""A ``POST /v1/emotion?features=true&timeline=true&moods=true&audio_features=true``
answer, for the OpenAPI document (``confidence`` as a model whose card has a calibration
gives it)."""

BATCH_EXAMPLE = {
    "items": [
        {
            "filename": "song.mp3",
            "result": {
                key: EMOTION_EXAMPLE[key]
                for key in (
                    "valence",
                    "arousal",
                    "quadrant",
                    "spread",
                    "duration_s",
                    "truncated",
                    "model",
                )
            },
        },
        {
            "filename": "notes.txt",
            "error": {
                "type": "/problems/unsupported-audio",
                "title": "Unsupported audio",
                "status": 415,
                "detail": "the file is not audio in a supported format",
            },
        },
    ]
}
"""A ``POST /v1/emotion/batch`` answer: one result and one problem."""

AUDIO_FEATURES_BATCH_EXAMPLE = {
    "audio_features": [
        AUDIO_FEATURES_EXAMPLE,
        BATCH_EXAMPLE["items"][1]["error"],
    ]
}
"""A ``POST /v1/audio-features/batch`` answer: one song's features and one problem."""
