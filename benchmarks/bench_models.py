"""Cost of the whole analysis with several models, measured side by side.

Usage (from the repository root, venv active)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_models.py \
        MODEL_DIR [MODEL_DIR ...] [--clips 4] [--rounds 5] [--clock cpu]

Each model (a ``model_store`` folder; an older one can be checked out of git into a
temporary folder, e.g. ``git archive <commit> model_store/music-emotion-0.3.0 | tar -x -C
/tmp``) gets its own :class:`app.analysis.Analyzer`, single-threaded and warmed up. Every
round analyses each clip (60-s songs of ``../shared/datasets``, or ``--files``) with every
model in a new random order, so load on a shared machine weighs on all alike. Printed:
each model's median per clip and its ratio to the first model's, the medians of the
analysis's stages, and how far each model's answers lie from the first model's.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.analysis import Analyzer  # noqa: E402  (the repository is on the path now)
from benchmarks.bench_speed import default_clips  # noqa: E402


def main() -> None:
    """Command line: see the module's docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", type=Path, nargs="+", help="model folders")
    parser.add_argument("--files", type=Path, nargs="*", help="clips (default: 60-s songs)")
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="cpu")
    args = parser.parse_args()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    clips = args.files or default_clips(args.clips)
    threadpool_limits(1)
    analyzers = [Analyzer(model) for model in args.models]
    names = [f"{a.model.name} {a.model.version}" for a in analyzers]
    print(f"clock: {args.clock}; load average: {os.getloadavg()}; {len(clips)} clips")
    rng = np.random.default_rng(0)
    seconds = {name: [] for name in names}
    stages: dict[str, dict[str, list[float]]] = {name: {} for name in names}
    answers: dict[str, dict[Path, tuple[float, float]]] = {name: {} for name in names}
    for _ in range(args.rounds):
        for clip in clips:
            for k in rng.permutation(len(analyzers)):
                start = clock()
                emotion = analyzers[k](clip)
                seconds[names[k]].append(clock() - start)
                for stage, value in emotion.timings_s.items():
                    stages[names[k]].setdefault(stage, []).append(value)
                answers[names[k]][clip] = (emotion.valence, emotion.arousal)
    first = float(np.median(seconds[names[0]]))
    print("\nper clip, median (ms) and ratio to the first model:")
    for name in names:
        median = float(np.median(seconds[name]))
        print(f"  {name:<28} {1000 * median:8.1f}  {median / first:5.2f}x")
    print("\nstage medians (ms; wall time inside the analysis):")
    every = list(dict.fromkeys(s for name in names for s in stages[name]))
    print("  " + f"{'stage':<18}" + "".join(f"{name:>28}" for name in names))
    for stage in every:
        cells = [
            f"{1000 * np.median(stages[name][stage]):28.1f}" if stage in stages[name] else " " * 28
            for name in names
        ]
        print(f"  {stage:<18}" + "".join(cells))
    base = np.array([answers[names[0]][c] for c in clips])
    for name in names[1:]:
        diff = np.abs(np.array([answers[name][c] for c in clips]) - base)
        print(
            f"\n{name} vs {names[0]}: mean |difference| valence {diff[:, 0].mean():.3f}, "
            f"arousal {diff[:, 1].mean():.3f}"
        )


if __name__ == "__main__":
    main()
