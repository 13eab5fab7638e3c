"""The song-level descriptors' budget: a long song is read through excerpts spread over it,
at most the budget's seconds, and a clip within the budget is read whole as before."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

import app.features
from app.errors import ModelContractError
from app.features import extract, song_timbre
from app.features.budget import descriptor_spans
from app.features.config import DEFAULT_CONFIG, SAMPLE_RATE
from app.features.spectral import spectral_features
from app.model import check_card
from app.settings import default_model_path
from tests.audio_fixtures import clicks, noise, tone

SR = SAMPLE_RATE
SMALL = replace(DEFAULT_CONFIG, descriptor_budget_s=8.0, descriptor_excerpts=4)
"""A small budget keeps the long songs of these tests cheap."""


def test_the_default_budget_reads_a_one_minute_clip_whole():
    # One-minute MP3 clips decode to 60.03 s (the training sets' Emotify clips).
    n = int(60.03 * SR)
    assert descriptor_spans(n, DEFAULT_CONFIG) == [(0, n)]


@pytest.mark.parametrize("minutes", [1.5, 4.0, 10.0])
def test_a_long_song_is_read_through_excerpts_spread_over_it(minutes):
    n = int(minutes * 60 * SR)
    spans = descriptor_spans(n, DEFAULT_CONFIG)
    budget = DEFAULT_CONFIG.descriptor_budget_s * SR
    assert len(spans) == DEFAULT_CONFIG.descriptor_excerpts
    assert budget - len(spans) <= sum(stop - start for start, stop in spans) <= budget
    # One excerpt in each of as many equal parts of the song, in order.
    part = n / len(spans)
    for k, (start, stop) in enumerate(spans):
        assert k * part <= start < stop <= (k + 1) * part


def test_the_timbral_models_read_at_most_the_budget(monkeypatch):
    read = []
    real = app.features.timbral_descriptors

    def spy(y, sr, loudness_lufs=None):
        read.append(len(y))
        return real(y, sr, loudness_lufs=loudness_lufs)

    monkeypatch.setattr(app.features, "timbral_descriptors", spy)
    features = extract(noise(100.0, SR)[None, :], SMALL)
    assert features.duration_s == pytest.approx(100.0)
    assert len(read) == SMALL.descriptor_excerpts
    assert sum(read) <= SMALL.descriptor_budget_s * SR
    # The frame-level features are read through the windows of a long song.
    assert features.spectral_centroid.shape[0] == SMALL.max_windows * SMALL.n_steps


def test_sampled_timbre_describes_the_whole_song():
    """A song half low tone, half noise: excerpts from both halves give a brightness between
    the two halves', where reading only its start would give the tone's."""
    half = 50.0
    y = np.concatenate((tone(150.0, half, SR, 0.3), noise(half, SR, 0.3))).astype(np.float32)
    spans = descriptor_spans(len(y), SMALL)
    sampled = song_timbre(y, SR, -20.0, spans).brightness
    tone_only = song_timbre(y, SR, -20.0, [spans[0]]).brightness
    noise_only = song_timbre(y, SR, -20.0, [spans[-1]]).brightness
    assert tone_only < sampled < noise_only


def test_the_tempo_reads_the_excerpts_only():
    # 90 bpm, then 140 bpm: the excerpts of the second part decide the tempo.
    y = np.concatenate((clicks(90.0, 40.0, SR), clicks(140.0, 40.0, SR)))
    n = len(y)
    second_part = [(n // 2 + 2 * SR, n // 2 + 10 * SR), (n - 10 * SR, n - 2 * SR)]
    assert spectral_features(y, DEFAULT_CONFIG, second_part).tempo_bpm == pytest.approx(
        140.0, rel=0.03
    )


def test_the_tempo_of_the_whole_song_is_unchanged_by_its_span():
    y = clicks(120.0, 20.0, SR) + noise(20.0, SR, 0.01)
    whole = spectral_features(y, DEFAULT_CONFIG).tempo_bpm
    assert spectral_features(y, DEFAULT_CONFIG, [(0, len(y))]).tempo_bpm == whole


def test_the_budget_is_part_of_the_feature_configuration_the_card_checks():
    card = json.loads((default_model_path() / "card.json").read_text())
    check_card(card, DEFAULT_CONFIG)
    assert card["feature_config"]["descriptor_budget_s"] == DEFAULT_CONFIG.descriptor_budget_s
    with pytest.raises(ModelContractError, match="trained on features"):
        check_card(card, replace(DEFAULT_CONFIG, descriptor_budget_s=30.0))
