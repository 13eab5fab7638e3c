"""The other converted musicnn network (MTT_musicnn) against TensorFlow on real patches, and
a graph of two networks against the two run apart.

``mtt_musicnn_reference.npz`` was written once with ``training.musicnn_convert``: the
project's patches of 9 real 3-s patches (``patches``-style, from three shared clips) and
MTT_musicnn's outputs on them in TensorFlow (``run-tf``), so the check runs without
TensorFlow.
"""

from pathlib import Path

import numpy as np
import pytest

from app.features.musicnn import OUTPUT_NAMES, MusicnnEmbedder
from training.musicnn import MSD_MUSICNN
from training.musicnn_convert import licence_path, write_pair
from training.musicnn_features import SHIPPED_MUSICNN

MTT = MSD_MUSICNN.parent / "mtt_musicnn"
REFERENCE = Path(__file__).parent / "mtt_musicnn_reference.npz"


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    with np.load(REFERENCE) as data:
        return {name: data[name] for name in data.files}


def test_mtt_musicnn_matches_tensorflow_on_real_patches(reference):
    assert "music files" in str(reference["description"]) and len(reference["patches"]) == 9
    outputs = MusicnnEmbedder(MTT)(reference["patches"])
    for name in OUTPUT_NAMES:
        scale = np.abs(reference[name]).max()
        np.testing.assert_allclose(outputs[name], reference[name], rtol=0, atol=5e-5 * scale)
    # A different network from MSD_musicnn: its penultimate layer differs.
    msd = MusicnnEmbedder(SHIPPED_MUSICNN)(reference["patches"])
    assert not np.allclose(msd["penultimate"], outputs["penultimate"], atol=1e-2)


def test_a_pair_graph_joins_the_two_networks_outputs(reference, tmp_path):
    pair = tmp_path / "msd_mtt"
    write_pair(pair, SHIPPED_MUSICNN, MTT)
    joined = MusicnnEmbedder(pair)(reference["patches"])
    first, second = (
        MusicnnEmbedder(SHIPPED_MUSICNN)(reference["patches"]),
        MusicnnEmbedder(MTT)(reference["patches"]),
    )
    for name in OUTPUT_NAMES:
        np.testing.assert_array_equal(joined[name], np.concatenate([first[name], second[name]], 1))
    assert MusicnnEmbedder(pair).card["outputs"]["penultimate"] == 400
    assert licence_path(pair).read_text() == licence_path(MTT).read_text()
