"""Cost of musicnn's embeddings per 60-s clip, against decoding and the current analysis.

Usage (from the repository root, venv active)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_musicnn.py \
        [--musicnn model_store/music-emotion-0.3.0/musicnn] [--files F ...] [--runs 5]

On real 60-s clips (by default one Emotify clip per genre from ``../shared/datasets``),
single-threaded (numpy and onnxruntime): each run decodes a clip, computes musicnn's
log-mel patches, runs the converted network over all of them as one batch, and analyses
the same file through the service's :class:`app.analysis.Analyzer` (decode, features,
model). The medians and the ratios of the embedding's cost to decoding and to the
current analysis are printed, all measured in this one run.
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

from app.analysis import Analyzer  # noqa: E402  (the repository is on the path now)
from app.audio import decode  # noqa: E402
from app.features.musicnn import MusicnnEmbedder, musicnn_patches  # noqa: E402
from app.model import EMBEDDER_FILE  # noqa: E402
from app.settings import default_model_path  # noqa: E402


def default_clips() -> list[Path]:
    """One 60-s Emotify clip per genre: classical, rock, electronic, pop."""
    return [DATASETS / "emotify" / "audio" / f"{track}.mp3" for track in (1, 101, 201, 304)]


def measure(clips: list[Path], embedder: MusicnnEmbedder, runs: int) -> dict[str, list[float]]:
    """Per clip and run: seconds to decode, for the front-end, the network, the analysis."""
    analyzer = Analyzer(default_model_path())
    embedder(musicnn_patches(decode(clips[0]).mono))  # onnxruntime's first-run allocations
    times: dict[str, list[float]] = {name: [] for name in ("decode", "front-end", "network")}
    times["analysis"] = []
    for _ in range(runs):
        for clip in clips:
            start = time.perf_counter()
            mono = decode(clip).mono
            decoded = time.perf_counter()
            patches = musicnn_patches(mono)
            cut = time.perf_counter()
            embedder(patches)
            done = time.perf_counter()
            analyzer(clip)
            times["analysis"].append(time.perf_counter() - done)
            times["decode"].append(decoded - start)
            times["front-end"].append(cut - decoded)
            times["network"].append(done - cut)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--musicnn", type=Path, default=default_model_path() / EMBEDDER_FILE)
    parser.add_argument("--files", type=Path, nargs="*")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    clips = args.files or default_clips()
    threadpool_limits(1)
    embedder = MusicnnEmbedder(args.musicnn, threads=1)
    patches = len(musicnn_patches(decode(clips[0]).mono))
    print(f"clips: {', '.join(c.name for c in clips)}; {args.runs} runs each")
    print(f"{patches} patches of 3 s in {clips[0].name}; onnxruntime and numpy on 1 thread")
    med = {name: float(np.median(t)) for name, t in measure(clips, embedder, args.runs).items()}
    print("\nmedians (ms):")
    for name, seconds in med.items():
        print(f"  {name:12s} {seconds * 1e3:8.1f}")
    embedding = med["front-end"] + med["network"]
    print(f"  {'embedding':12s} {embedding * 1e3:8.1f}  (front-end + network)")
    print(f"\nembedding / decoding: {embedding / med['decode']:.1f}x")
    print(f"embedding / current analysis: {embedding / med['analysis']:.2f}x")


if __name__ == "__main__":
    main()
