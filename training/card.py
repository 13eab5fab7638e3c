"""The model card's JSON: what :class:`app.model.EmotionModel` checks, and what a reader needs.

Besides the contract keys (name, version, feature_config, scalar_names, inputs,
outputs), ``card.json`` records the data, their terms and targets, the training settings
and the cross-validated metrics of the network beside those of the baselines, per
dataset. :mod:`training.card_page` writes the human-readable page beside it.
"""

from __future__ import annotations

import json
import platform
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import onnxruntime
import sklearn
import torch

from app.features.config import DEFAULT_CONFIG, FeatureConfig
from app.features.windows import EMBEDDING_INPUT, SCALAR_NAMES
from app.model import MOODS, MOODS_OUTPUT
from training.baselines import models_of
from training.data import EMOTIFY, FOURQ
from training.datasets import Item, dataset
from training.export import OPSET, PARITY_ATOL
from training.features import FEATURES_VERSION
from training.network import EMBEDDING_SIZE, INPUT_NAMES, OUTPUT_NAMES
from training.selection import selection_figures
from training.train import TrainConfig

MODEL_DESCRIPTIONS = {
    "network": "this model (architecture and training settings of this card)",
    "baseline_mean": (
        "the training folds' mean target (Emotify: r undefined; 4Q: the mean of the axis "
        "signs, so AUC 0.5 and one quadrant for every song)"
    ),
    "baseline_genre": "each song's genre mean over the training folds",
    "baseline_ridge": (
        "ridge regression (penalty by leave-one-out on the training folds) on the song's "
        "time-averaged pooled statistics (the network's pooled inputs)"
    ),
    "baseline_logistic": (
        "per axis, L2 logistic regression of the sign (penalty by inner 5-fold CV) on the "
        "same pooled statistics; the signs of its decision values give the quadrant"
    ),
    "baseline_ridge_musicnn": (
        "the same ridge regression on the song's time-averaged musicnn statistics (the "
        "network's embedding input: mean and std of the penultimate layer over each "
        "window's 3-s patches, averaged over windows)"
    ),
    "baseline_ridge_both": "the same ridge regression on the pooled and musicnn statistics",
    "baseline_logistic_musicnn": (
        "the same logistic regression on the song's time-averaged musicnn statistics"
    ),
    "baseline_logistic_both": ("the same logistic regression on the pooled and musicnn statistics"),
}

MOOD_DESCRIPTIONS = {
    "network": "this model's moods output (the GEMS head)",
    "baseline_mean": "the training folds' mean shares for every song",
    "baseline_ridge": (
        "ridge regression of the shares on the pooled statistics, clipped at 0 and renormalised"
    ),
}


def contract(
    config: FeatureConfig = DEFAULT_CONFIG,
    embedding: bool = False,
    embedding_width: int = EMBEDDING_SIZE,
) -> dict[str, list[dict]]:
    """The ``inputs`` and ``outputs`` entries: names, shapes (batch axis named) and dtypes;
    with ``embedding``, the graph also reads musicnn's embedding (``embedding_width``
    values per window)."""
    shapes = {
        "mfcc": ["batch", config.n_mfcc, config.n_steps],
        "chroma": ["batch", config.n_chroma, config.n_steps],
        "spectral": ["batch", 2, config.n_steps],
        "scalars": ["batch", len(SCALAR_NAMES)],
        EMBEDDING_INPUT: ["batch", embedding_width],
    }
    names = (*INPUT_NAMES, EMBEDDING_INPUT) if embedding else INPUT_NAMES
    outputs = [
        {"name": n, "shape": ["batch"], "dtype": "float32", "range": [-1.0, 1.0]}
        for n in OUTPUT_NAMES
    ]
    outputs.append(
        {
            "name": MOODS_OUTPUT,
            "shape": ["batch", len(MOODS)],
            "dtype": "float32",
            "range": [0.0, 1.0],
            "labels": list(MOODS),
            "description": "GEMS shares of each window, summing to 1",
        }
    )
    return {
        "inputs": [{"name": n, "shape": shapes[n], "dtype": "float32"} for n in names],
        "outputs": outputs,
    }


def data_section(items: Mapping[str, Sequence[Item]], n_windows: int) -> dict:
    """Per dataset: citation, terms of use, target derivation, song count and songs per
    genre/quadrant."""
    section = {}
    for name, dataset_items in items.items():
        module = dataset(name)
        entry = {
            "citation": module.CITATION,
            "terms": getattr(module, "TERMS", "as its publishers state (see the citation)"),
            "targets": module.TARGETS,
            "songs": len(dataset_items),
            "groups": dict(sorted(Counter(i.genre or "all" for i in dataset_items).items())),
        }
        artists = {i.artist for i in dataset_items if i.artist}
        if artists:
            entry["artists"] = len(artists)
        quadrants = Counter(f"Q{i.quadrant}" for i in dataset_items if i.quadrant)
        if quadrants:
            entry["quadrants"] = dict(sorted(quadrants.items()))
        section[name] = entry
    return {"datasets": section, "windows": n_windows}


def build_card(
    *,
    name: str,
    version: str,
    items: Mapping[str, Sequence[Item]],
    n_windows: int,
    train_config: TrainConfig,
    n_folds: int,
    seed: int,
    cv_summary: Mapping,
    parity: float,
    mood_summary: Mapping | None = None,
    selection: Mapping | None = None,
    emotify_map: Mapping | None = None,
    embedding: Mapping | None = None,
    config: FeatureConfig = DEFAULT_CONFIG,
) -> dict:
    """Assemble the card as a JSON-ready dict."""
    card = {
        "name": name,
        "version": version,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "description": (
            "Two-branch network (a valence branch and an arousal branch, each a small MLP "
            "ending in tanh) over statistics pooled in the graph from each 20-s window: MFCC "
            "means, spreads, deltas and percentiles; spectral centroid/rolloff statistics; "
            "chroma statistics and harmony descriptors (key clarity and mode from the 24 "
            "Krumhansl-Kessler key profiles, the scale-degree profile relative to the best "
            "major and minor key, the histogram of major/minor triads by root relative to the "
            "key, major/minor triad share, local (2-s) mode and key stability, interval "
            "content, harmonic change); a pulse-clarity measure from the loudness envelope; "
            "the song-level scalars."
            + (
                " Both branches also read, beside the pooled statistics, musicnn's embedding "
                "of the window (MSD_musicnn's 200-unit penultimate layer per 3-s patch, its "
                "mean and standard deviation over the window's patches, standardised); the "
                "musicnn network runs beside this graph (`musicnn.onnx`, see `embedding`)."
                if train_config.musicnn
                else ""
            )
            + " A GEMS head on both branches' hidden layers learns Emotify's nine GEMS shares "
            "and is exported as the `moods` output (softmax: shares summing to 1)."
            + (
                " A training-only head learns 4Q's frequent AllMusic mood tags as an "
                "auxiliary multi-label target."
                if train_config.tag_weight > 0
                else ""
            )
            + (
                f" 4Q's songs weigh PQuad ** {train_config.confidence_power:g} in the sign "
                "loss (PQuad: the share of a song's mood tags that agree with its quadrant)."
                if train_config.confidence_power > 0
                else ""
            )
            + " Outputs are calibrated so that 0 means neutral: the signs of valence and "
            "arousal give the Russell quadrant. Inputs are raw features: pooling and "
            "standardisation are in the graph."
        ),
        "aggregation": (
            "Songs longer than one 20-s window are cut into windows every 10 s (the last one "
            "aligned with the end) and predicted per window; the song's valence and arousal "
            "are the means over its windows, and the service returns their standard deviation "
            "over windows as the spread. Songs shorter than a window are tiled to fill it. "
            "Cross-validation scores songs in exactly this way."
        ),
        "data": data_section(items, n_windows),
        "feature_config": config.to_dict(),
        "features_version": FEATURES_VERSION,
        "scalar_names": list(SCALAR_NAMES),
        **contract(
            config,
            embedding=train_config.musicnn,
            embedding_width=(embedding or {}).get("width", EMBEDDING_SIZE),
        ),
        **({"embedding": embedding} if embedding else {}),
        "training": {
            **asdict(train_config),
            "seed": seed,
            "loss": (
                "sum over datasets, each averaged over its windows in the batch: Emotify "
                "valence/arousal: squared error between the standardised targets and a "
                "learnable affine map (offset + exp(log_scale) * output) of each output; "
                "Emotify GEMS: cross-entropy of the normalised listener shares "
                "(x gems_weight); 4Q: logistic loss of each axis's sign with logit "
                "k * output, k > 0 learnable (x fourq_weight), which makes 0 the decision "
                "boundary; other valence/arousal sets: squared error of the outputs "
                "(x va_weight)"
            ),
            "crops": (
                f"training windows are 20-s crops every {train_config.train_hop_s:g} s "
                "(the service's windows hop 10 s); the loudness scalar is jittered by "
                f"+-{train_config.loudness_jitter_lu:g} LU"
            ),
            "final_fit": "all songs of every dataset, same settings as in cross-validation",
        },
        "evaluation": {
            "method": (
                f"{n_folds}-fold cross-validation over songs of all datasets at once "
                "(scikit-learn StratifiedGroupKFold): an artist's songs never sit in two folds "
                "where the artist is known (4Q); Emotify has no artist, so each track is its "
                "own group; folds are stratified by dataset and genre (Emotify) or quadrant "
                "(4Q). One network per fold is trained on every dataset's training songs; "
                "baselines are fitted per dataset on the same songs. Metrics per song (the "
                "mean of its windows' predictions) on each held-out fold, then mean and std "
                "over folds."
                + (
                    " The configuration is chosen inside each outer fold, on its training "
                    f"songs only, by an inner {selection['inner_folds']}-fold CV among the "
                    "candidates (nested CV), so these figures score the whole procedure "
                    "(choose, then train) on songs it never saw; the shipped configuration "
                    "is the one the same inner CV picks on all songs."
                    if selection and selection.get("scores")
                    else ""
                )
            ),
            "scores": {
                EMOTIFY: (
                    "Pearson r (unchanged by any increasing affine map), R² and RMSE. For the "
                    "network, R²/RMSE score the outputs mapped onto Emotify's compressed scale "
                    "by the affine map learnt on the training folds (see emotify_map); the "
                    "served outputs themselves are on the calibrated [-1, 1] scale."
                ),
                FOURQ: (
                    "ROC-AUC of valence for Q1+Q4 vs Q2+Q3 and of arousal for Q1+Q2 vs Q3+Q4; "
                    "quadrant accuracy from the signs of the served valence and arousal."
                ),
            },
            "models": {
                m: MODEL_DESCRIPTIONS[m]
                for m in dict.fromkeys(m for d in cv_summary for m in models_of(d))
                if any(m in models for models in cv_summary.values())
            },
            "metrics": cv_summary,
        },
        "onnx": {
            "opset": OPSET,
            "parity_max_abs_diff": parity,
            "parity_tolerance": PARITY_ATOL,
        },
        "software": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "onnxruntime": onnxruntime.__version__,
            "scikit-learn": sklearn.__version__,
        },
    }
    if mood_summary:
        card["evaluation"]["moods"] = {
            "method": (
                "Emotify, out-of-fold per song: Pearson r over songs between each GEMS "
                "category's predicted share (the mean of the song's windows) and its "
                "listener share (the fraction of listeners who ticked it, normalised to sum "
                "1 over the nine); and how often the largest predicted share is the "
                "listeners' most ticked category. Mean and std over folds."
            ),
            "models": {m: MOOD_DESCRIPTIONS[m] for m in mood_summary},
            "metrics": mood_summary,
        }
    if selection:
        card["evaluation"]["selection_protocol"] = {
            "score": "mean of " + ", ".join(f"{d} {m}" for d, m in selection_figures(cv_summary)),
            **selection,
        }
    if emotify_map is not None:
        card["emotify_map"] = {
            "description": (
                "Emotify's compressed scale from the served outputs: intercept + slope * "
                "output, learnt by the final fit"
            ),
            **emotify_map,
        }
    return card


def write_card(card: Mapping, path: Path) -> None:
    """Write ``card`` as indented JSON."""
    Path(path).write_text(json.dumps(card, indent=2) + "\n")
