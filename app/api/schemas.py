"""Response bodies of the API."""

from __future__ import annotations

from dataclasses import asdict

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, model_serializer

from app.analysis import Emotion, Quadrant
from app.api.problems import Problem
from app.summary import feature_summary, rounded


class ModelInfo(BaseModel):
    """The model that made a prediction."""

    name: str = Field(examples=["music-emotion"])
    version: str = Field(examples=["0.1.0"])


class Spread(BaseModel):
    """Standard deviation of the per-window predictions."""

    valence: float = Field(ge=0, examples=[0.05])
    arousal: float = Field(ge=0, examples=[0.08])


class TimbreSummary(BaseModel):
    """The AudioCommons timbral descriptors (0-100, reverb 0 or 1)."""

    hardness: float
    depth: float
    brightness: float
    roughness: float
    warmth: float
    sharpness: float
    boominess: float
    reverb: float


class FeatureSummary(BaseModel):
    """The song-level features behind a prediction."""

    tempo_bpm: float = Field(examples=[123.0])
    loudness_lufs: float = Field(examples=[-14.2])
    zero_crossings_per_s: float = Field(examples=[1510.3])
    spectral_centroid_mean_hz: float = Field(examples=[2210.5])
    spectral_rolloff_mean_hz: float = Field(examples=[4650.0])
    timbre: TimbreSummary


class Segment(BaseModel):
    """The emotion of one analysis window."""

    start_s: float
    end_s: float
    valence: float = Field(ge=-1, le=1)
    arousal: float = Field(ge=-1, le=1)


class Moods(BaseModel):
    """The nine GEMS categories' shares of the song (Zentner et al. 2008), summing to 1:
    what share of listeners would name each feeling, as learnt from Emotify."""

    amazement: float = Field(ge=0, le=1, examples=[0.08])
    solemnity: float = Field(ge=0, le=1, examples=[0.05])
    tenderness: float = Field(ge=0, le=1, examples=[0.09])
    nostalgia: float = Field(ge=0, le=1, examples=[0.1])
    calmness: float = Field(ge=0, le=1, examples=[0.07])
    power: float = Field(ge=0, le=1, examples=[0.17])
    joyful_activation: float = Field(ge=0, le=1, examples=[0.27])
    tension: float = Field(ge=0, le=1, examples=[0.12])
    sadness: float = Field(ge=0, le=1, examples=[0.05])


class EmotionResult(BaseModel):
    """A song's emotion on Russell's circumplex; every number rounded to 4 decimals."""

    valence: float = Field(ge=-1, le=1, description="Negative to positive; 0 is neutral.")
    arousal: float = Field(ge=-1, le=1, description="Calm to energetic; 0 is neutral.")
    quadrant: Quadrant
    spread: Spread
    duration_s: float = Field(description="Duration of the analysed audio.")
    truncated: bool = Field(description="True if the file was longer than the analysed limit.")
    model: ModelInfo
    features: FeatureSummary | None = None
    timeline: list[Segment] | None = None
    moods: Moods | None = Field(
        None, description="The GEMS shares, when asked for and the model has a mood head."
    )

    # No return annotation: the answer's JSON schema stays this model's own.
    @model_serializer(mode="wrap")
    def _rounded(self, handler: SerializerFunctionWrapHandler):
        return rounded(handler(self))

    @classmethod
    def of(
        cls,
        emotion: Emotion,
        model: ModelInfo,
        *,
        features: bool,
        timeline: bool,
        moods: bool = False,
    ) -> EmotionResult:
        """Build the response for ``emotion``, with the optional parts requested."""
        return cls(
            valence=emotion.valence,
            arousal=emotion.arousal,
            quadrant=emotion.quadrant,
            spread=Spread(valence=emotion.valence_spread, arousal=emotion.arousal_spread),
            duration_s=emotion.duration_s,
            truncated=emotion.truncated,
            model=model,
            features=FeatureSummary(**feature_summary(emotion.features)) if features else None,
            timeline=[Segment(**asdict(s)) for s in emotion.timeline] if timeline else None,
            moods=Moods(**emotion.moods) if moods and emotion.moods is not None else None,
        )


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


EMOTION_EXAMPLE = {
    "valence": 0.41,
    "arousal": 0.27,
    "quadrant": "happy/excited",
    "spread": {"valence": 0.06, "arousal": 0.09},
    "duration_s": 35.0,
    "truncated": False,
    "model": {"name": "music-emotion", "version": "0.1.0"},
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
}
"""A ``POST /v1/emotion?features=true&timeline=true&moods=true`` answer, for the OpenAPI
document."""

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
