"""Convert a musicnn network's TensorFlow checkpoint into the files this project uses.

A converted network is three files named by one path without extension, ``<out>``:
``<out>.npz`` (the weights as :class:`training.musicnn.Musicnn`'s ``state_dict``),
``<out>.json`` (its card: source, licence, front-end, outputs, tags, parity) and
``<out>-LICENSE.md`` (the package's ISC notice, which must accompany every copy), and
then ``<out>.onnx``, the graph the service runs. The shipped MSD_musicnn's weights are
``training/weights/msd_musicnn`` (:data:`training.musicnn.MSD_MUSICNN`); its graph lives
only inside the model that reads it (``model_store/<model>/musicnn.onnx``).

The TensorFlow steps run in a throwaway environment that has TensorFlow and the
``musicnn`` package (never in the project's: the service needs only onnxruntime)::

    python3 -m venv /work/venvs/tf
    /work/venvs/tf/bin/pip install tensorflow-cpu tf-keras -e .
    /work/venvs/tf/bin/pip install --no-deps musicnn==0.1.0
    export TF_USE_LEGACY_KERAS=1  # musicnn builds its graph with tf.compat.v1.layers

From the repository root, in that environment (TensorFlow 2.21 was used)::

    python -m training.musicnn_convert weights MSD_musicnn training/weights/msd_musicnn
    python -m training.musicnn_convert reference MSD_musicnn tests/features/musicnn_reference.npz

and in the project's environment (the ``train`` extra)::

    python -m training.musicnn_convert onnx training/weights/msd_musicnn \\
        --reference tests/features/musicnn_reference.npz

``weights`` writes the ``.npz``, the card and the licence; ``onnx`` exports the graph and
records in the card its largest difference from TensorFlow's outputs on each reference.
``reference`` runs the package's own front-end (``musicnn.extractor.batch_data``) and
TensorFlow graph on :func:`reference_signal`; the tests compare the project's front-end
and ONNX graph with it. To compare on real music: ``patches`` (project's environment)
writes the project's patches of some files, ``run-tf`` (TensorFlow's) adds TensorFlow's
outputs on them, and the result is one more ``--reference`` for ``onnx``.

A model reads a converted network through the training:
``music-emotion-train --musicnn <out>`` copies ``<out>.onnx``, ``.json`` and
``-LICENSE.md`` into the model's folder as ``musicnn.*`` (by default it takes the shipped
model's copy). Another network of the package with the same architecture (MTT_musicnn,
or MSD_musicnn_big with :class:`training.musicnn.Musicnn`'s wider sizes, which
:func:`training.musicnn.load_musicnn` reads off the weights) converts with the same
commands once named in :data:`MODELS`; so do the ``vgg`` models, through their own
PyTorch module (:class:`training.musicnn_vgg.Vgg`). ``pair`` makes one graph of two
converted networks (e.g. MSD_musicnn and MTT_musicnn), each output their values joined.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

REFERENCE_RATE = 16000
"""The reference signal is made at musicnn's own rate, so the package's loader does not
resample it and both front-ends see the same samples."""

# The checkpoint's auto-generated layer names, in the order musicnn builds the layers,
# and the module that holds each in training.musicnn.Musicnn.
CONVOLUTIONS = {
    "conv2d": "timbral.0",
    "conv2d_1": "timbral.1",
    "conv2d_2": "temporal.0",
    "conv2d_3": "temporal.1",
    "conv2d_4": "temporal.2",
    "conv2d_5": "midend.0",
    "conv2d_6": "midend.1",
    "conv2d_7": "midend.2",
}
BATCH_NORMS = {
    "batch_normalization": "input_bn",
    **{
        f"batch_normalization_{i + 1}": f"{block}.bn"
        for i, block in enumerate(CONVOLUTIONS.values())
    },
    "batch_normalization_9": "pool_bn",
    "batch_normalization_10": "dense_bn",
}
DENSES = {"dense": "dense", "dense_1": "output"}

MODELS = {
    "MSD_musicnn": "Million Song Dataset (Last.fm tags)",
    "MTT_musicnn": "MagnaTagATune",
    "MSD_vgg": "Million Song Dataset (Last.fm tags)",
    "MTT_vgg": "MagnaTagATune",
}


VGG_OUTPUTS = {"taggram": 50, "penultimate": 256, "max_pool": 128, "mean_pool": 128}
"""Output sizes of :class:`training.musicnn_vgg.Vgg`."""


def reference_signal(seconds: float = 10.0, seed: int = 0) -> np.ndarray:
    """A deterministic music-like test signal at :data:`REFERENCE_RATE`: float32 mono.

    Harmonic notes of random pitch every quarter second over noise bursts every half
    second, quiet enough that the package's float16 arithmetic does not overflow.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * REFERENCE_RATE)) / REFERENCE_RATE
    pitches = 110.0 * 2 ** (rng.integers(0, 36, size=int(seconds * 4) + 1) / 12)
    f0 = pitches[(t * 4).astype(int)]
    notes = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in (1, 2, 3, 4))
    notes *= np.exp(-6 * (t % 0.25))
    bursts = rng.standard_normal(t.size) * np.exp(-30 * (t % 0.5))
    return (0.02 * notes + 0.01 * bursts).astype(np.float32)


def state_dict_of(checkpoint: str) -> dict[str, np.ndarray]:
    """The checkpoint's weights as :class:`training.musicnn.Musicnn`'s ``state_dict``
    (:class:`training.musicnn_vgg.Vgg`'s for a VGG checkpoint)."""
    import tensorflow as tf

    reader = tf.compat.v1.train.NewCheckpointReader(checkpoint)
    if reader.has_tensor("1CNN/kernel"):
        return vgg_state_dict_of(reader)
    state = {}
    for tf_name, name in CONVOLUTIONS.items():
        kernel = reader.get_tensor(f"{tf_name}/kernel")  # (time, freq, in, out)
        if name.startswith("midend"):  # a conv over all channels at once: Conv1d
            kernel = kernel[:, :, 0, :].transpose(2, 1, 0)
        else:
            kernel = kernel.transpose(3, 2, 0, 1)
        state[f"{name}.conv.weight"] = kernel
        state[f"{name}.conv.bias"] = reader.get_tensor(f"{tf_name}/bias")
    state |= batch_norms_of(reader, BATCH_NORMS)
    for tf_name, name in DENSES.items():
        state[f"{name}.weight"] = reader.get_tensor(f"{tf_name}/kernel").T
        state[f"{name}.bias"] = reader.get_tensor(f"{tf_name}/bias")
    return {name: np.ascontiguousarray(value, dtype=np.float32) for name, value in state.items()}


def batch_norms_of(reader, names: dict[str, str]) -> dict[str, np.ndarray]:
    """The checkpoint's batch norms (TensorFlow name -> module name) as ``state_dict`` entries."""
    parts = {
        "gamma": "weight",
        "beta": "bias",
        "moving_mean": "running_mean",
        "moving_variance": "running_var",
    }
    return {
        f"{name}.{part}": reader.get_tensor(f"{tf_name}/{tf_part}")
        for tf_name, name in names.items()
        for tf_part, part in parts.items()
    }


def vgg_state_dict_of(reader) -> dict[str, np.ndarray]:
    """A TensorFlow checkpoint reader's VGG weights as
    :class:`training.musicnn_vgg.Vgg`'s ``state_dict``."""
    state = {}
    for k in range(5):
        state[f"convs.{k}.weight"] = reader.get_tensor(f"{k + 1}CNN/kernel").transpose(3, 2, 0, 1)
        state[f"convs.{k}.bias"] = reader.get_tensor(f"{k + 1}CNN/bias")
    norms = {"batch_normalization": "input_bn"}
    norms |= {f"batch_normalization_{k + 1}": f"bns.{k}" for k in range(5)}
    state |= batch_norms_of(reader, norms)
    state["output.weight"] = reader.get_tensor("dense/kernel").T
    state["output.bias"] = reader.get_tensor("dense/bias")
    return {name: np.ascontiguousarray(value, dtype=np.float32) for name, value in state.items()}


def package_dir() -> Path:
    """Where the installed ``musicnn`` package keeps its checkpoints."""
    import musicnn

    return Path(musicnn.__file__).parent


def licence_path(network: Path) -> Path:
    """The licence notice beside a converted network ``<network>``: ``<network>-LICENSE.md``."""
    return network.with_name(f"{network.name}-LICENSE.md")


def write_weights(model: str, out: Path) -> None:
    """Write ``<out>.npz`` (the weights), ``<out>.json`` (the card) of ``model`` and the
    package's ISC licence, whose notice must accompany every copy (:func:`licence_path`)."""
    from importlib.metadata import distribution

    from musicnn import configuration

    from app.features import musicnn as front_end

    out.parent.mkdir(parents=True, exist_ok=True)
    licence_path(out).write_text(distribution("musicnn").read_text("LICENSE.md"))
    np.savez_compressed(out.with_suffix(".npz"), **state_dict_of(f"{package_dir() / model}/"))
    tags = configuration.MSD_LABELS if model.startswith("MSD") else configuration.MTT_LABELS
    card = {
        "name": model,
        "source": "musicnn 0.1.0 (PyPI), Pons & Serra, 'musicnn: pre-trained convolutional "
        "neural networks for music audio tagging', ISMIR 2019 LBD; "
        "https://github.com/jordipons/musicnn",
        "licence": f"ISC ({licence_path(out).name} beside this card)",
        "trained_on": MODELS[model],
        "front_end": front_end.FRONT_END,
        "input": {"name": front_end.INPUT_NAME, "shape": [None, *front_end.PATCH_SHAPE]},
        "outputs": VGG_OUTPUTS
        if "vgg" in model
        else {"taggram": len(tags), "penultimate": 200, "max_pool": 753, "mean_pool": 753},
        "tags": tags,
        "parity": {},
    }
    out.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")


def tf_outputs(model: str, patches: np.ndarray) -> dict[str, np.ndarray]:
    """musicnn's TensorFlow outputs for ``patches``, all run as one batch.

    One batch, not the package's extractor loop, which repeats the first patch's
    ``penultimate`` for every later patch. For a VGG, the outputs of
    :class:`training.musicnn_vgg.Vgg` from the graph's ``pool4`` and ``pool5``.
    """
    import tensorflow as tf
    from musicnn import models

    from app.features.musicnn import PATCH_SHAPE

    tf.compat.v1.disable_eager_execution()
    tf.compat.v1.reset_default_graph()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, *PATCH_SHAPE])
        is_training = tf.compat.v1.placeholder(tf.bool)
        if "vgg" in model:
            logits, *_, pool4, pool5 = models.define_model(x, is_training, model, 50)
            penultimate = tf.compat.v1.layers.flatten(pool5)
            max_pool = tf.reduce_max(pool4, axis=[1, 2])
            mean_pool = tf.reduce_mean(pool4, axis=[1, 2])
        else:
            logits, *_, mean_pool, max_pool, penultimate = models.define_model(
                x, is_training, model, 50
            )
        taggram = tf.nn.sigmoid(logits)
    with tf.compat.v1.Session() as session:
        tf.compat.v1.train.Saver().restore(session, f"{package_dir() / model}/")
        values = session.run(
            [taggram, penultimate, max_pool, mean_pool],
            feed_dict={x: patches.astype(np.float32), is_training: False},
        )
    return dict(zip(("taggram", "penultimate", "max_pool", "mean_pool"), values, strict=True))


def write_reference(model: str, out: Path) -> None:
    """Write the package's patches of :func:`reference_signal` and TensorFlow's outputs."""
    import soundfile as sf
    from musicnn.extractor import batch_data

    from app.features.musicnn import PATCH_FRAMES

    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "reference.wav"
        sf.write(wav, reference_signal(), REFERENCE_RATE, subtype="FLOAT")
        patches, _ = batch_data(str(wav), PATCH_FRAMES, PATCH_FRAMES)
    if not np.isfinite(patches).all():
        raise ValueError("the reference signal overflows the package's float16 arithmetic")
    outputs = tf_outputs(model, patches)
    description = f"musicnn's batch_data and {model} in TensorFlow on reference_signal()"
    np.savez_compressed(out, patches=patches, description=description, **outputs)


def write_patches(files: list[Path], out: Path) -> None:
    """Write the project's patches of ``files``, decoded as the service decodes them."""
    from app.analysis import decode_to_mono
    from app.features.musicnn import musicnn_patches

    patches = [musicnn_patches(decode_to_mono(path, 600.0).mono) for path in files]
    description = f"the project's front-end on {len(files)} music files"
    np.savez_compressed(out, patches=np.concatenate(patches), description=description)


def run_tf(model: str, patches_file: Path, out: Path) -> None:
    """Add TensorFlow's outputs to a ``patches`` file."""
    with np.load(patches_file) as data:
        patches, description = data["patches"], str(data["description"])
    outputs = tf_outputs(model, patches)
    description += f", through {model} in TensorFlow"
    np.savez_compressed(out, patches=patches, description=description, **outputs)


def write_onnx(out: Path, references: list[Path]) -> None:
    """Export ``<out>.npz`` to ``<out>.onnx``; record in the card the largest |ONNX - TF|."""
    from app.features.musicnn import OUTPUT_NAMES, MusicnnEmbedder
    from training.musicnn import export_onnx, load_musicnn

    export_onnx(load_musicnn(out.with_suffix(".npz")), out.with_suffix(".onnx"))
    embedder = MusicnnEmbedder(out)
    card_file = out.with_suffix(".json")
    card = json.loads(card_file.read_text())
    for reference in references:
        with np.load(reference) as data:
            outputs = embedder(data["patches"])
            card["parity"][str(data["description"])] = {
                "patches": len(data["patches"]),
                "max_abs_diff": {
                    name: float(np.abs(outputs[name] - data[name]).max()) for name in OUTPUT_NAMES
                },
            }
    card_file.write_text(json.dumps(card, indent=2) + "\n")


def write_pair(out: Path, first: Path, second: Path) -> None:
    """Write one graph ``<out>.onnx`` (and its card) that runs two converted networks on the
    same patches and concatenates each output (the first network's values first).

    Made from the two ONNX graphs themselves (``onnx.compose``), so it pairs any two
    graphs with musicnn's input and outputs, e.g. an optimised one.
    """
    import onnx
    from onnx import compose, helper

    from app.features.musicnn import INPUT_NAME, OUTPUT_NAMES

    cards = [json.loads(Path(m).with_suffix(".json").read_text()) for m in (first, second)]
    if cards[0]["front_end"] != cards[1]["front_end"]:
        raise ValueError("the two networks read different front-ends")
    graphs = [
        compose.add_prefix(onnx.load(str(Path(m).with_suffix(".onnx"))), f"n{k}/")
        for k, m in enumerate((first, second))
    ]
    nodes = [helper.make_node("Identity", [INPUT_NAME], [f"n{k}/{INPUT_NAME}"]) for k in (0, 1)]
    nodes += [node for g in graphs for node in g.graph.node]
    nodes += [
        helper.make_node("Concat", [f"n0/{name}", f"n1/{name}"], [name], axis=1)
        for name in OUTPUT_NAMES
    ]
    outputs = [
        helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, ["batch", sum(sizes)])
        for name, sizes in ((name, [c["outputs"][name] for c in cards]) for name in OUTPUT_NAMES)
    ]
    graph = helper.make_graph(
        nodes,
        f"{cards[0]['name']}+{cards[1]['name']}",
        [graphs[0].graph.input[0]],
        outputs,
        initializer=[t for g in graphs for t in g.graph.initializer],
    )
    graph.input[0].name = INPUT_NAME
    opsets = {}
    for g in graphs:
        for opset in g.opset_import:
            opsets[opset.domain] = max(opsets.get(opset.domain, 0), opset.version)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()]
    )
    model.ir_version = max(g.ir_version for g in graphs)
    onnx.checker.check_model(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out.with_suffix(".onnx")))
    if licence_path(Path(first)).is_file():  # both are musicnn's, under the same notice
        licence_path(out).write_text(licence_path(Path(first)).read_text())
    card = {
        "name": f"{cards[0]['name']}+{cards[1]['name']}",
        "source": "; ".join(dict.fromkeys(c["source"] for c in cards)),
        "licence": f"ISC ({licence_path(out).name} beside this card)",
        "trained_on": " and ".join(c["trained_on"] for c in cards),
        "front_end": cards[0]["front_end"],
        "input": cards[0]["input"],
        "outputs": {n: sum(c["outputs"][n] for c in cards) for n in OUTPUT_NAMES},
        "parts": [c["name"] for c in cards],
        "parity": {c["name"]: c["parity"] for c in cards},
    }
    out.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")


COMMANDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "weights": ("checkpoint -> .npz weights, .json card, licence", ("model", "network")),
    "reference": ("TensorFlow reference on the test signal", ("model", "out")),
    "patches": ("the project's patches of music files", ("out", "files")),
    "run-tf": ("add TensorFlow's outputs to a patches file", ("model", "patches", "out")),
    "onnx": (".npz weights -> .onnx, parity into the card", ("network", "--reference")),
    "pair": ("one graph running two networks, outputs joined", ("out", "first", "second")),
}
"""Each command's help and arguments (see :data:`ARGUMENTS`)."""

ARGUMENTS: dict[str, dict] = {
    "model": {"choices": MODELS, "help": "the musicnn package's network"},
    "network": {"type": Path, "help": "the converted network's path without extension"},
    "out": {"type": Path},
    "patches": {"type": Path},
    "files": {"type": Path, "nargs": "+"},
    "first": {"type": Path, "help": "a converted network's path without extension"},
    "second": {"type": Path, "help": "another one, whose values follow the first's"},
    "--reference": {"type": Path, "action": "append", "default": []},
}


def main(argv: list[str] | None = None) -> None:
    """Command line: see the module's docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, arguments) in COMMANDS.items():
        command = commands.add_parser(name, help=help_text)
        for argument in arguments:
            command.add_argument(argument, **ARGUMENTS[argument])
    args = parser.parse_args(argv)
    if args.command == "pair":
        write_pair(args.out, args.first, args.second)
    elif args.command == "weights":
        write_weights(args.model, args.network)
    elif args.command == "reference":
        write_reference(args.model, args.out)
    elif args.command == "patches":
        write_patches(args.files, args.out)
    elif args.command == "run-tf":
        run_tf(args.model, args.patches, args.out)
    else:
        write_onnx(args.network, args.reference)


if __name__ == "__main__":
    main()
