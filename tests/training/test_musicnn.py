"""The PyTorch musicnn, its converted weights and its ONNX export."""

import json
import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from app.features.musicnn import INPUT_NAME, OUTPUT_NAMES, graph_sha256
from training.musicnn import MSD_MUSICNN, Musicnn, export_onnx, load_musicnn, same_pad
from training.musicnn_convert import (
    BATCH_NORMS,
    CONVOLUTIONS,
    DENSES,
    licence_path,
    main,
    reference_signal,
)
from training.musicnn_features import SHIPPED_MUSICNN


@pytest.fixture(scope="module")
def model() -> Musicnn:
    return load_musicnn(MSD_MUSICNN.with_suffix(".npz"))


def run(model: Musicnn, patches: np.ndarray) -> dict[str, np.ndarray]:
    with torch.no_grad():
        outputs = model(torch.from_numpy(patches.astype(np.float32)))
    return {name: value.numpy() for name, value in zip(OUTPUT_NAMES, outputs, strict=True)}


def test_pytorch_matches_tensorflow(model, musicnn_reference):
    outputs = run(model, musicnn_reference["patches"])
    for name in OUTPUT_NAMES:
        scale = np.abs(musicnn_reference[name]).max()
        np.testing.assert_allclose(
            outputs[name], musicnn_reference[name], rtol=0, atol=5e-5 * scale
        )


def test_the_shipped_graph_is_the_export_of_the_shipped_weights(model, musicnn_reference, tmp_path):
    export_onnx(model, tmp_path / "musicnn.onnx")
    patches = {INPUT_NAME: musicnn_reference["patches"].astype(np.float32)}
    fresh = ort.InferenceSession(str(tmp_path / "musicnn.onnx")).run(None, patches)
    shipped = ort.InferenceSession(str(SHIPPED_MUSICNN.with_suffix(".onnx"))).run(None, patches)
    torch_outputs = run(model, musicnn_reference["patches"])
    for name, new, old in zip(OUTPUT_NAMES, fresh, shipped, strict=True):
        np.testing.assert_allclose(new, old, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(new, torch_outputs[name], rtol=1e-4, atol=1e-4)


def test_every_checkpoint_layer_has_a_place_in_the_module():
    expected = {name for name in Musicnn().state_dict() if not name.endswith("num_batches_tracked")}
    mapped = set()
    for name in CONVOLUTIONS.values():
        mapped |= {f"{name}.conv.weight", f"{name}.conv.bias"}
    for name in BATCH_NORMS.values():
        mapped |= {f"{name}.{part}" for part in ("weight", "bias", "running_mean", "running_var")}
    for name in DENSES.values():
        mapped |= {f"{name}.weight", f"{name}.bias"}
    assert mapped == expected


def test_weights_that_do_not_fit_are_refused(tmp_path):
    with np.load(MSD_MUSICNN.with_suffix(".npz")) as data:
        weights = {name: data[name] for name in data.files if name != "pool_bn.running_var"}
    np.savez(tmp_path / "partial.npz", **weights)
    with pytest.raises(ValueError, match=r"pool_bn\.running_var"):
        load_musicnn(tmp_path / "partial.npz")


@pytest.mark.parametrize("kernel", [1, 7, 32, 64, 128])
def test_same_padding_keeps_the_length_as_tensorflow_does(kernel):
    before, after = same_pad(kernel)
    assert before + after == kernel - 1
    assert after - before in (0, 1)  # TensorFlow puts the odd zero at the end


def test_the_reference_signal_is_deterministic():
    np.testing.assert_array_equal(reference_signal(2.0, seed=3), reference_signal(2.0, seed=3))
    assert np.abs(reference_signal()).max() < 0.2


def test_the_weights_carry_their_card_and_licence():
    card = json.loads(MSD_MUSICNN.with_suffix(".json").read_text())
    shipped = json.loads(SHIPPED_MUSICNN.with_suffix(".json").read_text())
    assert card["name"] == shipped["name"] == "MSD_musicnn"
    assert card["front_end"] == shipped["front_end"] and card["tags"] == shipped["tags"]
    assert licence_path(MSD_MUSICNN).read_text() == licence_path(SHIPPED_MUSICNN).read_text()
    assert "ISC" in card["licence"] and licence_path(MSD_MUSICNN).name in card["licence"]


def test_the_onnx_command_exports_the_weights_and_records_their_parity(tmp_path):
    network = tmp_path / "msd_musicnn"
    for suffix in (".npz", ".json"):
        shutil.copyfile(MSD_MUSICNN.with_suffix(suffix), network.with_suffix(suffix))
    reference = Path(__file__).parents[1] / "features" / "musicnn_reference.npz"
    main(["onnx", str(network), "--reference", str(reference)])
    assert graph_sha256(network) == graph_sha256(SHIPPED_MUSICNN)  # the export is the shipped graph
    recorded = json.loads(network.with_suffix(".json").read_text())["parity"]
    with np.load(reference) as data:
        parity = recorded[str(data["description"])]
    assert parity["patches"] == 3 and max(parity["max_abs_diff"].values()) < 1e-3
