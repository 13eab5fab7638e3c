"""From an audio file to its emotion: decode, extract features, run the model, aggregate.

The service and the command line both call :class:`Analyzer`; it is built once
(model loaded, every lazy compilation warmed up) and then called per file.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np

from app.audio import Source, decode
from app.calibration import Confidence
from app.features import Features, extract
from app.features.config import DEFAULT_CONFIG, SAMPLE_RATE
from app.features.loudness import integrated_loudness_and_mix
from app.features.windows import windows
from app.model import MOODS, EmotionModel


class Quadrant(StrEnum):
    """Quadrants of Russell's circumplex, named by their typical emotions, in the order
    of their numbers (Q1..Q4, as 4Q numbers them)."""

    HAPPY = "happy/excited"
    ANGRY = "angry/tense"
    SAD = "sad/depressed"
    CALM = "calm/relaxed"

    @property
    def number(self) -> int:
        """1 to 4: Q1 valence+ arousal+, Q2 valence- arousal+, Q3 both -, Q4 valence+
        arousal-."""
        return list(Quadrant).index(self) + 1

    @classmethod
    def of(cls, valence: float, arousal: float) -> Quadrant:
        """The quadrant of a point (:func:`quadrant_numbers`)."""
        return list(cls)[int(quadrant_numbers(valence, arousal)) - 1]


def quadrant_numbers(valence: np.ndarray, arousal: np.ndarray) -> np.ndarray:
    """The quadrant numbers (1-4, :attr:`Quadrant.number`) of points; 0 counts as
    positive. The one quadrant rule: :meth:`Quadrant.of` and the training use it."""
    v, a = np.asarray(valence) >= 0, np.asarray(arousal) >= 0
    return np.select([v & a, ~v & a, ~v & ~a], [1, 2, 3], default=4)


@dataclass(frozen=True)
class Segment:
    """The emotion of one analysis window."""

    start_s: float
    end_s: float
    valence: float
    arousal: float


@dataclass(frozen=True)
class Emotion:
    """A song's emotion: the mean over its windows, their spread, and the timeline.

    ``moods`` are the nine GEMS shares (:data:`app.model.MOODS`, summing to 1) averaged
    over the windows, or None when the model has no mood head. ``confidence`` is how sure
    the model is of the signs and the quadrant, or None when its card has no calibration.
    """

    valence: float
    arousal: float
    quadrant: Quadrant
    valence_spread: float
    arousal_spread: float
    duration_s: float
    truncated: bool
    timeline: list[Segment]
    features: Features
    timings_s: dict[str, float] = field(default_factory=dict)
    moods: dict[str, float] | None = None
    confidence: Confidence | None = None


class Analyzer:
    """Decode, featurise and predict, with the model loaded once.

    Parameters
    ----------
    model_path : Path
        Folder of the model and its card.
    max_duration_s : float
        Longest analysed duration; the rest of a longer file is ignored.
    warm_up : bool
        Call :meth:`warm_up` at construction.
    """

    def __init__(
        self,
        model_path: Path,
        *,
        max_duration_s: float = 600.0,
        warm_up: bool = True,
    ):
        self.model = EmotionModel(model_path)
        self.max_duration_s = max_duration_s
        self.config = DEFAULT_CONFIG
        """The feature configuration, the model card's (checked when the model loads)."""
        if warm_up:
            self.warm_up()

    def warm_up(self) -> None:
        """Run a short synthetic song through the whole path, so that the first real
        request pays no lazy initialisation (numba compilation, onnxruntime allocation)."""
        self.analyse_samples(_warm_up_signal())

    def __call__(self, source: Source) -> Emotion:
        """Analyse one file (path, bytes or binary file object)."""
        timings: dict[str, float] = {}
        decoded_audio = decode_to_mono(source, self.max_duration_s, timings)
        emotion = self.analyse_samples(
            decoded_audio.mono,
            loudness_lufs=decoded_audio.loudness_lufs,
            mono_loudness_lufs=decoded_audio.mono_loudness_lufs,
            truncated=decoded_audio.truncated,
        )
        for stage, seconds in timings.items():
            emotion.timings_s[stage] = emotion.timings_s.get(stage, 0.0) + seconds
        return emotion

    def analyse_samples(
        self,
        samples: np.ndarray,
        *,
        loudness_lufs: float | None = None,
        mono_loudness_lufs: float | None = None,
        truncated: bool = False,
    ) -> Emotion:
        """Analyse decoded samples, shape (channels, n) at the analysis rate (see
        :func:`app.features.extract` for the loudness arguments)."""
        timings: dict[str, float] = {}
        features = extract(
            samples,
            self.config,
            loudness_lufs=loudness_lufs,
            mono_loudness_lufs=mono_loudness_lufs,
            embedder=self.model.embedder,
            timings=timings,
        )
        featurised = time.perf_counter()
        cut = windows(features)
        prediction = self.model(cut)
        inferred = time.perf_counter()
        window_s = min(DEFAULT_CONFIG.window_s, features.duration_s)
        timeline = [
            Segment(float(s), float(s + window_s), float(v), float(a))
            for s, v, a in zip(cut.start_s, prediction.valence, prediction.arousal, strict=True)
        ]
        valence = float(prediction.valence.mean())
        arousal = float(prediction.arousal.mean())
        calibration = self.model.calibration
        return Emotion(
            valence=valence,
            arousal=arousal,
            quadrant=Quadrant.of(valence, arousal),
            valence_spread=float(prediction.valence.std()),
            arousal_spread=float(prediction.arousal.std()),
            duration_s=features.duration_s,
            truncated=truncated,
            timeline=timeline,
            features=features,
            timings_s={**timings, "inference": inferred - featurised},
            moods=mood_shares(prediction.moods),
            confidence=None if calibration is None else calibration(valence, arousal),
        )


def mood_shares(per_window: np.ndarray | None) -> dict[str, float] | None:
    """The song's GEMS shares: the mean of its windows' shares, keyed by category."""
    if per_window is None:
        return None
    return dict(zip(MOODS, per_window.mean(axis=0).tolist(), strict=True))


@dataclass(frozen=True)
class MonoAudio:
    """A decoded song's mono mix at the analysis rate, with its loudness measurements.

    Attributes
    ----------
    mono : (1, n) float32 samples
    loudness_lufs : integrated loudness of all channels (the ``loudness_lufs`` feature)
    mono_loudness_lufs : integrated loudness of the mix (what the timbral models normalise)
    truncated : whether decoding stopped at the duration limit
    """

    mono: np.ndarray
    loudness_lufs: float
    mono_loudness_lufs: float
    truncated: bool


def decode_to_mono(
    source: Source, max_duration_s: float, timings: dict[str, float] | None = None
) -> MonoAudio:
    """Decode, measure loudness on all channels and on their mix, keep only the mix.

    The channels are freed before the features are computed, so a long stereo song
    costs one channel's memory during the analysis. With ``timings``, the seconds spent
    decoding and measuring the loudness are added to it (``decode``, ``loudness``).
    """
    start = time.perf_counter()
    audio = decode(source, max_duration_s=max_duration_s)
    decoded = time.perf_counter()
    loudness, mono_loudness = integrated_loudness_and_mix(audio.samples, audio.sample_rate)
    if timings is not None:
        timings["decode"] = decoded - start
        timings["loudness"] = time.perf_counter() - decoded
    return MonoAudio(audio.mono, loudness, mono_loudness, audio.truncated)


def _warm_up_signal(seconds: float = 3.0) -> np.ndarray:
    """A decaying A-major chord over noise: exercises every feature's code path."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6)) * np.exp(-2 * (t % 0.5))
    noise = np.random.default_rng(0).standard_normal(t.size) * 0.01
    return (0.2 * chord + noise).astype(np.float32)[None]
