"""The two-branch valence/arousal network.

Each branch (one per output) reads every input: 1-D convolutions over time summarise
the MFCC and the chroma sequences, small dense layers the spectral centroid/rolloff
sequences and the song-level scalars, and a dense head with tanh regresses one value in
[-1, 1].

Convolutions are 1-D over time with the coefficients as channels, not 2-D over the
coefficient x time image: neighbouring MFCC coefficients are not a translation-invariant
axis (a 2-D kernel would share weights across it for no reason), and 1-D kernels are far
cheaper on the CPUs this trains and serves on.

Input standardisation lives inside the module as buffers set from the training data
(:meth:`EmotionNet.fit_standardization`), so the exported ONNX graph takes raw features.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from app.features.config import DEFAULT_CONFIG
from app.features.windows import SCALAR_NAMES
from app.model import OUTPUTS

INPUT_NAMES: tuple[str, ...] = ("mfcc", "chroma", "spectral", "scalars")
"""Names and order of the network's (and the ONNX graph's) inputs."""

OUTPUT_NAMES: tuple[str, ...] = OUTPUTS

CLIP = 8.0
"""Standardised inputs are clipped to +-CLIP: bounds inputs far outside the training range
(e.g. the -inf LUFS of digital silence) instead of letting them dominate or give NaN."""


class Standardize(nn.Module):
    """``(x - mean) / std`` per feature with stored statistics, then clipped to +-:data:`CLIP`.

    Parameters
    ----------
    n_features : int
        Size of axis 1 (channels for sequences, features for vectors).
    sequence : bool
        True for (batch, features, time) inputs, whose statistics pool batch and time.
    log : bool
        Take ``log(1 + x)`` first (for frequencies in Hz, which vary multiplicatively).
    """

    def __init__(self, n_features: int, *, sequence: bool, log: bool = False) -> None:
        super().__init__()
        shape = (1, n_features, 1) if sequence else (1, n_features)
        self.sequence = sequence
        self.log = log
        self.register_buffer("mean", torch.zeros(shape))
        self.register_buffer("std", torch.ones(shape))

    def fit(self, x: np.ndarray) -> None:
        """Set the statistics from training inputs ``x``."""
        x = np.log1p(x.astype(np.float64)) if self.log else x.astype(np.float64)
        axes = (0, 2) if self.sequence else (0,)
        finite = np.where(np.isfinite(x), x, np.nan)
        mean = np.nanmean(finite, axis=axes, keepdims=True)
        std = np.nanstd(finite, axis=axes, keepdims=True)
        # A constant feature (e.g. reverb on every training clip) carries no information.
        std = np.where(std > 1e-6, std, 1.0)
        self.mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.std.copy_(torch.as_tensor(std, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.log:
            x = torch.log(x + 1.0)
        return torch.clamp((x - self.mean) / self.std, -CLIP, CLIP)


class ConvSummary(nn.Module):
    """Conv1d -> ReLU -> max-pool -> dropout, twice, then a third conv averaged over time."""

    def __init__(self, channels: int, width: int, dropout: float) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv1d(channels, width, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool1d(4),
            nn.Dropout(dropout),
            nn.Conv1d(width, width, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool1d(4),
            nn.Dropout(dropout),
            nn.Conv1d(width, width, kernel_size=3, padding=1),
            nn.ReLU(),
        )
        self.out_features = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x).mean(dim=-1)


class Branch(nn.Module):
    """One output's network over all (standardised) inputs; returns shape (batch,)."""

    def __init__(
        self, n_mfcc: int, n_chroma: int, n_steps: int, n_scalars: int, dropout: float
    ) -> None:
        super().__init__()
        pool = 10  # centroid/rolloff summarised as 2-s means: 20 values per window
        self.mfcc = ConvSummary(n_mfcc, 24, dropout)
        self.chroma = ConvSummary(n_chroma, 16, dropout)
        self.spectral = nn.Sequential(
            nn.AvgPool1d(pool), nn.Flatten(), nn.Linear(2 * (n_steps // pool), 16), nn.ReLU()
        )
        self.scalars = nn.Sequential(nn.Linear(n_scalars, 16), nn.ReLU())
        width = self.mfcc.out_features + self.chroma.out_features + 16 + 16
        self.head = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(width, 32), nn.ReLU(), nn.Linear(32, 1), nn.Tanh()
        )

    def forward(
        self,
        mfcc: torch.Tensor,
        chroma: torch.Tensor,
        spectral: torch.Tensor,
        scalars: torch.Tensor,
    ) -> torch.Tensor:
        summary = torch.cat(
            [self.mfcc(mfcc), self.chroma(chroma), self.spectral(spectral), self.scalars(scalars)],
            dim=1,
        )
        return self.head(summary).squeeze(1)


class EmotionNet(nn.Module):
    """Valence and arousal branches over shared input standardisation.

    Parameters
    ----------
    n_mfcc, n_chroma, n_steps : int
        Input sizes, from the feature configuration.
    n_scalars : int
        Number of song-level scalars.
    dropout : float
        Dropout probability after each pooling and before each head.
    """

    def __init__(
        self,
        n_mfcc: int = DEFAULT_CONFIG.n_mfcc,
        n_chroma: int = DEFAULT_CONFIG.n_chroma,
        n_steps: int = DEFAULT_CONFIG.n_steps,
        n_scalars: int = len(SCALAR_NAMES),
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        self.standardize = nn.ModuleDict(
            {
                "mfcc": Standardize(n_mfcc, sequence=True),
                "chroma": Standardize(n_chroma, sequence=True),
                "spectral": Standardize(2, sequence=True, log=True),
                "scalars": Standardize(n_scalars, sequence=False),
            }
        )
        sizes = (n_mfcc, n_chroma, n_steps, n_scalars, dropout)
        self.valence = Branch(*sizes)
        self.arousal = Branch(*sizes)

    def fit_standardization(self, inputs: Mapping[str, np.ndarray]) -> None:
        """Set every input's mean/std from the training windows ``inputs`` (keyed by name)."""
        for name in INPUT_NAMES:
            self.standardize[name].fit(inputs[name])

    def forward(
        self,
        mfcc: torch.Tensor,
        chroma: torch.Tensor,
        spectral: torch.Tensor,
        scalars: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (valence, arousal), each of shape (batch,) in [-1, 1]."""
        x = [
            self.standardize[name](value)
            for name, value in zip(INPUT_NAMES, (mfcc, chroma, spectral, scalars), strict=True)
        ]
        return self.valence(*x), self.arousal(*x)


def example_inputs(batch: int = 2, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random inputs of the network's shapes, on plausible raw scales (for export and tests)."""
    generator = torch.Generator().manual_seed(seed)
    config = DEFAULT_CONFIG
    steps = config.n_steps

    def rand(*shape: int, scale: float = 1.0, offset: float = 0.0) -> torch.Tensor:
        return torch.rand(*shape, generator=generator) * scale + offset

    return {
        "mfcc": torch.randn(batch, config.n_mfcc, steps, generator=generator) * 20.0,
        "chroma": rand(batch, config.n_chroma, steps),
        "spectral": rand(batch, 2, steps, scale=5000.0, offset=100.0),
        "scalars": rand(batch, len(SCALAR_NAMES), scale=100.0, offset=-50.0),
    }
