"""Labelled songs ready for fitting: the service's windows, training crops, pooled
statistics and the labels each dataset gives.

A song's prediction is the mean over the service's windows (10-s hop), exactly as the
service aggregates; the network trains on 20-s crops cut with a short hop, so every song
gives many overlapping crops, each labelled with its song's targets.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from app.analysis import quadrant_numbers
from app.features import Features
from app.features.config import DEFAULT_CONFIG, FeatureConfig
from app.features.windows import Windows, windows
from training.datasets import Item
from training.network import INPUT_NAMES, Pooling

EMOTIFY, FOURQ = "emotify", "4q"

TRAIN_HOP_S = 2.0
"""Default hop between the training crops (the service's windows hop 10 s)."""

SIGNS: dict[int, tuple[int, int]] = {
    int(quadrant_numbers(v, a)): (v, a) for v in (1, -1) for a in (1, -1)
}
"""Quadrant number -> (valence sign, arousal sign): the core's quadrant rule inverted."""


def quadrant_signs(quadrants: Sequence[int] | np.ndarray) -> np.ndarray:
    """(n, 2) valence and arousal signs of quadrant numbers; (0, 0) where a song has no
    quadrant (0)."""
    return np.array([SIGNS.get(int(q), (0, 0)) for q in quadrants], dtype=np.float32).reshape(-1, 2)


@dataclass(frozen=True)
class Song:
    """One labelled song ready for fitting.

    Attributes
    ----------
    key, dataset : str
        From the dataset item (dataset = the part of the key before "/").
    group : str
        What folds keep together (the artist where known, else the song).
    stratum : str
        Dataset plus genre (Emotify) or quadrant (4Q): folds are balanced over strata.
    genre : str or None
    target : np.ndarray
        (2,) valence, arousal (NaN where the dataset has none).
    quadrant : int
        1-4, or 0 where the dataset has none.
    gems : np.ndarray
        (9,) GEMS shares (NaN where the dataset has none).
    windows : Windows
        The service's windows (10-s hop): the ones predicted and averaged.
    pooled : np.ndarray
        (len(windows), n_features) pooled statistics of those windows.
    crops : Windows
        The training crops: windows with a short hop (``TrainConfig.train_hop_s``).
    train_pooled : np.ndarray
        (len(crops), n_features) pooled statistics of the crops.
    tags : tuple of str
        Mood tags (4Q), empty where the dataset has none.
    confidence : float
        Label confidence in [0, 1] (4Q's PQuad), 1 where the dataset gives none.
    spotify : np.ndarray
        (2,) Spotify's valence and energy in [-1, 1] (:mod:`training.spotify`), NaN where
        the song has none.
    """

    key: str
    dataset: str
    group: str
    stratum: str
    genre: str | None
    target: np.ndarray
    quadrant: int
    gems: np.ndarray
    windows: Windows
    pooled: np.ndarray
    crops: Windows
    train_pooled: np.ndarray
    tags: tuple[str, ...] = ()
    confidence: float = 1.0
    spotify: np.ndarray = field(default_factory=lambda: np.full(2, np.nan, dtype=np.float32))

    @property
    def summary(self) -> np.ndarray:
        """The song's mean pooled vector: the baselines' features."""
        return self.pooled.mean(axis=0)

    @property
    def embedding_summary(self) -> np.ndarray:
        """The mean over the song's windows of their musicnn statistics (the musicnn
        baselines' features); raises if the song carries no embedding."""
        if self.windows.musicnn is None:
            raise ValueError(f"{self.key} carries no musicnn embedding")
        return self.windows.musicnn.mean(axis=0)


def mood_shares(song: Song) -> np.ndarray:
    """The song's listener GEMS shares normalised to sum 1 (what the moods output predicts)."""
    return song.gems / max(float(song.gems.sum()), 1e-9)


def make_songs(
    items: Sequence[Item],
    features: Sequence[Features],
    config: FeatureConfig = DEFAULT_CONFIG,
    train_hop_s: float = TRAIN_HOP_S,
    embeddings: Sequence[np.ndarray] | None = None,
    spotify: Sequence[np.ndarray] | None = None,
) -> list[Song]:
    """Pair dataset items with their features (and musicnn's patch ``embeddings`` and
    Spotify's values, if given); cut and pool windows and training crops."""
    if embeddings is not None:
        features = [replace(f, embedding=e) for f, e in zip(features, embeddings, strict=True)]
    pooling = Pooling()
    crop_config = replace(config, window_hop_s=train_hop_s)

    @torch.no_grad()
    def pool(w: Windows) -> np.ndarray:
        return pooling(*(torch.from_numpy(w.inputs()[k]) for k in INPUT_NAMES)).numpy()

    songs = []
    spotify = spotify if spotify is not None else [np.full(2, np.nan, np.float32)] * len(items)
    for item, feats, spotify_values in zip(items, features, spotify, strict=True):
        name = item.key.split("/", 1)[0]
        cut = windows(feats, config)
        crops = windows(feats, crop_config)
        labelled = item.valence is not None and item.arousal is not None
        stratum = f"{name}:Q{item.quadrant}" if item.quadrant else f"{name}:{item.genre}"
        songs.append(
            Song(
                key=item.key,
                dataset=name,
                group=item.group,
                stratum=stratum,
                genre=item.genre,
                target=np.array(
                    [item.valence, item.arousal] if labelled else [np.nan, np.nan],
                    dtype=np.float32,
                ),
                quadrant=int(item.quadrant or 0),
                gems=np.asarray(item.gems if item.gems else [np.nan] * 9, dtype=np.float32),
                windows=cut,
                pooled=pool(cut),
                crops=crops,
                train_pooled=pool(crops),
                tags=item.tags or (),
                confidence=1.0 if item.confidence is None else float(item.confidence),
                spotify=np.asarray(spotify_values, dtype=np.float32),
            )
        )
    return songs


def stack_windows(songs: Sequence[Song]) -> dict[str, np.ndarray]:
    """The raw service-window inputs of all ``songs``, keyed by input name."""
    names = songs[0].windows.inputs().keys()
    return {name: np.concatenate([s.windows.inputs()[name] for s in songs]) for name in names}


def tag_vocabulary(songs: Sequence[Song], min_songs: int) -> tuple[str, ...]:
    """The tags carried by at least ``min_songs`` of ``songs``, most frequent first."""
    counts = Counter(tag for s in songs for tag in s.tags)
    return tuple(tag for tag, n in counts.most_common() if n >= min_songs)
