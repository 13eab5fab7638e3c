"""Playlists that travel across the plane: from one point (or song) to another, steadily.

The way is the segment from the start A to the end B. A song's *position* is its
point's projection on the way, 0 at A and 1 at B. Song i of N aims at the point at
position i / (N - 1). The playlist is the sequence of N songs, song i taken among the
:data:`NEIGHBOURS` songs nearest to its target, that minimises the sum of

- each song's plane distance to its target, over the catalogue's typical plane distance;
- :data:`SOUND_WEIGHT` times each song's sound distance (cosine) to the song before,
  over the typical sound distance;
- :data:`TEMPO_WEIGHT` times each song's tempo ratio to the song before, in octaves
  (``|log2(t / t_before)|``), when the catalogue has a tempo column;

under the rule that positions never go back: each song's position is at least the one
before's (on a tie, the songs' numbers decide, so no song comes twice). The best
sequence is found exactly by dynamic programming over the N layers of candidates
(``N * NEIGHBOURS**2`` steps); where no sequence keeps the rule, the layers grow.
A seed song given as the start (or end) is the first (or last) song; its point is A
(or B).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from app.errors import InvalidQueryError
from app.search.plane import distances

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

    from app.search.index import SoundIndex
    from app.search.similar import Scales
    from app.search.songs import Songs

SOUND_WEIGHT = 0.5
TEMPO_WEIGHT = 0.5
NEIGHBOURS = 32
"""Candidates for each song of the playlist: the songs nearest to its target."""
MOST_NEIGHBOURS = 2048
"""Largest layer tried before the playlist is declared impossible."""


def positions(songs: Songs, start: np.ndarray, end: np.ndarray, which: np.ndarray) -> np.ndarray:
    """The position of songs ``which`` along the way from ``start`` to ``end``."""
    way = end - start
    offsets = np.column_stack([songs.valence[which], songs.arousal[which]]) - start
    return offsets @ way / (way @ way)


def travel(
    songs: Songs,
    index: SoundIndex,
    tree: cKDTree,
    scales: Scales,
    *,
    start: tuple[float, float],
    end: tuple[float, float],
    length: int,
    first: int | None = None,
    last: int | None = None,
    tempo: np.ndarray | None = None,
) -> list[int]:
    """The songs of the playlist, in order."""
    a, b = np.asarray(start, float), np.asarray(end, float)
    if np.allclose(a, b):
        raise InvalidQueryError("a playlist needs two different ends")
    if index.size < length:
        raise InvalidQueryError(
            f"the catalogue holds {index.size} songs with a sound: too few for {length}"
        )
    targets = a + np.outer(np.linspace(0.0, 1.0, length), b - a)
    neighbours = NEIGHBOURS
    while True:
        layers = [_near(songs, index, tree, target, neighbours) for target in targets]
        if first is not None:
            layers[0] = np.array([first])
        if last is not None:
            layers[-1] = np.array([last])
        layers = _one_copy_each(songs, index, layers, [s for s in (first, last) if s is not None])
        found = _cheapest(songs, index, scales, (a, b), targets, layers, tempo)
        if found is not None:
            return found
        if neighbours >= min(len(songs), MOST_NEIGHBOURS):
            raise InvalidQueryError(
                f"no {length} songs lie in order along this way: ask for fewer, or choose "
                "other ends"
            )
        neighbours *= 4


def _near(songs: Songs, index: SoundIndex, tree: cKDTree, target: np.ndarray, k: int):
    """The ``k`` songs with a sound nearest to ``target``."""
    asked = min(len(songs), 2 * k)
    _, near = tree.query(target, k=asked)
    near = np.atleast_1d(near)
    return near[index.has(near)][:k]


def _one_copy_each(
    songs: Songs, index: SoundIndex, layers: list[np.ndarray], seeds: list[int]
) -> list[np.ndarray]:
    """The layers with every copy of one audio (the same sound vector and duration: the
    same file under several paths) replaced by one of them, a seed if it is one: so that
    no audio comes twice."""
    found = np.unique(np.concatenate(layers))
    found = np.concatenate([seeds, found[~np.isin(found, seeds)]]).astype(np.int64)
    vectors = index.vectors(found)
    durations = np.round(songs.duration_s[found], 1)
    first_of: dict[bytes, int] = {}
    same = {
        int(song): first_of.setdefault(vector.tobytes() + duration.tobytes(), int(song))
        for song, vector, duration in zip(found, vectors, durations, strict=True)
    }
    return [np.unique([same[int(song)] for song in layer]) for layer in layers]


def _cheapest(
    songs: Songs,
    index: SoundIndex,
    scales: Scales,
    way: tuple[np.ndarray, np.ndarray],
    targets: np.ndarray,
    layers: list[np.ndarray],
    tempo: np.ndarray | None,
) -> list[int] | None:
    """The cheapest sequence taking one song of each layer in order; None if none keeps
    the rule."""
    where = [positions(songs, *way, layer) for layer in layers]
    cost = distances(songs, tuple(targets[0]), layers[0]) / scales.plane
    vectors = index.vectors(layers[0])
    choices = []
    for i in range(1, len(layers)):
        before, now = layers[i - 1], layers[i]
        now_vectors = index.vectors(now)
        step = SOUND_WEIGHT * _cosine(vectors, now_vectors) / scales.sound
        if tempo is not None:
            with np.errstate(divide="ignore", invalid="ignore"):  # unknown tempi cost nothing
                octaves = np.abs(np.log2(tempo[now][None, :] / tempo[before][:, None]))
            step += TEMPO_WEIGHT * np.nan_to_num(octaves, nan=0.0, posinf=0.0)
        ahead = (where[i - 1][:, None] < where[i][None, :]) | (
            (where[i - 1][:, None] == where[i][None, :]) & (before[:, None] < now[None, :])
        )
        total = np.where(ahead, cost[:, None] + step, np.inf)
        best = total.argmin(axis=0)
        cost = total[best, np.arange(len(now))] + distances(songs, tuple(targets[i]), now) / (
            scales.plane
        )
        choices.append(best)
        vectors = now_vectors
    if not np.isfinite(cost).any():
        return None
    chosen = [int(np.argmin(cost))]
    for best in reversed(choices):
        chosen.append(int(best[chosen[-1]]))
    chosen.reverse()
    return [int(layer[c]) for layer, c in zip(layers, chosen, strict=True)]


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The cosine distances between the rows of ``a`` and those of ``b``."""
    norms = np.linalg.norm(a, axis=1)[:, None] * np.linalg.norm(b, axis=1)[None, :]
    return 1.0 - (a @ b.T) / np.where(norms > 0, norms, 1.0)
