"""The answer's shape: what the service, the command line and the catalogue report of a
song, with one feature summary and one rounding, so that all give the same numbers for
the same file.

:class:`EmotionResult` is the ``/v1/emotion`` answer (pydantic, so that it is also the
API's schema); :func:`rounded` is the one rounding of every reported number.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, model_serializer

from app import calibration
from app.analysis import Emotion, Quadrant
from app.audio_features import AudioFeatures, AudioFeaturesCalibration, audio_features
from app.features import Features, Timbre
from app.features.config import DEFAULT_CONFIG
from app.model import EmotionModel
from app.settings import SHIPPED_MODEL

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


def reported_audio_features(
    emotion: Emotion, calibration: AudioFeaturesCalibration
) -> AudioFeatures:
    """Spotify's audio features of an analysed song as the API, the command line and the
    catalogue report them: rounded."""
    return AudioFeatures(**rounded(audio_features(emotion, calibration).to_dict()))


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


class ModelInfo(BaseModel):
    """The model that made a prediction."""

    name: str = Field(examples=[SHIPPED_MODEL[0]])
    version: str = Field(examples=[SHIPPED_MODEL[1]])

    @classmethod
    def of(cls, model: EmotionModel) -> ModelInfo:
        """The name and version of ``model``."""
        return cls(name=model.name, version=model.version)

    def label(self) -> str:
        """``name/version``, as the catalogue's ``model`` column writes it."""
        return f"{self.name}/{self.version}"


class Spread(BaseModel):
    """Standard deviation of the per-window predictions."""

    valence: float = Field(ge=0, examples=[0.05])
    arousal: float = Field(ge=0, examples=[0.08])


class FeatureSummary(BaseModel):
    """The song-level features behind a prediction."""

    tempo_bpm: float = Field(examples=[123.0])
    loudness_lufs: float = Field(examples=[-14.2])
    zero_crossings_per_s: float = Field(examples=[1510.3])
    spectral_centroid_mean_hz: float = Field(examples=[2210.5])
    spectral_rolloff_mean_hz: float = Field(examples=[4650.0])
    timbre: Timbre = Field(
        description="The AudioCommons timbral descriptors (0-100, reverb 0 or 1)."
    )


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


class Confidence(BaseModel):
    """How sure the model is, as calibrated probabilities (fitted out of fold in its
    training: of the songs given 0.8, about 80% were right)."""

    quadrant: float = Field(
        ge=0,
        le=1,
        description="Probability that the shown quadrant is the song's; low (below about "
        "0.6) near the axes, where the quadrant is uncertain.",
        examples=[0.83],
    )
    valence_positive: float = Field(
        ge=0, le=1, description="Probability that the valence is positive.", examples=[0.93]
    )
    arousal_positive: float = Field(
        ge=0, le=1, description="Probability that the arousal is positive.", examples=[0.88]
    )

    @classmethod
    def of(cls, confidence: calibration.Confidence) -> Confidence:
        """The reported part of an analysis's confidence."""
        return cls(
            quadrant=confidence.quadrant,
            valence_positive=confidence.valence_positive,
            arousal_positive=confidence.arousal_positive,
        )


class EmotionResult(BaseModel):
    """A song's emotion on Russell's circumplex; every number rounded to 4 decimals."""

    valence: float = Field(ge=-1, le=1, description="Negative to positive; 0 is neutral.")
    arousal: float = Field(ge=-1, le=1, description="Calm to energetic; 0 is neutral.")
    quadrant: Quadrant
    confidence: Confidence | None = Field(
        None, description="Calibrated probabilities, when the model's card has a calibration."
    )
    spread: Spread
    duration_s: float = Field(description="Duration of the analysed audio.")
    truncated: bool = Field(description="True if the file was longer than the analysed limit.")
    model: ModelInfo
    features: FeatureSummary | None = None
    timeline: list[Segment] | None = None
    moods: Moods | None = Field(
        None, description="The GEMS shares, when asked for and the model has a mood head."
    )
    audio_features: AudioFeatures | None = Field(
        None, description="Spotify's audio features (`/v1/audio-features`), when asked for."
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
        audio_features: AudioFeatures | None = None,
    ) -> EmotionResult:
        """Build the response for ``emotion``, with the optional parts requested (the audio
        features made by :func:`reported_audio_features`)."""
        return cls(
            valence=emotion.valence,
            arousal=emotion.arousal,
            quadrant=emotion.quadrant,
            confidence=None if emotion.confidence is None else Confidence.of(emotion.confidence),
            spread=Spread(valence=emotion.valence_spread, arousal=emotion.arousal_spread),
            duration_s=emotion.duration_s,
            truncated=emotion.truncated,
            model=model,
            features=FeatureSummary(**feature_summary(emotion.features)) if features else None,
            timeline=[Segment(**asdict(s)) for s in emotion.timeline] if timeline else None,
            moods=Moods(**emotion.moods) if moods and emotion.moods is not None else None,
            audio_features=audio_features,
        )
