"""The baselines the network is compared with, fitted on the same training songs.

Per regression dataset: the training mean, each genre's mean, and ridge regressions;
for 4Q: the mean of the training signs and per-axis logistic regressions; for Emotify's
moods: the mean shares and a ridge regression. The linear models read a song's
time-averaged pooled statistics, musicnn's embedding statistics, or both.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV, RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from training.data import FOURQ, Song, mood_shares, quadrant_signs

REGRESSION_MODELS = (
    "network",
    "baseline_mean",
    "baseline_genre",
    "baseline_ridge",
    "baseline_ridge_musicnn",
    "baseline_ridge_both",
)
QUADRANT_MODELS = (
    "network",
    "baseline_mean",
    "baseline_logistic",
    "baseline_logistic_musicnn",
    "baseline_logistic_both",
)
MOOD_MODELS = ("network", "baseline_mean", "baseline_ridge")

EMBEDDING_BASELINES = ("_musicnn", "_both")
"""Suffixes of the linear baselines that read musicnn's embedding (only when the songs
carry it): on the embedding alone, or on it beside the pooled statistics."""

Inputs = Callable[[Song], np.ndarray]
"""What a linear baseline reads of a song."""

BASELINE_INPUTS: dict[str, Inputs] = {
    "": lambda s: s.summary,
    "_musicnn": lambda s: s.embedding_summary,
    "_both": lambda s: np.concatenate([s.summary, s.embedding_summary]),
}
"""Baseline name suffix -> its inputs: the pooled statistics, the embedding, both."""

RIDGE_ALPHAS = np.logspace(-1, 5, 13)
"""Ridge penalties tried by leave-one-out on each training fold."""

LOGISTIC_CS = np.logspace(-4, 1, 11)
"""Inverse penalties of the logistic baseline, chosen by inner CV on each training fold."""

Predictor = Callable[[Sequence[Song]], np.ndarray]


def models_of(dataset: str) -> tuple[str, ...]:
    """Models scored on ``dataset`` (the network, then its baselines), in report order."""
    return QUADRANT_MODELS if dataset == FOURQ else REGRESSION_MODELS


def _matrix(songs: Sequence[Song], inputs: Inputs) -> np.ndarray:
    return np.nan_to_num(np.stack([inputs(s) for s in songs]), posinf=0.0, neginf=0.0)


def _repeated_mean(values: np.ndarray, n: int) -> np.ndarray:
    """The mean row of ``values``, ``n`` times."""
    return np.repeat(values.mean(0, keepdims=True), n, 0)


def fit_ridge(
    songs: Sequence[Song],
    target: Callable[[Song], np.ndarray] = lambda s: s.target,
    inputs: Inputs = BASELINE_INPUTS[""],
) -> Predictor:
    """Ridge regression of ``target`` (default: valence, arousal) on standardised
    ``inputs`` (default: the pooled statistics)."""
    model = make_pipeline(StandardScaler(), RidgeCV(alphas=RIDGE_ALPHAS, alpha_per_target=True))
    model.fit(_matrix(songs, inputs), np.stack([target(s) for s in songs]))
    return lambda test: model.predict(_matrix(test, inputs))


def fit_mood_ridge(songs: Sequence[Song]) -> Predictor:
    """Ridge regression of the normalised GEMS shares on the pooled features, clipped at 0
    and renormalised to sum 1."""
    ridge = fit_ridge(songs, mood_shares)

    def predict(test: Sequence[Song]) -> np.ndarray:
        shares = np.clip(ridge(test), 1e-6, None)
        return shares / shares.sum(axis=1, keepdims=True)

    return predict


def fit_logistic(songs: Sequence[Song], inputs: Inputs = BASELINE_INPUTS[""]) -> Predictor:
    """Per axis, L2 logistic regression of the sign on standardised pooled features.

    The predictor returns (songs, 2) decision values: their signs give the quadrant.
    """
    x = _matrix(songs, inputs)
    signs = quadrant_signs([s.quadrant for s in songs])
    models = []
    for k in range(2):
        labels = signs[:, k] > 0
        smallest = min(labels.sum(), (~labels).sum())
        if smallest == 0:
            # One class only (tiny data): a constant decision value of that class's sign.
            models.append(float(signs[0, k]))
            continue
        if smallest >= 2:
            classifier = LogisticRegressionCV(
                Cs=LOGISTIC_CS,
                cv=int(min(5, smallest)),
                max_iter=2000,
                scoring="neg_log_loss",
                l1_ratios=(0.0,),
                use_legacy_attributes=False,
            )
        else:
            classifier = LogisticRegression(C=1.0, max_iter=2000)
        models.append(make_pipeline(StandardScaler(), classifier).fit(x, labels))

    def predict(test: Sequence[Song]) -> np.ndarray:
        xt = _matrix(test, inputs)
        return np.stack(
            [
                np.full(len(xt), m) if isinstance(m, float) else m.decision_function(xt)
                for m in models
            ],
            axis=1,
        )

    return predict


def genre_means(train: Sequence[Song], test: Sequence[Song]) -> np.ndarray:
    """Each test song's genre mean target over ``train`` (the overall mean if unseen)."""
    overall = np.mean([s.target for s in train], axis=0)
    by_genre: dict[str | None, list[np.ndarray]] = {}
    for s in train:
        by_genre.setdefault(s.genre, []).append(s.target)
    means = {g: np.mean(v, axis=0) for g, v in by_genre.items()}
    return np.stack([means.get(s.genre, overall) for s in test])


def regression_baselines(
    train: Sequence[Song], test: Sequence[Song], models: Collection[str]
) -> dict[str, np.ndarray]:
    """(test songs, 2) valence/arousal predictions of the baselines among ``models``,
    fitted on ``train``."""
    predicted = {}
    if "baseline_mean" in models:
        predicted["baseline_mean"] = _repeated_mean(np.stack([s.target for s in train]), len(test))
    if "baseline_genre" in models:
        predicted["baseline_genre"] = genre_means(train, test)
    for suffix, inputs in BASELINE_INPUTS.items():
        if f"baseline_ridge{suffix}" in models:
            predicted[f"baseline_ridge{suffix}"] = fit_ridge(train, inputs=inputs)(test)
    return predicted


def quadrant_baselines(
    train: Sequence[Song], test: Sequence[Song], models: Collection[str]
) -> dict[str, np.ndarray]:
    """(test songs, 2) decision values of the baselines among ``models`` (their signs give
    the quadrant), fitted on ``train``."""
    predicted = {}
    if "baseline_mean" in models:
        signs = quadrant_signs([s.quadrant for s in train]).astype(np.float64)
        predicted["baseline_mean"] = _repeated_mean(signs, len(test))
    for suffix, inputs in BASELINE_INPUTS.items():
        if f"baseline_logistic{suffix}" in models:
            predicted[f"baseline_logistic{suffix}"] = fit_logistic(train, inputs)(test)
    return predicted


def mood_baselines(train: Sequence[Song], test: Sequence[Song]) -> dict[str, np.ndarray]:
    """(test songs, 9) GEMS shares of the mood baselines, fitted on ``train``."""
    shares = np.stack([mood_shares(s) for s in train])
    return {
        "baseline_mean": _repeated_mean(shares, len(test)),
        "baseline_ridge": fit_mood_ridge(train)(test),
    }
