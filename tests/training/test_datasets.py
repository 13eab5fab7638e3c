"""Dataset loaders and the fixed Emotify targets."""

from __future__ import annotations

import csv
from collections import Counter

import numpy as np
import pytest

from app.model import MOODS
from training.datasets import DATASETS, dataset, load
from training.datasets.emotify import CATEGORIES, WARRINER_NORMS, valence_arousal

from .conftest import GENRES, write_emotify, write_fourq


def test_targets_follow_the_readme_formula():
    shares = np.zeros(len(CATEGORIES))
    picked = {"amazement": 0.5, "calmness": 0.25, "sadness": 0.75}
    for name, share in picked.items():
        shares[CATEGORIES.index(name)] = share
    total = sum(picked.values())
    expected_v = sum(s * (WARRINER_NORMS[n][0] - 5) / 4 for n, s in picked.items()) / total
    expected_a = sum(s * (WARRINER_NORMS[n][1] - 5) / 4 for n, s in picked.items()) / total
    assert valence_arousal(shares) == pytest.approx((expected_v, expected_a))


def test_emotify_loader_reads_the_layout(tmp_path):
    root = write_emotify(tmp_path / "emotify", n_tracks=4, seconds=1.5)
    items = load("emotify", tmp_path)
    assert [i.key for i in items] == [f"emotify/{n}" for n in range(1, 5)]
    assert [i.genre for i in items] == list(GENRES)
    assert all(i.path == root / "audio" / f"{n}.mp3" for n, i in enumerate(items, 1))
    with open(root / "annotations.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["track id"] == "1"]
    shares = np.array([[float(r[c]) for c in CATEGORIES] for r in rows]).mean(axis=0)
    assert (items[0].valence, items[0].arousal) == pytest.approx(valence_arousal(shares))


def test_emotify_skips_tracks_nobody_labelled_and_needs_audio(tmp_path):
    root = write_emotify(tmp_path / "emotify", n_tracks=2, seconds=1.5)
    with open(root / "annotations.csv", "a", newline="") as handle:
        csv.writer(handle).writerow([3, "pop", *[0] * len(CATEGORIES), 3, 0, 0, 30, 1, "Dutch"])
    assert len(load("emotify", tmp_path)) == 2
    (root / "audio" / "2.mp3").unlink()
    with pytest.raises(FileNotFoundError, match="track 2"):
        load("emotify", tmp_path)


def test_unknown_dataset_is_refused():
    with pytest.raises(ValueError, match="unknown dataset"):
        dataset("nope")
    assert all(hasattr(dataset(n), a) for n in DATASETS for a in ("load", "CITATION", "TARGETS"))


def test_real_emotify_matches_the_readme(shared_datasets):
    items = load("emotify", shared_datasets)
    assert len(items) == 320
    assert {i.genre for i in items} == set(GENRES)
    valence = np.array([i.valence for i in items])
    arousal = np.array([i.arousal for i in items])
    assert -0.35 < valence.min() < -0.25 and 0.55 < valence.max() < 0.65
    assert arousal.min() > -0.55 and arousal.max() < 0.15
    assert all(i.path.is_file() for i in items)


def test_fourq_loader_reads_quadrants_artists_and_genres(tmp_path):
    write_fourq(tmp_path / "4q", n_songs=4, seconds=1.5)
    items = load("4q", tmp_path)
    assert [i.quadrant for i in items] == [1, 2, 3, 4]
    assert [i.group for i in items] == ["artist:Artist 0"] * 2 + ["artist:Artist 1"] * 2
    assert items[0].key == "4q/MT0000000000" and items[0].genre == "Pop/Rock"
    assert items[0].valence is None and items[0].path.is_file()
    assert items[0].tags == ("joyous", "happy") and items[1].tags == ("angry",)
    assert (items[0].confidence, items[3].confidence) == (0.5, 0.59375)
    items[1].path.unlink()
    with pytest.raises(FileNotFoundError, match="MT0000000001"):
        load("4q", tmp_path)


def test_real_fourq_is_balanced(shared_datasets):
    items = load("4q", shared_datasets)
    assert len(items) == 720
    assert sorted(Counter(i.quadrant for i in items).values()) == [180] * 4
    assert len({i.group for i in items}) > 500
    assert all(i.tags and 0.5 < i.confidence <= 1 for i in items)


def test_emotify_categories_are_the_models_moods_in_the_norms_order():
    assert CATEGORIES == MOODS == tuple(WARRINER_NORMS)
