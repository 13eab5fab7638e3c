"""How far a long song's sampled song-level descriptors are from reading the whole song.

Usage (from the repository root, venv active)::

    python benchmarks/budget_fidelity.py [--songs FILE ...] [--jobs 2]

By default the songs are the tracks of four minutes or more of Debian's
``wesnoth-1.16-music`` (``apt-get install wesnoth-1.16-music``; full-length orchestral
music). Each is analysed as the service does, up to ``MUSIC_EMOTION_MAX_DURATION_S``, twice:
with the default descriptor budget (:data:`app.features.config.DEFAULT_CONFIG`) and with a
budget as long as the song, which reads all of it (the computation before the budget). Per
descriptor the script prints the mean and largest absolute difference and Pearson r over the
songs; for the tempo, the share of songs whose sampled tempo is within 4 % of the whole one.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import fields, replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench_speed import default_songs  # noqa: E402

from app.features.timbre import Timbre  # noqa: E402  (the repository is on the path now)

TIMBRE = tuple(field.name for field in fields(Timbre))


def analyse(path: str) -> tuple[float, dict[str, float], dict[str, float]]:
    """The song's duration, and its tempo and timbre sampled and whole."""
    from threadpoolctl import threadpool_limits

    from app.analysis import decode_to_mono
    from app.features import DEFAULT_CONFIG, extract
    from app.settings import Settings

    threadpool_limits(1)
    audio = decode_to_mono(path, Settings().max_duration_s)
    duration = audio.mono.shape[-1] / DEFAULT_CONFIG.sample_rate
    whole = replace(DEFAULT_CONFIG, descriptor_budget_s=duration + 1.0)
    out = []
    for config in (DEFAULT_CONFIG, whole):
        features = extract(
            audio.mono,
            config,
            loudness_lufs=audio.loudness_lufs,
            mono_loudness_lufs=audio.mono_loudness_lufs,
        )
        out.append({"tempo": features.tempo_bpm, **vars(features.timbre)})
    return duration, out[0], out[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--songs", type=Path, nargs="*")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    songs = args.songs or default_songs()
    if not songs:
        sys.exit("no long songs: install wesnoth-1.16-music or pass --songs")
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.jobs, mp_context=context) as pool:
        results = list(pool.map(analyse, [str(s) for s in songs]))
    durations = [r[0] for r in results]
    print(f"{len(songs)} songs of {min(durations):.0f}-{max(durations):.0f} s")
    print(f"{'descriptor':11s} {'r':>8s} {'mean':>7s} {'max':>7s}  (sampled vs whole song)")
    for name in ("tempo", *TIMBRE):
        sampled = np.array([r[1][name] for r in results])
        whole = np.array([r[2][name] for r in results])
        diff = np.abs(sampled - whole)
        if name == "reverb":
            print(f"{name:11s} same decision on {np.sum(sampled == whole)} of {len(songs)}")
        elif name == "tempo":
            within = np.mean(diff <= 0.04 * whole)
            print(f"{name:11s} within 4 % on {within:.0%}; mean {diff.mean():.2f} bpm")
        else:
            r = np.corrcoef(sampled, whole)[0, 1]
            print(f"{name:11s} {r:8.4f} {diff.mean():7.3f} {diff.max():7.3f}")


if __name__ == "__main__":
    main()
