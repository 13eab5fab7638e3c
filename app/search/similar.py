"""Songs like a given one, by sound and mood together, copies of its audio first.

Two distances, each divided by its typical value in the catalogue (the median over
random pairs of songs, :class:`Scales`), are mixed by one weight ``w`` in [0, 1]:

    distance = w * sound / typical sound + (1 - w) * plane / typical plane

where *sound* is the cosine distance of the songs' sound vectors and *plane* their
distance in the valence-arousal plane (mood). ``w = 0.5`` counts a typical
difference of sound as much as a typical difference of mood; 1 ranks by sound
alone, 0 by mood alone. The candidates are the songs nearest in sound (from the
index) and the songs nearest in the plane (exact), so both ends of the weight are
served; the ranking among them is exact.

A *duplicate* is the same audio under another path: a sound vector within
:data:`DUPLICATE_SOUND` of the song's (cosine distance) and a duration within
:data:`DUPLICATE_DURATION_S`. Duplicates come first, whatever the weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from app.search.index import SoundIndex, cosine_distances
from app.search.plane import distances
from app.search.songs import Songs

SOUND_WEIGHT = 0.5
"""The default weight of sound against mood."""

CANDIDATES = 64
"""Fewest songs taken from each side (sound, plane) before the exact ranking."""

DUPLICATE_SOUND = 1e-3
"""Largest cosine distance between the sounds of two encodings of the same audio. The
same bytes give the same vector; the same recording encoded otherwise (a 48 kbps mono
MP3 against a full-band Ogg Vorbis) stayed under it on the shared clips, where the
nearest distinct songs were farther apart (``benchmarks/search_quality.py``)."""

DUPLICATE_DURATION_S = 0.5
"""Largest difference of analysed duration between two copies of the same audio:
decoders may add or drop a frame or two of padding."""

SCALE_PAIRS = 4000
"""Random pairs of songs the typical distances are measured on."""


@dataclass(frozen=True)
class Scales:
    """The typical distance between two songs of the catalogue, in sound and in the plane."""

    sound: float
    plane: float

    @classmethod
    def of(cls, songs: Songs, index: SoundIndex, seed: int = 0) -> Scales:
        """Medians over random pairs of songs with a sound vector (1.0 with too few)."""
        with_sound = np.flatnonzero(index.has(np.arange(len(songs)))) if len(songs) else []
        if len(with_sound) < 2:
            return cls(1.0, 1.0)
        rng = np.random.default_rng(seed)
        a = rng.choice(with_sound, SCALE_PAIRS)
        b = rng.choice(with_sound, SCALE_PAIRS)
        a, b = a[a != b], b[a != b]
        va, vb = index.vectors(a), index.vectors(b)
        norms = np.linalg.norm(va, axis=1) * np.linalg.norm(vb, axis=1)
        sound = 1.0 - np.einsum("ij,ij->i", va, vb) / np.where(norms > 0, norms, 1.0)
        plane = np.hypot(songs.valence[a] - songs.valence[b], songs.arousal[a] - songs.arousal[b])
        return cls(_positive(np.median(sound)), _positive(np.median(plane)))


def _positive(value: float) -> float:
    return float(value) if value > 0 else 1.0


@dataclass(frozen=True)
class Likeness:
    """How like the query one song is."""

    song: int
    distance: float
    sound: float
    plane: float
    duplicate: bool


def rank_similar(
    songs: Songs,
    index: SoundIndex,
    tree: cKDTree,
    scales: Scales,
    *,
    sound: np.ndarray,
    point: tuple[float, float],
    duration_s: float,
    own: int | None,
    limit: int,
    weight: float = SOUND_WEIGHT,
) -> list[Likeness]:
    """The ``limit`` songs most like the query (its sound vector, point and duration),
    duplicates first, then by distance, then by path; never the song ``own`` itself."""
    wanted = max(CANDIDATES, 4 * limit) + 1
    by_sound, _ = index.nearest(sound, wanted)
    _, by_plane = tree.query(point, k=min(len(songs), wanted))
    candidates = np.unique(np.concatenate([by_sound, np.atleast_1d(by_plane)]))
    if own is not None:
        candidates = candidates[candidates != own]
    candidates = candidates[index.has(candidates)]
    sound_d = cosine_distances(np.asarray(sound, np.float32), index.vectors(candidates))
    plane_d = distances(songs, point, candidates)
    combined = weight * sound_d / scales.sound + (1 - weight) * plane_d / scales.plane
    duplicate = (sound_d <= DUPLICATE_SOUND) & (
        np.abs(songs.duration_s[candidates] - duration_s) <= DUPLICATE_DURATION_S
    )
    paths = songs.paths.take(candidates).to_pylist()
    order = sorted(range(len(candidates)), key=lambda i: (not duplicate[i], combined[i], paths[i]))
    return [
        Likeness(
            int(candidates[i]),
            float(combined[i]),
            float(sound_d[i]),
            float(plane_d[i]),
            bool(duplicate[i]),
        )
        for i in order[:limit]
    ]
