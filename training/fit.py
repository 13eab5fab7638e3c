"""Training loop, k-fold cross-validation, baselines and metrics.

The network trains on 20-s windows, each labelled with its song's targets; a song's
prediction is the mean over its windows, and every metric is per song. Folds split
songs (so all windows of a song stay on one side), stratified by group (genre), and
every figure reported comes from songs held out of the fit that produced it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.linear_model import RidgeCV
from sklearn.metrics import r2_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from app.features import Features
from app.features.config import DEFAULT_CONFIG, FeatureConfig
from app.features.windows import SCALAR_NAMES, Windows, scalar_vector, windows
from training.datasets import Item
from training.network import INPUT_NAMES, OUTPUT_NAMES, EmotionNet

MODELS: tuple[str, ...] = ("network", "baseline_mean", "baseline_ridge")
"""Models scored by :func:`cross_validate`, in report order."""

RIDGE_ALPHAS = np.logspace(-2, 4, 13)
"""Ridge penalties tried by leave-one-out on each training fold."""


@dataclass(frozen=True)
class Song:
    """One labelled song ready for fitting.

    Attributes
    ----------
    key, group : str
        From the dataset item.
    target : np.ndarray
        (2,) valence, arousal.
    windows : Windows
        The network's inputs.
    summary : np.ndarray
        Time-averaged features (MFCC, chroma, centroid, rolloff means, then the scalars)
        for the ridge baseline.
    """

    key: str
    group: str
    target: np.ndarray
    windows: Windows
    summary: np.ndarray


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of :func:`train_network`."""

    epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 1e-2
    dropout: float = 0.3
    loudness_jitter_lu: float = 6.0
    """Half-width of the uniform noise added to each training window's loudness scalar."""


def make_songs(
    items: Sequence[Item], features: Sequence[Features], config: FeatureConfig = DEFAULT_CONFIG
) -> list[Song]:
    """Pair dataset items with their features."""
    songs = []
    for item, feats in zip(items, features, strict=True):
        summary = np.concatenate(
            [
                feats.mfcc.mean(axis=1),
                feats.chroma.mean(axis=1),
                [feats.spectral_centroid.mean(), feats.spectral_rolloff.mean()],
                scalar_vector(feats),
            ]
        )
        songs.append(
            Song(
                key=item.key,
                group=item.genre or "all",
                target=np.array([item.valence, item.arousal], dtype=np.float32),
                windows=windows(feats, config),
                summary=summary,
            )
        )
    return songs


def stack_windows(songs: Sequence[Song]) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """All windows of ``songs``: inputs keyed by name, (windows, 2) targets, song index."""
    inputs = {
        name: np.concatenate([s.windows.inputs()[name] for s in songs]) for name in INPUT_NAMES
    }
    counts = [len(s.windows) for s in songs]
    targets = np.repeat(np.stack([s.target for s in songs]), counts, axis=0)
    return inputs, targets, np.repeat(np.arange(len(songs)), counts)


def train_network(
    songs: Sequence[Song],
    config: TrainConfig = TrainConfig(),
    *,
    seed: int = 0,
    on_epoch: Callable[[], None] | None = None,
) -> EmotionNet:
    """Fit a fresh :class:`EmotionNet` on the windows of ``songs``; returned in eval mode.

    Standardisation statistics come from these songs only. Loss: the sum of the two
    outputs' mean squared errors; AdamW with a cosine learning-rate decay over a fixed
    number of epochs (no early stopping, which would need held-out data).
    """
    torch.manual_seed(seed)
    inputs, targets, _ = stack_windows(songs)
    model = EmotionNet(dropout=config.dropout)
    model.fit_standardization(inputs)
    tensors = [torch.from_numpy(inputs[name]) for name in INPUT_NAMES]
    y = torch.from_numpy(targets)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    batches_per_epoch = -(-len(y) // config.batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=config.epochs * batches_per_epoch
    )
    generator = torch.Generator().manual_seed(seed)
    scalars = INPUT_NAMES.index("scalars")
    for _ in range(config.epochs):
        model.train()
        for batch in torch.randperm(len(y), generator=generator).split(config.batch_size):
            x = [t[batch] for t in tensors]
            x[scalars] = jitter_loudness(x[scalars], config.loudness_jitter_lu, generator)
            valence, arousal = model(*x)
            loss = torch.nn.functional.mse_loss(valence, y[batch, 0])
            loss = loss + torch.nn.functional.mse_loss(arousal, y[batch, 1])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        if on_epoch is not None:
            on_epoch()
    return model.eval()


def jitter_loudness(
    scalars: torch.Tensor, width: float, generator: torch.Generator
) -> torch.Tensor:
    """``scalars`` with uniform noise in [-width, width] LU added to the loudness column.

    The same music measures several LU louder or quieter with its channel layout (identical
    stereo channels add 3 LU), master and encoding, while the other inputs come from the
    mono mix; the noise keeps the network from leaning on loudness differences that small.
    """
    noise = (torch.rand(len(scalars), generator=generator) * 2 - 1) * width
    column = SCALAR_NAMES.index("loudness_lufs")
    scalars = scalars.clone()
    scalars[:, column] += noise
    return scalars


@torch.no_grad()
def predict_songs(model: EmotionNet, songs: Sequence[Song]) -> np.ndarray:
    """(songs, 2) predictions: each song's mean over its windows."""
    inputs, _, song = stack_windows(songs)
    valence, arousal = model(*(torch.from_numpy(inputs[name]) for name in INPUT_NAMES))
    per_window = torch.stack([valence, arousal], dim=1).numpy()
    sums = np.zeros((len(songs), 2))
    np.add.at(sums, song, per_window)
    return sums / np.bincount(song, minlength=len(songs))[:, None]


def fit_ridge(songs: Sequence[Song]) -> Callable[[Sequence[Song]], np.ndarray]:
    """Ridge regression on standardised time-averaged features; returns a predictor."""
    model = make_pipeline(StandardScaler(), RidgeCV(alphas=RIDGE_ALPHAS, alpha_per_target=True))
    model.fit(np.stack([s.summary for s in songs]), np.stack([s.target for s in songs]))
    return lambda test: model.predict(np.stack([s.summary for s in test]))


def metrics(truth: np.ndarray, predicted: np.ndarray) -> dict[str, dict[str, float | None]]:
    """Pearson r, R² and RMSE per output, for (songs, 2) arrays.

    r is None when the predictions are constant (it is undefined then).
    """
    result = {}
    for k, name in enumerate(OUTPUT_NAMES):
        t, p = truth[:, k].astype(np.float64), predicted[:, k].astype(np.float64)
        r = float(np.corrcoef(t, p)[0, 1]) if np.ptp(p) > 0 else None
        result[name] = {
            "pearson_r": r,
            "r2": float(r2_score(t, p)),
            "rmse": float(np.sqrt(np.mean((t - p) ** 2))),
        }
    return result


def split_folds(songs: Sequence[Song], n_folds: int, seed: int) -> list[tuple[np.ndarray, ...]]:
    """(train, test) song indices of each fold, stratified by group."""
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    groups = [s.group for s in songs]
    return list(splitter.split(np.zeros(len(songs)), groups))


@dataclass
class CrossValidation:
    """Out-of-fold results of every model in :data:`MODELS`.

    Attributes
    ----------
    predictions : dict
        Model name to (songs, 2) out-of-fold predictions.
    fold_metrics : dict
        Model name to one :func:`metrics` result per fold.
    """

    n_folds: int
    predictions: dict[str, np.ndarray] = field(default_factory=dict)
    fold_metrics: dict[str, list[dict]] = field(default_factory=dict)

    def summary(self) -> dict[str, dict[str, dict[str, dict[str, float | None]]]]:
        """Model -> output -> metric -> {"mean", "std"} over folds (None if undefined)."""
        result: dict = {}
        for model, per_fold in self.fold_metrics.items():
            result[model] = {}
            for output in OUTPUT_NAMES:
                result[model][output] = {}
                for metric in per_fold[0][output]:
                    values = [m[output][metric] for m in per_fold]
                    defined = None not in values
                    result[model][output][metric] = {
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
) -> CrossValidation:
    """Score the network and both baselines by ``n_folds``-fold cross-validation."""
    truth = np.stack([s.target for s in songs])
    result = CrossValidation(n_folds=n_folds)
    for model in MODELS:
        result.predictions[model] = np.zeros_like(truth)
        result.fold_metrics[model] = []
    for fold, (train, test) in enumerate(split_folds(songs, n_folds, seed)):
        train_songs = [songs[i] for i in train]
        test_songs = [songs[i] for i in test]
        network = train_network(train_songs, config, seed=seed + fold, on_epoch=on_epoch)
        predicted = {
            "network": predict_songs(network, test_songs),
            "baseline_mean": np.repeat(truth[train].mean(axis=0, keepdims=True), len(test), 0),
            "baseline_ridge": fit_ridge(train_songs)(test_songs),
        }
        for model in MODELS:
            result.predictions[model][test] = predicted[model]
            result.fold_metrics[model].append(metrics(truth[test], predicted[model]))
    return result
