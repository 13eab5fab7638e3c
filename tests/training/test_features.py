"""Cached, parallel feature extraction."""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf

from app.features import DEFAULT_CONFIG, SAMPLE_RATE
from training import features as cached
from training.features import cache_key, extract_all, load_features, save_features

from .conftest import random_features, synth_clip


def assert_same(a, b):
    """Equal features, nested records (timbre, evidence) field by field."""
    a, b = cached.flatten_record(a), cached.flatten_record(b)
    assert a.keys() == b.keys()
    for name in a:
        assert np.array_equal(a[name], b[name]), name


def test_npz_round_trip(tmp_path):
    original = random_features(321, seed=4)
    save_features(original, tmp_path / "x.npz")
    restored = load_features(tmp_path / "x.npz")
    assert_same(original, restored)
    assert restored.timbre == original.timbre
    assert not list(tmp_path.glob("*.tmp"))


def test_cache_key_tracks_content_and_config_not_where_or_when(tmp_path):
    path = tmp_path / "a.wav"
    path.write_bytes(b"one")
    key = cache_key(path)
    assert cache_key(path) == key
    assert cache_key(path, replace(DEFAULT_CONFIG, n_mfcc=13)) != key
    os.utime(path, ns=(0, 10**9))  # a copied dataset: new times, same bytes
    copy = tmp_path / "copy" / "b.wav"
    copy.parent.mkdir()
    copy.write_bytes(b"one")
    assert cache_key(path) == key == cache_key(copy)
    path.write_bytes(b"two")  # same size, other content
    assert cache_key(path) != key


def test_parallel_extraction_is_cached(tmp_path, monkeypatch):
    paths = []
    for k in range(2):
        paths.append(tmp_path / f"{k}.wav")
        sf.write(paths[-1], synth_clip(k, 3.0, seed=k), SAMPLE_RATE)
    first = extract_all(paths, tmp_path / "cache", jobs=2, progress=False)
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 2
    assert [f.duration_s for f in first] == pytest.approx([3.0, 3.0], abs=0.01)

    def no_extraction(*args, **kwargs):
        raise AssertionError("features were recomputed")

    monkeypatch.setattr(cached, "extract_file", no_extraction)
    second = extract_all(paths, tmp_path / "cache", jobs=2, progress=False)
    for a, b in zip(first, second, strict=True):
        assert_same(a, b)
