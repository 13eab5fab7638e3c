"""The eight AudioCommons timbral descriptors, computed from decoded mono audio.

Port of the AudioCommons ``timbral_models`` 0.4.0 (Apache-2.0, Andy Pearce, University of
Surrey). :func:`timbre` prepares the audio once (see :mod:`.prepare`) and shares it, and the
windowed specific loudness several descriptors need, between all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.features.timbre.boominess import boominess
from app.features.timbre.brightness import brightness
from app.features.timbre.depth import depth
from app.features.timbre.hardness import hardness
from app.features.timbre.prepare import prepare
from app.features.timbre.reverb import reverb
from app.features.timbre.roughness import roughness
from app.features.timbre.sharpness import sharpness
from app.features.timbre.warmth import warmth

__all__ = ["Timbre", "prepare", "timbre"]


@dataclass(frozen=True)
class Timbre:
    """Timbral descriptors of one song, on the reference's scales (roughly 0-100).

    ``reverb`` is 1.0 when the song is classified as reverberant, else 0.0.
    """

    hardness: float
    depth: float
    brightness: float
    roughness: float
    warmth: float
    sharpness: float
    boominess: float
    reverb: float


def timbre(y: np.ndarray, sr: int, loudness_lufs: float | None = None) -> Timbre:
    """Compute all eight timbral descriptors of mono audio ``y`` at ``sr`` Hz.

    Parameters
    ----------
    y
        Mono samples.
    sr
        Their sample rate.
    loudness_lufs
        Integrated loudness of ``y`` if already measured (saves measuring it again).
    """
    audio, fs = prepare(y, sr, loudness_lufs)
    return Timbre(
        hardness=float(hardness(audio, fs)),
        depth=float(depth(audio, fs)),
        brightness=float(brightness(audio, fs)),
        roughness=float(roughness(audio, fs)),
        warmth=float(warmth(audio, fs)),
        sharpness=float(sharpness(audio, fs)),
        boominess=float(boominess(audio, fs)),
        reverb=float(reverb(audio, fs)),
    )
