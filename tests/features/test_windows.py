"""Cutting a song's steps into the network's windows."""

from __future__ import annotations

import numpy as np
import pytest

from app.features import Features, Timbre
from app.features.config import DEFAULT_CONFIG
from app.features.windows import SCALAR_NAMES, window_starts, windows


def fake_features(n_steps: int) -> Features:
    """Features with a recognisable ramp in every array."""
    ramp = np.arange(n_steps, dtype=np.float32)
    return Features(
        duration_s=n_steps * DEFAULT_CONFIG.step_s,
        tempo_bpm=120.0,
        loudness_lufs=-14.0,
        zero_crossings_per_s=1000.0,
        timbre=Timbre(*range(8)),
        spectral_centroid=ramp,
        spectral_rolloff=ramp + 1,
        mfcc=np.tile(ramp, (20, 1)),
        chroma=np.tile(ramp, (12, 1)),
    )


@pytest.mark.parametrize(
    ("n_steps", "starts"),
    [
        (150, [0]),
        (200, [0]),
        (300, [0, 100]),
        (600, [0, 100, 200, 300, 400]),
        (450, [0, 100, 200, 250]),
    ],
)
def test_window_starts_cover_the_song(n_steps, starts):
    assert window_starts(n_steps, DEFAULT_CONFIG).tolist() == starts


def test_windows_slice_the_steps():
    cut = windows(fake_features(600))
    assert cut.mfcc.shape == (5, 20, 200)
    assert cut.chroma.shape == (5, 12, 200)
    assert cut.spectral.shape == (5, 2, 200)
    assert cut.scalars.shape == (5, len(SCALAR_NAMES))
    assert cut.spectral[1, 0, 0] == 100
    assert cut.spectral[4, 1, -1] == 600
    np.testing.assert_allclose(cut.start_s, [0, 10, 20, 30, 40])


def test_a_short_song_is_tiled():
    cut = windows(fake_features(80))
    assert len(cut) == 1
    assert cut.spectral[0, 0, :160].tolist() == [*range(80), *range(80)]
