"""Key and mode evidence: the song's mean chroma against the 24 rotations of key profiles.

A key profile gives the typical weight of each scale degree in a major and in a minor
key; the song's pitch-class distribution (its mean chroma) is correlated with the profile
rotated to each of the 12 tonics (Krumhansl & Schmuckler's method). Profiles, each cited
where its numbers come from:

- ``krumhansl``: Krumhansl & Kessler's probe-tone ratings (Krumhansl, *Cognitive
  Foundations of Musical Pitch*, 1990);
- ``temperley``: Temperley's revision of them ("What's key for key? The
  Krumhansl-Schmuckler key-finding algorithm reconsidered", Music Perception 17, 1999);
- ``temperley2005``: scale-degree frequencies in the Kostka-Payne corpus (Temperley,
  *Music and Probability*, 2007; the MIREX 2005 profiles);
- ``albrecht``: frequencies in a corpus of 490 pieces (Albrecht & Shanahan, "The use of
  large corpora to train a new type of key-finding algorithm", Music Perception 31, 2013);
- ``edma``: profiles learnt from electronic dance music (Faraldo, Gómez, Jordà & Herrera,
  "Key estimation in electronic dance music", ECIR 2016).

:data:`DEFAULT_PROFILE` is the one the evidence uses; the others are compared in
``benchmarks/spotify_agreement.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# fmt: off
PROFILES: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "krumhansl": (
        (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88),
        (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17),
    ),
    "temperley": (
        (5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0),
        (5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0),
    ),
    "temperley2005": (
        (0.748, 0.060, 0.488, 0.082, 0.670, 0.460, 0.096, 0.715, 0.104, 0.366, 0.057, 0.400),
        (0.712, 0.084, 0.474, 0.618, 0.049, 0.460, 0.105, 0.747, 0.404, 0.067, 0.133, 0.330),
    ),
    "albrecht": (
        (0.238, 0.006, 0.111, 0.006, 0.137, 0.094, 0.016, 0.214, 0.009, 0.080, 0.008, 0.081),
        (0.220, 0.006, 0.104, 0.123, 0.019, 0.103, 0.012, 0.214, 0.062, 0.022, 0.061, 0.052),
    ),
    "edma": (
        (1.0000, 0.2875, 0.5020, 0.4048, 0.6050, 0.5614,
         0.3205, 0.7966, 0.3159, 0.4506, 0.4202, 0.3889),
        (1.0000, 0.3096, 0.4415, 0.5827, 0.3262, 0.4948,
         0.2889, 0.7804, 0.4328, 0.2903, 0.5331, 0.3217),
    ),
}
# fmt: on
"""Major then minor profile of each name, scale degrees from the tonic up in semitones."""

DEFAULT_PROFILE = "temperley2005"


@dataclass(frozen=True)
class KeyEvidence:
    """How well each of the 24 keys fits a song.

    Attributes
    ----------
    pitch_classes : np.ndarray
        (12,) the song's mean chroma, C first.
    major, minor : np.ndarray
        (12,) Pearson correlation of ``pitch_classes`` with the major (minor) profile on
        each tonic, C first; zeros when the chroma is flat (no pitch at all).
    """

    pitch_classes: np.ndarray
    major: np.ndarray
    minor: np.ndarray

    @property
    def clarity(self) -> float:
        """The best key's correlation: near 1 for plainly tonal music, low without a key."""
        return float(max(self.major.max(), self.minor.max()))

    @property
    def mode_margin(self) -> float:
        """Best major key's correlation minus best minor key's: above 0 leans major."""
        return float(self.major.max() - self.minor.max())


def key_evidence(chroma: np.ndarray, profile: str = DEFAULT_PROFILE) -> KeyEvidence:
    """The key evidence of chroma steps ``chroma`` (12, steps) with the named profile.

    Examples
    --------
    >>> c_major = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], float)[:, None]
    >>> int(np.argmax(key_evidence(c_major).major))
    0
    """
    pitch_classes = np.asarray(chroma, dtype=np.float64).reshape(12, -1).mean(axis=1)
    major, minor = (correlations(pitch_classes, p) for p in PROFILES[profile])
    return KeyEvidence(pitch_classes.astype(np.float32), major, minor)


def correlations(pitch_classes: np.ndarray, profile: tuple[float, ...]) -> np.ndarray:
    """Pearson correlation of ``pitch_classes`` with ``profile`` rotated to each tonic."""
    x = pitch_classes - pitch_classes.mean()
    rotations = np.stack([np.roll(profile, tonic) for tonic in range(12)])
    rotations = rotations - rotations.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(rotations, axis=1) * np.linalg.norm(x)
    if norms[0] == 0:
        return np.zeros(12)
    return rotations @ x / norms
