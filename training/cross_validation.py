"""Grouped k-fold cross-validation of the network and its baselines on every dataset at once.

Folds split songs, never an artist across folds where the artist is known (4Q);
Emotify has no artist, so each track is its own group. Folds are stratified by dataset
and genre (Emotify) or quadrant (4Q). Every figure reported comes from songs held out of
the fit that produced it, each song scored by the mean of its windows' predictions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from app.model import MOODS
from training.baselines import (
    EMBEDDING_BASELINES,
    MOOD_MODELS,
    models_of,
    mood_baselines,
    quadrant_baselines,
    regression_baselines,
)
from training.data import EMOTIFY, FOURQ, Song, mood_shares
from training.metrics import (
    MOOD_METRICS,
    metrics_of,
    mood_metrics,
    quadrant_metrics,
    regression_metrics,
)
from training.train import (
    Network,
    TrainConfig,
    predict_moods,
    predict_songs,
    to_emotify_scale,
    train_network,
)


def split_folds(songs: Sequence[Song], n_folds: int, seed: int) -> list[tuple[np.ndarray, ...]]:
    """(train, test) song indices of each fold: grouped (artist), stratified by stratum
    (by dataset alone when every stratum is smaller than the number of folds, as in the
    inner folds of a tiny set)."""
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    strata = [s.stratum for s in songs]
    if max(Counter(strata).values()) < n_folds:
        strata = [s.dataset for s in songs]
    groups = [s.group for s in songs]
    return list(splitter.split(np.zeros(len(songs)), strata, groups))


@dataclass
class CrossValidation:
    """Out-of-fold results per dataset and model.

    Attributes
    ----------
    predictions : dict
        Dataset -> model -> (songs of that dataset, 2) out-of-fold predictions (for the
        network: the served outputs).
    emotify_scale : np.ndarray or None
        The network's Emotify predictions mapped onto the target scale (per fold, with
        the map learnt on that fold's training songs): what Emotify's R² and RMSE score.
        Other regression datasets are scored on the served outputs.
    fold_metrics : dict
        Dataset -> model -> one metrics dict per fold.
    indices : dict
        Dataset -> indices of its songs in the list given to :func:`cross_validate`.
    moods : dict
        Model -> (Emotify songs, 9) out-of-fold GEMS shares.
    mood_fold_metrics : dict
        Model -> one :func:`training.metrics.mood_metrics` dict per fold (Emotify).
    configs : list of TrainConfig
        The configuration trained in each fold.
    """

    n_folds: int
    predictions: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    emotify_scale: np.ndarray | None = None
    fold_metrics: dict[str, dict[str, list[dict]]] = field(default_factory=dict)
    indices: dict[str, np.ndarray] = field(default_factory=dict)
    moods: dict[str, np.ndarray] = field(default_factory=dict)
    mood_fold_metrics: dict[str, list[dict]] = field(default_factory=dict)
    configs: list[TrainConfig] = field(default_factory=list)

    def summary(self) -> dict[str, dict[str, dict[str, dict[str, float | None]]]]:
        """Dataset -> model -> metric -> {"mean", "std"} over folds (None if undefined)."""
        return {
            dataset: {
                model: _mean_std(per_fold, metrics_of(dataset))
                for model, per_fold in models.items()
            }
            for dataset, models in self.fold_metrics.items()
        }

    def member_summaries(self) -> list[dict]:
        """One summary per ensemble member (seed), each shaped like :meth:`summary` with
        the member as ``network``."""
        summary = self.summary()
        n = max((sum(m.startswith("member") for m in ms) for ms in summary.values()), default=0)
        return [
            {dataset: {"network": models[f"member{k}"]} for dataset, models in summary.items()}
            for k in range(n)
        ]

    def mood_summary(self) -> dict[str, dict[str, dict[str, float | None]]]:
        """Model -> mood metric -> {"mean", "std"} over folds (Emotify's GEMS shares)."""
        return {
            model: _mean_std(per_fold, MOOD_METRICS)
            for model, per_fold in self.mood_fold_metrics.items()
        }


def _mean_std(per_fold: Sequence[dict], metrics: Sequence[str]) -> dict[str, dict]:
    """Metric -> {"mean", "std"} over folds; both None where a fold left it undefined."""
    result = {}
    for metric in metrics:
        values = [m[metric] for m in per_fold if metric in m]
        defined = bool(values) and None not in values
        result[metric] = {
            "mean": float(np.mean(values)) if defined else None,
            "std": float(np.std(values)) if defined else None,
        }
    return result


def cross_validate(
    songs: Sequence[Song],
    n_folds: int,
    config: TrainConfig = TrainConfig(),
    *,
    seed: int = 0,
    on_epoch: Callable[[], None] | None = None,
    baselines: bool = True,
    choose: Callable[[Sequence[Song], int], TrainConfig] | None = None,
    max_folds: int | None = None,
) -> CrossValidation:
    """Score the network and the baselines by grouped ``n_folds``-fold cross-validation.

    One network is trained per fold on the training songs of every dataset at once; the
    baselines are fitted per dataset on the same training songs. With ``choose``, each
    fold's configuration is ``choose(training songs, seed)`` instead of ``config``: a
    selection that sees only the fold's training songs (nested cross-validation). An
    ensemble's members are also scored alone (models ``member0``, ``member1``, ...).
    ``max_folds`` runs only the first folds (one: a single validation split).
    """
    result = CrossValidation(n_folds=n_folds)
    datasets = sorted({s.dataset for s in songs}, key=[s.dataset for s in songs].index)
    embedded = all(s.windows.musicnn is not None for s in songs)
    for name in datasets:
        result.indices[name] = np.array([i for i, s in enumerate(songs) if s.dataset == name])
        models = models_of(name) if baselines else ("network",)
        if not embedded:
            models = tuple(m for m in models if not m.endswith(EMBEDDING_BASELINES))
        result.predictions[name] = {m: np.zeros((len(result.indices[name]), 2)) for m in models}
        result.fold_metrics[name] = {m: [] for m in models}
    if EMOTIFY in datasets:
        result.emotify_scale = np.zeros((len(result.indices[EMOTIFY]), 2))
        for model in MOOD_MODELS if baselines else ("network",):
            result.moods[model] = np.zeros((len(result.indices[EMOTIFY]), len(MOODS)))
            result.mood_fold_metrics[model] = []
    for fold, (train, test) in enumerate(split_folds(songs, n_folds, seed)[:max_folds]):
        fold_songs = [songs[i] for i in train]
        fold_config = choose(fold_songs, seed + fold) if choose is not None else config
        result.configs.append(fold_config)
        network = train_network(fold_songs, fold_config, seed=seed + fold, on_epoch=on_epoch)
        test_set, train_set = set(test.tolist()), set(train.tolist())
        for name in datasets:
            idx = result.indices[name]
            local_test = np.array([k for k, i in enumerate(idx) if i in test_set], dtype=int)
            if len(local_test):
                train_songs = [songs[i] for i in idx if i in train_set]
                _score_fold(
                    result,
                    name,
                    network,
                    train_songs,
                    [songs[idx[k]] for k in local_test],
                    local_test,
                )
    return result


def _score_fold(
    result: CrossValidation,
    name: str,
    network: Network,
    train: Sequence[Song],
    test: Sequence[Song],
    local_test: np.ndarray,
) -> None:
    """Add one fold's out-of-fold predictions and metrics on dataset ``name`` to ``result``:
    the network's, its baselines' (fitted on ``train``) and its members' alone."""
    models = result.fold_metrics[name]
    predicted = predict_songs(network, test)
    if name == FOURQ:
        quadrants = np.array([s.quadrant for s in test])

        def score(_: Network | None, values: np.ndarray) -> dict:
            return quadrant_metrics(quadrants, values)

        baselines = quadrant_baselines(train, test, models)
    else:
        truth = np.stack([s.target for s in test])

        def score(model: Network | None, values: np.ndarray) -> dict:
            # Emotify's R² and RMSE score a network on its target scale; the baselines
            # predict on that scale already.
            if model is not None and name == EMOTIFY:
                values = to_emotify_scale(model, values)
            return regression_metrics(truth, values)

        baselines = regression_baselines(train, test, models)
    if name == EMOTIFY:
        result.emotify_scale[local_test] = to_emotify_scale(network, predicted)
        _score_moods(result, network, train, test, local_test)
    for model, values in {"network": predicted, **baselines}.items():
        models[model].append(score(network if model == "network" else None, values))
        result.predictions[name][model][local_test] = values
    if len(network.members) > 1:
        for m, member in enumerate(network.members):
            values = predict_songs(member, test)
            models.setdefault(f"member{m}", []).append(score(member, values))


def _score_moods(
    result: CrossValidation,
    network: Network,
    train: Sequence[Song],
    test: Sequence[Song],
    local_test: np.ndarray,
) -> None:
    """Add one fold's out-of-fold GEMS shares and their metrics to ``result``."""
    truth = np.stack([mood_shares(s) for s in test])
    predicted = {"network": predict_moods(network, test)}
    if "baseline_mean" in result.moods:
        predicted |= mood_baselines(train, test)
    for model, values in predicted.items():
        result.moods[model][local_test] = values
        result.mood_fold_metrics[model].append(mood_metrics(truth, values))
