"""The out-of-fold predictions file (outputs made up, folds and songs synthetic)."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np

from training.cross_validation import CrossValidation, split_folds
from training.data import SIGNS
from training.out_of_fold import COLUMNS, out_of_fold_rows, read_out_of_fold, write_out_of_fold


def made_up_cv(songs, seed: int = 0) -> CrossValidation:
    """A 2-fold outer cross-validation whose outputs lean towards each 4Q song's signs."""
    rng = np.random.default_rng(seed)
    cv = CrossValidation(n_folds=2)
    for dataset in sorted({s.dataset for s in songs}):
        idx = np.array([i for i, s in enumerate(songs) if s.dataset == dataset])
        signs = np.array([SIGNS.get(songs[i].quadrant, (0, 0)) for i in idx])
        cv.indices[dataset] = idx
        cv.predictions[dataset] = {"network": 0.2 * signs + rng.normal(0, 0.2, (len(idx), 2))}
    return cv


def test_every_song_gets_its_out_of_fold_values(songs, tmp_path):
    cv = made_up_cv(songs)
    paths = [Path(f"/music/{k}.mp3") for k in range(len(songs))]
    rows = out_of_fold_rows(cv, songs, paths, seed=0)
    assert [r["path"] for r in rows] == [str(p) for p in paths]
    folds = split_folds(songs, 2, 0)
    for k, (_, test) in enumerate(folds):
        assert {rows[i]["fold"] for i in test} == {k}
    for dataset, idx in cv.indices.items():
        values = np.array([[rows[i]["valence"], rows[i]["arousal"]] for i in idx])
        np.testing.assert_array_equal(values, cv.predictions[dataset]["network"])
        assert {rows[i]["dataset"] for i in idx} == {dataset}
    assert all(0 <= r["quadrant_probability"] <= 1 and 1 <= r["quadrant"] <= 4 for r in rows)
    write_out_of_fold(rows, tmp_path / "oof" / "songs.csv")
    with open(tmp_path / "oof" / "songs.csv") as handle:
        read = list(csv.DictReader(handle))
    assert tuple(read[0]) == COLUMNS and len(read) == len(songs)
    assert float(read[3]["valence"]) == rows[3]["valence"]
    values = read_out_of_fold(tmp_path / "oof" / "songs.csv")
    assert list(values) == [p.resolve() for p in paths]
    assert values[paths[3].resolve()] == (rows[3]["valence"], rows[3]["arousal"])


def test_a_songs_probability_does_not_read_its_own_folds_labels(songs):
    cv = made_up_cv(songs)
    paths = [Path(f"{k}.mp3") for k in range(len(songs))]
    before = out_of_fold_rows(cv, songs, paths, seed=0)
    _, held = split_folds(songs, 2, 0)[0]
    flipped = [
        replace(s, quadrant=s.quadrant % 4 + 1) if i in set(held) and s.quadrant else s
        for i, s in enumerate(songs)
    ]
    after = out_of_fold_rows(cv, flipped, paths, seed=0)
    for i, (old, new) in enumerate(zip(before, after, strict=True)):
        same = old["quadrant_probability"] == new["quadrant_probability"]
        assert same == (i in set(held))  # the other fold's calibration read those labels


def test_without_4q_songs_there_is_no_probability(songs):
    emotify = [s for s in songs if s.dataset == "emotify"]
    cv = made_up_cv(emotify)
    rows = out_of_fold_rows(cv, emotify, [Path("x")] * len(emotify), seed=0)
    assert all(r["quadrant_probability"] is None for r in rows)
