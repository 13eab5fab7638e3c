"""``music-emotion-train``: features, cross-validation, final fit, ONNX export, model card.

Example (the shipped model; ``--force`` replaces its folder)
------------------------------------------------------------
$ music-emotion-train --data ../shared/datasets --out model_store --force

Every option defaults to the command that made the shipped model: its name and version
come from :data:`app.settings.SHIPPED_MODEL`, the candidates from
:data:`SHIPPED_CANDIDATES`, and musicnn's network from the shipped model's own copy.
Your own labelled music instead (a CSV with header ``path,valence,arousal``)::

$ music-emotion-train --csv clips.csv --out my_models
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from app.calibration import CARD_KEY as CALIBRATION_KEY
from app.features.musicnn import EMBEDDING_OUTPUT, graph_sha256
from app.features.windows import EMBEDDING_INPUT
from app.model import CARD_FILE, EMBEDDER_FILE, MODEL_FILE
from app.settings import SHIPPED_MODEL, default_model_path
from training import calibration
from training.baselines import models_of
from training.card import build_card, write_card
from training.card_page import PAGE_FILE, RESEARCH_FILE, write_card_page
from training.data import EMOTIFY, make_songs, stack_windows
from training.datasets import DATASETS, Item, load
from training.export import check_parity, export_onnx
from training.features import extract_all
from training.metrics import METRIC_LABELS, metrics_of
from training.musicnn_convert import licence_path
from training.musicnn_features import DEFAULT_CACHE as DEFAULT_MUSICNN_CACHE
from training.musicnn_features import SHIPPED_MUSICNN, embed_all
from training.network import Blend
from training.out_of_fold import out_of_fold_rows, write_out_of_fold
from training.selection import (
    CANDIDATES,
    candidate_configs,
    nested_cross_validate,
    over_repeats,
    select,
)
from training.spotify import SPOTIFY_FILE, spotify_targets
from training.train import TrainConfig, emotify_map_of, train_network

DEFAULT_DATASETS = ("emotify", "4q")
"""Trained on when ``--datasets`` is not given (those whose folder exists under --data)."""

SHIPPED_CANDIDATES = ("musicnn", "musicnn+tags", "musicnn+linear", "musicnn+tags+linear")
"""The default ``--candidates``: those the shipped model was chosen among."""

TRAIN_OPTIONS: dict[str, tuple[str, str | None]] = {
    "--epochs": ("epochs", None),
    "--batch-size": ("batch_size", None),
    "--lr": ("learning_rate", None),
    "--weight-decay": ("weight_decay", None),
    "--dropout": ("dropout", None),
    "--hidden": ("hidden", "0: linear branches"),
    "--ensemble": ("ensemble", "seeds averaged"),
    "--train-hop": ("train_hop_s", "hop between the training crops, s"),
    "--gems-weight": ("gems_weight", None),
    "--4q-weight": ("fourq_weight", None),
    "--va-weight": ("va_weight", None),
    "--loudness-jitter": ("loudness_jitter_lu", "half-width of the noise on a crop's LUFS"),
}
"""Option -> (the :class:`TrainConfig` field it sets, help); its type and default are the
field's."""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    d = TrainConfig()
    parser = argparse.ArgumentParser(
        prog="music-emotion-train",
        description="Train, cross-validate and export the valence/arousal model.",
    )
    parser.add_argument("--data", type=Path, default=None, help="the shared datasets folder")
    parser.add_argument(
        "--datasets",
        nargs="+",
        choices=DATASETS,
        default=None,
        help="datasets under --data to train on (default: emotify and 4q, those present)",
    )
    parser.add_argument(
        "--emomusic-audio", type=Path, default=None, help="emoMusic's clips_45seconds folder"
    )
    parser.add_argument(
        "--csv",
        type=Path,
        default=None,
        help="a CSV of your own labelled clips (header path,valence,arousal; optional "
        "artist and genre); alone, or beside the datasets of --data",
    )
    parser.add_argument(
        "--csv-scale",
        type=float,
        nargs=2,
        metavar=("LO", "HI"),
        default=(-1.0, 1.0),
        help="scale of the CSV's valence/arousal values (mapped to [-1, 1])",
    )
    parser.add_argument("--out", type=Path, default=Path("model_store"))
    parser.add_argument("--name", default=SHIPPED_MODEL[0])
    parser.add_argument("--version", default=SHIPPED_MODEL[1])
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace the folder <out>/<name>-<version> if it exists (else refused)",
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--candidates",
        nargs="+",
        choices=CANDIDATES,
        default=list(SHIPPED_CANDIDATES),
        help="configurations to choose among by inner cross-validation (nested in the "
        "outer CV); one candidate skips the selection",
    )
    parser.add_argument("--inner-folds", type=int, default=4, help="folds of the selection")
    parser.add_argument(
        "--inner-splits",
        type=int,
        default=2,
        help="run only this many of the inner folds (1: one validation split; 0: all)",
    )
    parser.add_argument(
        "--repeats", type=int, default=2, help="outer CV repeated with this many split seeds"
    )
    for flag, (field, help_text) in TRAIN_OPTIONS.items():
        default = getattr(d, field)
        metavar = flag.removeprefix("--").replace("-", "_").upper()
        parser.add_argument(
            flag, dest=field, metavar=metavar, type=type(default), default=default, help=help_text
        )
    parser.add_argument("--cache", type=Path, default=Path(".cache/features"))
    parser.add_argument(
        "--musicnn-cache",
        type=Path,
        default=DEFAULT_MUSICNN_CACHE,
        help="cache of musicnn embeddings (computed when a candidate reads them)",
    )
    parser.add_argument(
        "--musicnn",
        dest="musicnn_model",
        type=Path,
        default=SHIPPED_MUSICNN,
        metavar="PATH",
        help="the musicnn network a candidate reads and the model carries, without "
        "extension (PATH.onnx, PATH.json, PATH-LICENSE.md; default: the shipped model's)",
    )
    parser.add_argument(
        "--oof",
        type=Path,
        default=None,
        metavar="CSV",
        help="also write the first outer cross-validation's out-of-fold song predictions "
        "(path, dataset, fold, valence, arousal, quadrant and its probability) to CSV",
    )
    parser.add_argument("--jobs", type=int, default=2, help="feature extraction processes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    args = parser.parse_args(argv)
    if args.folds < 2:
        parser.error("--folds must be at least 2")
    if args.ensemble < 1:
        parser.error("--ensemble must be at least 1")
    if args.inner_folds < 2 or args.repeats < 1 or args.inner_splits < 0:
        parser.error(
            "--inner-folds must be at least 2, --repeats at least 1, --inner-splits at least 0"
        )
    args.inner_splits = min(args.inner_splits, args.inner_folds) or None  # None: every fold
    if args.data is None:
        if args.csv is None or args.datasets:
            parser.error("give --data (the datasets folder) or --csv (your labelled clips)")
        args.datasets = []
    elif args.datasets is None:
        args.datasets = [n for n in DEFAULT_DATASETS if (args.data / n).is_dir()]
        if not args.datasets and args.csv is None:
            parser.error(f"none of {', '.join(DEFAULT_DATASETS)} under {args.data}")
    reads_musicnn = any(CANDIDATES[n].get("musicnn") for n in args.candidates)
    if reads_musicnn and not args.musicnn_model.with_suffix(".onnx").is_file():
        parser.error(f"no musicnn network at {args.musicnn_model}.onnx (see --musicnn)")
    return args


def load_items(args: argparse.Namespace) -> dict[str, list[Item]]:
    """Every requested dataset's items, keyed by dataset name."""
    from training.datasets import emomusic, generic_csv

    items = {}
    for name in args.datasets:
        if name == "emomusic":
            items[name] = emomusic.load(args.data / name, args.emomusic_audio)
        else:
            items[name] = load(name, args.data)
    if args.csv is not None:
        items["csv"] = generic_csv.load(args.csv, tuple(args.csv_scale))
    return items


def copy_embedder(folder: Path, source: Path) -> dict:
    """Copy the musicnn network ``source`` (graph, card, licence) into a model's ``folder``
    as ``musicnn.*``; return the model card's ``embedding`` entry."""
    target = folder / EMBEDDER_FILE
    for suffix in (".onnx", ".json"):
        shutil.copyfile(source.with_suffix(suffix), target.with_suffix(suffix))
    shutil.copyfile(licence_path(source), licence_path(target))
    card = json.loads(source.with_suffix(".json").read_text())
    return {
        "network": card["name"],
        "source": card["source"],
        "licence": f"{card['licence'].split(' (')[0]} ({licence_path(target).name})",
        "graph": f"{EMBEDDER_FILE}.onnx",
        "sha256": graph_sha256(target),
        "front_end": card["front_end"],
        "output": EMBEDDING_OUTPUT,
        "width": 2 * card["outputs"][EMBEDDING_OUTPUT],
        "input": f"{EMBEDDING_INPUT}: per window, the mean then the standard deviation of "
        f"the {EMBEDDING_OUTPUT} values of the 3-s patches whose centre lies in the window",
        **({"optimisation": card["optimisation"]} if "optimisation" in card else {}),
    }


def format_summary(summary: dict) -> str:
    """Plain-text tables of the cross-validated metrics (mean +- std over folds)."""
    lines = []
    for dataset, models in summary.items():
        metrics = metrics_of(dataset)
        lines.append(f"{dataset}:")
        lines.append(f"  {'model':<18}" + "".join(f"{METRIC_LABELS[m]:>16}" for m in metrics))
        for model in models_of(dataset):
            if model not in models:
                continue
            cells = []
            for metric in metrics:
                value = models[model][metric]
                cells.append(
                    f"{value['mean']:.3f}+-{value['std']:.3f}"
                    if value["mean"] is not None
                    else "n/a"
                )
            lines.append(f"  {model:<18}" + "".join(f"{c:>16}" for c in cells))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the whole pipeline; returns the process exit code."""
    args = parse_args(argv)
    target = args.out / f"{args.name}-{args.version}"
    if target.exists() and not args.force:
        print(
            f"music-emotion-train: {target} exists; pass --force to replace it",
            file=sys.stderr,
        )
        return 1
    progress = not args.no_progress
    config = TrainConfig(**{field: getattr(args, field) for field, _ in TRAIN_OPTIONS.values()})

    items = load_items(args)
    all_items = [item for dataset_items in items.values() for item in dataset_items]
    print(f"{len(all_items)} songs from {', '.join(items)}", file=sys.stderr)

    start = time.perf_counter()
    features = extract_all(
        [item.path for item in all_items], args.cache, jobs=args.jobs, progress=progress
    )
    extracted = time.perf_counter()

    candidates = candidate_configs(args.candidates, config)
    embeddings = None
    if any(c.musicnn for c in candidates.values()):
        paths = [item.path for item in all_items]
        outputs = embed_all(paths, args.musicnn_cache, args.musicnn_model, progress=progress)
        embeddings = [o[EMBEDDING_OUTPUT] for o in outputs]
    embedded = time.perf_counter()
    spotify = None
    if any(c.spotify_weight > 0 for c in candidates.values()):
        spotify = spotify_targets(all_items, args.data / SPOTIFY_FILE)
    songs = make_songs(
        all_items,
        features,
        train_hop_s=config.train_hop_s,
        embeddings=embeddings,
        spotify=spotify,
    )
    selecting = len(candidates) > 1
    inner = args.inner_splits or args.inner_folds
    per_fit = (len(candidates) * inner if selecting else 0) + config.ensemble
    total = args.epochs * per_fit * (args.repeats * args.folds + 1)
    with tqdm(total=total, desc="training", unit="epoch", disable=not progress) as bar:
        runs = [
            nested_cross_validate(
                songs,
                args.folds,
                candidates,
                args.inner_folds,
                inner_splits=args.inner_splits,
                seed=args.seed + repeat,
                on_epoch=bar.update,
                baselines=repeat == 0,
            )
            for repeat in range(args.repeats)
        ]
        choice = select(
            songs,
            candidates,
            args.inner_folds,
            splits=args.inner_splits,
            seed=args.seed,
            on_epoch=bar.update,
        )
        config = candidates[choice.name]
        model = train_network(songs, config, seed=args.seed, on_epoch=bar.update)
    trained = time.perf_counter()
    cv = runs[0][0]

    inputs = stack_windows(songs)
    args.out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=args.out, prefix=f".{target.name}-"))
    try:
        export_onnx(model, staging / MODEL_FILE)
        embedding = copy_embedder(staging, args.musicnn_model) if config.musicnn else None
        research = default_model_path() / RESEARCH_FILE
        if research.is_file():
            shutil.copyfile(research, staging / RESEARCH_FILE)
        difference = check_parity(model, staging / MODEL_FILE, inputs)
        has_emotify = any(s.dataset == EMOTIFY for s in songs)
        card = build_card(
            name=args.name,
            version=args.version,
            items=items,
            n_windows=len(inputs["mfcc"]),
            train_config=config,
            n_folds=args.folds,
            seed=args.seed,
            cv_summary=cv.summary(),
            mood_summary=cv.mood_summary(),
            selection={
                "candidates": {n: CANDIDATES[n] for n in candidates},
                "inner_folds": args.inner_folds,
                "inner_splits": inner,
                "chosen": choice.name,
                "scores": choice.scores,
                "summaries": choice.summaries,
                "chosen_per_outer_fold": [chosen for _, chosen in runs],
                "repeats": over_repeats([run.summary() for run, _ in runs]),
                "seeds": over_repeats(cv.member_summaries()) if config.ensemble > 1 else {},
            },
            parity=difference,
            emotify_map=emotify_map_of(model) if has_emotify else None,
            embedding=embedding,
            linear_heads=model.record if isinstance(model, Blend) else None,
        )
        seeds = [args.seed + repeat for repeat in range(args.repeats)]
        entry = calibration.card_entry([run for run, _ in runs], songs, seeds)
        if entry is not None:
            card[CALIBRATION_KEY] = entry
        write_card(card, staging / CARD_FILE)
        write_card_page(card, staging, cv, songs)
        if entry is not None:
            calibration.write_page(entry, staging, PAGE_FILE)
        for file in staging.iterdir():
            file.chmod(0o644)
    except BaseException:
        shutil.rmtree(staging)
        raise
    # Replace a previous build of this version (--force) only once the new one is complete.
    if target.exists():
        shutil.rmtree(target)
    staging.chmod(0o755)  # mkdtemp makes it private; the service may run as another user
    staging.rename(target)
    if args.oof is not None:
        rows = out_of_fold_rows(cv, songs, [item.path for item in all_items], args.seed)
        write_out_of_fold(rows, args.oof)
    print(format_summary(card["evaluation"]["metrics"]))
    print(
        f"ONNX parity max |diff| {difference:.2e}; wrote {target}\n"
        f"time: features {extracted - start:.0f} s, musicnn {embedded - extracted:.0f} s, "
        f"training {trained - embedded:.0f} s, "
        f"total {time.perf_counter() - start:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
