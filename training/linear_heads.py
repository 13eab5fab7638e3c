"""Song-level linear heads on musicnn's embedding statistics, to average with the network.

The heads are the musicnn baselines' own models (:mod:`training.baselines`), fitted on
the training songs' mean window statistics (:attr:`training.data.Song.embedding_summary`):
ridge regression of Emotify's valence and arousal, per-axis logistic regression of 4Q's
signs, each with its penalty chosen by inner cross-validation on those songs, and ridge
regression of any dataset labelled on the served [-1, 1] scale (the user's own clips).
Each is put on the network's served scale with what the network itself learnt:

- Emotify's ridge predictions through the inverse of the network's affine map onto
  Emotify's scale (:func:`training.train.emotify_map_of`);
- 4Q's decision values (logits) divided by the network's 4Q logit scale ``k``: the
  network was trained with ``P(sign) = sigmoid(k * output)``, the head gives
  ``P(sign) = sigmoid(decision)``, so ``decision / k`` is the output that states the
  same probability.

Every head is affine in the embedding statistics. The served heads are their mean, one
affine map of a window's statistics that the exported graph applies per window
(:class:`training.network.Blend`): the mean over a song's windows, which the service
takes, is the map of the song's mean statistics, which the heads were fitted on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.pipeline import Pipeline

from training.baselines import BASELINE_INPUTS, logistic_models, ridge_model
from training.data import EMOTIFY, FOURQ, Song

EMBEDDING = BASELINE_INPUTS["_musicnn"]
"""What the heads read of a song: the mean over its windows of their embedding statistics."""


@dataclass(frozen=True)
class Affine:
    """``statistics @ weight + bias``: (n, 2) ``weight`` and (2,) ``bias``, valence then
    arousal, on the served scale."""

    weight: np.ndarray
    bias: np.ndarray

    def __call__(self, statistics: np.ndarray) -> np.ndarray:
        """(rows, 2) values of (rows, n) statistics."""
        return np.asarray(statistics, dtype=np.float64) @ self.weight + self.bias


def raw_affine(pipeline: Pipeline) -> tuple[np.ndarray, np.ndarray]:
    """(n, targets) weights and (targets,) bias of a standardise-then-linear pipeline,
    applied to the unstandardised inputs."""
    scaler, linear = pipeline[0], pipeline[-1]
    coef = np.atleast_2d(linear.coef_) / scaler.scale_
    return coef.T, np.atleast_1d(linear.intercept_) - coef @ scaler.mean_


@dataclass(frozen=True)
class NetworkScale:
    """What the network learnt that puts a head on its served scale.

    Attributes
    ----------
    emotify_intercept, emotify_slope : np.ndarray
        (2,) its map ``intercept + slope * output`` onto Emotify's scale.
    sign_scale : np.ndarray
        (2,) its 4Q logit scale ``k`` per axis.
    """

    emotify_intercept: np.ndarray
    emotify_slope: np.ndarray
    sign_scale: np.ndarray


def _ridge_penalties(pipeline: Pipeline) -> dict[str, list[float]]:
    return {"ridge_alpha": np.atleast_1d(pipeline[-1].alpha_).tolist()}


def emotify_head(songs: Sequence[Song], scale: NetworkScale) -> tuple[Affine, dict]:
    """Ridge regression of Emotify's valence/arousal, on the served scale; with its penalties."""
    pipeline = ridge_model(songs, inputs=EMBEDDING)
    weight, bias = raw_affine(pipeline)
    served = Affine(
        weight / scale.emotify_slope, (bias - scale.emotify_intercept) / scale.emotify_slope
    )
    return served, _ridge_penalties(pipeline)


def fourq_head(songs: Sequence[Song], scale: NetworkScale) -> tuple[Affine, dict]:
    """Per-axis logistic regression of 4Q's signs, on the served scale; with its penalties."""
    models = logistic_models(songs, EMBEDDING)
    n = len(EMBEDDING(songs[0]))
    weight, bias, penalties = np.zeros((n, 2)), np.zeros(2), []
    for k, model in enumerate(models):
        if isinstance(model, float):  # one sign only among the songs: a constant decision
            bias[k], penalty = model, None
        else:
            w, b = raw_affine(model)
            classifier = model[-1]  # LogisticRegressionCV chose C_; a plain one was given C
            chosen = classifier.C_ if hasattr(classifier, "C_") else classifier.C
            weight[:, k], bias[k], penalty = w[:, 0], b[0], float(np.ravel(chosen)[0])
        penalties.append(penalty)
    served = Affine(weight / scale.sign_scale, bias / scale.sign_scale)
    return served, {"logistic_C": penalties}


def direct_head(songs: Sequence[Song]) -> tuple[Affine, dict]:
    """Ridge regression of valence/arousal labelled on the served scale."""
    pipeline = ridge_model(songs, inputs=EMBEDDING)
    return Affine(*raw_affine(pipeline)), _ridge_penalties(pipeline)


def fit_heads(songs: Sequence[Song], scale: NetworkScale) -> dict[str, tuple[Affine, dict]]:
    """Head name -> (the head on the served scale, its penalties), one per kind of label
    the songs carry: ``emotify``, ``4q`` and ``direct`` (every other labelled dataset)."""
    emotify = [s for s in songs if s.dataset == EMOTIFY and np.isfinite(s.target).all()]
    fourq = [s for s in songs if s.dataset == FOURQ and s.quadrant]
    direct = [s for s in songs if s.dataset not in (EMOTIFY, FOURQ) and np.isfinite(s.target).all()]
    heads = {}
    if len(emotify) >= 2:
        heads[EMOTIFY] = emotify_head(emotify, scale)
    if fourq:
        heads[FOURQ] = fourq_head(fourq, scale)
    if len(direct) >= 2:
        heads["direct"] = direct_head(direct)
    if not heads:
        raise ValueError("no labelled songs to fit the linear heads on")
    return heads


def mean_head(heads: Sequence[Affine]) -> Affine:
    """The mean of affine heads (itself affine)."""
    return Affine(
        np.mean([h.weight for h in heads], axis=0), np.mean([h.bias for h in heads], axis=0)
    )
