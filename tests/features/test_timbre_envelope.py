"""Unit tests of the timbral onset, envelope and spectral primitives on synthetic signals."""

import numpy as np
import pytest
import scipy.ndimage

from app.features.timbre.envelope import (
    attack_time,
    detect_onsets,
    rms_envelope,
    sample_and_hold_envelope,
)
from app.features.timbre.spectrum import (
    bandwidth_array,
    median_filter_columns,
    spectral_centroid,
)

FS = 44100


def _reference_sample_and_hold(audio, fs, decay_time=0.2, hold_time=0.01):
    """The reference's loop, verbatim in behaviour."""
    rectified = np.abs(audio)
    decay = rectified.max() / (decay_time * fs)
    hold_samples = hold_time * fs
    counter, previous, out = 0, 0.0, []
    for sample in rectified:
        if sample >= previous:
            previous, counter = sample, 0
        elif counter < hold_samples:
            counter += 1
        else:
            previous = previous - decay if previous - decay > sample else sample
        out.append(previous)
    return np.array(out)


def _click_train(times_s, duration_s=3.0, fs=FS):
    """Exponentially decaying 1-kHz tone bursts starting at ``times_s``, in digital silence."""
    audio = np.zeros(int(duration_s * fs))
    t = np.arange(int(0.3 * fs)) / fs
    burst = np.sin(2 * np.pi * 1000 * t) * np.exp(-t / 0.05)
    for start in times_s:
        i = int(start * fs)
        audio[i : i + len(burst)] += burst[: len(audio) - i]
    return audio


def test_sample_and_hold_matches_reference_loop():
    rng = np.random.default_rng(1)
    audio = rng.standard_normal(20000) * np.repeat(rng.random(20), 1000)
    audio[5000:6000] = 0.0  # digital silence: every sample is a new (zero) peak
    expected = _reference_sample_and_hold(audio, FS, decay_time=0.1)
    np.testing.assert_allclose(
        sample_and_hold_envelope(audio, FS, decay_time=0.1), expected, rtol=0, atol=1e-12
    )


def test_sample_and_hold_holds_then_decays_linearly():
    audio = np.zeros(2000)
    audio[100] = 1.0
    env = sample_and_hold_envelope(audio, FS, decay_time=0.01, hold_time=0.001)
    hold = int(np.ceil(0.001 * FS))
    assert np.all(env[100 : 101 + hold] == 1.0)
    decay = 1.0 / (0.01 * FS)
    np.testing.assert_allclose(env[101 + hold : 111 + hold], 1.0 - decay * np.arange(1, 11))


def test_rms_envelope_frames_like_reference():
    audio = np.arange(1, 1001, dtype=float)
    env = rms_envelope(audio, step_size=256, overlap_step=128, normalise=False)
    starts = list(range(0, len(audio) - 256, 128))
    expected = [np.sqrt(np.mean(audio[i : i + 256] ** 2)) for i in starts]
    expected.append(np.sqrt(np.mean(audio[starts[-1] + 128 :] ** 2)))
    np.testing.assert_allclose(env, expected)


def test_onsets_of_a_click_train_are_where_the_envelope_starts_rising():
    times = [0.5, 1.2, 2.0]
    audio = _click_train(times)
    env = sample_and_hold_envelope(audio, FS, decay_time=0.1)
    onsets = detect_onsets(audio, env, FS)
    # One onset per click, walked back to where the envelope stops falling: the start of the
    # silence before the click (the first onset, with nothing before it, becomes 0).
    expected = [0]
    for start in times[1:]:
        before = env[: int(start * FS)]
        expected.append(int(np.flatnonzero(before > 0)[-1]) + 1)
    assert onsets == expected
    for previous, onset, start in zip(times, onsets[1:], times[1:], strict=False):
        assert previous * FS < onset <= start * FS


def test_attack_time_of_a_linear_ramp():
    ramp = np.concatenate((np.zeros(100), np.linspace(0, 1, 1001), np.ones(10)))
    log_time, start = attack_time(ramp, FS, "fixed_threshold")
    # 20 % to 90 % of a 1000-sample ramp: 700 samples, plus one.
    assert log_time == pytest.approx(np.log10(701 / FS), abs=1e-3)
    assert start == 100 + 200
    assert attack_time(np.linspace(1, 0, 50), FS) is None


def test_median_filter_matches_scipy_reflect():
    rng = np.random.default_rng(2)
    for shape in [(3, 5), (4, 40), (2, 1), (20, 300)]:
        x = np.round(rng.random(shape), 1)  # ties on purpose
        for size in (1, 3, 31):
            expected = scipy.ndimage.median_filter(x, size=(size, 1), mode="reflect")
            np.testing.assert_array_equal(median_filter_columns(x, size), expected)


def test_spectral_centroid_of_a_tone():
    # A tone on an FFT bin (8192-point transform) has no leakage: the centroid is its frequency.
    freq = 186 * FS / 8192
    tone = np.sin(2 * np.pi * freq * np.arange(8192) / FS)
    assert spectral_centroid(tone, FS) == pytest.approx(freq, rel=1e-6)
    assert spectral_centroid(np.zeros(1024), FS) is None


def test_bandwidth_of_two_tones_after_silence():
    # Tones on FFT bins 100 and 400 of 4096: no leakage with the boxcar window, so the roll-on
    # is bin 100 and the roll-off bin 400. Silent frames fall below the power gate: 0.
    n = np.arange(FS)
    tones = sum(np.sin(2 * np.pi * k * n / 4096) for k in (100, 400))
    audio = np.concatenate((np.zeros(FS), tones))
    bandwidth = bandwidth_array(audio, FS, nperseg=4096, overlap_step=1024, rolloff_thresh=1e-4)
    frames_start = np.arange(len(bandwidth)) * 1024
    np.testing.assert_allclose(bandwidth[frames_start >= FS], 300 * FS / 4096)
    assert np.all(bandwidth[frames_start + 4096 <= FS] == 0)
