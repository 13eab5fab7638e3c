"""Training and serving compute the same features: the classic bug of the field, ruled out.

The training package extracts (and caches) features through ``training.features``; the
service through :class:`app.analysis.Analyzer`. Both must give the model identical
inputs for the same file, including after a round trip through the feature cache.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from app.analysis import Analyzer
from app.audio import decode
from app.features import Features
from app.features.config import SAMPLE_RATE
from app.features.loudness import integrated_loudness
from app.features.musicnn import EMBEDDING_OUTPUT, TAGGRAM_OUTPUT
from app.features.windows import windows
from app.settings import Settings
from tests.audio_fixtures import song, write

training_features = pytest.importorskip("training.features")
embed_all = pytest.importorskip("training.musicnn_features").embed_all
evidence_file = pytest.importorskip("training.evidence").evidence_file


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    settings = Settings()
    return Analyzer(settings.model_path, max_duration_s=settings.max_duration_s, warm_up=False)


def training_features_of(path: Path, cache: Path) -> Features:
    """The features the training package gives ``path`` through its caches, with musicnn's
    embedding (which the served model reads) attached as ``make_songs`` attaches it, and
    its tags as the audio features' calibration reads them."""
    [features] = training_features.extract_all([path], cache / "features", progress=False)
    [outputs] = embed_all([path], cache / "musicnn", progress=False)
    return replace(features, embedding=outputs[EMBEDDING_OUTPUT], taggram=outputs[TAGGRAM_OUTPUT])


def assert_same_features(a: Features, b: Features) -> None:
    """Equal features, nested records (timbre, evidence) field by field."""
    a, b = training_features.flatten_record(a), training_features.flatten_record(b)
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


@pytest.mark.parametrize("fmt", ["mp3", "m4a", "flac"])
def test_training_and_serving_features_are_identical(tmp_path, song_files, analyzer, fmt):
    path = song_files[fmt]
    cache = tmp_path / "cache"
    computed = training_features_of(path, cache)
    cached = training_features_of(path, cache)
    served = analyzer(path).features

    assert_same_features(computed, served)
    assert_same_features(cached, served)
    # The evidence the audio features' calibration computes on its own path, too.
    assert_same_features(replace(served, evidence=evidence_file(path)), served)
    for name, array in windows(cached).inputs().items():
        np.testing.assert_array_equal(array, windows(served).inputs()[name], err_msg=name)


def test_stereo_features_are_identical_and_measure_loudness_on_both_channels(tmp_path, analyzer):
    y = song(8.0, 44100)
    path = write(tmp_path / "stereo.flac", np.stack([y, 0.5 * np.roll(y, 300)], axis=1), 44100)
    computed = training_features_of(path, tmp_path / "cache")
    served = analyzer(path).features
    assert_same_features(computed, served)
    assert served.loudness_lufs == integrated_loudness(decode(path).samples, SAMPLE_RATE)
