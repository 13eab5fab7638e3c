"""Cached musicnn embeddings of many files."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from app.analysis import decode_to_mono
from app.features.config import SAMPLE_RATE
from app.features.musicnn import MusicnnEmbedder
from training.musicnn_convert import REFERENCE_RATE, reference_signal
from training.musicnn_features import SHIPPED_MUSICNN, cache_key, embed_all


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two different 7-s clips: two patches each."""
    folder = tmp_path_factory.mktemp("clips")
    paths = []
    for seed in (1, 2):
        path = folder / f"clip{seed}.wav"
        sf.write(path, reference_signal(7.0, seed=seed), REFERENCE_RATE, subtype="FLOAT")
        paths.append(path)
    return paths


def test_embeddings_are_the_network_outputs_of_each_patch(clips, tmp_path):
    embeddings = embed_all(clips, tmp_path / "cache", progress=False)
    direct = MusicnnEmbedder(SHIPPED_MUSICNN).embed(decode_to_mono(clips[0], 600.0).mono)
    assert embeddings[0]["penultimate"].shape == (2, 200)
    for name, values in direct.items():
        np.testing.assert_allclose(embeddings[0][name], values, rtol=1e-6, atol=1e-6)
    assert not np.allclose(embeddings[0]["penultimate"], embeddings[1]["penultimate"])


def test_a_second_run_reads_the_cache_and_a_changed_file_is_recomputed(clips, tmp_path):
    cache = tmp_path / "cache"
    first = embed_all(clips, cache, progress=False)
    files = sorted(cache.glob("*.npz"))
    assert [f.name for f in files] == sorted(f"{cache_key(c, SHIPPED_MUSICNN)}.npz" for c in clips)
    stamp = files[0].stat().st_mtime_ns
    again = embed_all(clips, cache, progress=False)
    assert files[0].stat().st_mtime_ns == stamp
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a["max_pool"], b["max_pool"])

    changed = tmp_path / "changed.wav"
    sf.write(changed, reference_signal(4.0, seed=5), SAMPLE_RATE)
    before = embed_all([changed], cache, progress=False)[0]
    sf.write(changed, reference_signal(4.0, seed=6), SAMPLE_RATE)  # same size
    after = embed_all([changed], cache, progress=False)[0]
    assert not np.allclose(before["penultimate"], after["penultimate"])
