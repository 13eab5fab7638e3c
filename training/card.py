"""The model card: what :class:`app.model.EmotionModel` checks, and what a reader needs.

Besides the contract keys (name, version, feature_config, scalar_names, inputs,
outputs), ``card.json`` records the data and targets, the training settings and the
cross-validated metrics of the network beside those of the baselines, per dataset.
:func:`write_card_page` adds the human-readable page: ``card.md`` with the same tables
and PNG figures of the out-of-fold predictions beside it.
"""

from __future__ import annotations

import json
import platform
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import onnxruntime
import sklearn
import torch

from app.features.config import DEFAULT_CONFIG, FeatureConfig
from app.features.windows import EMBEDDING_INPUT, SCALAR_NAMES
from app.model import MOODS, MOODS_OUTPUT
from training.datasets import Item, dataset
from training.export import OPSET, PARITY_ATOL
from training.features import FEATURES_VERSION
from training.fit import (
    EMOTIFY,
    FOURQ,
    MOOD_METRICS,
    MOOD_MODELS,
    TrainConfig,
    metrics_of,
    models_of,
)
from training.network import EMBEDDING_SIZE, INPUT_NAMES, OUTPUT_NAMES
from training.selection import SELECTION_METRICS

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

METRIC_LABELS = {
    "valence_r": "valence r",
    "arousal_r": "arousal r",
    "valence_r2": "valence R²",
    "arousal_r2": "arousal R²",
    "valence_rmse": "valence RMSE",
    "arousal_rmse": "arousal RMSE",
    "valence_auc": "valence AUC",
    "arousal_auc": "arousal AUC",
    "quadrant_accuracy": "quadrant acc.",
    "top_agreement": "top category agrees",
}

MOOD_DESCRIPTIONS = {
    "network": "this model's moods output (the GEMS head)",
    "baseline_mean": "the training folds' mean shares for every song",
    "baseline_ridge": (
        "ridge regression of the shares on the pooled statistics, clipped at 0 and renormalised"
    ),
}

CONVOLUTION_DECISION = (
    "So the shipped branches have no convolutions (channels 0): the 5-seed ensemble with "
    "2-channel convolutions scored 0.534 / 0.763, 0.788 / 0.941 / 0.617 (Emotify valence R² "
    "0.181) against 0.574 / 0.759, 0.791 / 0.943 / 0.637 (R² 0.319) without them. The layers "
    "stay in the code (`--channels`), tested and exportable, for larger training sets."
)
"""The outcome of the convolution experiments (the last line of :data:`SELECTION`)."""

ROUND_2 = (
    "Version 0.2.0 (1040 songs: 320 Emotify, 720 4Q; features version 3). The "
    "configuration is 0.1.0's (30 epochs, a 5-seed ensemble), fixed before its CV: 0.534 / "
    "0.769, 0.789 / 0.938 / 0.629 (a single network trained for 20 epochs: 0.538 / 0.766, "
    "0.779 / 0.937 / 0.614). The GEMS head, trained since 0.1.0 as an auxiliary target, "
    "became the exported `moods` output.",
)
"""What version 0.2.0 changed."""

CONVOLUTIONS_1040 = (
    "The seed's convolutional layers re-run on the 1040 songs (2 channels, the best "
    "setting on 860; single networks, the same 5 folds and split seed as the exploratory "
    "figures above): without the embedding 0.469 / 0.758, 0.788 / 0.932 / 0.611 against "
    "0.525 / 0.771, 0.784 / 0.934 / 0.621 without convolutions; with the embedding 0.505 / "
    "0.824, 0.873 / 0.958 / 0.718 against 0.537 / 0.826, 0.864 / 0.963 / 0.693. With the "
    "larger data they still cost Emotify valence (0.03-0.06 of r) for at most a small gain "
    "on 4Q, at five times the training time: the shipped branches still have none."
)
"""The convolutional branches compared again on version 0.3.0's data."""

ROUND_3 = (
    "Version 0.3.0 (the same 1040 songs and features). A linear probe on musicnn's "
    "embedding alone (MSD_musicnn's 200-unit penultimate layer, mean and std over a clip's "
    "3-s patches; ridge or logistic regression) had scored 0.473 / 0.794, 0.867 / 0.950 / "
    "0.699: above 0.2.0 on 4Q and Emotify arousal, below it on Emotify valence. So both "
    "branches now read that embedding per window (mean and std over the patches centred in "
    "the window, standardised) beside the pooled statistics. Exploratory single networks "
    "(same 5 folds, split seed 0, on all songs; not nested, so these shaped the candidate "
    "list below and are not a score): without the embedding 0.525 / 0.771, 0.784 / 0.934 / "
    "0.621; with it 0.537 / 0.826, 0.864 / 0.963 / 0.693; with it and dropout 0.5 0.540 / "
    "0.833, 0.859 / 0.964 / 0.689; width 64 0.530 / 0.825, 0.863 / 0.961 / 0.714; weight "
    "decay 0.05 0.538 / 0.826, 0.863 / 0.963 / 0.692; 20 epochs 0.524 / 0.825, 0.865 / "
    "0.962 / 0.706; linear branches 0.514 / 0.822, 0.835 / 0.964 / 0.674; with the "
    "auxiliary loss on 4Q's AllMusic mood tags (weight 0.5, the tags at least 20 training "
    "songs carry) 0.526 / 0.827, 0.871 / 0.967 / 0.719; with 4Q's sign loss weighted by "
    "PQuad squared 0.541 / 0.828, 0.865 / 0.962 / 0.700. The hyper-parameters stayed "
    "(no change was clearly above the noise of one split); the embedding, the tags and "
    "PQuad went to the nested selection above, which makes the choice (its per-fold choices "
    "and inner figures are this run's).",
    CONVOLUTIONS_1040,
)
"""What version 0.3.0 changed and what it tried (the last lines of :data:`SELECTION`)."""

SELECTION = (
    "Choices made for version 0.1.0 on 860 songs (320 Emotify, 540 4Q) and kept since. "
    "Every choice below was made by the same grouped 5-fold CV (seed 0 unless stated; one "
    "network, not the ensemble; figures: Emotify valence r / arousal r, 4Q valence AUC / "
    "arousal AUC / quadrant accuracy).",
    "Pooled statistics without key-relative harmony (MFCC/spectral/chroma statistics, key "
    "clarity and mode, triad share, interval content): 0.511 / 0.748, 0.754 / 0.936 / 0.594.",
    "+ scale-degree profiles relative to the best major/minor key and pulse clarity: "
    "0.546 / 0.765, 0.783 / 0.939 / 0.630 (scale degrees alone: 0.540 / 0.758, 0.777 / "
    "0.934 / 0.620).",
    "+ triad histogram by root relative to the key: 0.570 / 0.752, 0.793 / 0.939 / 0.635.",
    "+ local (2-s) mode/key stability and per-step interval content: 0.575 / 0.753, "
    "0.795 / 0.941 / 0.611 (seed 1: 0.555 / 0.753, 0.809 / 0.936 / 0.613 against 0.562 / "
    "0.750, 0.794 / 0.933 / 0.617 without): within noise, kept.",
    "Tonal-centroid (tonnetz) magnitudes and flux: slightly worse on both seeds (seed 0: "
    "0.562 / 0.754, 0.781 / 0.939 / 0.609), dropped.",
    "Chord-quality shares (8 families: major, minor, diminished, augmented, dominant/major/"
    "minor seventh, sus4): seed 0 0.571 / 0.757, 0.791 / 0.939 / 0.615; seed 1 0.548 / "
    "0.754, 0.797 / 0.931 / 0.624: no gain, dropped.",
    "4Q logit scale k fixed at 3 instead of learnt (outputs would use more of [-1, 1]): "
    "seed 0 0.573 / 0.739, 0.769 / 0.937 / 0.622; seed 1 0.547 / 0.730, 0.779 / 0.938 / "
    "0.630: worse, k stays learnt (so the served values sit mostly within +-0.5).",
    "Loudness jitter 2 LU instead of 6: seed 0 0.574 / 0.752, 0.797 / 0.941 / 0.617; "
    "seed 1 0.557 / 0.754, 0.808 / 0.936 / 0.617: same; 6 kept for robustness to level.",
    "Joint training vs one dataset alone: Emotify alone 0.530 / 0.747; 4Q alone 0.790 / "
    "0.935 / 0.624: joint training helps Emotify and does not hurt 4Q.",
    "First feature set: linear branches (width 0) 0.511 / 0.691, 0.746 / 0.941 / 0.589 "
    "(Emotify arousal clearly worse); width 64 0.460 / 0.745, 0.763 / 0.938 / 0.611; 60 "
    "epochs 0.483 / 0.739, 0.753 / 0.932 / 0.572 (both worse); 15 epochs, weight decay 0.1, "
    "dropout 0.5, GEMS weight 0 or 1, 4Q weight 2: within +-0.02.",
    "Final feature set: width 16 0.566 / 0.745, 0.788 / 0.941 / 0.628; width 64 with "
    "dropout 0.5 0.574 / 0.752, 0.781 / 0.944 / 0.628; 20 epochs 0.574 / 0.750, 0.792 / "
    "0.943 / 0.619; weight decay 0.1 with dropout 0.4 0.573 / 0.754, 0.792 / 0.945 / 0.613; "
    "GEMS weight 0 / 1.5, 4Q weight 0.5, Emotify weight 2: within +-0.02 (4Q valence AUC "
    "0.779 at 4Q weight 0.5). The defaults (width 32, dropout 0.3, decay 0.01, 30 epochs, "
    "weights 1 / 0.5 / 1) were kept.",
    "Ensemble of 5 seeds (one ONNX graph): 0.574 / 0.759, 0.791 / 0.943 / 0.637, against "
    "0.575 / 0.753, 0.795 / 0.941 / 0.611 for one network: shipped for its lower variance; "
    "10 seeds (0.572 / 0.758, 0.791 / 0.942 / 0.630) gain nothing more.",
    "Without the 24 key-dependent statistics (pitch-class means and spreads): seed 0 "
    "0.566 / 0.759, 0.802 / 0.945 / 0.644; seed 1 0.549 / 0.743, 0.810 / 0.943 / 0.615 "
    "against 0.555 / 0.753, 0.809 / 0.936 / 0.613 with them: within noise, kept.",
    "The seed's convolutional layers in each branch (MFCC: two 1-D convolutions over time "
    "with max-pooling and dropout; chroma: key-invariant chord templates over 0.4-s blocks, "
    "then a convolution over time; both pooled over time, entering the dense head through "
    "a gain that starts at 0), trained on the raw crops: 2 channels 0.527 / 0.764, 0.769 / "
    "0.943 / 0.609; 4 channels 0.521 / 0.757, 0.770 / 0.933 / 0.617; 8 channels 0.522 / "
    "0.751, 0.785 / 0.937 / 0.602; 4 channels with weight decay 0.1 0.532 / 0.760, 0.770 / "
    "0.933 / 0.604, with learning rate 1e-3 0.538 / 0.740, 0.779 / 0.933 / 0.630, without "
    "the gain 0.536 / 0.753, 0.767 / 0.920 / 0.583; MFCC convolutions only 0.536 / 0.751, "
    "0.780 / 0.934 / 0.611; chroma convolutions only 0.529 / 0.749, 0.779 / 0.941 / 0.635. "
    "The same network with the gain frozen at 0 (images unused) gives 0.569 / 0.760, "
    "0.784 / 0.939 / 0.622, so the training path is sound: whatever the images add beyond "
    "the pooled statistics fits the training songs and costs about 0.04 of Emotify valence "
    "r and 0.01-0.02 of 4Q valence AUC on held-out songs.",
    CONVOLUTION_DECISION,
    *ROUND_2,
    *ROUND_3,
)
"""How the shipped configuration was chosen (cross-validated figures of the alternatives)."""

SCATTER_FILE = "cv_{dataset}_scatter.png"
PLANE_FILE = "cv_valence_arousal_plane.png"
PAGE_FILE = "card.md"


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
    """Per dataset: citation, target derivation, song count and songs per genre/quadrant."""
    section = {}
    for name, dataset_items in items.items():
        module = dataset(name) if name != "csv" else None
        entry = {
            "citation": getattr(module, "CITATION", "user-supplied CSV"),
            "targets": getattr(module, "TARGETS", "valence/arousal mapped to [-1, 1]"),
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
                " Each branch also reads the MFCC and chroma images through its own "
                f"convolutional layers ({train_config.channels} channels: convolutions over "
                "time of the MFCC image, key-invariant chord templates over the chroma image, "
                "with max-pooling and dropout, pooled over time)."
                if train_config.channels > 0
                else ""
            )
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
            "selection": list(SELECTION),
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
            "score": "mean of " + ", ".join(f"{d} {m}" for d, m in SELECTION_METRICS),
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


def _cell(value: Mapping | None) -> str:
    if not value or value.get("mean") is None:
        return "n/a"
    return f"{value['mean']:.3f} ± {value['std']:.3f}"


def summary_table(summary: Mapping, dataset_name: str) -> str:
    """A Markdown table of one dataset's CV metrics (mean ± std over folds) per model."""
    metrics = metrics_of(dataset_name)
    lines = [
        "| model | " + " | ".join(METRIC_LABELS.get(m, m) for m in metrics) + " |",
        "|---|" + "---|" * len(metrics),
    ]
    for model in models_of(dataset_name):
        if model not in summary.get(dataset_name, {}):
            continue
        row = summary[dataset_name][model]
        lines.append(f"| {model} | " + " | ".join(_cell(row.get(m)) for m in metrics) + " |")
    return "\n".join(lines)


def mood_table(moods: Mapping) -> str:
    """A Markdown table of the moods' CV metrics: one row per GEMS category, one column
    per model, and the top-category agreement last."""
    models = [m for m in MOOD_MODELS if m in moods["metrics"]]
    lines = ["| | " + " | ".join(models) + " |", "|---|" + "---|" * len(models)]
    for metric in MOOD_METRICS:
        label = METRIC_LABELS.get(metric, metric.removesuffix("_r").replace("_", " ") + " r")
        cells = [_cell(moods["metrics"][m][metric]) for m in models]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def selection_lines(protocol: Mapping) -> list[str]:
    """The nested-CV selection as Markdown: each candidate's inner-CV figures on all songs,
    the gap between the choice and the best alternative, the choices per outer fold and
    the outer figures over repeated splits."""
    labels = [f"{d} {METRIC_LABELS[m]}" for d, m in SELECTION_METRICS]
    lines = [
        f"Selection score: {protocol['score']}. Inner {protocol['inner_folds']}-fold CV on "
        "all songs (one network per candidate, seed 0); these figures chose the shipped "
        "configuration and are not its score (see the nested figures above).",
        "",
        "| candidate | settings | " + " | ".join(labels) + " | score |",
        "|---|---|" + "---|" * (len(labels) + 1),
    ]
    for name, score in protocol["scores"].items():
        summary = protocol["summaries"][name]
        cells = [
            f"{summary[d]['network'][m]['mean']:.3f}" if d in summary else "n/a"
            for d, m in SELECTION_METRICS
        ]
        marked = f"**{name}**" if name == protocol["chosen"] else name
        settings = ", ".join(f"{k} {v:g}" for k, v in protocol["candidates"][name].items())
        lines.append(
            f"| {marked} | {settings or 'defaults'} | " + " | ".join(cells) + f" | {score:.4f} |"
        )
    scores = protocol["scores"]
    if len(scores) > 1:
        best_other = max((n for n in scores if n != protocol["chosen"]), key=scores.get)
        lines += [
            "",
            f"Chosen: **{protocol['chosen']}**, "
            f"{scores[protocol['chosen']] - scores[best_other]:+.4f} in score over the best "
            f"alternative ({best_other}).",
        ]
    lines += ["", "Chosen in each outer fold (one line per outer split seed):", ""]
    lines += [f"- {', '.join(chosen)}" for chosen in protocol["chosen_per_outer_fold"]]
    repeats = protocol["repeats"]
    n_repeats = len(protocol["chosen_per_outer_fold"])
    lines += [
        "",
        f"Nested outer figures over {n_repeats} outer split seed(s) (fold means; mean ± std "
        "over seeds):",
        "",
        "| dataset | metric | mean ± std over seeds | per seed |",
        "|---|---|---|---|",
    ]
    for name, metrics in repeats.items():
        for metric, value in metrics.items():
            per_seed = ", ".join(f"{v:.3f}" for v in value["values"])
            lines.append(
                f"| {name} | {METRIC_LABELS.get(metric, metric)} | "
                f"{value['mean']:.3f} ± {value['std']:.3f} | {per_seed} |"
            )
    return lines


def plot_scatter(truth: np.ndarray, predicted: np.ndarray, title: str, path: Path) -> None:
    """Predicted versus true valence and arousal (one panel each), out-of-fold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 4.2))
    for k, (ax, name) in enumerate(zip(axes, OUTPUT_NAMES, strict=True)):
        t, p = truth[:, k], predicted[:, k]
        r = np.corrcoef(t, p)[0, 1] if np.ptp(p) > 0 else float("nan")
        ax.scatter(t, p, s=10, alpha=0.6)
        lo, hi = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
        ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8, ls="--")
        ax.set_xlabel(f"true {name}")
        ax.set_ylabel(f"predicted {name}")
        ax.set_title(f"{name}: r = {r:.3f} (n = {len(t)})")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_signs(quadrants: np.ndarray, predicted: np.ndarray, title: str, path: Path) -> None:
    """Predicted valence/arousal against the true sign of each axis (4Q), out-of-fold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from training.fit import SIGNS, fourq_metrics

    signs = np.array([SIGNS[int(q)] for q in quadrants])
    scores = fourq_metrics(np.asarray(quadrants), predicted)
    jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(signs))
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.2))
    for k, (ax, name) in enumerate(zip(axes, OUTPUT_NAMES, strict=True)):
        ax.scatter(signs[:, k] + jitter, predicted[:, k], s=10, alpha=0.5)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xticks([-1, 1], [f"{name} -", f"{name} +"])
        ax.set_xlabel(f"true {name} sign (from the quadrant)")
        ax.set_ylabel(f"predicted {name}")
        ax.set_title(f"{name}: AUC = {scores[f'{name}_auc']:.3f} (n = {len(signs)})")
    fig.suptitle(title + f"; quadrant accuracy {scores['quadrant_accuracy']:.3f}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_plane(points: Mapping[str, tuple[np.ndarray, np.ndarray]], title: str, path: Path) -> None:
    """Out-of-fold (valence, arousal) predictions on the plane, one panel per dataset.

    ``points`` maps a panel title to ((songs, 2) predictions, per-song colour labels).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(points), figsize=(5 * len(points), 4.8), squeeze=False)
    for ax, (panel, (predicted, labels)) in zip(axes[0], points.items(), strict=True):
        labels = np.asarray(labels)
        for label in sorted(set(labels.tolist())):
            chosen = labels == label
            ax.scatter(predicted[chosen, 0], predicted[chosen, 1], s=10, alpha=0.7, label=label)
        ax.axhline(0, color="grey", lw=0.8)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_xlim(-1, 1)
        ax.set_ylim(-1, 1)
        ax.set_xlabel("predicted valence")
        ax.set_ylabel("predicted arousal")
        ax.set_title(panel)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_card_page(card: Mapping, folder: Path, cv, songs: Sequence) -> list[str]:
    """Write ``card.md`` and the PNG figures into ``folder``; returns the file names.

    ``cv`` is the :class:`training.fit.CrossValidation` of the shipped configuration and
    ``songs`` the song list it was run on.
    """
    folder = Path(folder)
    written = []
    summary = card["evaluation"]["metrics"]
    sections = []
    planes = {}
    for name, idx in cv.indices.items():
        subset = [songs[i] for i in idx]
        served = cv.predictions[name]["network"]
        if name == FOURQ:
            labels = [f"Q{s.quadrant}" for s in subset]
            planes["4Q (colour: true quadrant)"] = (served, labels)
            file = SCATTER_FILE.format(dataset=name)
            plot_signs(
                np.array([s.quadrant for s in subset]),
                served,
                f"4Q: out-of-fold predictions ({cv.n_folds}-fold CV)",
                folder / file,
            )
            written.append(file)
        else:
            truth = np.stack([s.target for s in subset])
            shown = cv.emotify_scale if name == EMOTIFY and cv.emotify_scale is not None else served
            file = SCATTER_FILE.format(dataset=name)
            plot_scatter(
                truth,
                shown,
                f"{name}: out-of-fold predictions ({cv.n_folds}-fold CV)",
                folder / file,
            )
            written.append(file)
            planes[f"{name} (colour: genre)"] = (served, [s.genre or "all" for s in subset])
        sections.append(f"### {name}\n\n{summary_table(summary, name)}\n")
    if planes:
        plot_plane(
            planes, "Out-of-fold predictions on the valence-arousal plane", folder / PLANE_FILE
        )
        written.append(PLANE_FILE)

    training = card["training"]
    data = card["data"]["datasets"]
    lines = [
        f"# Model card: {card['name']} {card['version']}",
        "",
        card["description"],
        "",
        "## Data",
        "",
    ]
    for name, entry in data.items():
        extra = f", {entry['artists']} artists" if "artists" in entry else ""
        lines += [
            f"- **{name}**: {entry['songs']} songs{extra}. {entry['citation']}",
            f"  Targets: {entry['targets']}",
        ]
    lines += [
        "",
        "## Cross-validated performance",
        "",
        card["evaluation"]["method"],
        "",
        *(f"- {k}: {v}" for k, v in card["evaluation"]["scores"].items()),
        "",
        "Models:",
        "",
        *(f"- `{k}`: {v}" for k, v in card["evaluation"]["models"].items()),
        "",
        *sections,
    ]
    evaluation = card["evaluation"]
    if "moods" in evaluation:
        lines += [
            "### Moods (Emotify's GEMS shares)",
            "",
            evaluation["moods"]["method"],
            "",
            *(f"- `{k}`: {v}" for k, v in evaluation["moods"]["models"].items()),
            "",
            mood_table(evaluation["moods"]),
            "",
        ]
    if evaluation.get("selection_protocol", {}).get("scores"):
        lines += [
            "### Selection by nested cross-validation",
            "",
            *selection_lines(evaluation["selection_protocol"]),
            "",
        ]
    lines += [
        "### How this configuration was chosen",
        "",
        *(f"- {line}" for line in evaluation.get("selection", [])),
        "",
    ]
    if any(f.startswith("cv_") and f.endswith("_scatter.png") for f in written):
        lines += ["## Out-of-fold predictions", ""]
        lines += [f"![{f}]({f})" for f in written if f.endswith("_scatter.png")]
        lines += [""]
    if PLANE_FILE in written:
        lines += [f"![valence-arousal plane]({PLANE_FILE})", ""]
    lines += [
        "## Windows and aggregation",
        "",
        card["aggregation"],
        "",
        "## Training",
        "",
        training["loss"] + ".",
        "",
        training["crops"] + ".",
        "",
        "| setting | value |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in training.items() if k not in ("loss", "crops")),
        "",
    ]
    if "emotify_map" in card:
        m = card["emotify_map"]
        lines += [
            "Emotify's scale from the outputs: "
            + ", ".join(
                f"{k} = {m[k]['intercept']:.3f} + {m[k]['slope']:.3f} * output"
                for k in OUTPUT_NAMES
            ),
            "",
        ]
    onnx = card["onnx"]
    lines += [
        "## Export",
        "",
        f"ONNX opset {onnx['opset']}; max |ONNX - PyTorch| on the training windows "
        f"{onnx['parity_max_abs_diff']:.1e} (tolerance {onnx['parity_tolerance']:g}). "
        f"Outputs: {', '.join(o['name'] for o in card['outputs'])}.",
        "",
    ]
    if "embedding" in card:
        e = card["embedding"]
        lines += [
            "## Embedding",
            "",
            f"The graph's `musicnn` input comes from {e['network']} ({e['source']}; licence "
            f"{e['licence']}), run beside it with onnxruntime from `{e['graph']}` (SHA-256 "
            f"{e['sha256'][:16]}...; the service refuses another graph): {e['input']}. "
            "Front-end: " + ", ".join(f"{k} {v}" for k, v in e["front_end"].items()) + ".",
            "",
        ]
    (folder / PAGE_FILE).write_text("\n".join(lines))
    written.append(PAGE_FILE)
    return written
