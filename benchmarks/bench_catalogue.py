"""Throughput of ``music-emotion catalogue``: 1 and 2 local workers, and Ray on the same cores.

Usage (from the repository root, with the ``ray`` extra installed)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_catalogue.py \
        [--clips 40] [--workers 2]

On real 60-s clips of ``../shared/datasets/emotify/audio``. Each job runs as the command
a user would type, in a fresh process, into a fresh OUT. A job's wall time includes a
fixed start-up (interpreter, model check, analysis processes warming up, Ray's start),
so each engine also scores one clip alone, and its steady rate is
``(N - 1) / (wall(N) - wall(1))``. The analysis itself is timed in this process
(:class:`app.analysis.Analyzer`, warmed up, one clip after another): the share of a
1-worker job's steady time spent outside it is the catalogue's own overhead (listing,
reading, process hand-over, rows, Parquet), in wall time and, less sensitive to other
load on the machine, in CPU time (the command and its analysis processes; Ray's own
processes are not the command's children, so Ray's CPU time is not counted). Last, the
catalogue's own work per file (the hand-over of the result, the row, the Parquet write)
is timed beside the analysis of the same file in this process: a share that load on the
machine leaves nearly unchanged. The load average is printed before and after: ratios are
measured in one run, but a busy machine inflates every figure, and jobs run minutes apart
meet different loads.
"""

from __future__ import annotations

import argparse
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The analysis alone runs single-threaded, as each catalogue worker does.
os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CLIPS = REPO / ".." / "shared" / "datasets" / "emotify" / "audio"

from app.analysis import Analyzer  # noqa: E402  (the repository is on the path now)
from app.catalogue import rows  # noqa: E402
from app.catalogue.sources import Entry  # noqa: E402
from app.catalogue.store import PartWriter  # noqa: E402
from app.result import ModelInfo  # noqa: E402
from app.settings import Settings  # noqa: E402


def job_seconds(paths: list[Path], *options: str) -> tuple[float, float]:
    """Wall time and CPU time (the command and the processes it waited for) of one
    catalogue job over ``paths`` into a fresh OUT."""
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "app.cli", "catalogue", *map(str, paths)]
        cpu = _children_cpu()
        start = time.perf_counter()
        result = subprocess.run(
            [*command, "--out", f"{folder}/out", *options], capture_output=True, text=True
        )
        wall = time.perf_counter() - start
        cpu = _children_cpu() - cpu
    if result.returncode != 0 or "failed 0" not in result.stderr:
        raise RuntimeError(result.stderr[-3000:])
    return wall, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def analysis_seconds(paths: list[Path]) -> tuple[float, float]:
    """Wall and CPU time of the analyses alone, one after another in a warmed-up process."""
    analyzer = Analyzer(Settings().model_path)
    start, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        analyzer(path)
    return time.perf_counter() - start, time.process_time() - cpu


def own_work_share(path: Path, repeats: int = 50) -> float:
    """The catalogue's own work on one file (the emotion's hand-over from the analysis
    process, its row, the Parquet write) as a share of that file's analysis, both timed
    here one after the other, so that a busy machine slows both alike."""
    analyzer = Analyzer(Settings().model_path)
    info = ModelInfo.of(analyzer.model)
    start = time.process_time()
    for _ in range(3):
        emotion = analyzer(path)
    analysis = (time.process_time() - start) / 3
    options = rows.Columns(features=True, timeline=True)
    entry = Entry(str(path), path.stat().st_size, path.stat().st_mtime_ns)
    with tempfile.TemporaryDirectory() as folder:
        writer = PartWriter(folder, options.schema(), rows_per_part=repeats)
        start = time.process_time()
        for _ in range(repeats):
            writer.add(rows.result_row(entry, pickle.loads(pickle.dumps(emotion)), info, options))
        own = (time.process_time() - start) / repeats
    return own / analysis


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    paths = sorted(CLIPS.glob("*.mp3"), key=lambda p: int(p.stem))[: args.clips + 1]
    one, paths = paths[-1:], paths[:-1]
    n = len(paths)
    print(f"{n} clips of {CLIPS.resolve()}; load average {os.getloadavg()[0]:.2f}")

    analysis, analysis_cpu = analysis_seconds(paths)
    print(f"analysis alone, one process: {analysis:.1f} s, {n / analysis:.2f} clips/s")
    engines = {
        "local, 1 worker": ("--workers", "1"),
        f"local, {args.workers} workers": ("--workers", str(args.workers)),
        f"ray, {args.workers} actors": ("--engine", "ray", "--workers", str(args.workers)),
    }
    steady, cpu_per_file = {}, {}
    for name, options in engines.items():
        alone, alone_cpu = job_seconds(one, *options)
        wall, cpu = job_seconds(paths, *options)
        steady[name] = (n - 1) / (wall - alone)
        cpu_per_file[name] = (cpu - alone_cpu) / (n - 1)
        print(
            f"{name}: {wall:.1f} s for {n} clips ({n / wall:.2f} files/s with start-up), "
            f"{alone:.1f} s for 1; steady {steady[name]:.2f} files/s, "
            f"{cpu_per_file[name]:.2f} CPU s per file"
        )
    one_worker, many, ray = steady.values()
    print(f"{args.workers} workers / 1 worker: {many / one_worker:.2f}x (target >= 1.8x)")
    print(f"ray / local with {args.workers}: {ray / many:.2f} (target >= 0.85)")
    outside = 1 - (analysis / n) * one_worker
    outside_cpu = 1 - (analysis_cpu / n) / cpu_per_file["local, 1 worker"]
    print(
        f"share of a 1-worker job's steady time outside the analysis: {outside:.1%} of wall "
        f"time, {outside_cpu:.1%} of CPU time (target <= 5%)"
    )
    print(
        "the catalogue's own work per file (hand-over, row, Parquet) against the analysis, "
        f"timed side by side: {own_work_share(paths[0]):.2%}"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
