"""One loader module per labelled dataset, each returning :class:`Item` records.

A dataset module (``training.datasets.<name>``, named like its folder under the shared
datasets root) defines ``load(root) -> list[Item]`` reading that folder, a ``CITATION``,
a ``TARGETS`` text saying how the targets were derived and, where known, the ``TERMS``
its publishers give (all go into the model card).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

DATASETS: tuple[str, ...] = ("emotify", "4q", "emomusic", "deam", "pmemo")
"""Datasets with a loader, named like their folders under the shared datasets root."""

MODULES: dict[str, str] = {"4q": "fourq", "csv": "generic_csv"}
"""Loader module of a dataset whose folder name is not a valid module name."""


@dataclass(frozen=True)
class Item:
    """One labelled clip; a dataset fills the labels it has and leaves the rest None.

    Attributes
    ----------
    key : str
        Identifier unique across datasets (e.g. ``"emotify/17"``).
    path : Path
        The audio file.
    valence, arousal : float or None
        Continuous targets in [-1, 1].
    quadrant : int or None
        Russell quadrant 1-4 (Q1 valence+ arousal+, Q2 valence- arousal+, Q3 valence-
        arousal-, Q4 valence+ arousal-) where the dataset labels quadrants.
    gems : tuple of float or None
        Emotify's nine GEMS shares, in ``training.datasets.emotify.CATEGORIES`` order.
    artist : str or None
        The performer where known: folds keep an artist's songs together.
    genre : str or None
        A coarse category for stratified folds and the genre-mean baseline.
    split : str or None
        A predefined split where the dataset has one (emoMusic: "development" or
        "evaluation", the MediaEval 2013 split).
    tags : tuple of str or None
        Free mood tags where the dataset has them (4Q: AllMusic's, lower case).
    confidence : float or None
        How sure the label is, in [0, 1] (4Q: ``PQuad``, the share of the song's mood
        tags that agree with its quadrant).
    """

    key: str
    path: Path
    valence: float | None = None
    arousal: float | None = None
    quadrant: int | None = None
    gems: tuple[float, ...] | None = None
    artist: str | None = None
    genre: str | None = None
    split: str | None = None
    tags: tuple[str, ...] | None = None
    confidence: float | None = None

    @property
    def group(self) -> str:
        """What must not be split across folds: the artist, else the clip itself."""
        return f"artist:{self.artist}" if self.artist else self.key


def dataset(name: str) -> ModuleType:
    """The loader module of dataset ``name``.

    Raises
    ------
    ValueError
        If there is no such dataset.
    """
    if name not in DATASETS and name not in MODULES:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    return importlib.import_module(f"{__name__}.{MODULES.get(name, name)}")


def load(name: str, datasets_root: Path) -> list[Item]:
    """Load dataset ``name`` from its folder under ``datasets_root``."""
    return dataset(name).load(Path(datasets_root) / name)
