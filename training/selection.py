"""Choosing the training configuration without scoring the choice on the songs that made it.

:func:`select` runs an inner grouped k-fold cross-validation of each candidate
configuration (one network each, no ensemble, to keep it affordable) on the songs it is
given and keeps the candidate with the best :func:`selection_score`.
:func:`nested_cross_validate` scores that whole procedure: in each outer fold,
:func:`select` sees only the outer training songs, the chosen candidate (with its full
ensemble) is trained on them and scored on the outer test songs. Repeating the outer
split with other seeds shows how much the figures owe to one split.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from training.cross_validation import CrossValidation, cross_validate
from training.data import FOURQ, Song
from training.metrics import QUADRANT_METRICS
from training.train import TrainConfig

_TAGS = {"tag_weight": 0.5}
_CONFIDENCE = {"confidence_power": 2.0}
_MUSICNN = {"musicnn": True}
_SPOTIFY = {"spotify_weight": 0.25}

CANDIDATES: dict[str, dict[str, float | bool]] = {
    "base": {},
    "tags": _TAGS,
    "confidence": _CONFIDENCE,
    "tags+confidence": _TAGS | _CONFIDENCE,
    "musicnn": _MUSICNN,
    "musicnn+tags": _MUSICNN | _TAGS,
    "musicnn+confidence": _MUSICNN | _CONFIDENCE,
    "musicnn+tags+confidence": _MUSICNN | _TAGS | _CONFIDENCE,
    "musicnn+spotify": _MUSICNN | _SPOTIFY,
}
"""Named changes to the base :class:`TrainConfig` that ``music-emotion-train --candidates``
can choose among: ``tags`` adds the auxiliary loss on 4Q's AllMusic mood tags,
``confidence`` weighs 4Q's songs by ``PQuad ** 2``, ``musicnn`` has both branches read
musicnn's embedding, ``spotify`` adds Spotify's valence/energy of the matched 4Q songs as
a weak target (:mod:`training.spotify`)."""


def selection_figures(datasets: Iterable[str]) -> list[tuple[str, str]]:
    """The (dataset, metric) figures whose mean is the selection score: 4Q's AUCs and
    quadrant accuracy, every other dataset's valence and arousal r."""
    return [
        (dataset, metric)
        for dataset in datasets
        for metric in (QUADRANT_METRICS if dataset == FOURQ else ("valence_r", "arousal_r"))
    ]


def candidate_configs(names: Sequence[str], base: TrainConfig) -> dict[str, TrainConfig]:
    """``base`` changed by each named entry of :data:`CANDIDATES`, in the given order."""
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        raise ValueError(f"unknown candidates {unknown}; known: {', '.join(CANDIDATES)}")
    return {name: replace(base, **CANDIDATES[name]) for name in names}


def selection_score(summary: Mapping) -> float:
    """Mean of the network's :func:`selection_figures` (fold means) in a CV summary."""
    values = [
        summary[dataset]["network"][metric]["mean"]
        for dataset, metric in selection_figures(summary)
        if summary[dataset]["network"][metric]["mean"] is not None
    ]
    if not values:
        raise ValueError("the summary has none of the selection metrics")
    return float(np.mean(values))


@dataclass(frozen=True)
class Choice:
    """The outcome of :func:`select`.

    Attributes
    ----------
    name : str
        The chosen candidate (the first of the best, on a tie).
    scores : dict
        Candidate -> selection score of its inner cross-validation.
    summaries : dict
        Candidate -> its inner cross-validation summary (:meth:`CrossValidation.summary`).
    """

    name: str
    scores: dict[str, float]
    summaries: dict[str, dict]


def select(
    songs: Sequence[Song],
    candidates: Mapping[str, TrainConfig],
    n_folds: int,
    *,
    splits: int | None = None,
    seed: int = 0,
    on_epoch: Callable[[], None] | None = None,
) -> Choice:
    """Cross-validate every candidate on ``songs`` (one network each) and pick the best.

    ``splits`` runs only the first of the ``n_folds`` folds (one: a single validation
    split holding out 1 / ``n_folds`` of the songs). A single candidate is chosen without
    any training.
    """
    if len(candidates) == 1:
        return Choice(next(iter(candidates)), {}, {})
    scores, summaries = {}, {}
    for name, config in candidates.items():
        cv = cross_validate(
            songs,
            n_folds,
            replace(config, ensemble=1),
            seed=seed,
            on_epoch=on_epoch,
            baselines=False,
            max_folds=splits,
        )
        summaries[name] = cv.summary()
        scores[name] = selection_score(summaries[name])
    return Choice(max(scores, key=scores.__getitem__), scores, summaries)


def nested_cross_validate(
    songs: Sequence[Song],
    n_folds: int,
    candidates: Mapping[str, TrainConfig],
    inner_folds: int,
    *,
    inner_splits: int | None = None,
    seed: int = 0,
    on_epoch: Callable[[], None] | None = None,
    baselines: bool = True,
) -> tuple[CrossValidation, list[str]]:
    """Outer ``n_folds``-fold CV of "select among ``candidates``, then train the choice"
    (the selection as in :func:`select`, with ``inner_splits`` as its ``splits``).

    Returns the outer cross-validation and the candidate chosen in each outer fold.
    """
    chosen: list[str] = []

    def choose(train: Sequence[Song], fold_seed: int) -> TrainConfig:
        choice = select(
            train,
            candidates,
            inner_folds,
            splits=inner_splits,
            seed=fold_seed,
            on_epoch=on_epoch,
        )
        chosen.append(choice.name)
        return candidates[choice.name]

    cv = cross_validate(
        songs,
        n_folds,
        seed=seed,
        on_epoch=on_epoch,
        baselines=baselines,
        choose=choose,
    )
    return cv, chosen


def over_repeats(summaries: Sequence[Mapping]) -> dict:
    """Dataset -> metric -> {"mean", "std", "values"} of the network's fold means over
    repeated outer splits (std over repeats: how much a figure owes to the split)."""
    result: dict = {}
    for dataset in summaries[0]:
        result[dataset] = {}
        for metric, value in summaries[0][dataset]["network"].items():
            if value["mean"] is None:
                continue
            values = [s[dataset]["network"][metric]["mean"] for s in summaries]
            result[dataset][metric] = {
                "mean": float(np.mean(values)),
                "std": float(np.std(values)),
                "values": [float(v) for v in values],
            }
    return result
