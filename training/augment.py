"""Changes that real uploads bring to a recording and that keep its emotion.

Each augmentation maps mono float32 samples at the analysis rate to new samples of the
same song: a gain, an equalisation (a shelving tilt), a lossy re-encoding, a small pitch
shift or a small tempo change. The features and the musicnn embedding must be computed
again from the changed audio (they are not linear in it), so an augmented copy of the
training set costs what its feature and embedding caches cost (see the module
:mod:`training.features` and :mod:`training.musicnn_features`).
"""

from __future__ import annotations

import io
from collections.abc import Callable

import librosa
import numpy as np
import soundfile as sf
from scipy.signal import lfilter

from app.audio import decode
from app.features.config import SAMPLE_RATE

Augmentation = Callable[[np.ndarray], np.ndarray]


def gain(db: float) -> Augmentation:
    """Scale by ``db`` decibels, clipping at full scale as a louder master would."""
    return lambda y: np.clip(y * 10 ** (db / 20), -1.0, 1.0).astype(np.float32)


def shelf(frequency_hz: float, db: float, high: bool) -> tuple[np.ndarray, np.ndarray]:
    """Biquad coefficients (b, a) of an RBJ shelving filter (slope 1) at the analysis rate."""
    amplitude = 10 ** (db / 40)
    w = 2 * np.pi * frequency_hz / SAMPLE_RATE
    alpha = np.sin(w) / 2 * np.sqrt(2)
    cos, root = np.cos(w), 2 * np.sqrt(amplitude) * alpha
    sign = 1 if high else -1
    b = amplitude * np.array(
        [
            (amplitude + 1) + sign * (amplitude - 1) * cos + root,
            -sign * 2 * ((amplitude - 1) + sign * (amplitude + 1) * cos),
            (amplitude + 1) + sign * (amplitude - 1) * cos - root,
        ]
    )
    a = np.array(
        [
            (amplitude + 1) - sign * (amplitude - 1) * cos + root,
            sign * 2 * ((amplitude - 1) - sign * (amplitude + 1) * cos),
            (amplitude + 1) - sign * (amplitude - 1) * cos - root,
        ]
    )
    return b / a[0], a / a[0]


def tilt(db: float) -> Augmentation:
    """Equalisation: bass (below 250 Hz) up by ``db`` and treble (above 4 kHz) down by
    ``db`` (negative ``db``: the other way), as a phone speaker or a warm master differ."""
    low, high = shelf(250.0, db, high=False), shelf(4000.0, -db, high=True)

    def apply(y: np.ndarray) -> np.ndarray:
        return lfilter(*high, lfilter(*low, y)).astype(np.float32)

    return apply


def reencode(
    format_: str = "MP3", subtype: str = "MPEG_LAYER_III", quality: float = 0.9
) -> Augmentation:
    """A lossy re-encoding, decoded back with the service's decoder (libsndfile's encoder;
    ``quality`` from 0, the best, to below 1, the worst)."""

    def apply(y: np.ndarray) -> np.ndarray:
        buffer = io.BytesIO()
        sf.write(buffer, y, SAMPLE_RATE, format=format_, subtype=subtype, compression_level=quality)
        decoded = decode(buffer.getvalue()).mono
        return decoded[: len(y)].astype(np.float32)

    return apply


def pitch(semitones: float) -> Augmentation:
    """Shift the pitch by ``semitones``, keeping the tempo (phase vocoder)."""
    return lambda y: librosa.effects.pitch_shift(y, sr=SAMPLE_RATE, n_steps=semitones).astype(
        np.float32
    )


def tempo(rate: float) -> Augmentation:
    """Play ``rate`` times as fast, keeping the pitch (phase vocoder)."""
    return lambda y: librosa.effects.time_stretch(y, rate=rate).astype(np.float32)


AUGMENTATIONS: dict[str, Augmentation] = {
    "gain-10": gain(-10.0),
    "gain+6": gain(6.0),
    "tilt+6": tilt(6.0),
    "tilt-6": tilt(-6.0),
    "mp3-low": reencode(quality=0.95),
    "pitch+1": pitch(1.0),
    "pitch-1": pitch(-1.0),
    "tempo0.94": tempo(0.94),
    "tempo1.06": tempo(1.06),
}
"""The changes :mod:`training.augment` measures and can train on, by name."""
