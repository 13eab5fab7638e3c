"""Fidelity of the timbral descriptors against ``timbral_models`` 0.4.0 on the reference clips.

Usage (from the repository root, venv active)::

    python benchmarks/score_timbre.py [--save values.json] [--against values.json] [--jobs 2]
        [--fullband] [--rate 44100]

Analyses the 40 clips of ``../shared/datasets/timbral_reference.csv`` as the service does
(decode, integrated loudness, :func:`app.features.timbre.timbre`) and prints, per descriptor,
Pearson r and the mean and largest absolute difference from the reference's values (reverb:
the share of equal decisions). ``--save`` writes this run's values; ``--against`` compares
them with a saved run's (largest relative difference per descriptor), to tell a change that
alters feature values from one that only moves them by rounding.

``--fullband`` scores the same clips encoded full-band (``fullband/`` of the datasets, at
their original rates, against ``timbral_models`` run on those files), also per original
rate. ``--rate 44100`` feeds the timbral models a 44.1-kHz signal instead of the service's
22.05-kHz one: the file read at its own rate (libsndfile) and resampled (soxr 'HQ').
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import fields
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATASETS = REPO / ".." / "shared" / "datasets"
REFERENCE = DATASETS / "timbral_reference.csv"

from app.features.timbre import Timbre  # noqa: E402  (the repository is on the path now)

TIMBRE = tuple(field.name for field in fields(Timbre))
REFERENCE_COLUMN = {"boominess": "booming"}
SR = 22050


def analyse(path: str, rate: int = SR) -> dict[str, float]:
    """The timbral descriptors of one file, as the service computes them at ``rate`` Hz."""
    from app.analysis import decode_to_mono
    from app.features.timbre import timbre
    from training.features import MAX_DURATION_S

    if rate == SR:
        audio = decode_to_mono(path, MAX_DURATION_S)
        return vars(timbre(audio.mono, SR, audio.mono_loudness_lufs)).copy()
    import soundfile as sf
    import soxr

    from app.features.loudness import integrated_loudness

    y, native = sf.read(path, dtype="float32", always_2d=True)
    y = soxr.resample(y.mean(axis=1), native, rate, quality="HQ")
    return vars(timbre(y, rate, integrated_loudness(y, rate))).copy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--save", type=Path)
    parser.add_argument("--against", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--fullband", action="store_true")
    parser.add_argument("--rate", type=int, default=SR)
    args = parser.parse_args()

    folder = DATASETS / "fullband" if args.fullband else DATASETS
    rows = list(csv.DictReader((folder / REFERENCE.name).open()))
    files = [str(folder / row["file"]) for row in rows]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.jobs, mp_context=context) as pool:
        values = list(pool.map(analyse, files, [args.rate] * len(files)))
    ours = {name: np.array([v[name] for v in values]) for name in TIMBRE}
    previous = json.loads(args.against.read_text()) if args.against else None
    score(ours, rows, previous)
    rates = sorted({row.get("sample_rate") for row in rows} - {None})
    for rate in rates if len(rates) > 1 else []:
        keep = np.array([row["sample_rate"] == rate for row in rows])
        print(f"\nclips at {rate} Hz ({keep.sum()}):")
        kept_rows = [row for row in rows if row["sample_rate"] == rate]
        score({name: values[keep] for name, values in ours.items()}, kept_rows, None)
    if args.save:
        args.save.write_text(json.dumps({n: v.tolist() for n, v in ours.items()}))


def score(ours: dict[str, np.ndarray], rows: list[dict], previous: dict | None) -> None:
    """Print each descriptor's agreement with the reference ``rows`` (and change from
    ``previous`` values, if given)."""
    print(
        f"{'descriptor':11s} {'r':>8s} {'MAD':>7s} {'max':>7s}"
        + ("  max rel. change" if previous else "")
    )
    for name in TIMBRE:
        ref = np.array([float(row[REFERENCE_COLUMN.get(name, name)]) for row in rows])
        diff = np.abs(ours[name] - ref)
        if name == "reverb":
            line = f"{name:11s} agreement {np.mean(ours[name] == ref):.3f}"
        else:
            r = np.corrcoef(ours[name], ref)[0, 1]
            line = f"{name:11s} {r:8.5f} {diff.mean():7.3f} {diff.max():7.3f}"
        if previous:
            before = np.array(previous[name])
            change = np.abs(ours[name] - before) / np.maximum(np.abs(before), 1e-12)
            line += f"  {change.max():.2e}"
        print(line)


if __name__ == "__main__":
    main()
