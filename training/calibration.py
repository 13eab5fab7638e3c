"""Fitting :class:`app.calibration.Calibration` on out-of-fold outputs, and its reliability.

The calibration is fitted on the outer cross-validation's out-of-fold network outputs
of 4Q's songs (the only songs with known signs), pooled over the repeated outer splits:
every output comes from a network that never saw its song, as the shipped model never
saw the songs it will be asked about. Its reliability is itself judged out of fold
(:func:`cross_fitted`): each outer fold's probabilities come from a calibration fitted
on the other folds' outputs of the same split, so the diagram on the card is not scored
on the outputs that fitted it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize, minimize_scalar

from app.analysis import quadrant_numbers
from app.calibration import Calibration
from training.cross_validation import CrossValidation, split_folds
from training.data import FOURQ, SIGNS, Song

MAX_SLOPE = 1000.0
"""Upper bound of a fitted slope (outputs lie in [-1, 1]; 1000 is already a step)."""

BINS = np.linspace(0.0, 1.0, 11)
"""Probability bins of the reliability diagram."""

RELIABILITY_FILE = "calibration_reliability.png"


def _log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def fit_sign_slope(outputs: np.ndarray, positive: np.ndarray) -> float:
    """Maximum-likelihood ``s >= 0`` of ``P(positive) = sigmoid(s * output)``."""
    outputs, positive = np.asarray(outputs, float), np.asarray(positive, float)

    def loss(slope: float) -> float:
        p = Calibration(slope, 0.0, 0.0, 0.0).sign_probabilities(outputs, 0 * outputs)[:, 0]
        return _log_loss(p, positive)

    return float(minimize_scalar(loss, bounds=(0.0, MAX_SLOPE), method="bounded").x)


def quadrant_correct(outputs: np.ndarray, quadrants: np.ndarray) -> np.ndarray:
    """Whether the quadrant shown for each (valence, arousal) output is the true one."""
    return quadrant_numbers(outputs[:, 0], outputs[:, 1]) == np.asarray(quadrants)


def fit_calibration(outputs: np.ndarray, quadrants: np.ndarray) -> Calibration:
    """The calibration of (songs, 2) served outputs against the songs' true quadrants
    (1-4): both sign slopes, then the quadrant map on the product of the shown signs'
    probabilities."""
    outputs = np.asarray(outputs, dtype=np.float64)
    signs = np.array([SIGNS[int(q)] for q in quadrants]).reshape(-1, 2)
    slopes = [fit_sign_slope(outputs[:, k], signs[:, k] > 0) for k in range(2)]
    signs_only = Calibration(*slopes, 1.0, 0.0)
    product = signs_only.quadrant_probability(outputs[:, 0], outputs[:, 1])
    z = np.log(product) - np.log1p(-product)
    correct = quadrant_correct(outputs, quadrants).astype(float)

    def loss(parameters: np.ndarray) -> float:
        return _log_loss(0.5 * (1 + np.tanh(0.5 * (parameters[0] * z + parameters[1]))), correct)

    fitted = minimize(
        loss, x0=np.array([1.0, 0.0]), method="L-BFGS-B", bounds=[(0.0, MAX_SLOPE), (-20, 20)]
    )
    return Calibration(*slopes, float(fitted.x[0]), float(fitted.x[1]))


@dataclass(frozen=True)
class OutOfFold:
    """4Q's out-of-fold outputs of one or more outer cross-validations, stacked.

    Attributes
    ----------
    outputs : np.ndarray
        (n, 2) served valence, arousal of each song in each repeat.
    quadrants : np.ndarray
        (n,) the songs' true quadrants.
    repeat, fold : np.ndarray
        (n,) which outer split (repeat) and which of its folds held the song out.
    """

    outputs: np.ndarray
    quadrants: np.ndarray
    repeat: np.ndarray
    fold: np.ndarray


def out_of_fold(
    runs: Sequence[CrossValidation], songs: Sequence[Song], seeds: Sequence[int]
) -> OutOfFold:
    """The network's 4Q out-of-fold outputs of ``runs``, the outer cross-validations of
    ``songs`` made with split ``seeds`` (one per run), with the fold of each output."""
    parts = []
    for repeat, (cv, seed) in enumerate(zip(runs, seeds, strict=True)):
        idx = cv.indices[FOURQ]
        fold_of = np.full(len(songs), -1)
        for k, (_, test) in enumerate(split_folds(songs, cv.n_folds, seed)):
            fold_of[test] = k
        parts.append(
            (
                cv.predictions[FOURQ]["network"],
                np.array([songs[i].quadrant for i in idx]),
                np.full(len(idx), repeat),
                fold_of[idx],
            )
        )
    return OutOfFold(*(np.concatenate(column) for column in zip(*parts, strict=True)))


def probabilities(
    calibration: Calibration, outputs: np.ndarray, quadrants: np.ndarray
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Name -> (probability of the shown sign or quadrant, whether it came true)."""
    signs = np.array([SIGNS[int(q)] for q in quadrants]).reshape(-1, 2)
    positive = calibration.sign_probabilities(outputs[:, 0], outputs[:, 1])
    shown_positive = outputs >= 0
    result = {}
    for k, name in enumerate(("valence_sign", "arousal_sign")):
        p = np.where(shown_positive[:, k], positive[:, k], 1 - positive[:, k])
        result[name] = (p, shown_positive[:, k] == (signs[:, k] > 0))
    result["quadrant"] = (
        calibration.quadrant_probability(outputs[:, 0], outputs[:, 1]),
        quadrant_correct(outputs, quadrants),
    )
    return result


def cross_fitted(data: OutOfFold) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """:func:`probabilities` of every output from a calibration fitted on the other
    folds' outputs of its own repeat: an out-of-fold view of the calibration itself."""
    names = ("valence_sign", "arousal_sign", "quadrant")
    p = {name: np.zeros(len(data.outputs)) for name in names}
    outcome = {name: np.zeros(len(data.outputs), dtype=bool) for name in names}
    for repeat in np.unique(data.repeat):
        for fold in np.unique(data.fold[data.repeat == repeat]):
            held = (data.repeat == repeat) & (data.fold == fold)
            fit = (data.repeat == repeat) & ~held
            calibration = fit_calibration(data.outputs[fit], data.quadrants[fit])
            for name, (values, came) in probabilities(
                calibration, data.outputs[held], data.quadrants[held]
            ).items():
                p[name][held], outcome[name][held] = values, came
    return {name: (p[name], outcome[name]) for name in names}


def reliability(p: np.ndarray, outcome: np.ndarray, bins: np.ndarray = BINS) -> dict:
    """Per probability bin the count, the mean probability and the share that came true;
    the expected calibration error (count-weighted mean gap), Brier score and log loss."""
    which = np.clip(np.digitize(p, bins[1:-1]), 0, len(bins) - 2)
    rows = []
    for b in range(len(bins) - 1):
        inside = which == b
        if inside.any():
            rows.append(
                {
                    "low": float(bins[b]),
                    "high": float(bins[b + 1]),
                    "count": int(inside.sum()),
                    "mean_probability": float(p[inside].mean()),
                    "observed": float(outcome[inside].mean()),
                }
            )
    gaps = sum(r["count"] * abs(r["mean_probability"] - r["observed"]) for r in rows)
    return {
        "bins": rows,
        "ece": float(gaps / len(p)),
        "brier": float(np.mean((p - outcome) ** 2)),
        "log_loss": _log_loss(p, outcome.astype(float)),
        "accuracy": float(outcome.mean()),
    }


def card_entry(
    runs: Sequence[CrossValidation], songs: Sequence[Song], seeds: Sequence[int]
) -> dict | None:
    """The model card's ``calibration`` entry: the parameters fitted on every out-of-fold
    output of ``runs``, with the cross-fitted reliability of each probability; None when
    the songs hold no 4Q song (no known signs to calibrate on)."""
    if not any(FOURQ in cv.indices for cv in runs):
        return None
    data = out_of_fold(runs, songs, seeds)
    calibration = fit_calibration(data.outputs, data.quadrants)
    return {
        **calibration.parameters(),
        "description": (
            "P(valence > 0) = sigmoid(valence_slope * valence), the same for arousal; the "
            "shown quadrant comes true with sigmoid(quadrant_slope * logit(p_v * p_a) + "
            "quadrant_intercept), p_v and p_a the shown signs' probabilities; valence and "
            "arousal are the served (window-mean) outputs"
        ),
        "fitted_on": (
            f"{len(data.outputs)} out-of-fold outputs of 4Q songs ({len(runs)} outer "
            f"cross-validation split(s) of {runs[0].n_folds} folds)"
        ),
        "reliability_method": (
            "each outer fold's probabilities from a calibration fitted on the other folds' "
            "out-of-fold outputs of the same split"
        ),
        "reliability": {
            name: reliability(p, outcome) for name, (p, outcome) in cross_fitted(data).items()
        },
    }


def plot_reliability(entry: Mapping, path: Path) -> None:
    """The reliability diagram of a card's calibration entry (one panel per probability)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(entry["reliability"])
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 4), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        rows = entry["reliability"][name]["bins"]
        x = [r["mean_probability"] for r in rows]
        y = [r["observed"] for r in rows]
        ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--")
        ax.plot(x, y, marker="o")
        for r in rows:
            ax.annotate(str(r["count"]), (r["mean_probability"], r["observed"]), fontsize=7)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("stated probability")
        ax.set_ylabel("came true")
        ece = entry["reliability"][name]["ece"]
        ax.set_title(f"{name.replace('_', ' ')} (ECE {ece:.3f})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def page_lines(entry: Mapping) -> list[str]:
    """The model card page's section on the calibrated probabilities."""
    lines = [
        "## Calibrated probabilities",
        "",
        f"{entry['description']}. Fitted on {entry['fitted_on']}: valence_slope "
        f"{entry['valence_slope']:.3f}, arousal_slope {entry['arousal_slope']:.3f}, "
        f"quadrant_slope {entry['quadrant_slope']:.3f}, quadrant_intercept "
        f"{entry['quadrant_intercept']:.3f}. Reliability ({entry['reliability_method']}):",
        "",
        "| probability | accuracy | ECE | Brier | log loss |",
        "|---|---|---|---|---|",
    ]
    for name, r in entry["reliability"].items():
        lines.append(
            f"| {name} | {r['accuracy']:.3f} | {r['ece']:.3f} | {r['brier']:.3f} | "
            f"{r['log_loss']:.3f} |"
        )
    lines += ["", f"![reliability diagram]({RELIABILITY_FILE})", ""]
    return lines


def write_page(entry: Mapping, folder: Path, page: str) -> None:
    """Add the section and its diagram to the card page ``folder / page``."""
    plot_reliability(entry, Path(folder) / RELIABILITY_FILE)
    with open(Path(folder) / page, "a") as handle:
        handle.write("\n" + "\n".join(page_lines(entry)))
