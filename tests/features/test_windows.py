"""Cutting a song's steps into the network's windows."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from app.features import Features, Timbre
from app.features.config import DEFAULT_CONFIG
from app.features.musicnn import PATCH_S
from app.features.windows import (
    EMBEDDING_INPUT,
    SCALAR_NAMES,
    window_embeddings,
    window_starts,
    windows,
)


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


def test_windows_read_the_embeddings_of_the_patches_centred_in_them():
    # 60 s: windows start at 0, 10, 20, 30, 40 s; 20 patches of 2.992 s, patch i = i.
    embedding = np.repeat(np.arange(20, dtype=np.float32)[:, None], 200, axis=1)
    features = replace(fake_features(600), embedding=embedding)
    cut = windows(features)
    assert cut.inputs()[EMBEDDING_INPUT].shape == (5, 400)
    for window, start in zip(cut.musicnn, cut.start_s, strict=True):
        centres = (np.arange(20) + 0.5) * PATCH_S
        inside = np.flatnonzero((centres >= start) & (centres < start + 20))
        assert window[:200] == pytest.approx(np.full(200, inside.mean()))
        assert window[200:] == pytest.approx(np.full(200, inside.std()))
    assert cut.musicnn[0, 0] == pytest.approx(np.mean(range(7)))  # centres 1.5 ... 19.5 s


def test_a_song_shorter_than_a_patch_reads_its_one_patch_and_no_embedding_no_input():
    features = replace(fake_features(25), embedding=np.full((1, 200), 3.0, dtype=np.float32))
    cut = windows(features)
    assert cut.musicnn.shape == (1, 400)
    assert (cut.musicnn[0, :200] == 3.0).all() and (cut.musicnn[0, 200:] == 0.0).all()
    assert EMBEDDING_INPUT not in windows(fake_features(600)).inputs()
    assert window_embeddings(np.ones((2, 200)), np.array([100.0]), 20.0).shape == (1, 400)
