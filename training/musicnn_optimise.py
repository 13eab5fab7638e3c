"""A faster musicnn graph for the service, rebuilt from the converted one.

Usage (from the repository root, venv active)::

    python -m training.musicnn_optimise SOURCE OUT --data ../shared/datasets [--exact]

reads ``SOURCE.onnx`` (the graph :mod:`training.musicnn` exports, e.g. the shipped model's
``model_store/music-emotion-0.3.0/musicnn``; its initialisers keep the PyTorch module's
names), ``SOURCE.json`` and ``SOURCE-LICENSE.md``, and writes ``OUT.onnx``, ``OUT.json``
(the source's card and an ``optimisation`` entry with the parity measured) and
``OUT-LICENSE.md``: the same inputs, outputs and front-end, computed faster. What
changes, layer by layer:

- exact rewrites (float32, equal to the source up to float rounding): each front-end block
  takes its maximum over frequency *before* its ReLU and batch norm, which then run on a
  tensor 30-96 times smaller. ``max_f(s * relu(c) + b)`` is ``s * relu(max_f c) + b`` for a
  batch-norm scale ``s > 0``; for ``s < 0`` it is ``s * relu(min_f c) + b``, and
  ``min_f c = -max_f(-c)``: those channels' filters are negated, so one ReduceMax serves
  both. The batch norm before the dense layer is folded into it, and the flattening that
  interleaves max and mean pooling becomes a column order of the dense weights.
- int8 (unless ``--exact``): the two timbral convolutions (7 x 38 and 7 x 67 bands, 204
  filters each: 81% of the network's multiply-adds) run as ``QLinearConv`` (uint8 log-mel x
  int8 per-channel weights -> uint8), which onnxruntime's int8 kernels run about twice as
  fast. Each filter is first scaled so that its calibrated range of ``relu(conv)`` fills the
  uint8 output (an exact change: ReLU and max commute with a positive scale, undone after
  the max), so the per-tensor output scale costs no channel its resolution; the output's
  zero point clamps at zero, which is the ReLU. Filters with a negative batch-norm scale,
  which need the minimum, form a second convolution with negated weights and zero point
  255. The temporal and mid-end convolutions stay float32: the mid-end is the layer
  sensitive to int8 (penultimate cosine 0.94 when quantised), and onnxruntime's int8
  kernel is slower than float32 for the temporal ones' tall 1-band filters.

The calibration reads real music: 3 patches of each of 60 4Q clips (every 12th); the
card records the parity measured on 4 patches of 87 Emotify clips, which calibration
did not see (``benchmarks/bench_musicnn_graphs.py`` measures speed and parity of every
alternative).
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from app.features.musicnn import INPUT_NAME, N_MELS, OUTPUT_NAMES, PATCH_FRAMES
from training.musicnn_convert import licence_path

OPSET = 17
TF_BN_EPS = 1e-3
"""The batch norms' epsilon (TensorFlow's default, as in :mod:`training.musicnn`)."""

TIMBRAL = ("timbral.0", "timbral.1")
TEMPORAL = ("temporal.0", "temporal.1", "temporal.2")
MIDEND = ("midend.0", "midend.1", "midend.2")
OUTPUT_SIZES = {"taggram": 50, "penultimate": 200, "max_pool": 753, "mean_pool": 753}

HEADROOM = 1.5
"""Each timbral filter's uint8 range is this many times the largest ``relu(conv)`` seen in
calibration, so louder or unlike music saturates rarely (1.2, 1.5 and 2.0 gave the same
parity on the evaluation patches; the widest that does not cost parity)."""

LOG_MEL_TOP = float(np.log10(10000 * float(np.finfo(np.float16).max) + 1))
"""The largest log-mel value the front-end gives (8.82: the mel power is rounded to float16,
whose largest value is 65504); the uint8 input spans [0, this] and never saturates
(the shared clips reach 6.55)."""


def read_weights(graph: Path) -> dict[str, np.ndarray]:
    """The initialisers of a musicnn graph exported by :mod:`training.musicnn`, by name."""
    model = onnx.load(str(graph))
    weights = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    expected = [f"{b}.conv.weight" for b in (*TIMBRAL, *TEMPORAL, *MIDEND)]
    expected += ["input_bn.weight", "pool_bn.weight", "dense.weight", "output.weight"]
    missing = [name for name in expected if name not in weights]
    if missing:
        raise ValueError(f"{graph} is not a musicnn export: it lacks {missing}")
    return weights


def bn_affine(weights: dict[str, np.ndarray], name: str) -> tuple[np.ndarray, np.ndarray]:
    """Scale and shift of batch norm ``name`` in inference mode: ``y = scale * x + shift``."""
    scale = weights[f"{name}.weight"] / np.sqrt(weights[f"{name}.running_var"] + TF_BN_EPS)
    return scale, weights[f"{name}.bias"] - weights[f"{name}.running_mean"] * scale


def time_pads(kernel: int) -> tuple[int, int]:
    """The front-end's zero padding of time (before, after) for a kernel of ``kernel`` frames:
    3 each for the 7-frame timbral filters, TensorFlow's ``same`` for the temporal ones."""
    return (3, 3) if kernel == 7 else ((kernel - 1) // 2, kernel // 2)


class _Graph:
    """Nodes and initialisers of an ONNX graph being written."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.constants = dict(weights)

    def const(self, name: str, value: np.ndarray) -> str:
        self.constants[name] = np.asarray(value)
        return name

    def op(self, op_type: str, inputs: Sequence[str], output: str, **attributes) -> str:
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], output, **attributes))
        return output

    def batch_norm(self, x: str, name: str, output: str) -> str:
        parts = [f"{name}.{p}" for p in ("weight", "bias", "running_mean", "running_var")]
        return self.op("BatchNormalization", [x, *parts], output, epsilon=TF_BN_EPS)

    def model(self, inputs: list, outputs: list) -> onnx.ModelProto:
        used = {name for node in self.nodes for name in node.input}
        initialisers = [
            numpy_helper.from_array(v, k) for k, v in self.constants.items() if k in used
        ]
        graph = helper.make_graph(self.nodes, "musicnn", inputs, outputs, initialisers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model


def _frontend_float(g: _Graph, weights: dict, x: str, block: str) -> str:
    """A front-end block in float32: the max over frequency first (see the module's doc)."""
    w, bias = weights[f"{block}.conv.weight"], weights[f"{block}.conv.bias"]
    sign = np.where(weights[f"{block}.bn.weight"] < 0, -1.0, 1.0).astype(np.float32)
    before, after = time_pads(w.shape[2])
    signed_w = g.const(f"{block}.signed_weight", (w * sign[:, None, None, None]).astype(np.float32))
    signed_b = g.const(f"{block}.signed_bias", (bias * sign).astype(np.float32))
    conv = g.op("Conv", [x, signed_w, signed_b], f"{block}.conv", pads=[before, 0, after, 0])
    peak = g.op("ReduceMax", [conv], f"{block}.max", axes=[3], keepdims=0)
    peak = g.op("Mul", [peak, g.const(f"{block}.sign", sign[:, None])], f"{block}.unsigned")
    return g.batch_norm(g.op("Relu", [peak], f"{block}.relu"), f"{block}.bn", f"{block}.out")


def _frontend_int8(
    g: _Graph, weights: dict, xq: tuple[str, str, str], block: str, top: np.ndarray
) -> str:
    """A timbral block in int8: ``top`` is each filter's range of ``relu(conv)``."""
    w, bias = weights[f"{block}.conv.weight"], weights[f"{block}.conv.bias"]
    scale, shift = bn_affine(weights, f"{block}.bn")
    x_scale = float(g.constants[xq[1]])
    before, after = time_pads(w.shape[2])
    bands_out = N_MELS - w.shape[3] + 1
    parts, order = [], []
    # group "max": batch-norm scale >= 0, needs max_f relu(c); "min": needs min_f relu(c),
    # computed as -max_f(-relu(c)) from negated filters, whose output clamps at zero from above.
    for group, sign, zero_point in (("max", 1.0, 0), ("min", -1.0, 255)):
        rows = np.flatnonzero(scale >= 0) if group == "max" else np.flatnonzero(scale < 0)
        if not len(rows):
            continue
        order.extend(rows)
        k = sign / top[rows]  # filter c's calibrated range -> [0, 1] (or [-1, 0])
        wk, bk = w[rows] * k[:, None, None, None], bias[rows] * k
        # Per-filter weight scale; a dead filter (weights ~1e-31) keeps its bias exact.
        w_scale = np.maximum(np.abs(wk).reshape(len(rows), -1).max(1), np.abs(bk) / x_scale / 2**24)
        w_scale = np.maximum(w_scale, 1e-30) / 127
        name = f"{block}.{group}"
        conv_inputs = [
            *xq,
            g.const(
                f"{name}.w",
                np.clip(np.round(wk / w_scale[:, None, None, None]), -127, 127).astype(np.int8),
            ),
            g.const(f"{name}.w_scale", w_scale.astype(np.float32)),
            g.const(f"{name}.w_zero", np.zeros(len(rows), np.int8)),
            g.const(f"{name}.y_scale", np.float32(1 / 255)),
            g.const(f"{name}.y_zero", np.uint8(zero_point)),
            g.const(f"{name}.b", np.round(bk / (x_scale * w_scale)).astype(np.int32)),
        ]
        y = g.op("QLinearConv", conv_inputs, f"{name}.conv", pads=[before, 0, after, 0])
        # MaxPool over all bands: onnxruntime's uint8 kernel runs it in the convolution's
        # own NHWC layout (a ReduceMax there costs three times as much).
        peak = g.op("MaxPool", [y], f"{name}.max", kernel_shape=[1, bands_out])
        peak = g.op("DequantizeLinear", [peak, *conv_inputs[6:8]], f"{name}.float")
        peak = g.op("Squeeze", [peak, g.const("axis3", np.array([3]))], f"{name}.squeezed")
        # y = scale * extreme + shift, the extreme being peak / k
        a = g.const(f"{name}.scale", (scale[rows] / k).astype(np.float32)[:, None])
        peak = g.op("Mul", [peak, a], f"{name}.scaled")
        b = g.const(f"{name}.shift", shift[rows].astype(np.float32)[:, None])
        parts.append(g.op("Add", [peak, b], f"{name}.out"))
    both = g.op("Concat", parts, f"{block}.groups", axis=1)
    back = g.const(f"{block}.order", np.argsort(np.asarray(order)).astype(np.int64))
    return g.op("Gather", [both, back], f"{block}.out", axis=1)


def timbral_ranges(weights: dict[str, np.ndarray], patches: np.ndarray) -> list[np.ndarray]:
    """Per timbral filter, the largest ``relu(conv)`` over ``patches`` (n, 187, 96)."""
    g = _Graph(weights)
    x = g.op("Unsqueeze", [INPUT_NAME, g.const("axis1", np.array([1]))], "x")
    x = g.batch_norm(x, "input_bn", "x_bn")
    outputs = []
    for block in TIMBRAL:
        conv_inputs = [x, f"{block}.conv.weight", f"{block}.conv.bias"]
        conv = g.op("Conv", conv_inputs, f"{block}.conv", pads=[3, 0, 3, 0])
        relu = g.op("Relu", [conv], f"{block}.relu")
        outputs.append(g.op("ReduceMax", [relu], f"{block}.range", axes=[2, 3], keepdims=0))
    model = g.model(
        [_patches_input()],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, ["batch", 204]) for o in outputs],
    )
    return [top.max(axis=0) for top in _run(model, patches)]


def _patches_input() -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(
        INPUT_NAME, TensorProto.FLOAT, ["batch", PATCH_FRAMES, N_MELS]
    )


def optimised_graph(source: Path, calibration: np.ndarray | None = None) -> onnx.ModelProto:
    """The faster graph of the musicnn graph ``source`` (.onnx), with the same inputs and
    outputs (see the module's doc).

    Parameters
    ----------
    source : Path
        A graph written by :func:`training.musicnn.export_onnx`.
    calibration : (n, 187, 96) float32 log-mel patches, or None
        Real patches to calibrate the int8 timbral convolutions on; None for the exact
        (float32) rewrite alone.
    """
    weights = read_weights(source)
    g = _Graph(weights)
    x = g.op("Unsqueeze", [INPUT_NAME, g.const("axis1", np.array([1]))], "x")
    x = g.batch_norm(x, "input_bn", "x_bn")
    front = []
    if calibration is not None:
        # uint8 input: log-mel [0, LOG_MEL_TOP] after the input batch norm, and its zero
        # (the convolutions' padding)
        in_scale, in_shift = (float(v[0]) for v in bn_affine(weights, "input_bn"))
        ends = (in_shift, in_scale * LOG_MEL_TOP + in_shift, 0.0)
        x_scale = np.float32((max(ends) - min(ends)) / 255)
        x_zero = np.uint8(round(-min(ends) / x_scale))
        xq = (g.const("x.scale", x_scale), g.const("x.zero", x_zero))
        xq = (g.op("QuantizeLinear", [x, *xq], "xq"), *xq)
        ranges = timbral_ranges(weights, calibration)
        for block, top in zip(TIMBRAL, ranges, strict=True):
            front.append(_frontend_int8(g, weights, xq, block, np.maximum(top * HEADROOM, 1e-6)))
    else:
        front += [_frontend_float(g, weights, x, block) for block in TIMBRAL]
    front += [_frontend_float(g, weights, x, block) for block in TEMPORAL]
    frontend = g.op("Concat", front, "frontend", axis=1)
    layers, previous = [frontend], frontend
    for i, block in enumerate(MIDEND):
        conv_inputs = [previous, f"{block}.conv.weight", f"{block}.conv.bias"]
        y = g.op("Relu", [g.op("Conv", conv_inputs, f"{block}.conv", pads=[3, 3])], f"{block}.relu")
        y = g.batch_norm(y, f"{block}.bn", f"{block}.bn_out")
        previous = g.op("Add", [y, previous], f"{block}.out") if i else y
        layers.append(previous)
    features = g.op("Concat", layers, "features", axis=1)
    top = g.op("ReduceMax", [features], "max_pool", axes=[2], keepdims=0)
    mean = g.op("ReduceMean", [features], "mean_pool", axes=[2], keepdims=0)
    # dense(pool_bn(interleave(max, mean))) = dense'(concat(max, mean))
    scale, shift = bn_affine(weights, "pool_bn")
    dense_w = weights["dense.weight"] * scale[None, :]
    dense_b = weights["dense.bias"] + weights["dense.weight"] @ shift
    dense_w = np.concatenate([dense_w[:, 0::2], dense_w[:, 1::2]], axis=1)
    pooled = g.op("Concat", [top, mean], "pooled", axis=1)
    dense_inputs = [
        pooled,
        g.const("dense.folded_weight", dense_w.astype(np.float32)),
        g.const("dense.folded_bias", dense_b.astype(np.float32)),
    ]
    dense = g.op("Relu", [g.op("Gemm", dense_inputs, "dense", transB=1)], "dense.relu")
    penultimate = g.batch_norm(dense, "dense_bn", "penultimate")
    logits = g.op("Gemm", [penultimate, "output.weight", "output.bias"], "logits", transB=1)
    g.op("Sigmoid", [logits], "taggram")
    outputs = [
        helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", OUTPUT_SIZES[name]])
        for name in OUTPUT_NAMES
    ]
    return g.model([_patches_input()], outputs)


def calibration_clips(data: Path) -> list[Path]:
    """The clips calibration reads: every 12th of 4Q's (60 of 720)."""
    return sorted((data / "4q" / "audio").glob("*.mp3"))[::12]


def evaluation_clips(data: Path) -> list[Path]:
    """Clips that parity is measured on: Emotify's, every 4th id of each genre."""
    ids = [t for genre in range(4) for t in range(genre * 100 + 1, genre * 100 + 101, 4)]
    return [p for t in ids if (p := data / "emotify" / "audio" / f"{t}.mp3").is_file()]


def spread_patches(paths: Sequence[Path], per_clip: int) -> np.ndarray:
    """``per_clip`` evenly spaced log-mel patches of each file, decoded as the service does."""
    from app.audio import decode
    from app.features.musicnn import musicnn_patches

    chosen = []
    for path in paths:
        patches = musicnn_patches(decode(path).mono)
        rows = np.unique(np.linspace(0, len(patches) - 1, per_clip).round().astype(int))
        chosen.append(patches[rows])
    return np.concatenate(chosen)


def run_graph(model: onnx.ModelProto | Path, patches: np.ndarray) -> dict[str, np.ndarray]:
    """Every output of a musicnn graph for ``patches``."""
    return dict(zip(OUTPUT_NAMES, _run(model, patches), strict=True))


def _run(model: onnx.ModelProto | Path, patches: np.ndarray) -> list[np.ndarray]:
    """Every output of ``model`` for ``patches``, run eight at a time (bounded memory)."""
    source = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    steps = range(0, len(patches), 8)
    batches = [session.run(None, {INPUT_NAME: patches[i : i + 8]}) for i in steps]
    return [np.concatenate([b[k] for b in batches]) for k in range(len(batches[0]))]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of each row of ``a`` with the same row of ``b``."""
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def parity(new: dict[str, np.ndarray], old: dict[str, np.ndarray]) -> dict:
    """How far a graph's outputs are from the source's: penultimate cosines per patch
    (worst, mean) and the largest absolute difference of each output."""
    cos = cosines(new["penultimate"], old["penultimate"])
    return {
        "patches": len(cos),
        "penultimate_cosine": {"min": float(cos.min()), "mean": float(cos.mean())},
        "max_abs_diff": {n: float(np.abs(new[n] - old[n]).max()) for n in OUTPUT_NAMES},
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: see the module's docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the converted graph, without extension")
    parser.add_argument("out", type=Path, help="the optimised graph, without extension")
    parser.add_argument("--data", type=Path, required=True, help="the shared datasets folder")
    parser.add_argument("--exact", action="store_true", help="float32 rewrites only, no int8")
    args = parser.parse_args(argv)
    calibration = None if args.exact else spread_patches(calibration_clips(args.data), 3)
    model = optimised_graph(args.source.with_suffix(".onnx"), calibration)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(args.out.with_suffix(".onnx")))
    evaluation = spread_patches(evaluation_clips(args.data), 4)
    measured = parity(
        run_graph(args.out.with_suffix(".onnx"), evaluation),
        run_graph(args.source.with_suffix(".onnx"), evaluation),
    )
    card = json.loads(args.source.with_suffix(".json").read_text())
    card["optimisation"] = {
        "from": f"{args.source.name}.onnx, by training.musicnn_optimise",
        "rewrites": "max over frequency before ReLU and batch norm; pool batch norm folded",
        "int8": None
        if calibration is None
        else {
            "layers": list(TIMBRAL),
            "calibration": f"3 patches of each of {len(calibration) // 3} 4Q clips",
            "headroom": HEADROOM,
        },
        "parity": {"on": f"4 patches of each of {measured['patches'] // 4} Emotify clips"}
        | measured,
    }
    args.out.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    # The weights' licence travels with the graph (training copies it into a model folder).
    shutil.copyfile(licence_path(args.source), licence_path(args.out))
    print(json.dumps(card["optimisation"], indent=2))


if __name__ == "__main__":
    main()
