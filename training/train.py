"""Training the network jointly on every dataset's songs, and its per-song predictions.

Losses (each averaged over the windows of its dataset in the batch):

- Emotify valence/arousal: squared error between the standardised targets and a
  learnable affine map ``offset + exp(log_scale) * output`` of each branch's output
  (the targets are compressed and only their ordering matters, so the network's own
  scale stays free for 4Q's calibration);
- Emotify GEMS: cross-entropy between the normalised listener shares and the GEMS head;
- 4Q: logistic loss of each axis's sign with logit ``k * output`` (learnable ``k > 0``),
  so an output's zero is the decision boundary, each song weighted by ``PQuad ** p``
  (the share of its mood tags agreeing with its quadrant; ``p = 0`` weighs all alike);
- other valence/arousal sets (on a calibrated [-1, 1] scale): squared error of the outputs;
- 4Q mood tags (optional): binary cross-entropy of a tag head over the AllMusic tags
  carried by enough training songs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn.functional import binary_cross_entropy_with_logits

from app.features.windows import EMBEDDING_INPUT
from app.model import MOODS
from training.data import (
    EMOTIFY,
    TRAIN_HOP_S,
    Song,
    quadrant_signs,
    stack_windows,
    tag_vocabulary,
)
from training.network import OUTPUT_NAMES, EmotionNet, Ensemble, Heads

Network = EmotionNet | Ensemble


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of :func:`train_network`."""

    epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 3e-3
    weight_decay: float = 1e-2
    dropout: float = 0.3
    hidden: int = 32
    """Width of each branch's hidden layer (0: linear branches)."""
    ensemble: int = 5
    """Members trained with different seeds and averaged in one graph."""
    loudness_jitter_lu: float = 6.0
    """Half-width of the uniform noise added to each training window's loudness scalar."""
    train_hop_s: float = TRAIN_HOP_S
    """Hop between the training crops (the service's windows hop 10 s)."""
    emotify_weight: float = 1.0
    gems_weight: float = 0.5
    fourq_weight: float = 1.0
    va_weight: float = 1.0
    """Weight of the squared error on datasets whose valence/arousal are on a calibrated
    [-1, 1] scale (every dataset with targets other than Emotify)."""
    tag_weight: float = 0.0
    """Weight of the auxiliary multi-label loss on the mood tags (0: no tag head)."""
    min_tag_songs: int = 20
    """A tag is a target when at least this many training songs carry it."""
    confidence_power: float = 0.0
    """4Q's sign loss weighs each song by ``confidence ** confidence_power`` (0: all 1)."""
    musicnn: bool = False
    """Both branches also read musicnn's embedding of each window (the songs must carry it)."""
    spotify_weight: float = 0.0
    """Weight of the squared error between the outputs and Spotify's valence/energy, on the
    songs that carry them (:attr:`training.data.Song.spotify`; 0: unused)."""


def training_arrays(
    songs: Sequence[Song], vocabulary: Sequence[str] = (), embedding: bool = False
) -> dict[str, np.ndarray]:
    """Per training crop of ``songs``: its pooled vector ``x``, its embedding (with
    ``embedding``) and its song's labels, keyed by name."""
    if embedding and any(s.crops.musicnn is None for s in songs):
        raise ValueError("the configuration reads musicnn's embedding: the songs carry none")
    counts = [len(s.train_pooled) for s in songs]

    def per_crop(values: Sequence | np.ndarray) -> np.ndarray:
        return np.repeat(np.asarray(values), counts, axis=0)

    tags = np.array([[t in s.tags for t in vocabulary] for s in songs], dtype=np.float32)
    arrays = {
        "emotify": per_crop([s.dataset == EMOTIFY for s in songs]),
        "x": np.concatenate([s.train_pooled for s in songs]).astype(np.float32),
        "target": per_crop(np.stack([s.target for s in songs])),
        "gems": per_crop(np.stack([s.gems for s in songs])),
        "signs": per_crop(quadrant_signs([s.quadrant for s in songs])),
        "tags": per_crop(tags.reshape(len(songs), len(vocabulary))),
        "tagged": per_crop([bool(s.tags) for s in songs]),
        "confidence": per_crop([s.confidence for s in songs]).astype(np.float32),
        "spotify": per_crop(np.stack([s.spotify for s in songs])),
    }
    if embedding:
        arrays[EMBEDDING_INPUT] = np.concatenate([s.crops.musicnn for s in songs])
    return arrays


def train_network(
    songs: Sequence[Song],
    config: TrainConfig = TrainConfig(),
    *,
    seed: int = 0,
    on_epoch: Callable[[], None] | None = None,
) -> Network:
    """Fit the network (or an ensemble of ``config.ensemble`` seeds) on ``songs``; eval mode.

    Standardisation statistics come from these songs only. AdamW with a cosine
    learning-rate decay over a fixed number of epochs (chosen by cross-validation).
    """
    members = [
        _train_one(songs, config, seed=seed * 1000 + m, on_epoch=on_epoch)
        for m in range(config.ensemble)
    ]
    return members[0] if len(members) == 1 else Ensemble(members).eval()


def _train_one(
    songs: Sequence[Song],
    config: TrainConfig,
    *,
    seed: int,
    on_epoch: Callable[[], None] | None,
) -> EmotionNet:
    torch.manual_seed(seed)
    vocabulary = tag_vocabulary(songs, config.min_tag_songs) if config.tag_weight > 0 else ()
    data = training_arrays(songs, vocabulary, embedding=config.musicnn)
    model = EmotionNet(
        hidden=config.hidden,
        dropout=config.dropout,
        n_tags=len(vocabulary),
        n_embedding=data[EMBEDDING_INPUT].shape[1] if config.musicnn else 0,
    )
    model.fit_standardization(data["x"], data.get(EMBEDDING_INPUT))
    embedding = torch.from_numpy(data[EMBEDDING_INPUT]) if config.musicnn else None
    x = torch.from_numpy(data["x"])
    target = data["target"].astype(np.float64)
    labelled = np.isfinite(target).all(axis=1)
    has_va = labelled & data["emotify"]
    direct = torch.from_numpy(labelled & ~data["emotify"])
    raw_target = torch.from_numpy(np.nan_to_num(target).astype(np.float32))
    # Emotify's targets, standardised with the training songs' statistics.
    mean = np.nanmean(target[has_va], axis=0) if has_va.any() else np.zeros(2)
    std = np.nanstd(target[has_va], axis=0) if has_va.any() else np.ones(2)
    std = np.where(std > 1e-9, std, 1.0)
    model.emotify_target = (mean, std)
    z = torch.from_numpy(np.nan_to_num((target - mean) / std).astype(np.float32))
    va_mask = torch.from_numpy(has_va)
    gems = np.nan_to_num(data["gems"])
    gems = gems / np.maximum(gems.sum(axis=1, keepdims=True), 1e-9)
    gems_t = torch.from_numpy(gems.astype(np.float32))
    gems_mask = torch.from_numpy(np.isfinite(data["gems"]).all(axis=1))
    signs = torch.from_numpy(data["signs"])
    sign_mask = signs[:, 0] != 0
    sign_labels = (signs > 0).float()
    sign_weight = torch.from_numpy(data["confidence"] ** config.confidence_power)
    tags = torch.from_numpy(data["tags"])
    tagged = torch.from_numpy(data["tagged"])
    spotify_mask = torch.from_numpy(np.isfinite(data["spotify"]).all(axis=1))
    spotify = torch.from_numpy(np.nan_to_num(data["spotify"]))
    loudness = model.pooling.names.index("loudness_lufs")

    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    batches_per_epoch = -(-len(x) // config.batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=max(1, config.epochs * batches_per_epoch)
    )
    generator = torch.Generator().manual_seed(seed)
    for _ in range(config.epochs):
        model.train()
        for batch in torch.randperm(len(x), generator=generator).split(config.batch_size):
            xb = x[batch].clone()
            noise = torch.rand(len(batch), generator=generator) * 2 - 1
            xb[:, loudness] += noise * config.loudness_jitter_lu
            heads = model.head(xb, None if embedding is None else embedding[batch])
            out = torch.stack([heads.valence, heads.arousal], dim=1)
            loss = torch.zeros(())
            m = va_mask[batch]
            if m.any():
                offset, log_scale = model.emotify_map[0], model.emotify_map[1]
                fitted = offset + torch.exp(log_scale) * out[m]
                loss = loss + config.emotify_weight * ((fitted - z[batch][m]) ** 2).mean(0).sum()
            m = direct[batch]
            if m.any():
                error = (out[m] - raw_target[batch][m]) ** 2
                loss = loss + config.va_weight * error.mean(0).sum()
            m = gems_mask[batch]
            if m.any() and config.gems_weight > 0:
                log_p = torch.log_softmax(heads.gems[m], dim=1)
                loss = loss - config.gems_weight * (gems_t[batch][m] * log_p).sum(1).mean()
            m = sign_mask[batch]
            if m.any():
                logits = torch.exp(model.log_sign_scale) * out[m]
                bce = binary_cross_entropy_with_logits(
                    logits, sign_labels[batch][m], reduction="none"
                )
                w = sign_weight[batch][m]
                loss = loss + config.fourq_weight * (bce.sum(1) * w).sum() / w.sum()
            m = spotify_mask[batch]
            if config.spotify_weight > 0 and m.any():
                error = (out[m] - spotify[batch][m]) ** 2
                loss = loss + config.spotify_weight * error.mean(0).sum()
            m = tagged[batch]
            if heads.tags is not None and m.any():
                bce = binary_cross_entropy_with_logits(heads.tags[m], tags[batch][m])
                loss = loss + config.tag_weight * bce
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        if on_epoch is not None:
            on_epoch()
    return model.eval()


@torch.no_grad()
def _song_means(
    model: Network,
    songs: Sequence[Song],
    read: Callable[[Heads], torch.Tensor],
    width: int,
) -> np.ndarray:
    """(songs, width): ``read`` of each window's heads, averaged over members and windows."""
    if not songs:
        return np.zeros((0, width))
    pooled = torch.from_numpy(np.concatenate([s.pooled for s in songs]).astype(np.float32))
    embedding = stack_windows(songs).get(EMBEDDING_INPUT)
    embedding = None if embedding is None else torch.from_numpy(embedding)
    outputs = [read(m.head(pooled, embedding)).numpy() for m in model.members]
    per_window = np.mean(outputs, axis=0)
    counts = [len(s.pooled) for s in songs]
    song = np.repeat(np.arange(len(songs)), counts)
    sums = np.zeros((len(songs), width))
    np.add.at(sums, song, per_window)
    return sums / np.asarray(counts)[:, None]


def predict_songs(model: Network, songs: Sequence[Song]) -> np.ndarray:
    """(songs, 2) served predictions: each song's mean over its windows."""
    return _song_means(model, songs, lambda h: torch.stack([h.valence, h.arousal], 1), 2)


def predict_moods(model: Network, songs: Sequence[Song]) -> np.ndarray:
    """(songs, 9) served GEMS shares: each song's mean over its windows (rows sum to 1)."""
    return _song_means(model, songs, lambda h: torch.softmax(h.gems, dim=1), len(MOODS))


def _emotify_maps(model: Network) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per member, (intercept, slope) per output of its map onto Emotify's scale: the
    learnt affine map to the standardised targets, then the targets' mean and std."""
    maps = []
    for m in model.members:
        offset = m.emotify_map[0].detach().numpy().astype(np.float64)
        scale = np.exp(m.emotify_map[1].detach().numpy().astype(np.float64))
        mean, std = m.emotify_target
        maps.append((mean + std * offset, std * scale))
    return maps


def to_emotify_scale(model: Network, predicted: np.ndarray) -> np.ndarray:
    """Map served predictions onto Emotify's target scale with the learned affine maps.

    The maps were fitted on the model's training songs only (mean over ensemble members).
    """
    return np.mean([a + b * predicted for a, b in _emotify_maps(model)], axis=0)


def emotify_map_of(model: Network) -> dict[str, dict[str, float]]:
    """Per output, the affine ``intercept + slope * output`` onto Emotify's scale."""
    intercept, slope = np.mean(_emotify_maps(model), axis=0)
    return {
        name: {"intercept": float(intercept[k]), "slope": float(slope[k])}
        for k, name in enumerate(OUTPUT_NAMES)
    }
