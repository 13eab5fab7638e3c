"""Linear probes of a representation on the training's folds."""

from __future__ import annotations

import numpy as np

from training.probe import PROBE_METRICS, probe, representation


def test_a_probe_scores_every_headline_figure_on_every_fold(songs):
    table = {s.key: s.embedding_summary for s in songs}
    result = probe(songs, lambda s: table[s.key], n_folds=2, seed=0)
    assert set(result) == {f"{d} {m}" for d, m in PROBE_METRICS}
    for figures in result.values():
        assert len(figures["values"]) == 2
        assert figures["mean"] == np.mean(figures["values"])


def test_a_probe_of_the_labels_themselves_is_perfect(songs):
    """A representation that holds the answer scores 1: the probe reads what it is given."""
    signs = {1: (1, 1), 2: (-1, 1), 3: (-1, -1), 4: (1, -1)}

    def oracle(song):
        if song.dataset == "4q":
            return np.array(signs[song.quadrant], dtype=float)
        return song.target.astype(float)

    result = probe(songs, oracle, n_folds=2)
    assert result["4q quadrant_accuracy"]["mean"] == 1.0
    assert result["emotify valence_r"]["mean"] > 0.99


def test_representations_concatenate_clip_statistics():
    outputs = {
        "a": [{"penultimate": np.ones((3, 2)), "taggram": np.zeros((3, 4))}],
        "b": [{"penultimate": np.arange(6.0).reshape(3, 2)}],
    }
    x = representation(outputs, "a:penultimate,b:penultimate,a:taggram")
    assert x.shape == (1, 2 * 2 + 2 * 2 + 2 * 4)
    np.testing.assert_allclose(x[0, 4:6], [2.0, 3.0])  # b's means
