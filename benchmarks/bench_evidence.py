"""Cost of the audio-feature evidence per 60-s clip, beside the whole analysis.

Usage (from the repository root, venv active)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE nice python benchmarks/bench_evidence.py \\
        [--files F ...] [--runs 5] [--clock cpu]

What the audio features add to the analysis is :func:`app.features.evidence.song_evidence`
(rhythm, key, level, texture: it reads the onset envelope and mel spectrogram the
spectral features compute anyway) and the calibrated mapping
(:func:`app.audio_features.audio_features`); musicnn's tags come out of the network run
that makes the embedding. On real 60-s clips (one Emotify clip per genre by default),
single-threaded, each run interleaves, per clip: the service's whole analysis
(:class:`app.analysis.Analyzer`: decode, features with the evidence, musicnn, model),
then the evidence alone from the same clip's spectral features, then the mapping. The
medians, and the evidence's share of the analysis, are printed; the analysis without
the evidence is the difference. ``--clock cpu`` reads the process's CPU time instead of
wall time, which a loaded machine inflates less.
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

from app.analysis import Analyzer, decode_to_mono  # noqa: E402
from app.audio import mono_mix  # noqa: E402
from app.audio_features import CALIBRATION_FILE, AudioFeaturesCalibration, audio_features  # noqa: E402
from app.features.config import DEFAULT_CONFIG  # noqa: E402
from app.features.evidence import song_evidence  # noqa: E402
from app.features.spectral import spectral_features  # noqa: E402
from app.settings import default_model_path  # noqa: E402


def default_clips() -> list[Path]:
    """One 60-s Emotify clip per genre: classical, rock, electronic, pop."""
    return [DATASETS / "emotify" / "audio" / f"{track}.mp3" for track in (1, 101, 201, 304)]


def measure(clips: list[Path], runs: int, clock) -> dict[str, list[float]]:
    """Per clip and run: seconds of the analysis, of the evidence alone, of the mapping."""
    model = default_model_path()
    analyzer = Analyzer(model)
    calibration = AudioFeaturesCalibration.load(model / CALIBRATION_FILE)
    times: dict[str, list[float]] = {"analysis": [], "evidence": [], "mapping": []}
    for _ in range(runs):
        for clip in clips:
            start = clock()
            emotion = analyzer(clip)
            analysed = clock()
            audio = decode_to_mono(clip, analyzer.max_duration_s)
            mono = mono_mix(audio.mono)
            spectral = spectral_features(mono, DEFAULT_CONFIG)
            ready = clock()
            song_evidence(
                mono,
                DEFAULT_CONFIG.sample_rate,
                DEFAULT_CONFIG.hop_length,
                spectral,
                audio.mono_loudness_lufs,
            )
            evidenced = clock()
            audio_features(emotion, calibration)
            mapped = clock()
            times["analysis"].append(analysed - start)
            times["evidence"].append(evidenced - ready)
            times["mapping"].append(mapped - evidenced)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=Path, nargs="*")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    args = parser.parse_args()
    clips = args.files or default_clips()
    threadpool_limits(1)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    print(f"clips: {', '.join(c.name for c in clips)}; {args.runs} runs each; {args.clock} time")
    med = {k: float(np.median(v)) for k, v in measure(clips, args.runs, clock).items()}
    print("\nmedians per clip (ms):")
    for name, seconds in med.items():
        print(f"  {name:30s} {seconds * 1e3:8.1f}")
    added = med["evidence"] + med["mapping"]
    before = med["analysis"] - med["evidence"]
    print(f"  {'analysis without the evidence':30s} {before * 1e3:8.1f}")
    print(f"\nadded per clip: {added * 1e3:.1f} ms, {added / before:.1%} of the analysis before")


if __name__ == "__main__":
    main()
