"""Spotify's AudioFeatures object, from an analysed song.

Spotify's ``audio-features`` endpoint (closed to new applications in November 2024)
described a track by twelve numbers; this module makes the same object from the
analysis the service already runs (:class:`app.analysis.Emotion`): the model's valence
and arousal, musicnn's tags and the evidence of :mod:`app.features.evidence`.

Each field is a score on Spotify's own scale. A raw score is a weighted sum of named
evidence values (:func:`raw_values`; the weights were fitted on songs Spotify also
described); it is then mapped monotonically onto Spotify's distribution over about
145,000 tracks by matching quantiles: the raw score's quantiles over a corpus of
training clips against Spotify's quantiles of the field. Tempo reads the rhythm's tempo
salience under Spotify's tempo distribution as a prior; key is the best-fitting key
profile (-1 when the chroma is flat); mode and time signature are raw scores mapped the
same way and rounded. All of it (weights, quantiles, the corpus they came from) is one
JSON file beside the model, ``audio_features.json`` (:class:`AudioFeaturesCalibration`), written by
``training.audio_features``; nothing here reads the training data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from app.analysis import Emotion
from app.errors import AudioFeaturesUnavailableError, ModelContractError
from app.features import Evidence
from app.features.rhythm import TEMPO_GRID_BPM, tempo_of
from app.model import EmotionModel

CALIBRATION_FILE = "audio_features.json"
"""The calibration's file name in a model's folder."""

CALIBRATION_FORMAT = 1
"""Version of the calibration file's layout; a file of another version is refused."""

UNIT_FIELDS = (
    "acousticness",
    "danceability",
    "energy",
    "instrumentalness",
    "liveness",
    "speechiness",
    "valence",
)
"""The fields on [0, 1]."""

MAPPED_FIELDS = (*UNIT_FIELDS, "loudness", "mode", "time_signature")
"""The fields that are a raw score mapped onto Spotify's distribution."""

NO_KEY = -1
"""Spotify's key when none is found."""

MIN_TONALITY = 0.07
"""Below this :func:`tonality` the chroma is flat and no key is reported: white noise
measures 0.066 (the chroma filters' unequal widths), speech 0.11; 1% of the training clips
measure less (death metal, hardcore, free jazz, noise), the median clip 0.22."""

LOUDNESS_RANGE_DB = (-60.0, 0.0)
"""Spotify's documented loudness range: the mapped loudness is kept inside it."""

TAG_FLOOR = 1e-4
"""Tag probabilities are read as log-odds, clipped to this distance from 0 and 1."""


UNIT = {"ge": 0.0, "le": 1.0}
"""The bounds of a field on [0, 1], for its schema."""


class AudioFeatures(BaseModel):
    """Spotify's AudioFeatures object: the same names, types and ranges (the API's answer
    and its schema).

    Spotify's ``id``, ``uri``, ``track_href`` and ``analysis_url`` name a track in Spotify's
    catalogue; an upload has none, so they are left out.
    """

    model_config = ConfigDict(frozen=True)

    acousticness: float = Field(
        **UNIT, description="How likely the song is acoustic.", examples=[0.21]
    )
    danceability: float = Field(
        **UNIT,
        description="How suitable for dancing: tempo, beat strength and regularity of the pulse.",
        examples=[0.62],
    )
    duration_ms: int = Field(ge=0, description="Duration of the analysed audio.", examples=[30000])
    energy: float = Field(**UNIT, description="Perceived intensity and activity.", examples=[0.71])
    instrumentalness: float = Field(
        **UNIT, description="How likely the song has no vocals.", examples=[0.04]
    )
    key: int = Field(
        ge=NO_KEY,
        le=11,
        description="Pitch class of the tonic, 0 = C, 1 = C#/Db, ... 11 = B; -1 when no key "
        "is found.",
        examples=[9],
    )
    liveness: float = Field(
        **UNIT,
        description="Presence of an audience (a live recording). Not estimated: always "
        "Spotify's median, 0.128 (docs/spotify.md); do not filter on it.",
        examples=[0.128],
    )
    loudness: float = Field(
        ge=LOUDNESS_RANGE_DB[0],
        le=LOUDNESS_RANGE_DB[1],
        description="Mean loudness in dB, about -60 to 0.",
        examples=[-7.3],
    )
    mode: int = Field(ge=0, le=1, description="1 major, 0 minor.", examples=[1])
    speechiness: float = Field(**UNIT, description="Presence of spoken words.", examples=[0.05])
    tempo: float = Field(ge=0, description="Beats per minute.", examples=[121.9])
    time_signature: int = Field(
        ge=3, le=7, description="Beats per bar, 3 to 7; only 3 or 4 are told apart.", examples=[4]
    )
    valence: float = Field(
        **UNIT, description="Musical positiveness: high is happy or cheerful.", examples=[0.55]
    )
    type: Literal["audio_features"] = "audio_features"

    def to_dict(self) -> dict[str, float | int | str]:
        """The object as JSON-ready values, in Spotify's field order (alphabetical)."""
        return self.model_dump()


@dataclass(frozen=True)
class FieldMap:
    """How one field's raw score is made and mapped onto Spotify's scale.

    ``raw = sum(weights * (values[inputs] - centre) / scale)``, then
    ``np.interp(raw, raw_quantiles, spotify_quantiles)``.
    """

    inputs: tuple[str, ...]
    centre: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    raw_quantiles: np.ndarray
    spotify_quantiles: np.ndarray

    def raw(self, values: dict[str, float]) -> float:
        """The raw score of named evidence ``values``."""
        x = np.array([values[name] for name in self.inputs])
        return float(((x - self.centre) / self.scale) @ self.weights)

    def __call__(self, values: dict[str, float]) -> float:
        """The field on Spotify's scale."""
        return float(np.interp(self.raw(values), self.raw_quantiles, self.spotify_quantiles))

    def to_dict(self) -> dict:
        """JSON-ready values."""
        return {
            k: v.tolist() if isinstance(v, np.ndarray) else list(v) for k, v in vars(self).items()
        }

    @classmethod
    def from_dict(cls, values: dict) -> FieldMap:
        """Read :meth:`to_dict`'s output."""
        arrays = {k: np.asarray(v, dtype=np.float64) for k, v in values.items() if k != "inputs"}
        return cls(inputs=tuple(values["inputs"]), **arrays)


@dataclass(frozen=True)
class AudioFeaturesCalibration:
    """Everything the mapping onto Spotify's scales needs, read from one JSON file.

    Attributes
    ----------
    fields : dict
        :data:`MAPPED_FIELDS` -> :class:`FieldMap`.
    tempo_quantiles : np.ndarray
        Spotify's tempo at the quantiles 0, 0.01, ..., 1: the tempo prior.
    tags : tuple of str
        Names of musicnn's tag outputs, in order.
    musicnn_sha256 : str
        The musicnn graph whose tags the weights read.
    model : dict
        Name and version of the emotion model whose valence and arousal they read.
    """

    fields: dict[str, FieldMap]
    tempo_quantiles: np.ndarray
    tags: tuple[str, ...]
    musicnn_sha256: str
    model: dict[str, str]

    @classmethod
    def load(cls, file: Path) -> AudioFeaturesCalibration:
        """Read a calibration file; :class:`ModelContractError` if it cannot be used."""
        try:
            data = json.loads(Path(file).read_text())
        except (OSError, ValueError) as exc:
            raise ModelContractError(f"cannot read the audio-features calibration: {exc}") from exc
        if data.get("format") != CALIBRATION_FORMAT:
            raise ModelContractError(
                f"{file} has calibration format {data.get('format')}, this code reads "
                f"{CALIBRATION_FORMAT}"
            )
        missing = set(MAPPED_FIELDS) - data["fields"].keys()
        if missing:
            raise ModelContractError(f"{file} lacks the fields {sorted(missing)}")
        return cls(
            fields={name: FieldMap.from_dict(data["fields"][name]) for name in MAPPED_FIELDS},
            tempo_quantiles=np.asarray(data["tempo_quantiles"], dtype=np.float64),
            tags=tuple(data["tags"]),
            musicnn_sha256=data["musicnn_sha256"],
            model=data["model"],
        )

    def check(self, model_name: str, model_version: str, musicnn_sha256: str | None) -> None:
        """Raise :class:`ModelContractError` unless the calibration was made for this model
        and this musicnn graph."""
        if (self.model.get("name"), self.model.get("version")) != (model_name, model_version):
            raise ModelContractError(
                f"the audio-features calibration was made for {self.model}, "
                f"not {model_name} {model_version}"
            )
        if musicnn_sha256 != self.musicnn_sha256:
            raise ModelContractError(
                "the audio-features calibration reads another musicnn graph's tags"
            )

    def tempo_prior(self) -> np.ndarray:
        """Spotify's tempo density on :data:`app.features.rhythm.TEMPO_GRID_BPM`."""
        return tempo_prior(self.tempo_quantiles)


def calibration_of(model: EmotionModel) -> AudioFeaturesCalibration:
    """The audio features' calibration beside ``model``, checked against it.

    Raises
    ------
    AudioFeaturesUnavailableError
        If the model reads no musicnn network (whose tags most fields read), has no
        :data:`CALIBRATION_FILE`, or has one made for another model or network.
    """
    if model.embedder is None:
        raise AudioFeaturesUnavailableError(
            f"model {model.name} {model.version} computes no musicnn tags, which the audio "
            "features read; serve a model that reads musicnn's embedding (such as the shipped one)"
        )
    file = model.directory / CALIBRATION_FILE
    if not file.is_file():
        raise AudioFeaturesUnavailableError(
            f"model {model.name} {model.version} has no {CALIBRATION_FILE} beside it; "
            "python -m training.audio_features writes one"
        )
    try:
        calibration = AudioFeaturesCalibration.load(file)
        calibration.check(model.name, model.version, model.card["embedding"]["sha256"])
    except ModelContractError as error:
        raise AudioFeaturesUnavailableError(f"{file} cannot be used: {error}") from error
    return calibration


TEMPO_PRIOR_SMOOTHING = 0.15
"""Width (in natural-log units of tempo, about 16%) of the Gaussian that smooths Spotify's
tempo density into the prior: wide enough to erase the quantile table's steps, narrow
enough to keep its shape."""


def tempo_prior(tempo_quantiles: np.ndarray) -> np.ndarray:
    """The density of tempi whose quantiles 0, 0.01, ..., 1 are ``tempo_quantiles``, on the
    tempo grid, smoothed by :data:`TEMPO_PRIOR_SMOOTHING`, with a small floor so that no
    tempo is impossible."""
    grid = np.log(TEMPO_GRID_BPM)
    levels = np.linspace(0.0, 1.0, len(tempo_quantiles))
    cdf = np.interp(grid, np.log(np.maximum(tempo_quantiles, 1.0)), levels)
    density = np.gradient(cdf, grid)
    step = grid[1] - grid[0]
    offsets = np.arange(-4 * TEMPO_PRIOR_SMOOTHING, 4 * TEMPO_PRIOR_SMOOTHING + step, step)
    kernel = np.exp(-0.5 * (offsets / TEMPO_PRIOR_SMOOTHING) ** 2)
    smooth = np.convolve(density, kernel / kernel.sum(), mode="same")
    return smooth / smooth.max() + 1e-3


def tonality(evidence: Evidence) -> float:
    """Contrast of the song's pitch-class distribution (standard deviation over mean): near
    0 for noise, speech or drums alone, whose chroma is flat."""
    pcp = evidence.key.pitch_classes.astype(np.float64)
    return float(pcp.std() / pcp.mean()) if pcp.mean() > 0 else 0.0


def logit(p: float) -> float:
    """Log-odds of a probability, clipped by :data:`TAG_FLOOR`."""
    p = min(max(p, TAG_FLOOR), 1 - TAG_FLOOR)
    return float(np.log(p / (1 - p)))


def raw_values(
    evidence: Evidence,
    taggram: np.ndarray,
    tags: Sequence[str],
    valence: float,
    arousal: float,
) -> dict[str, float]:
    """Every named value a field's raw score may read.

    The model's ``valence`` and ``arousal``; the evidence's scalars; and ``tag:<name>``,
    the log-odds of each musicnn tag's mean probability over the song's patches
    (``taggram``, patches by ``tags``).
    """
    rhythm = evidence.rhythm
    values = {
        "valence": valence,
        "arousal": arousal,
        "mono_loudness_lufs": evidence.mono_loudness_lufs,
        "peak_to_loudness_db": evidence.peak_to_loudness_db,
        "brightness_hz": evidence.brightness_hz,
        "dynamic_spread_db": evidence.dynamic_spread_db,
        "chroma_continuity": evidence.chroma_continuity,
        "bass_pulse_clarity": evidence.bass_pulse_clarity,
        "flatness": evidence.flatness,
        "tonality": tonality(evidence),
        "key_clarity": evidence.key.clarity,
        "mode_margin": evidence.key.mode_margin,
        "pulse_clarity": rhythm.pulse_clarity,
        "beat_strength": rhythm.beat_strength,
        "dfa_alpha": rhythm.dfa_alpha,
        "onset_rate": rhythm.onset_rate,
        "tempo_octave": float(np.log2(rhythm.tempo_bpm / 120.0)),
        "triple_meter": rhythm.meter[1] - max(rhythm.meter[0], rhythm.meter[2]),
    }
    means = np.asarray(taggram, dtype=np.float64).mean(axis=0)
    values |= {f"tag:{name}": logit(p) for name, p in zip(tags, means, strict=True)}
    return values


def audio_features(emotion: Emotion, calibration: AudioFeaturesCalibration) -> AudioFeatures:
    """Spotify's audio features of an analysed song: its features (with the evidence and
    musicnn's taggram) and the model's song-level valence and arousal.

    Raises
    ------
    ModelContractError
        If the features lack the evidence or the taggram (a model without musicnn).

    Examples
    --------
    >>> emotion = analyzer("song.mp3")  # doctest: +SKIP
    >>> audio_features(emotion, calibration).to_dict()["tempo"]  # doctest: +SKIP
    120.3
    """
    features = emotion.features
    if features.evidence is None or features.taggram is None:
        raise ModelContractError("the audio features need the evidence and musicnn's tags")
    evidence = features.evidence
    values = raw_values(
        evidence, features.taggram, calibration.tags, emotion.valence, emotion.arousal
    )
    mapped = {name: calibration.fields[name](values) for name in MAPPED_FIELDS}
    major = mapped["mode"] >= 0.5
    profile = evidence.key.major if major else evidence.key.minor
    has_key = tonality(evidence) >= MIN_TONALITY
    return AudioFeatures(
        **{name: float(np.clip(mapped[name], 0.0, 1.0)) for name in UNIT_FIELDS},
        duration_ms=round(features.duration_s * 1000),
        key=int(np.argmax(profile)) if has_key else NO_KEY,
        loudness=float(np.clip(mapped["loudness"], *LOUDNESS_RANGE_DB)),
        mode=int(major),
        tempo=tempo_of(evidence.rhythm.tempo_salience, calibration.tempo_prior()),
        time_signature=int(np.clip(round(mapped["time_signature"]), 3, 7)),
    )
