"""Exact rankings of songs in the valence-arousal plane, or by a mood's share.

The plane is small (two numbers a song), so a k-d tree over it answers "the N songs
nearest to this point" exactly in microseconds; a filter that leaves few songs is
answered by measuring every song it keeps. Ties (copies of one song share its point)
are ordered by path, so every answer is one definite list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

if TYPE_CHECKING:
    from app.search.songs import Songs

BRUTE_FORCE_SHARE = 1 / 8
"""Past this share of the catalogue read from the tree, measuring every kept song is
cheaper than asking the tree for more."""


def plane_tree(songs: Songs) -> cKDTree:
    """The k-d tree of the songs' points."""
    return cKDTree(songs.points()) if len(songs) else cKDTree(np.zeros((1, 2)))


def distances(songs: Songs, point: tuple[float, float], which: np.ndarray) -> np.ndarray:
    """The plane distance of songs ``which`` to ``point``: the one definition."""
    return np.hypot(songs.valence[which] - point[0], songs.arousal[which] - point[1])


def nearest(
    songs: Songs,
    tree: cKDTree,
    point: tuple[float, float],
    limit: int,
    keep: np.ndarray | None = None,
) -> np.ndarray:
    """The ``limit`` songs nearest to ``point`` among those ``keep`` marks (all if None),
    nearest first, ties by path: exact."""
    n = len(songs)
    available = n if keep is None else int(keep.sum())
    limit = min(limit, available)
    if limit <= 0:
        return np.empty(0, np.int64)
    asked = limit
    while True:
        asked = min(n, max(asked, 16))
        found, songs_found = tree.query(point, k=asked)
        found, songs_found = np.atleast_1d(found), np.atleast_1d(songs_found)
        passing = np.ones(asked, bool) if keep is None else keep[songs_found]
        if passing.sum() >= limit:
            radius = found[passing][limit - 1]
            break
        if asked == n or asked * 4 > n * BRUTE_FORCE_SHARE:
            return _by_distance(songs, point, np.flatnonzero(keep), limit)
        asked *= 4
    # Everything as near as the last one kept, so that ties are cut by path, not by the tree.
    within = np.asarray(tree.query_ball_point(point, radius * (1 + 1e-9) + 1e-12), np.int64)
    if keep is not None:
        within = within[keep[within]]
    return _by_distance(songs, point, within, limit)


def _by_distance(songs: Songs, point: tuple[float, float], which: np.ndarray, limit: int):
    measured = distances(songs, point, which)
    if len(which) > limit:
        bound = np.partition(measured, limit - 1)[limit - 1]
        close = measured <= bound
        which, measured = which[close], measured[close]
    return _ordered(songs, which, (measured,))[:limit]


def by_share(
    songs: Songs,
    shares: np.ndarray,
    limit: int,
    keep: np.ndarray | None = None,
    point: tuple[float, float] | None = None,
) -> np.ndarray:
    """The ``limit`` songs with the largest ``shares`` among those ``keep`` marks, largest
    first; ties nearest to ``point`` (if given) first, then by path."""
    which = np.flatnonzero(~np.isnan(shares) if keep is None else keep & ~np.isnan(shares))
    if len(which) > limit > 0:
        bound = np.partition(shares[which], len(which) - limit)[len(which) - limit]
        which = which[shares[which] >= bound]
    keys = (-shares[which],) if point is None else (-shares[which], distances(songs, point, which))
    return _ordered(songs, which, keys)[: max(limit, 0)]


def _ordered(songs: Songs, which: np.ndarray, keys: tuple[np.ndarray, ...]) -> np.ndarray:
    """``which`` sorted by ``keys`` (the first the most significant), then by path."""
    paths = songs.paths.take(which).to_pylist()
    order = sorted(range(len(which)), key=lambda i: (*(k[i] for k in keys), paths[i]))
    return which[np.asarray(order, np.int64)]
