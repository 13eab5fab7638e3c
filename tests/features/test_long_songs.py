"""A long song is read through a bounded number of windows spread from its start to its
end, its features and embedding computed there only; a clip of a minute or less is read
whole, as before (and as every training clip)."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

import numpy as np
import pytest

import app.features.spectral
from app.analysis import Analyzer
from app.audio import decode
from app.features import extract
from app.features.budget import excerpt_starts, n_steps_of, window_starts
from app.features.config import DEFAULT_CONFIG, SAMPLE_RATE
from app.features.musicnn import MusicnnEmbedder, musicnn_patches
from app.features.spectral import spectral_features
from app.features.windows import windows
from app.model import EMBEDDER_FILE
from app.settings import default_model_path
from tests.audio_fixtures import chord, clicks, noise

SR = SAMPLE_RATE
CONFIG = DEFAULT_CONFIG
SHIPPED = default_model_path() / EMBEDDER_FILE
WINDOW_STEPS = CONFIG.n_steps


def long_song(minutes: float) -> np.ndarray:
    """Music-like audio whose content changes every 10 s (chords, clicks, noise)."""
    parts = []
    for k in range(int(minutes * 6)):
        root = 110.0 * 2 ** ((k % 7) / 12)
        part = chord((root, root * 1.26, root * 1.5), 10.0, SR) * 0.3
        part += clicks(90.0 + 10 * (k % 5), 10.0, SR) * 0.5 + noise(10.0, SR, 0.02, seed=k)
        parts.append(part)
    return np.concatenate(parts).astype(np.float32)


class CountingEmbedder:
    """The real musicnn network, counting the patches it is given."""

    def __init__(self) -> None:
        self.network = MusicnnEmbedder(SHIPPED)
        self.patches = 0

    def __call__(self, patches: np.ndarray) -> dict[str, np.ndarray]:
        self.patches += len(patches)
        return self.network(patches)


@pytest.fixture(scope="module")
def four_minutes() -> np.ndarray:
    return long_song(4.0)


@pytest.mark.parametrize("seconds", [3.0, 30.0, 45.0, 60.03])
def test_a_clip_of_a_minute_or_less_is_read_whole(seconds):
    assert excerpt_starts(int(seconds * SR), CONFIG) is None


@pytest.mark.parametrize("minutes", [1.5, 4.0, 10.0])
def test_a_long_song_is_read_through_windows_from_its_start_to_its_end(minutes):
    n = int(minutes * 60 * SR)
    starts = excerpt_starts(n, CONFIG)
    last = n_steps_of(n, CONFIG) - WINDOW_STEPS
    assert len(window_starts(n_steps_of(n, CONFIG), CONFIG)) > CONFIG.max_windows
    assert len(starts) == CONFIG.max_windows
    assert starts[0] == 0 and starts[-1] == last
    assert np.abs(np.diff(starts) - last / (CONFIG.max_windows - 1)).max() <= 0.5


def test_features_are_computed_only_in_the_windows(four_minutes, monkeypatch):
    frames = []
    real = app.features.spectral.stft_blocks

    def counting(*args, **kwargs):
        for first, spectra in real(*args, **kwargs):
            frames.append(len(spectra))
            yield first, spectra

    monkeypatch.setattr(app.features.spectral, "stft_blocks", counting)
    counts = {}
    for minutes in (4.0, 8.0):
        frames.clear()
        embedder = CountingEmbedder()
        song = four_minutes if minutes == 4.0 else np.tile(four_minutes, 2)
        features = extract(song[None], embedder=embedder)
        counts[minutes] = (sum(frames), embedder.patches)
        assert len(features.excerpts) == CONFIG.max_windows
        assert features.spectral_centroid.shape == (CONFIG.max_windows * WINDOW_STEPS,)
        assert features.mfcc.shape[1] == features.chroma.shape[1] == CONFIG.max_windows * 200
        assert len(features.embedding) == len(features.patch_index) == embedder.patches
    window_frames = CONFIG.max_windows * WINDOW_STEPS * CONFIG.frames_per_step
    # The same work for 4 and 8 minutes: each window's frames, and the patches centred in
    # the windows (6 or 7 of 3 s per 20-s window).
    assert counts[4.0][0] == counts[8.0][0] == window_frames
    assert CONFIG.max_windows * 6 <= counts[4.0][1] <= CONFIG.max_windows * 7
    assert counts[8.0][1] <= CONFIG.max_windows * 7


def test_the_windows_frames_are_the_whole_songs(four_minutes):
    whole = spectral_features(four_minutes, CONFIG)
    starts = excerpt_starts(len(four_minutes), CONFIG)
    read = spectral_features(four_minutes, CONFIG, excerpts=starts)
    rows = np.concatenate([np.arange(s, s + WINDOW_STEPS) for s in starts])
    # Each frame's spectrum reads its own samples only; the filterbank products may round
    # differently in other blocks of frames.
    np.testing.assert_array_equal(read.spectral_centroid, whole.spectral_centroid[rows])
    np.testing.assert_array_equal(read.spectral_rolloff, whole.spectral_rolloff[rows])
    np.testing.assert_allclose(read.chroma, whole.chroma[:, rows], rtol=1e-5, atol=1e-6)
    # The decibel floor follows the loudest frame read: here the same as the whole song's.
    np.testing.assert_allclose(read.mfcc, whole.mfcc[:, rows], rtol=0, atol=1e-3)


def test_the_tempo_of_a_long_song_reads_its_windows():
    y = clicks(120.0, 240.0, SR) + noise(240.0, SR, 0.01)
    read = spectral_features(y, CONFIG, excerpts=excerpt_starts(len(y), CONFIG))
    assert read.tempo_bpm == pytest.approx(120.0, rel=0.03)


def test_the_embedding_of_the_windows_is_the_one_training_reads(four_minutes):
    """Training embeds every patch of a song and the windows read those centred in them;
    the analysis embeds only those: the windows' statistics are the same."""
    embedder = MusicnnEmbedder(SHIPPED)
    served = extract(four_minutes[None], embedder=embedder)
    trained = replace(served, embedding=embedder.embed(four_minutes)["penultimate"])
    trained = replace(trained, patch_index=None)
    assert len(served.embedding) < len(trained.embedding)
    np.testing.assert_allclose(
        windows(served).musicnn, windows(trained).musicnn, rtol=1e-5, atol=1e-6
    )
    crops = windows(served, replace(CONFIG, window_hop_s=2.0))
    np.testing.assert_array_equal(crops.start_s, windows(served).start_s)


def test_the_timeline_spans_the_whole_song(four_minutes):
    analyzer = Analyzer(default_model_path(), warm_up=False)
    emotion = analyzer.analyse_samples(four_minutes[None])
    timeline = emotion.timeline
    assert len(timeline) == CONFIG.max_windows
    assert timeline[0].start_s == 0.0
    assert emotion.duration_s - CONFIG.step_s <= timeline[-1].end_s <= emotion.duration_s
    assert all(a.end_s <= b.start_s for a, b in pairwise(timeline))


def test_a_one_minute_clip_is_read_as_before(shared_datasets):
    """The training sets' longest clips: every step and patch, the windows every 10 s."""
    mono = np.atleast_2d(decode(shared_datasets / "emotify" / "audio" / "101.mp3").mono)
    embedder = CountingEmbedder()
    features = extract(mono, embedder=embedder)
    assert features.excerpts is None and features.patch_index is None
    assert embedder.patches == len(musicnn_patches(mono[0])) == len(features.embedding) == 20
    np.testing.assert_array_equal(
        features.spectral_centroid, spectral_features(mono[0], CONFIG).spectral_centroid
    )
    np.testing.assert_array_equal(windows(features).start_s, [0, 10, 20, 30, 40])
