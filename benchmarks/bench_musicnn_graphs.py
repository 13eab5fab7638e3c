"""Speed and parity of every way tried to run the musicnn network, measured side by side.

Usage (from the repository root, venv active)::

    nice -n 10 python benchmarks/bench_musicnn_graphs.py [--graph model_store/.../musicnn]
        [--data ../shared/datasets] [--rounds 5] [--patches 40]

Each alternative is a graph and the onnxruntime settings it runs with: the shipped
graph at each graph optimisation level, saved after onnxruntime's optimisations, with
2 threads, batches of 7 (a window's patches) and 20 (a minute's); onnxruntime's own
int8 quantisations (dynamic; static QDQ with MinMax calibration, every convolution or
only the timbral ones); this project's exact rewrite (:mod:`training.musicnn_optimise`,
with and without the two pooled outputs the service does not read) and its int8 graph.
The alternatives run in a new random order in each round over the same real patches
(``--patches`` of Emotify's clips), and the CPU time of the process per patch is
recorded (steadier than wall time on a shared machine); the table gives the median, its
ratio to the shipped graph as the service runs it (one patch at a time, one thread,
every optimisation), the time to create the session, and the parity of the penultimate
layer with the shipped graph on 4 patches of each of 87 Emotify clips (per-patch cosine:
worst and mean) and the largest difference of the tag probabilities. Calibration reads
4Q clips (:func:`training.musicnn_optimise.calibration_clips`), never the clips parity
is measured on.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.features.musicnn import INPUT_NAME, OUTPUT_NAMES  # noqa: E402  (repository on path)
from app.settings import default_model_path  # noqa: E402
from training.musicnn_optimise import (  # noqa: E402
    calibration_clips,
    cosines,
    evaluation_clips,
    optimised_graph,
    spread_patches,
)

LEVELS = ort.GraphOptimizationLevel


@dataclass
class Alternative:
    """A graph file and how onnxruntime runs it."""

    graph: Path
    level: ort.GraphOptimizationLevel = LEVELS.ORT_ENABLE_ALL
    threads: int = 1
    batch: int = 1
    saved: Path | None = None
    """Where onnxruntime writes the graph after its optimisations, if at all."""

    def session(self) -> tuple[ort.InferenceSession, float]:
        """A new session and the seconds it took to create."""
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = self.level
        options.log_severity_level = 3
        if self.saved is not None:
            options.optimized_model_filepath = str(self.saved)
        start = time.process_time()
        session = ort.InferenceSession(str(self.graph), options, providers=["CPUExecutionProvider"])
        return session, time.process_time() - start

    def run(self, session: ort.InferenceSession, patches: np.ndarray) -> list[np.ndarray]:
        """Every output for ``patches``, ``self.batch`` at a time."""
        runs = [
            session.run(None, {INPUT_NAME: patches[i : i + self.batch]})
            for i in range(0, len(patches), self.batch)
        ]
        return [np.concatenate([r[k] for r in runs]) for k in range(len(runs[0]))]


def onnxruntime_quantised(
    source: Path, folder: Path, calibration: np.ndarray, timbral_only: bool, static: bool
) -> Path:
    """onnxruntime's own int8 quantisation of the convolutions of ``source``."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = folder / "prepared.onnx"
    if not prepared.exists():
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
    if not static:
        out = folder / "ort_dynamic.onnx"
        quantize_dynamic(
            str(prepared), str(out), op_types_to_quantize=["Conv"], per_channel=True,
            weight_type=QuantType.QInt8,
        )  # fmt: skip
        return out

    class Patches(CalibrationDataReader):
        def __init__(self) -> None:
            self.rows = iter(calibration)

        def get_next(self) -> dict | None:
            row = next(self.rows, None)
            return None if row is None else {INPUT_NAME: row[None]}

    model = onnx.load(str(prepared))
    convs = [n.name for n in model.graph.node if n.op_type == "Conv"]
    chosen = [n for n in convs if "timbral" in n] if timbral_only else convs
    out = folder / f"ort_static_{'timbral' if timbral_only else 'all'}.onnx"
    quantize_static(
        str(prepared), str(out), Patches(), quant_format=QuantFormat.QDQ,
        op_types_to_quantize=["Conv"], nodes_to_quantize=chosen, per_channel=True,
        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax,
    )  # fmt: skip
    return out


def without_pooled_outputs(model: onnx.ModelProto) -> onnx.ModelProto:
    """``model`` with only the outputs the service and the audio features read."""
    kept = [o for o in model.graph.output if o.name in ("taggram", "penultimate")]
    del model.graph.output[:]
    model.graph.output.extend(kept)
    return model


def alternatives(source: Path, folder: Path, calibration: np.ndarray) -> dict[str, Alternative]:
    """Every alternative, built in ``folder``; the first is the service's way today."""
    exact, int8 = folder / "exact.onnx", folder / "int8.onnx"
    onnx.save(optimised_graph(source), str(exact))
    onnx.save(without_pooled_outputs(optimised_graph(source)), str(folder / "exact_2out.onnx"))
    onnx.save(optimised_graph(source, calibration), str(int8))
    # onnxruntime's calibrator keeps every activation of every patch: 20 patches (1 in 9)
    ort_calibration = calibration[::9]
    return {
        "shipped (level all, 1 thread, 1 patch)": Alternative(source),
        "shipped, level disabled": Alternative(source, LEVELS.ORT_DISABLE_ALL),
        "shipped, level basic": Alternative(source, LEVELS.ORT_ENABLE_BASIC),
        "shipped, level extended": Alternative(source, LEVELS.ORT_ENABLE_EXTENDED),
        "shipped, saved optimised (extended)": _saved(source, folder),
        "shipped, 2 threads": Alternative(source, threads=2),
        "shipped, 7 patches per run": Alternative(source, batch=7),
        "shipped, 20 patches per run": Alternative(source, batch=20),
        "onnxruntime int8 dynamic": Alternative(
            onnxruntime_quantised(source, folder, ort_calibration, False, static=False)
        ),
        "onnxruntime int8 static, all convs": Alternative(
            onnxruntime_quantised(source, folder, ort_calibration, False, static=True)
        ),
        "onnxruntime int8 static, timbral": Alternative(
            onnxruntime_quantised(source, folder, ort_calibration, True, static=True)
        ),
        "exact rewrite": Alternative(exact),
        "exact rewrite, 2 outputs": Alternative(folder / "exact_2out.onnx"),
        "int8 timbral (musicnn_optimise)": Alternative(int8),
        "int8 timbral, 20 patches per run": Alternative(int8, batch=20),
        "int8 timbral, 2 threads": Alternative(int8, threads=2),
    }


def _saved(source: Path, folder: Path) -> Alternative:
    """The shipped graph as onnxruntime saves it after its (portable) extended
    optimisations, loaded again with every optimisation."""
    saved = folder / "saved_extended.onnx"
    Alternative(source, LEVELS.ORT_ENABLE_EXTENDED, saved=saved).session()
    return Alternative(saved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--graph", type=Path, default=default_model_path() / "musicnn")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "datasets")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--patches", type=int, default=40, help="patches timed per round")
    args = parser.parse_args()
    source = args.graph.with_suffix(".onnx")
    evaluation = spread_patches(evaluation_clips(args.data), 4)
    calibration = spread_patches(calibration_clips(args.data), 3)
    timed = evaluation[: args.patches]
    print(f"load average {os.getloadavg()}; {len(timed)} patches timed per round, "
          f"{args.rounds} rounds; parity on {len(evaluation)} patches")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        options = alternatives(source, Path(tmp), calibration)
        sessions, created = {}, {}
        for name, alt in options.items():
            sessions[name], created[name] = alt.session()
        reference = dict(zip(OUTPUT_NAMES, options[next(iter(options))].run(
            sessions[next(iter(options))], evaluation), strict=True))  # fmt: skip
        quality = {}
        for name, alt in options.items():
            outputs = dict(zip(OUTPUT_NAMES, alt.run(sessions[name], evaluation), strict=False))
            cos = cosines(outputs["penultimate"], reference["penultimate"])
            tags = float(np.abs(outputs["taggram"] - reference["taggram"]).max())
            quality[name] = (cos.min(), cos.mean(), tags)
        times: dict[str, list[float]] = {name: [] for name in options}
        for _ in range(args.rounds):
            for name in random.sample(list(options), len(options)):
                start = time.process_time()
                options[name].run(sessions[name], timed)
                times[name].append((time.process_time() - start) / len(timed))
    base = float(np.median(times[next(iter(options))]))
    print(f"\n{'alternative':40s} {'CPU ms/patch':>12s} {'ratio':>6s} {'session':>8s} "
          f"{'cos min':>8s} {'cos mean':>9s} {'tags max|d|':>11s}")  # fmt: skip
    for name, values in times.items():
        median = float(np.median(values))
        worst, mean, tags = quality[name]
        print(f"{name:40s} {median * 1e3:12.2f} {median / base:6.2f} "
              f"{created[name] * 1e3:6.0f}ms {worst:8.4f} {mean:9.5f} {tags:11.4f}")  # fmt: skip


if __name__ == "__main__":
    main()
