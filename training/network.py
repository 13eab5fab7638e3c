"""The two-branch valence/arousal network over pooled statistics computed in the graph.

The graph takes the service's four raw window inputs (``mfcc``, ``chroma``, ``spectral``,
``scalars``). A parameter-free :class:`Pooling` layer summarises each 20-s window into
one vector of statistics over time: MFCC means, spreads, percentiles and deltas;
spectral centroid/rolloff statistics; chroma statistics plus harmony descriptors (key
clarity and mode from correlations with the 24 Krumhansl-Kessler key profiles, major vs
minor triad share from per-step chord-template matching, key-invariant interval content
and the rate of harmonic change); and the song-level scalars. The vector is standardised
with statistics stored as buffers (set from the training windows), and each output has
its own branch (a small MLP ending in tanh): the valence branch and the arousal branch.
A network may also read musicnn's embedding of the window (standardised, beside the
pooled statistics in both branches).
A third head reads both branches' hidden layers and gives the nine GEMS shares
(softmax), learnt from Emotify's listener shares and exported as the graph's ``moods``
output. An optional fourth head (training only) predicts 4Q's AllMusic mood tags as an
auxiliary multi-label target.

Outputs are calibrated so that 0 means neutral: 4Q trains each branch's sign with a
logistic loss whose logit is ``k * output``, so the signs of valence and arousal give
the Russell quadrant. Emotify's compressed valence/arousal are fitted through a learnable
affine map of the same outputs (:attr:`EmotionNet.emotify_map`), kept outside the
exported outputs.

Because :class:`Pooling` has no parameters, training pools every window once and fits
the rest on the pooled vectors (:meth:`EmotionNet.head`); ``forward`` (:class:`Served`)
composes both, which is what the ONNX export runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from app.features.config import DEFAULT_CONFIG
from app.features.windows import EMBEDDING_INPUT, SCALAR_NAMES
from app.model import MOODS, OUTPUTS

INPUT_NAMES: tuple[str, ...] = ("mfcc", "chroma", "spectral", "scalars")
"""Names and order of the network's (and the ONNX graph's) inputs; a network that reads
musicnn's embedding has :data:`EMBEDDING_INPUT` after them."""

EMBEDDING_SIZE = 400
"""Width of the ``musicnn`` input: mean and standard deviation of 200 values per window."""

OUTPUT_NAMES: tuple[str, ...] = OUTPUTS
"""The service's outputs: valence and arousal, each (batch,) in [-1, 1]."""

N_GEMS = len(MOODS)

CLIP = 8.0
"""Standardised values are clipped to +-CLIP: bounds inputs far outside the training range
(e.g. the -inf LUFS of digital silence) instead of letting them dominate or give NaN."""

EPS = 1e-6

# Krumhansl & Kessler (1982) probe-tone profiles, C major and C minor.
KK_MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
KK_MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)

PERCENTILES = (0.1, 0.5, 0.9)
"""Quantiles over time taken of the MFCCs and of the log centroid/rolloff."""


def _rotations(profile: Sequence[float]) -> np.ndarray:
    """(12, 12) rows: ``profile`` transposed to each of the 12 tonics."""
    return np.stack([np.roll(np.asarray(profile, dtype=np.float64), k) for k in range(12)])


def _triads() -> np.ndarray:
    """(24, 12) unit-norm binary templates: 12 major then 12 minor triads."""
    major = np.zeros(12)
    major[[0, 4, 7]] = 1
    minor = np.zeros(12)
    minor[[0, 3, 7]] = 1
    templates = np.concatenate([_rotations(major), _rotations(minor)])
    return templates / np.linalg.norm(templates, axis=1, keepdims=True)


def _numbered(pattern: str, count: int, first: int = 0) -> tuple[str, ...]:
    """``pattern`` formatted with ``first, first + 1, ...``: the names of ``count`` columns."""
    return tuple(pattern.format(i) for i in range(first, first + count))


Block = tuple[tuple[str, ...], torch.Tensor]
"""Some columns of the pooled vector: their names and their (batch, len(names)) values."""


class Pooling(nn.Module):
    """Parameter-free statistics over time of one window's raw inputs.

    Returns (batch, :attr:`n_features`); :attr:`names` labels the columns. Both come from
    :meth:`blocks`, where each block's names stand beside its values. Chroma statistics
    other than the per-class means and spreads are key-invariant.
    """

    def __init__(
        self,
        n_mfcc: int = DEFAULT_CONFIG.n_mfcc,
        n_chroma: int = DEFAULT_CONFIG.n_chroma,
        n_scalars: int = len(SCALAR_NAMES),
        n_steps: int = DEFAULT_CONFIG.n_steps,
        chord_temperature: float = 20.0,
    ) -> None:
        super().__init__()
        self.n_steps = n_steps
        if n_chroma != 12:
            raise ValueError("the harmony descriptors need 12 chroma classes")
        profiles = np.concatenate([_rotations(KK_MAJOR), _rotations(KK_MINOR)])
        profiles = profiles - profiles.mean(axis=1, keepdims=True)
        profiles /= np.linalg.norm(profiles, axis=1, keepdims=True)
        self.register_buffer("key_profiles", torch.as_tensor(profiles, dtype=torch.float32))
        self.register_buffer("triads", torch.as_tensor(_triads(), dtype=torch.float32))
        # Circular shift matrices for the interval content (lags 1..6 semitones).
        shifts = np.stack([np.roll(np.eye(12), k, axis=1) for k in range(1, 7)])
        self.register_buffer("shifts", torch.as_tensor(shifts, dtype=torch.float32))
        # (24 keys, 12, 12): the mean chroma times rotations[k] is its profile relative to
        # key k's tonic (scale degree 0 = tonic).
        rotations = np.stack([np.roll(np.eye(12), k % 12, axis=0) for k in range(24)])
        self.register_buffer("rotations", torch.as_tensor(rotations, dtype=torch.float32))
        self.chord_temperature = chord_temperature
        self.key_temperature = 20.0
        self.pulse_lags = tuple(range(2, 21))
        self.block_steps = 20
        self.scalar_names = (
            SCALAR_NAMES if n_scalars == len(SCALAR_NAMES) else _numbered("scalar{}", n_scalars)
        )
        # The names are read off the blocks of one silent window, each checked against
        # the width of its values.
        with torch.no_grad():
            blocks = self.blocks(
                torch.zeros(1, n_mfcc, n_steps),
                torch.zeros(1, n_chroma, n_steps),
                torch.zeros(1, 2, n_steps),
                torch.zeros(1, n_scalars),
            )
        for names, values in blocks:
            if values.shape[1] != len(names):
                raise ValueError(f"{len(names)} names for {values.shape[1]} columns: {names}")
        self.names: tuple[str, ...] = tuple(name for names, _ in blocks for name in names)
        self.n_features = len(self.names)

    def _stats(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Mean, std, mean |delta| and percentiles over the last axis of (batch, c, time)."""
        mean = x.mean(dim=-1)
        std = torch.sqrt(((x - mean.unsqueeze(-1)) ** 2).mean(dim=-1) + EPS)
        delta = (x[..., 1:] - x[..., :-1]).abs().mean(dim=-1)
        ordered, _ = torch.sort(x, dim=-1)
        quantiles = [ordered[..., round(q * (self.n_steps - 1))] for q in PERCENTILES]
        return [mean, std, delta, *quantiles]

    def forward(
        self,
        mfcc: torch.Tensor,
        chroma: torch.Tensor,
        spectral: torch.Tensor,
        scalars: torch.Tensor,
    ) -> torch.Tensor:
        blocks = self.blocks(mfcc, chroma, spectral, scalars)
        return torch.cat([values for _, values in blocks], dim=1)

    def blocks(
        self,
        mfcc: torch.Tensor,
        chroma: torch.Tensor,
        spectral: torch.Tensor,
        scalars: torch.Tensor,
    ) -> list[Block]:
        """The pooled vector's columns, block by block in order, each beside its names."""
        n_mfcc = mfcc.shape[1]
        statistics = ("mean", "std", "delta", *(f"p{round(q * 100)}" for q in PERCENTILES))
        blocks = [
            (_numbered(f"mfcc{{}}_{name}", n_mfcc), values)
            for name, values in zip(statistics, self._stats(mfcc), strict=True)
        ]
        log_spec = torch.log(torch.clamp(spectral, min=0.0) + 1.0)
        spec = torch.stack(self._stats(log_spec), dim=2)  # (batch, band, statistic)
        blocks += [
            (tuple(f"log_{band}_{name}" for name in statistics), spec[:, k])
            for k, band in enumerate(("centroid", "rolloff"))
        ]

        chroma = torch.clamp(chroma, min=0.0)
        c_mean = chroma.mean(dim=-1)
        c_std = torch.sqrt(((chroma - c_mean.unsqueeze(-1)) ** 2).mean(dim=-1) + EPS)
        # Key: Pearson correlation of the mean chroma with the 24 key profiles.
        centred = c_mean - c_mean.mean(dim=1, keepdim=True)
        centred = centred / (torch.sqrt((centred**2).sum(dim=1, keepdim=True)) + EPS)
        key = centred @ self.key_profiles.T  # (batch, 24)
        major_max = key[:, :12].max(dim=1).values
        minor_max = key[:, 12:].max(dim=1).values
        top2 = torch.topk(key, 2, dim=1).values
        key_feats = [major_max, minor_max, major_max - minor_max, top2[:, 0] - top2[:, 1]]
        # Chords: per-step cosine similarity with 24 triads, soft-assigned.
        frames = chroma.transpose(1, 2)  # (batch, time, 12)
        unit = frames / (torch.sqrt((frames**2).sum(dim=-1, keepdim=True)) + EPS)
        similarity = unit @ self.triads.T  # (batch, time, 24)
        assignment = torch.softmax(similarity * self.chord_temperature, dim=-1)
        chord_major = assignment[..., :12].sum(dim=-1).mean(dim=1)
        chord_clarity = similarity.max(dim=-1).values.mean(dim=1)
        change = 1.0 - (unit[:, 1:] * unit[:, :-1]).sum(dim=-1).mean(dim=1)
        # Interval content of the mean chroma (key-invariant), lags 1..6.
        norm = (c_mean**2).sum(dim=1, keepdim=True) + EPS
        intervals = (
            torch.stack([(c_mean * (c_mean @ self.shifts[k])).sum(dim=1) for k in range(6)], dim=1)
            / norm
        )
        flatness = torch.exp(torch.log(c_mean + EPS).mean(dim=1)) / (c_mean.mean(dim=1) + EPS)
        # Scale-degree profile: the mean chroma rotated to the tonic of the best major key
        # and of the best minor key (soft argmax over keys), normalised to sum 1.
        share = c_mean / (c_mean.sum(dim=1, keepdim=True) + EPS)
        relative = torch.einsum("bi,kij->bkj", share, self.rotations)  # (batch, 24, 12)
        w_major = torch.softmax(key[:, :12] * self.key_temperature, dim=1)
        w_minor = torch.softmax(key[:, 12:] * self.key_temperature, dim=1)
        degrees_major = (w_major.unsqueeze(-1) * relative[:, :12]).sum(dim=1)
        degrees_minor = (w_minor.unsqueeze(-1) * relative[:, 12:]).sum(dim=1)
        # Chord roots relative to the key's tonic (soft over the 24 keys): how often each
        # major and each minor triad on scale degree 0..11 sounds (I, IV, V, vi, ...).
        chords = assignment.mean(dim=1)  # (batch, 24): 12 major then 12 minor triads
        w_key = torch.softmax(key * self.key_temperature, dim=1)  # (batch, 24)
        rel_major = torch.einsum("bi,kij->bkj", chords[:, :12], self.rotations)
        rel_minor = torch.einsum("bi,kij->bkj", chords[:, 12:], self.rotations)
        # Local keys: key correlations of 2-s block means; mode and agreement with the window.
        blocks_2s = nn.functional.avg_pool1d(chroma, self.block_steps)  # (batch, 12, blocks)
        blocks_2s = blocks_2s - blocks_2s.mean(dim=1, keepdim=True)
        blocks_2s = blocks_2s / (torch.sqrt((blocks_2s**2).sum(dim=1, keepdim=True)) + EPS)
        local = torch.einsum("bct,kc->bkt", blocks_2s, self.key_profiles)  # (batch, 24, blocks)
        local_mode = local[:, :12].max(dim=1).values - local[:, 12:].max(dim=1).values
        local_w = torch.softmax(local * self.key_temperature, dim=1)
        agreement = (local_w * w_key.unsqueeze(-1)).sum(dim=1).mean(dim=1)
        local_mode_std = torch.sqrt(
            ((local_mode - local_mode.mean(dim=1, keepdim=True)) ** 2).mean(dim=1) + EPS
        )
        # Interval content of each step's chroma (simultaneous intervals), averaged.
        frame_power = (unit**2).sum(dim=-1) + EPS  # (batch, time)
        frame_intervals = torch.stack(
            [((unit @ self.shifts[k]) * unit).sum(dim=-1) / frame_power for k in range(6)],
            dim=2,
        ).mean(dim=1)
        # Pulse: autocorrelation of the loudness (MFCC 0) changes over lags 0.2-2 s.
        energy = mfcc[:, 0]
        onset = torch.relu(energy[:, 1:] - energy[:, :-1])
        onset = onset - onset.mean(dim=1, keepdim=True)
        power = (onset * onset).mean(dim=1) + EPS
        lags = [(onset[:, lag:] * onset[:, :-lag]).mean(dim=1) / power for lag in self.pulse_lags]
        lagged = torch.stack(lags, dim=1)

        def together(*columns: torch.Tensor) -> torch.Tensor:
            return torch.stack(columns, dim=1)

        return [
            *blocks,
            (_numbered("chroma{}_mean", 12), c_mean),
            (_numbered("chroma{}_std", 12), c_std),
            (("key_major_max", "key_minor_max", "key_mode", "key_clarity"), together(*key_feats)),
            (
                ("chord_major_share", "chord_clarity", "harmonic_change"),
                together(chord_major, chord_clarity, change),
            ),
            (_numbered("interval{}", 6, first=1), intervals),
            (("chroma_flatness",), flatness.unsqueeze(1)),
            (_numbered("degree{}_major_key", 12), degrees_major),
            (_numbered("degree{}_minor_key", 12), degrees_minor),
            (("pulse_clarity", "pulse_mean"), together(lagged.max(dim=1).values, lagged.mean(1))),
            (_numbered("chordrel{}_major", 12), (w_key.unsqueeze(-1) * rel_major).sum(dim=1)),
            (_numbered("chordrel{}_minor", 12), (w_key.unsqueeze(-1) * rel_minor).sum(dim=1)),
            (
                ("local_mode_mean", "local_mode_std", "local_key_agreement"),
                together(local_mode.mean(dim=1), local_mode_std, agreement),
            ),
            (_numbered("frame_interval{}", 6, first=1), frame_intervals),
            (self.scalar_names, scalars),
        ]


class Standardize(nn.Module):
    """``(x - mean) / std`` per feature (axis 1 of (batch, n_features)) with stored
    statistics, clipped to +-:data:`CLIP`. Non-finite inputs (e.g. the -inf LUFS of
    silence) map to the clip bounds or 0.
    """

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(1, n_features))
        self.register_buffer("std", torch.ones(1, n_features))

    def fit(self, x: np.ndarray) -> None:
        """Set the statistics from training vectors ``x``."""
        x = np.where(np.isfinite(x), x, np.nan).astype(np.float64)
        mean = np.nan_to_num(np.nanmean(x, axis=0)).reshape(self.mean.shape)
        std = np.nan_to_num(np.nanstd(x, axis=0)).reshape(self.std.shape)
        # A constant feature (e.g. reverb on every training clip) carries no information.
        std = np.where(std > 1e-6, std, 1.0)
        self.mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.std.copy_(torch.as_tensor(std, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = torch.clamp((x - self.mean) / self.std, -CLIP, CLIP)
        return torch.where(torch.isnan(z), torch.zeros_like(z), z)


class Branch(nn.Module):
    """One output's network: a dense head over the standardised inputs.

    ``hidden == 0`` makes the head linear. Returns (output in [-1, 1] of shape (batch,),
    hidden activations of shape (batch, width)).
    """

    def __init__(self, n_features: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        if hidden > 0:
            self.body: nn.Module = nn.Sequential(nn.Linear(n_features, hidden), nn.GELU())
            width = hidden
        else:
            self.body = nn.Identity()
            width = n_features
        self.width = width
        self.out = nn.Linear(width, 1)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(self.dropout(z))
        return torch.tanh(self.out(self.dropout(h)).squeeze(1)), h


class Heads(NamedTuple):
    """What :meth:`EmotionNet.head` computes from a batch of windows."""

    valence: torch.Tensor
    """(batch,) in [-1, 1]."""
    arousal: torch.Tensor
    """(batch,) in [-1, 1]."""
    gems: torch.Tensor
    """(batch, 9) GEMS logits (softmax: the moods)."""
    tags: torch.Tensor | None
    """(batch, n_tags) mood-tag logits, or None without a tag head."""


class Served(nn.Module):
    """The exported graph: pool once, then every member's heads, averaged.

    Subclasses give :attr:`pooling`, :attr:`members` and :attr:`input_names`.
    """

    pooling: Pooling
    members: Sequence[EmotionNet]
    input_names: tuple[str, ...]

    def forward(
        self,
        mfcc: torch.Tensor,
        chroma: torch.Tensor,
        spectral: torch.Tensor,
        scalars: torch.Tensor,
        musicnn: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return valence and arousal, each (batch,) in [-1, 1], and the (batch, 9) moods:
        each the mean over the members."""
        pooled = self.pooling(mfcc, chroma, spectral, scalars)
        heads = [m.head(pooled, musicnn) for m in self.members]
        valence = torch.stack([h.valence for h in heads]).mean(dim=0)
        arousal = torch.stack([h.arousal for h in heads]).mean(dim=0)
        moods = torch.stack([torch.softmax(h.gems, dim=1) for h in heads]).mean(dim=0)
        return valence, arousal, moods


class EmotionNet(Served):
    """Pooling, standardisation, a valence branch, an arousal branch, a GEMS head and
    (optionally) a mood-tag head.

    Parameters
    ----------
    hidden : int
        Width of each branch's hidden layer (0: linear branches).
    dropout : float
        Dropout on the standardised vector and on each hidden layer.
    n_tags : int
        Mood tags predicted by the training-only tag head (0: no tag head).
    n_embedding : int
        Width of the musicnn embedding input (0: the network reads none); standardised and
        read by both branches beside the pooled statistics.
    """

    def __init__(
        self,
        n_mfcc: int = DEFAULT_CONFIG.n_mfcc,
        n_chroma: int = DEFAULT_CONFIG.n_chroma,
        n_scalars: int = len(SCALAR_NAMES),
        hidden: int = 32,
        dropout: float = 0.3,
        n_tags: int = 0,
        n_embedding: int = 0,
    ) -> None:
        super().__init__()
        self.pooling = Pooling(n_mfcc, n_chroma, n_scalars)
        self.standardize = Standardize(self.pooling.n_features)
        self.n_embedding = n_embedding
        self.standardize_embedding = Standardize(n_embedding)
        n = self.pooling.n_features + n_embedding
        self.valence = Branch(n, hidden, dropout)
        self.arousal = Branch(n, hidden, dropout)
        self.gems = nn.Linear(self.valence.width + self.arousal.width, N_GEMS)
        self.tags = nn.Linear(self.valence.width + self.arousal.width, n_tags) if n_tags else None
        # Training-only parameters (not in the exported outputs): the 4Q logit scale per
        # axis and Emotify's affine map (offset, scale) per axis from output to its
        # standardised targets.
        self.log_sign_scale = nn.Parameter(torch.full((2,), float(np.log(4.0))))
        self.emotify_map = nn.Parameter(torch.tensor([[0.0, 0.0], [2.0, 2.0]]))

    @property
    def members(self) -> tuple[EmotionNet]:
        """The network alone: it is its own one member."""
        return (self,)

    @property
    def input_names(self) -> tuple[str, ...]:
        """The graph's inputs: :data:`INPUT_NAMES`, then the embedding if it reads one."""
        return (*INPUT_NAMES, EMBEDDING_INPUT) if self.n_embedding else INPUT_NAMES

    def fit_standardization(self, pooled: np.ndarray, embedding: np.ndarray | None = None) -> None:
        """Set the standardisations from the training windows' pooled vectors and (when
        the network reads it) their embeddings."""
        self.standardize.fit(pooled)
        if self.n_embedding:
            if embedding is None:
                raise ValueError("the network reads the embedding: give the training ones")
            self.standardize_embedding.fit(embedding)

    def head(self, pooled: torch.Tensor, embedding: torch.Tensor | None = None) -> Heads:
        """Every head's output from pooled vectors and, when the branches read it, the
        embedding."""
        z = self.standardize(pooled)
        if self.n_embedding:
            if embedding is None:
                raise ValueError("the network reads the musicnn embedding")
            z = torch.cat([z, self.standardize_embedding(embedding)], dim=1)
        valence, hv = self.valence(z)
        arousal, ha = self.arousal(z)
        hidden = torch.cat([hv, ha], dim=1)
        tags = self.tags(hidden) if self.tags is not None else None
        return Heads(valence, arousal, self.gems(hidden), tags)


class Ensemble(Served):
    """Mean of several :class:`EmotionNet` members' outputs, pooling once."""

    def __init__(self, members: Sequence[EmotionNet]) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = nn.ModuleList(members)
        self.pooling = members[0].pooling
        self.input_names = members[0].input_names


def example_inputs(
    batch: int = 2, seed: int = 0, *, embedding: bool = False, width: int = EMBEDDING_SIZE
) -> dict[str, torch.Tensor]:
    """Random inputs of the network's shapes, on plausible raw scales (for export and tests):
    :data:`INPUT_NAMES`, and the musicnn embedding (``width`` values) too with ``embedding``."""
    generator = torch.Generator().manual_seed(seed)
    config = DEFAULT_CONFIG
    steps = config.n_steps

    def rand(*shape: int, scale: float = 1.0, offset: float = 0.0) -> torch.Tensor:
        return torch.rand(*shape, generator=generator) * scale + offset

    inputs = {
        "mfcc": torch.randn(batch, config.n_mfcc, steps, generator=generator) * 20.0,
        "chroma": rand(batch, config.n_chroma, steps),
        "spectral": rand(batch, 2, steps, scale=5000.0, offset=100.0),
        "scalars": rand(batch, len(SCALAR_NAMES), scale=100.0, offset=-50.0),
    }
    if embedding:
        inputs[EMBEDDING_INPUT] = rand(batch, width)
    return inputs
