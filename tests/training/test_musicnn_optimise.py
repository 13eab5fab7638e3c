"""The shipped musicnn graph against the float32 export of the weights it is built from:
rebuilt exactly by ``training.musicnn_optimise``, close to the export on real music that
calibration did not read, and the emotion model's answers within a stated tolerance; the
exact (float32) rewrite equal to the export up to float rounding."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.analysis import Analyzer
from app.features.musicnn import OUTPUT_NAMES, MusicnnEmbedder, graph_sha256
from app.model import EMBEDDER_FILE
from app.settings import default_model_path
from training.musicnn_convert import licence_path
from training.musicnn_optimise import (
    evaluation_clips,
    main,
    optimised_graph,
    parity,
    run_graph,
    spread_patches,
)

SHIPPED = default_model_path() / EMBEDDER_FILE
"""The shipped model's musicnn graph: int8 timbral convolutions."""

EMOTION_TOLERANCE = 0.02
"""Largest change of a clip's valence or arousal (range [-1, 1]) between the shipped
model's answer with its own (int8) graph and with the float32 export: on the 1040 shared
clips model 0.3.0 moved by at most 0.016 (valence) and 0.012 (arousal), 0.002-0.003 on
average; model 0.4.0, trained on the int8 graph's embeddings, moves by as little on the
clips below."""


@pytest.fixture(scope="module")
def evaluation(shared_datasets) -> np.ndarray:
    """Real patches of Emotify clips, which calibration (4Q clips) does not read."""
    return spread_patches(evaluation_clips(shared_datasets)[::4], 4)


def test_the_exact_rewrite_equals_the_export(evaluation, musicnn_reference, float_musicnn):
    source = float_musicnn.with_suffix(".onnx")
    exact = optimised_graph(source)
    for inputs in (evaluation, musicnn_reference["patches"].astype(np.float32)):
        new, old = run_graph(exact, inputs), run_graph(source, inputs)
        for name in OUTPUT_NAMES:
            scale = np.abs(old[name]).max()
            np.testing.assert_allclose(new[name], old[name], rtol=0, atol=1e-5 * scale)


def test_the_shipped_graph_keeps_the_embedding(evaluation, float_musicnn):
    measured = parity(
        run_graph(SHIPPED.with_suffix(".onnx"), evaluation),
        run_graph(float_musicnn.with_suffix(".onnx"), evaluation),
    )
    assert measured["patches"] == len(evaluation) >= 80
    assert measured["penultimate_cosine"]["min"] >= 0.99
    assert measured["penultimate_cosine"]["mean"] >= 0.999
    assert measured["max_abs_diff"]["taggram"] <= 0.05


@pytest.mark.slow
def test_the_command_rebuilds_the_shipped_graph(shared_datasets, float_musicnn, tmp_path):
    out = tmp_path / "int8" / "msd_musicnn"
    main([str(float_musicnn), str(out), "--data", str(shared_datasets)])
    assert graph_sha256(out) == graph_sha256(SHIPPED)
    card = json.loads(out.with_suffix(".json").read_text())
    shipped = json.loads(SHIPPED.with_suffix(".json").read_text())
    assert card["optimisation"]["parity"] == shipped["optimisation"]["parity"]
    assert card["optimisation"]["parity"]["penultimate_cosine"]["min"] >= 0.99
    assert licence_path(out).read_text() == licence_path(SHIPPED).read_text()


def test_the_emotion_model_answers_within_tolerance(shared_datasets, float_musicnn):
    analyzer = Analyzer(default_model_path(), warm_up=False)
    # Emotify and 4Q clips that calibration (every 12th 4Q clip) did not read
    fourq = sorted((shared_datasets / "4q" / "audio").glob("*.mp3"))[6::180]
    clips = evaluation_clips(shared_datasets)[1::20] + fourq
    shipped = [analyzer(clip) for clip in clips]
    analyzer.model.embedder = MusicnnEmbedder(float_musicnn)
    exported = [analyzer(clip) for clip in clips]
    for new, old in zip(shipped, exported, strict=True):
        assert abs(new.valence - old.valence) <= EMOTION_TOLERANCE
        assert abs(new.arousal - old.arousal) <= EMOTION_TOLERANCE


def test_the_exact_command_writes_a_graph_the_service_loads(
    shared_datasets, float_musicnn, tmp_path
):
    out = tmp_path / "fast" / "msd_musicnn"
    main([str(float_musicnn), str(out), "--data", str(shared_datasets), "--exact"])
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["optimisation"]["int8"] is None
    assert card["optimisation"]["parity"]["penultimate_cosine"]["min"] > 0.99999
    assert licence_path(out).is_file()
    embedder = MusicnnEmbedder(out)
    assert set(embedder(np.zeros((1, 187, 96), np.float32))) == set(OUTPUT_NAMES)
