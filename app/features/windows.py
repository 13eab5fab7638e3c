"""Cut a song's time steps into the network's fixed-size windows.

A window is ``config.n_steps`` steps (20 s). Windows start every ``window_hop_s``
(10 s) while they fit; if the last one stops short of the end, one more window is
aligned with the end, so every step of the song is seen. A song shorter than one
window is repeated (tiled) to fill it: its statistics stay those of the music,
where zero padding would add silence the training data never had. A song longer than
``config.max_windows`` windows is read through that many evenly spread ones
(:mod:`app.features.budget`), its features computed there only. When the features
carry musicnn's patch embeddings, each window also gets their mean and standard
deviation over the patches whose centre lies in it (:func:`window_embeddings`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.features import Features
from app.features.budget import window_starts
from app.features.config import DEFAULT_CONFIG, FeatureConfig
from app.features.musicnn import patches_centred_in
from app.features.timbre import Timbre

SCALAR_NAMES: tuple[str, ...] = (
    "tempo_bpm",
    "loudness_lufs",
    "zero_crossings_per_s",
    *(f"timbre_{name}" for name in Timbre.__dataclass_fields__),
)
"""Order of the model's ``scalars`` input."""

EMBEDDING_INPUT = "musicnn"
"""The input of a model that reads musicnn's embedding: (windows, 400), per window the mean
then the standard deviation of its patches' embeddings."""


@dataclass(frozen=True)
class Windows:
    """The model's inputs for every window of one song.

    Attributes
    ----------
    mfcc : (windows, n_mfcc, n_steps) float32
    chroma : (windows, n_chroma, n_steps) float32
    spectral : (windows, 2, n_steps) float32, centroid then rolloff
    scalars : (windows, len(SCALAR_NAMES)) float32
    start_s : (windows,) start time of each window in seconds
    musicnn : (windows, 400) float32 or None
        The window's embedding statistics, when the features carry embeddings.
    """

    mfcc: np.ndarray
    chroma: np.ndarray
    spectral: np.ndarray
    scalars: np.ndarray
    start_s: np.ndarray
    musicnn: np.ndarray | None = None

    def __len__(self) -> int:
        return self.mfcc.shape[0]

    def inputs(self) -> dict[str, np.ndarray]:
        """The arrays keyed by the model's input names."""
        inputs = {
            "mfcc": self.mfcc,
            "chroma": self.chroma,
            "spectral": self.spectral,
            "scalars": self.scalars,
        }
        if self.musicnn is not None:
            inputs[EMBEDDING_INPUT] = self.musicnn
        return inputs


def scalar_vector(features: Features) -> np.ndarray:
    """The song-level scalars in :data:`SCALAR_NAMES` order."""
    values = [features.tempo_bpm, features.loudness_lufs, features.zero_crossings_per_s]
    values += [getattr(features.timbre, name) for name in Timbre.__dataclass_fields__]
    return np.asarray(values, dtype=np.float32)


def window_embeddings(
    embedding: np.ndarray,
    start_s: np.ndarray,
    length_s: float,
    patch_index: np.ndarray | None = None,
) -> np.ndarray:
    """(windows, 2 * size): mean then standard deviation of the rows of ``embedding``
    (patches, size) whose patch centre lies in each window ``[start, start + length)``.

    Row ``i`` is patch ``patch_index[i]`` of the song (patch ``i`` if None). A window that
    holds no patch centre (a song shorter than one patch is one patch) takes every patch.
    """
    patches = np.arange(len(embedding)) if patch_index is None else np.asarray(patch_index)
    n_patches = int(patches.max()) + 1 if len(patches) else 0
    rows = []
    for start in start_s:
        inside = embedding[np.isin(patches, patches_centred_in(n_patches, start, length_s))]
        inside = inside if len(inside) else embedding
        rows.append(np.concatenate([inside.mean(axis=0), inside.std(axis=0)]))
    return np.asarray(rows, dtype=np.float32)


def windows(features: Features, config: FeatureConfig = DEFAULT_CONFIG) -> Windows:
    """Cut ``features`` into model windows: every ``config.window_hop_s`` (see
    :func:`~app.features.budget.window_starts`), or one per excerpt of a song read
    through excerpts (whatever the hop, so training crops of such a song are its windows).

    Examples
    --------
    >>> w = windows(features)  # doctest: +SKIP
    >>> w.mfcc.shape  # doctest: +SKIP
    (5, 20, 200)
    """
    size = config.n_steps
    steps = np.vstack(
        [features.spectral_centroid, features.spectral_rolloff, features.mfcc, features.chroma]
    )
    if features.excerpts is not None:
        starts = np.asarray(features.excerpts)
        stacked = steps.reshape(len(steps), len(starts), size).transpose(1, 0, 2)
        stacked = stacked.astype(np.float32)
    else:
        if steps.shape[1] < size:
            steps = np.tile(steps, -(-size // steps.shape[1]))[:, :size]
        starts = window_starts(steps.shape[1], config)
        stacked = np.stack([steps[:, s : s + size] for s in starts]).astype(np.float32)
    n_mfcc = config.n_mfcc
    start_s = starts * config.step_s
    embedding = features.embedding
    return Windows(
        spectral=stacked[:, :2],
        mfcc=stacked[:, 2 : 2 + n_mfcc],
        chroma=stacked[:, 2 + n_mfcc :],
        scalars=np.repeat(scalar_vector(features)[None], len(starts), axis=0),
        start_s=start_s,
        musicnn=None
        if embedding is None
        else window_embeddings(embedding, start_s, size * config.step_s, features.patch_index),
    )
