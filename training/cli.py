"""``music-emotion-train``: features, cross-validation, final fit, ONNX export, model card.

Example
-------
$ music-emotion-train --data ../shared/datasets --out model_store --name music-emotion \\
      --version 0.1.0 --folds 5 --epochs 20 --cache .cache/features --jobs 2 --seed 0
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from app.model import CARD_FILE, MODEL_FILE
from training.card import build_card, write_card
from training.datasets import DATASETS, load
from training.export import check_parity, export_onnx
from training.features import extract_all
from training.fit import (
    MODELS,
    TrainConfig,
    cross_validate,
    make_songs,
    stack_windows,
    train_network,
)
from training.network import OUTPUT_NAMES


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(
        prog="music-emotion-train",
        description="Train, cross-validate and export the valence/arousal model.",
    )
    parser.add_argument("--data", type=Path, required=True, help="the shared datasets folder")
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=["emotify"])
    parser.add_argument("--out", type=Path, default=Path("model_store"))
    parser.add_argument("--name", default="music-emotion")
    parser.add_argument("--version", default="0.1.0")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--lr", type=float, default=defaults.learning_rate)
    parser.add_argument("--weight-decay", type=float, default=defaults.weight_decay)
    parser.add_argument("--dropout", type=float, default=defaults.dropout)
    parser.add_argument(
        "--loudness-jitter", type=float, default=defaults.loudness_jitter_lu, help="LU"
    )
    parser.add_argument("--cache", type=Path, default=Path(".cache/features"))
    parser.add_argument("--jobs", type=int, default=2, help="feature extraction processes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    args = parser.parse_args(argv)
    if args.folds < 2:
        parser.error("--folds must be at least 2")
    return args


def format_summary(summary: dict) -> str:
    """A plain-text table of the cross-validated metrics (mean +- std over folds)."""
    lines = [f"{'model':<16}{'output':<9}{'pearson_r':>16}{'r2':>16}{'rmse':>16}"]
    for model in MODELS:
        for output in OUTPUT_NAMES:
            cells = []
            for metric in ("pearson_r", "r2", "rmse"):
                value = summary[model][output][metric]
                cells.append(
                    f"{value['mean']:.3f} +- {value['std']:.3f}"
                    if value["mean"] is not None
                    else "n/a"
                )
            lines.append(f"{model:<16}{output:<9}" + "".join(f"{c:>16}" for c in cells))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the whole pipeline; returns the process exit code."""
    args = parse_args(argv)
    progress = not args.no_progress
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        weight_decay=args.weight_decay,
        dropout=args.dropout,
        loudness_jitter_lu=args.loudness_jitter,
    )

    items = {name: load(name, args.data) for name in args.datasets}
    all_items = [item for dataset_items in items.values() for item in dataset_items]
    print(f"{len(all_items)} songs from {', '.join(items)}", file=sys.stderr)

    start = time.perf_counter()
    features = extract_all(
        [item.path for item in all_items], args.cache, jobs=args.jobs, progress=progress
    )
    extracted = time.perf_counter()

    songs = make_songs(all_items, features)
    with tqdm(
        total=args.epochs * (args.folds + 1), desc="training", unit="epoch", disable=not progress
    ) as bar:
        cv = cross_validate(songs, args.folds, config, seed=args.seed, on_epoch=bar.update)
        model = train_network(songs, config, seed=args.seed, on_epoch=bar.update)
    trained = time.perf_counter()

    inputs, _, _ = stack_windows(songs)
    target = args.out / f"{args.name}-{args.version}"
    args.out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=args.out, prefix=f".{target.name}-"))
    try:
        export_onnx(model, staging / MODEL_FILE)
        difference = check_parity(model, staging / MODEL_FILE, inputs)
        card = build_card(
            name=args.name,
            version=args.version,
            items=items,
            n_windows=len(inputs["mfcc"]),
            train_config=config,
            n_folds=args.folds,
            seed=args.seed,
            cv_summary=cv.summary(),
            parity=difference,
        )
        write_card(card, staging / CARD_FILE)
    except BaseException:
        shutil.rmtree(staging)
        raise
    # Replace a previous build of this version only once the new one is complete.
    if target.exists():
        shutil.rmtree(target)
    staging.chmod(0o755)  # mkdtemp makes it private; the service may run as another user
    staging.rename(target)
    print(format_summary(card["evaluation"]["metrics"]))
    print(
        f"ONNX parity max |diff| {difference:.2e}; wrote {target}\n"
        f"time: features {extracted - start:.0f} s, training {trained - extracted:.0f} s, "
        f"total {time.perf_counter() - start:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
