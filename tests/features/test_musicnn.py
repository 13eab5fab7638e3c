"""musicnn's front-end and converted network against the package's own TensorFlow outputs.

``musicnn_reference.npz`` was written once by ``training.musicnn_convert reference``: the
package's ``batch_data`` patches of :func:`reference_signal` and MSD_musicnn's outputs on
them in TensorFlow, so these parity checks run without TensorFlow.
"""

import json
import shutil

import numpy as np
import pytest

from app.errors import ModelContractError
from app.features.config import SAMPLE_RATE
from app.features.musicnn import (
    OUTPUT_NAMES,
    PATCH_SHAPE,
    MusicnnEmbedder,
    log_mel,
    musicnn_patches,
)
from app.model import EMBEDDER_FILE
from app.settings import default_model_path
from training.musicnn_convert import REFERENCE_RATE, reference_signal

SHIPPED = default_model_path() / EMBEDDER_FILE
"""The shipped model's musicnn network, the one copy of the converted graph."""


@pytest.fixture(scope="module")
def embedder() -> MusicnnEmbedder:
    return MusicnnEmbedder(SHIPPED)


def test_patches_match_the_package_front_end(musicnn_reference):
    patches = musicnn_patches(reference_signal(), REFERENCE_RATE)
    # The package takes the log in float16: its values are ours to within float16 rounding.
    np.testing.assert_allclose(
        patches, musicnn_reference["patches"].astype(np.float32), rtol=0, atol=2e-3
    )


def test_network_matches_tensorflow(musicnn_reference, embedder):
    outputs = embedder(musicnn_reference["patches"])
    for name in OUTPUT_NAMES:
        scale = np.abs(musicnn_reference[name]).max()
        np.testing.assert_allclose(
            outputs[name], musicnn_reference[name], rtol=0, atol=5e-5 * scale
        )


def test_front_end_and_network_together_match_tensorflow(musicnn_reference, embedder):
    outputs = embedder.embed(reference_signal(), REFERENCE_RATE)
    for name in OUTPUT_NAMES:
        scale = np.abs(musicnn_reference[name]).max()
        np.testing.assert_allclose(
            outputs[name], musicnn_reference[name], rtol=0, atol=5e-3 * scale
        )


def test_each_patch_is_embedded_on_its_own(musicnn_reference, embedder):
    """The package's extractor gave every later patch the first one's penultimate: not here."""
    patches = musicnn_reference["patches"]
    together = embedder(patches)
    one_at_a_time = MusicnnEmbedder(SHIPPED, max_batch=1)(patches)
    for name in OUTPUT_NAMES:
        assert together[name].shape == musicnn_reference[name].shape
        np.testing.assert_allclose(one_at_a_time[name], together[name], rtol=1e-5, atol=1e-5)
    assert not np.allclose(together["penultimate"][0], together["penultimate"][1])


def tones(sample_rate: int, seconds: float = 4.0) -> np.ndarray:
    """Sines from 220 Hz to 6 kHz, pulsing twice a second, sampled at ``sample_rate``."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 440.0, 1000.0, 3000.0, 6000.0))
    return (0.05 * chord * (1 + np.sin(4 * np.pi * t))).astype(np.float32)


def test_audio_at_the_analysis_rate_is_resampled_to_16_khz():
    at_analysis_rate = log_mel(tones(SAMPLE_RATE))
    at_16_khz = log_mel(tones(REFERENCE_RATE), REFERENCE_RATE)
    assert at_analysis_rate.shape == at_16_khz.shape
    # Log-mel values span 0 to 3 here; the first and last frames see the resampler's edges.
    np.testing.assert_allclose(at_analysis_rate[1:-1], at_16_khz[1:-1], rtol=0, atol=2e-3)


def test_audio_shorter_than_a_patch_is_repeated_to_fill_one():
    one_second = reference_signal(seconds=1.0)
    frames = log_mel(one_second, REFERENCE_RATE)
    patches = musicnn_patches(one_second, REFERENCE_RATE)
    assert patches.shape == (1, *PATCH_SHAPE)
    np.testing.assert_array_equal(patches[0, : len(frames)], frames)
    np.testing.assert_array_equal(patches[0, len(frames) : 2 * len(frames)], frames)


def test_a_card_for_another_front_end_is_refused(tmp_path):
    model = tmp_path / "musicnn"
    shutil.copy(SHIPPED.with_suffix(".onnx"), model.with_suffix(".onnx"))
    card = json.loads(SHIPPED.with_suffix(".json").read_text())
    card["front_end"]["n_mels"] = 128
    model.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(ModelContractError, match="front-end"):
        MusicnnEmbedder(model)


def test_a_missing_card_is_refused(tmp_path):
    with pytest.raises(ModelContractError, match="card"):
        MusicnnEmbedder(tmp_path / "absent")
