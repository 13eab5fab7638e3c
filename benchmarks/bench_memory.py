"""Peak memory of one worker analysing a 1-minute and a 10-minute song.

Each song is analysed in a fresh process (the service's :class:`app.analysis.Analyzer`,
model included) and its peak resident set size read from the kernel. The songs are a
real shared clip repeated, or a synthetic song where ../shared is absent, written as
stereo FLAC.

    python benchmarks/bench_memory.py [--minutes 1 10]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT.parent / "shared" / "datasets" / "emotify" / "audio" / "87.mp3"

PROBE = """
import json, resource, sys, time
from app.analysis import Analyzer
from app.settings import Settings
settings = Settings()
analyzer = Analyzer(settings.model_path, max_duration_s=settings.max_duration_s)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
emotion = analyzer(sys.argv[1])
print(json.dumps({
    "seconds": time.perf_counter() - start,
    "duration_s": emotion.duration_s,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "after_warm_up_mb": before / 1024,
}))
"""


def one_minute_stereo() -> tuple[np.ndarray, int]:
    """60 s of stereo music: the shared clip, or a synthetic song."""
    if CLIP.exists():
        from app.audio import decode

        audio = decode(CLIP)
        y, sr = audio.mono[: 60 * audio.sample_rate], audio.sample_rate
    else:
        sys.path.insert(0, str(ROOT))
        from tests.audio_fixtures import song

        sr = 22050
        y = song(60.0, sr)
    return np.stack([y, np.roll(y, 441)], axis=1), sr


def measure(path: Path) -> dict:
    """Analyse ``path`` in a fresh process and return its figures."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(result.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, nargs="+", default=[1, 10])
    args = parser.parse_args()
    minute, sr = one_minute_stereo()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in args.minutes:
            path = Path(tmp) / f"song_{minutes}min.flac"
            sf.write(path, np.tile(minute, (minutes, 1)), sr)
            rows.append((minutes, measure(path)))
    base = rows[0][1]["peak_mb"]
    print(f"{'song':>8} {'analysed s':>10} {'time s':>7} {'peak RSS MB':>12} {'ratio':>6}")
    for minutes, row in rows:
        print(
            f"{minutes:>5} min {row['duration_s']:>10.0f} {row['seconds']:>7.2f} "
            f"{row['peak_mb']:>12.0f} {row['peak_mb'] / base:>6.2f}"
        )


if __name__ == "__main__":
    main()
