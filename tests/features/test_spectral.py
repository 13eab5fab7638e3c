"""Spectral features of known signals, and equality with librosa's own functions."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from app.features.config import DEFAULT_CONFIG, SAMPLE_RATE
from app.features.spectral import spectral_features
from tests.audio_fixtures import chord, clicks, noise, song, tone

SR = SAMPLE_RATE


@pytest.mark.parametrize("freq", [220.0, 1000.0, 3000.0])
def test_centroid_of_a_pure_tone_is_its_frequency(freq):
    features = spectral_features(tone(freq, 3.0, SR), DEFAULT_CONFIG)
    assert np.median(features.spectral_centroid) == pytest.approx(freq, rel=0.02)


@pytest.mark.parametrize("bpm", [90.0, 120.0, 140.0])
def test_tempo_of_a_click_track(bpm):
    assert spectral_features(clicks(bpm, 20.0, SR), DEFAULT_CONFIG).tempo_bpm == pytest.approx(
        bpm, rel=0.03
    )


def test_chroma_of_a_c_major_chord_peaks_on_c_e_g():
    chroma = spectral_features(chord((261.6, 329.6, 392.0), 3.0, SR), DEFAULT_CONFIG).chroma
    assert set(np.argsort(chroma.mean(axis=1))[-3:]) == {0, 4, 7}


def test_noise_is_brighter_than_a_low_tone():
    low = spectral_features(tone(200, 3.0, SR), DEFAULT_CONFIG).spectral_rolloff.mean()
    assert spectral_features(noise(3.0, SR), DEFAULT_CONFIG).spectral_rolloff.mean() > 10 * low


def test_steps_are_librosa_frames_averaged():
    """Each feature equals librosa's function on the signal, pooled 5 frames to a step."""
    y = song(6.0, SR)
    c = DEFAULT_CONFIG
    features = spectral_features(y, c)
    kwargs = {"sr": SR, "n_fft": c.n_fft, "hop_length": c.hop_length}
    expected = {
        "spectral_centroid": librosa.feature.spectral_centroid(y=y, **kwargs)[0],
        "spectral_rolloff": librosa.feature.spectral_rolloff(y=y, **kwargs)[0],
        "mfcc": librosa.feature.mfcc(y=y, n_mfcc=c.n_mfcc, **kwargs),
        "chroma": librosa.feature.chroma_stft(y=y, tuning=c.chroma_tuning, **kwargs),
    }
    for name, frames in expected.items():
        steps = frames.shape[-1] // c.frames_per_step
        pooled = frames[..., : steps * c.frames_per_step]
        pooled = pooled.reshape(*frames.shape[:-1], steps, c.frames_per_step).mean(axis=-1)
        scale = np.abs(pooled).max()
        np.testing.assert_allclose(getattr(features, name), pooled, atol=1e-4 * scale, err_msg=name)
    onset = librosa.onset.onset_strength(y=y, sr=SR, hop_length=c.hop_length)
    expected_tempo = librosa.feature.tempo(onset_envelope=onset, sr=SR, hop_length=c.hop_length)
    assert features.tempo_bpm == pytest.approx(float(expected_tempo[0]), rel=1e-5)


def test_steps_cover_the_signal():
    features = spectral_features(song(20.0, SR), DEFAULT_CONFIG)
    assert features.spectral_centroid.shape == (200,)
    assert features.mfcc.shape == (20, 200)
    assert features.chroma.shape == (12, 200)
