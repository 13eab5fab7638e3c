"""One loader module per labelled dataset, each returning :class:`Item` records.

A dataset module (``training.datasets.<name>``, named like its folder under the shared
datasets root) defines ``load(root) -> list[Item]`` reading that folder, a ``CITATION``
and a ``TARGETS`` text saying how the targets were derived (both go into the model card).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

DATASETS: tuple[str, ...] = ("emotify",)
"""Datasets with a loader."""


@dataclass(frozen=True)
class Item:
    """One labelled clip.

    Attributes
    ----------
    key : str
        Identifier unique across datasets (e.g. ``"emotify/17"``).
    path : Path
        The audio file.
    valence, arousal : float
        The targets, in [-1, 1].
    group : str
        A coarse category (genre) for stratified folds.
    """

    key: str
    path: Path
    valence: float
    arousal: float
    group: str


def dataset(name: str) -> ModuleType:
    """The loader module of dataset ``name``.

    Raises
    ------
    ValueError
        If there is no such dataset.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    return importlib.import_module(f"{__name__}.{name}")


def load(name: str, datasets_root: Path) -> list[Item]:
    """Load dataset ``name`` from its folder under ``datasets_root``."""
    return dataset(name).load(Path(datasets_root) / name)
