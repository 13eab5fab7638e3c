"""The faster musicnn graphs against the converted one they are built from: the exact
rewrite equal up to float rounding, the int8 one close on real music it was not
calibrated on, and the emotion model's answers within a stated tolerance."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.analysis import Analyzer
from app.features.musicnn import OUTPUT_NAMES, MusicnnEmbedder
from app.settings import default_model_path
from training.musicnn_convert import licence_path
from training.musicnn_optimise import (
    calibration_clips,
    evaluation_clips,
    main,
    optimised_graph,
    parity,
    run_graph,
    spread_patches,
)

SOURCE = default_model_path() / "musicnn"
"""The shipped model's musicnn graph."""

EMOTION_TOLERANCE = 0.02
"""Largest change of a clip's valence or arousal (range [-1, 1]) the int8 graph may bring
to model 0.3.0's answer: on the 1040 shared clips it brought at most 0.016 (valence) and
0.012 (arousal), 0.002-0.003 on average, 0.019 in any one window."""


@pytest.fixture(scope="module")
def patches(shared_datasets) -> dict[str, np.ndarray]:
    """Real patches: calibration from 4Q clips, evaluation from Emotify clips."""
    return {
        "calibration": spread_patches(calibration_clips(shared_datasets)[::3], 3),
        "evaluation": spread_patches(evaluation_clips(shared_datasets)[::4], 4),
    }


@pytest.fixture(scope="module")
def int8_graph(patches):
    return optimised_graph(SOURCE.with_suffix(".onnx"), patches["calibration"])


def test_the_exact_rewrite_equals_the_graph(patches, musicnn_reference):
    exact = optimised_graph(SOURCE.with_suffix(".onnx"))
    for inputs in (patches["evaluation"], musicnn_reference["patches"].astype(np.float32)):
        new, old = run_graph(exact, inputs), run_graph(SOURCE.with_suffix(".onnx"), inputs)
        for name in OUTPUT_NAMES:
            scale = np.abs(old[name]).max()
            np.testing.assert_allclose(new[name], old[name], rtol=0, atol=1e-5 * scale)


def test_the_int8_graph_keeps_the_embedding(patches, int8_graph):
    measured = parity(
        run_graph(int8_graph, patches["evaluation"]),
        run_graph(SOURCE.with_suffix(".onnx"), patches["evaluation"]),
    )
    assert measured["patches"] == len(patches["evaluation"]) >= 80
    assert measured["penultimate_cosine"]["min"] >= 0.99
    assert measured["penultimate_cosine"]["mean"] >= 0.999
    assert measured["max_abs_diff"]["taggram"] <= 0.05


def test_the_emotion_model_answers_within_tolerance(shared_datasets, int8_graph, tmp_path):
    graph = tmp_path / "musicnn"
    graph.with_suffix(".onnx").write_bytes(int8_graph.SerializeToString())
    graph.with_suffix(".json").write_text(SOURCE.with_suffix(".json").read_text())
    analyzer = Analyzer(default_model_path(), warm_up=False)
    # Emotify and 4Q clips that calibration (every 12th 4Q clip) did not read
    fourq = sorted((shared_datasets / "4q" / "audio").glob("*.mp3"))[6::180]
    clips = evaluation_clips(shared_datasets)[1::20] + fourq
    before = [analyzer(clip) for clip in clips]
    analyzer.model.embedder = MusicnnEmbedder(graph)
    after = [analyzer(clip) for clip in clips]
    for old, new in zip(before, after, strict=True):
        assert abs(new.valence - old.valence) <= EMOTION_TOLERANCE
        assert abs(new.arousal - old.arousal) <= EMOTION_TOLERANCE


def test_the_command_writes_a_graph_the_service_loads(shared_datasets, tmp_path):
    out = tmp_path / "fast" / "msd_musicnn"
    main([str(SOURCE), str(out), "--data", str(shared_datasets), "--exact"])
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["optimisation"]["int8"] is None
    assert card["optimisation"]["parity"]["penultimate_cosine"]["min"] > 0.99999
    assert licence_path(out).is_file()
    embedder = MusicnnEmbedder(out)
    assert set(embedder(np.zeros((1, 187, 96), np.float32))) == set(OUTPUT_NAMES)
