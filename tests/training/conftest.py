"""Synthesized stand-ins for the shared datasets, and the real ones when present."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from app.features.config import SAMPLE_RATE
from tests.feature_fixtures import random_embeddings, random_features
from training.data import Song, make_songs
from training.datasets import Item
from training.datasets.emotify import CATEGORIES
from training.network import INPUT_NAMES, EmotionNet

SHARED_DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"

GENRES = ("classical", "rock", "electronic", "pop")


def synth_clip(kind: int, seconds: float, seed: int) -> np.ndarray:
    """A short mono signal: a sine, a chord, noise or a pulsed tone, by ``kind`` mod 4."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    f0 = 110.0 * 2 ** (rng.integers(0, 24) / 12)
    if kind % 4 == 0:
        y = np.sin(2 * np.pi * f0 * t)
    elif kind % 4 == 1:
        y = sum(np.sin(2 * np.pi * f0 * r * t) for r in (1.0, 1.26, 1.5)) / 3
    elif kind % 4 == 2:
        y = rng.standard_normal(t.size) * 0.5
    else:
        y = np.sin(2 * np.pi * f0 * t) * (np.sin(2 * np.pi * 2 * t) > 0)
    return (0.3 * y).astype(np.float32)


def write_emotify(root: Path, n_tracks: int, seconds: float = 8.0) -> Path:
    """An Emotify-like folder: ``audio/<id>.mp3`` and ``annotations.csv`` with 3 listeners each.

    Genres cycle through :data:`GENRES`; each listener ticks one or two categories.
    """
    rng = np.random.default_rng(0)
    (root / "audio").mkdir(parents=True)
    header = [
        "track id",
        "genre",
        *CATEGORIES,
        "mood",
        "liked",
        "disliked",
        "age",
        "gender",
        "mother tongue",
    ]
    with open(root / "annotations.csv", "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        for track in range(1, n_tracks + 1):
            sf.write(
                root / "audio" / f"{track}.mp3",
                synth_clip(track, seconds, seed=track),
                SAMPLE_RATE,
                format="MP3",
                subtype="MPEG_LAYER_III",
            )
            for _ in range(3):
                ticks = np.zeros(len(CATEGORIES), dtype=int)
                ticks[rng.choice(len(CATEGORIES), size=rng.integers(1, 3), replace=False)] = 1
                writer.writerow(
                    [track, GENRES[(track - 1) % len(GENRES)], *ticks, 3, 0, 0, 30, 1, "English"]
                )
    return root


def write_fourq(root: Path, n_songs: int, seconds: float = 8.0) -> Path:
    """A 4Q-like folder: ``audio/<Song>.mp3`` and ``metadata.csv``; quadrants cycle Q1..Q4,
    and songs come in pairs by the same artist."""
    (root / "audio").mkdir(parents=True)
    header = ["Song", "Artist", "Title", "Quadrant", "PQuad", "MoodsStr", "GenresStr"]
    with open(root / "metadata.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for k in range(n_songs):
            song = f"MT{k:010d}"
            sf.write(
                root / "audio" / f"{song}.mp3",
                synth_clip(k + 1, seconds, seed=100 + k),
                SAMPLE_RATE,
                format="MP3",
                subtype="MPEG_LAYER_III",
            )
            quadrant = f"Q{k % 4 + 1}"
            moods = "; ".join(t.title() for t in TAGS[k % 4])
            pquad = 0.5 + k / 32
            writer.writerow(
                [song, f"Artist {k // 2}", f"Title {k}", quadrant, pquad, moods, "Pop/Rock; Jazz"]
            )
    return root


def fitted(net: EmotionNet, inputs: dict) -> EmotionNet:
    """``net`` with its standardisations set from raw window ``inputs`` (arrays or tensors
    keyed by input name) as the training sets them: from the pooled vectors."""
    with torch.no_grad():
        pooled = net.pooling(*(torch.as_tensor(inputs[n]) for n in INPUT_NAMES)).numpy()
    embedding = inputs.get("musicnn")
    net.fit_standardization(pooled, None if embedding is None else np.asarray(embedding))
    return net


@pytest.fixture(scope="session")
def mini_datasets(tmp_path_factory) -> Path:
    """A datasets root holding an 8-clip synthesized ``emotify/`` and an 8-clip ``4q/``."""
    root = tmp_path_factory.mktemp("datasets")
    write_emotify(root / "emotify", n_tracks=8)
    write_fourq(root / "4q", n_songs=8)
    return root


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The real shared datasets folder; skips the test when it is absent."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"the shared datasets are not at {SHARED_DATASETS}")
    return SHARED_DATASETS


TAGS = (("joyous", "happy"), ("angry",), ("sad", "gloomy"), ("calm", "happy"))
"""Mood tags of the synthetic 4Q songs, by quadrant."""


@pytest.fixture(scope="session")
def songs() -> list[Song]:
    """28 songs of synthetic features and embeddings: 12 Emotify-like, 16 4Q-like (tagged,
    with confidences)."""
    rng = np.random.default_rng(0)
    emotify = [
        Item(
            f"emotify/{k}",
            None,
            *rng.uniform(-0.5, 0.5, 2),
            gems=tuple(rng.dirichlet(np.ones(9))),
            genre=GENRES[k % 4],
        )
        for k in range(12)
    ]
    fourq = [
        Item(
            f"4q/{k}",
            None,
            quadrant=k % 4 + 1,
            artist=f"a{k // 2}",
            genre="Pop",
            tags=TAGS[k % 4] + (("rare",) if k == 0 else ()),
            confidence=0.5 + k / 32,
        )
        for k in range(16)
    ]
    features = [random_features(150 + 60 * (k % 6), seed=k) for k in range(28)]
    return make_songs(emotify + fourq, features, embeddings=random_embeddings(features))
