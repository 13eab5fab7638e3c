"""Linear probes of embedding networks: which representation is worth a network?

Each representation is one or more of a converted network's outputs (``taggram``,
``penultimate``, ``max_pool``, ``mean_pool``; see :mod:`app.features.musicnn`), pooled
per clip into the mean and standard deviation over its 3-s patches
(:func:`clip_statistics`); several are concatenated. On the
training's grouped folds (:func:`training.cross_validation.split_folds`, same seed), the baselines'
own code scores them: ridge regression of Emotify's valence/arousal
(:func:`training.baselines.fit_ridge`) and per-axis logistic regression of 4Q's signs
(:func:`training.baselines.fit_logistic`), each fitted on the fold's training songs only.

Example::

    python -m training.probe --data ../shared/datasets --cache .cache/features \\
        --network msd=model_store/music-emotion-0.3.0/musicnn=.cache/musicnn \\
        --probe msd:penultimate --probe msd:penultimate,msd:taggram
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from training.baselines import fit_logistic, fit_ridge
from training.cross_validation import split_folds
from training.data import EMOTIFY, FOURQ, Song
from training.metrics import quadrant_metrics, regression_metrics

PROBE_METRICS = (
    (EMOTIFY, "valence_r"),
    (EMOTIFY, "arousal_r"),
    (FOURQ, "valence_auc"),
    (FOURQ, "arousal_auc"),
    (FOURQ, "quadrant_accuracy"),
)


def probe(
    songs: Sequence[Song], inputs: Callable[[Song], np.ndarray], n_folds: int = 5, seed: int = 0
) -> dict[str, dict[str, float]]:
    """``"dataset metric"`` -> {"mean", "std", "values"} over the folds of a linear probe of
    ``inputs`` (ridge for Emotify, logistic for 4Q), fitted on each fold's training songs."""
    per_fold: dict[str, list[float]] = {f"{d} {m}": [] for d, m in PROBE_METRICS}
    for train, test in split_folds(songs, n_folds, seed):
        for dataset in (EMOTIFY, FOURQ):
            fit = [songs[i] for i in train if songs[i].dataset == dataset]
            held = [songs[i] for i in test if songs[i].dataset == dataset]
            if not fit or not held:
                continue
            if dataset == EMOTIFY:
                predicted = fit_ridge(fit, inputs=inputs)(held)
                metrics = regression_metrics(np.stack([s.target for s in held]), predicted)
            else:
                predicted = fit_logistic(fit, inputs)(held)
                metrics = quadrant_metrics(np.array([s.quadrant for s in held]), predicted)
            for d, m in PROBE_METRICS:
                if d == dataset:
                    per_fold[f"{d} {m}"].append(metrics[m])
    return {
        name: {"mean": float(np.mean(v)), "std": float(np.std(v)), "values": v}
        for name, v in per_fold.items()
        if v
    }


def clip_statistics(
    embeddings: Sequence[Mapping[str, np.ndarray]], output: str = "penultimate"
) -> np.ndarray:
    """Per clip, the mean then the standard deviation over its patches of one output:
    (clips, 2 * size)."""
    return np.stack(
        [np.concatenate([e[output].mean(axis=0), e[output].std(axis=0)]) for e in embeddings]
    )


def representation(
    outputs: Mapping[str, Sequence[Mapping[str, np.ndarray]]], spec: str
) -> np.ndarray:
    """(clips, values) clip statistics of ``spec`` (``net:output[,net:output...]``),
    where ``outputs[net]`` holds every clip's outputs of that network."""
    parts = []
    for part in spec.split(","):
        net, output = part.split(":")
        parts.append(clip_statistics(outputs[net], output))
    return np.concatenate(parts, axis=1)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: see the module's docstring. Prints and (with --out) writes JSON."""
    from training.cli import load_items
    from training.data import make_songs
    from training.features import extract_all
    from training.musicnn_features import embed_all

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True, help="training feature cache")
    parser.add_argument(
        "--network",
        action="append",
        required=True,
        help="NAME=MODEL=CACHE: a converted network (path without extension) and its cache",
    )
    parser.add_argument("--probe", action="append", required=True, help="net:output[,...]")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    items = load_items(argparse.Namespace(data=args.data, datasets=[EMOTIFY, FOURQ], csv=None))
    all_items = [item for part in items.values() for item in part]
    paths = [item.path for item in all_items]
    songs = make_songs(all_items, extract_all(paths, args.cache, jobs=1, progress=False))
    outputs = {}
    for spec in args.network:
        name, model, cache = spec.split("=")
        outputs[name] = embed_all(paths, Path(cache), Path(model), progress=True)
    results = {}
    for spec in args.probe:
        table = dict(zip((s.key for s in songs), representation(outputs, spec), strict=True))
        results[spec] = probe(songs, lambda s, t=table: t[s.key], args.folds, args.seed)
        cells = "  ".join(f"{v['mean']:.3f}+-{v['std']:.3f}" for v in results[spec].values())
        print(f"{spec:<50} {cells}", flush=True)
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
