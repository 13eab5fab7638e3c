"""Cost of several converted musicnn networks per 60-s clip, measured side by side.

Usage (from the repository root, venv active)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_embedders.py \
        model_store/music-emotion-0.3.0/musicnn training/weights/mtt_musicnn ... [--runs 5]

Each argument is a converted network (path without extension; see
``training/musicnn_convert.py``). On the log-mel patches of real 60-s clips (one Emotify
clip per genre), single-threaded, every run times each network on the same clip one
after the other (interleaved, so load on the machine affects all alike) and prints each
network's median seconds per 60-s clip and its ratio to the first network's. The
front-end (log-mel patches) is shared by all networks and timed once per clip.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATASETS = REPO / ".." / "shared" / "datasets"

from app.audio import decode  # noqa: E402  (the repository is on the path now)
from app.features.musicnn import MusicnnEmbedder, musicnn_patches  # noqa: E402


def main() -> None:
    """Command line: see the module's docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("networks", type=Path, nargs="+")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    clips = [DATASETS / "emotify" / "audio" / f"{track}.mp3" for track in (1, 101, 201, 304)]
    with threadpool_limits(1):
        embedders = {path.name: MusicnnEmbedder(path, threads=1) for path in args.networks}
        times: dict[str, list[float]] = {name: [] for name in ("front-end", *embedders)}
        for _ in range(args.runs):
            for clip in clips:
                mono = decode(clip).mono
                start = time.perf_counter()
                patches = musicnn_patches(mono)
                times["front-end"].append(time.perf_counter() - start)
                for name, embedder in embedders.items():
                    start = time.perf_counter()
                    embedder(patches)
                    times[name].append(time.perf_counter() - start)
    first = np.median(times[args.networks[0].name])
    for name, values in times.items():
        median = np.median(values)
        print(f"{name:<14} {1000 * median:7.1f} ms per 60-s clip  ({median / first:.2f}x)")


if __name__ == "__main__":
    main()
