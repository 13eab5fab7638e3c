"""The timbral descriptors, loudness and zero crossings against the reference file, and the
descriptors on synthetic signals."""

import csv
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import butter, sosfilt

from app.features.timbre import boominess, brightness, prepare, roughness, sharpness, timbre
from app.features.timbre.reverb import reverb_probability

DATASETS = Path(__file__).parents[2] / ".." / "shared" / "datasets"
REFERENCE = DATASETS / "timbral_reference.csv"
REFERENCE_COLUMN = {"boominess": "booming"}
CONTINUOUS = ["hardness", "depth", "brightness", "roughness", "warmth", "sharpness", "boominess"]
SR = 22050


def _analyse(path: Path) -> dict[str, float]:
    """What the service computes of one reference clip (run in a worker process)."""
    from app.analysis import decode_to_mono
    from app.features.zero_crossings import zero_crossings_per_s
    from app.settings import Settings

    audio = decode_to_mono(path, Settings().max_duration_s)
    values = vars(timbre(audio.mono, SR, audio.mono_loudness_lufs)).copy()
    values["loudness_lufs"] = audio.loudness_lufs
    values["zcr_per_s"] = zero_crossings_per_s(audio.mono, SR)
    return values


@pytest.fixture(scope="module")
def compared() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Ours and the reference's values of every column over the shared clips."""
    if not REFERENCE.is_file():
        pytest.skip(f"shared datasets not found at {DATASETS}")
    rows = list(csv.DictReader(REFERENCE.open()))
    # Two processes: the CI machine has two cores.
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        ours = list(pool.map(_analyse, [DATASETS / row["file"] for row in rows]))
    return {
        name: (
            np.array([values[name] for values in ours]),
            np.array([float(row[REFERENCE_COLUMN.get(name, name)]) for row in rows]),
        )
        for name in ours[0]
    }


@pytest.mark.parametrize("name", CONTINUOUS)
def test_matches_reference(compared, name):
    ours, reference = compared[name]
    assert np.corrcoef(ours, reference)[0, 1] >= 0.98
    assert np.mean(np.abs(ours - reference)) <= 3.0


def test_reverb_matches_reference(compared):
    ours, reference = compared["reverb"]
    assert np.mean(ours == reference) >= 0.95


def test_loudness_matches_reference(compared):
    ours, reference = compared["loudness_lufs"]
    assert np.max(np.abs(ours - reference)) <= 0.5


def test_zero_crossings_match_reference(compared):
    ours, reference = compared["zcr_per_s"]
    assert np.max(np.abs(ours / reference - 1)) <= 0.02


def _signals() -> dict[str, np.ndarray]:
    t = np.arange(5 * SR) / SR
    noise = np.random.default_rng(0).standard_normal(len(t))
    return {
        "noise": noise,
        "low_noise": sosfilt(butter(4, 200, "low", fs=SR, output="sos"), noise),
        "high_noise": sosfilt(butter(4, 4000, "high", fs=SR, output="sos"), noise),
        "low_sine": np.sin(2 * np.pi * 220 * t),
        "tone": np.sin(2 * np.pi * 440 * t),
        "beating": np.sin(2 * np.pi * 440 * t) + np.sin(2 * np.pi * 470 * t),
    }


@pytest.fixture(scope="module")
def prepared() -> dict[str, tuple[np.ndarray, int]]:
    return {name: prepare(y, SR) for name, y in _signals().items()}


def test_prepare_normalises_level_and_rate():
    from app.features.loudness import integrated_loudness

    noise = 0.01 * _signals()["noise"].astype(np.float32)
    audio, fs = prepare(noise, SR)
    assert fs == 44100 and len(audio) == 2 * len(noise)
    assert not audio.flags.writeable
    audio, fs = prepare(noise, 48000)  # rates at or above 44.1 kHz are kept
    assert fs == 48000
    assert integrated_loudness(audio, fs) == pytest.approx(-24.0, abs=0.01)
    with pytest.raises(ValueError):
        prepare(np.zeros(SR), SR)


def test_brightness_orders_spectra(prepared):
    assert brightness(*prepared["high_noise"]) > brightness(*prepared["noise"])
    assert brightness(*prepared["noise"]) > brightness(*prepared["low_sine"]) + 30


def test_sharpness_orders_spectra(prepared):
    assert sharpness(*prepared["high_noise"]) > sharpness(*prepared["noise"])
    assert sharpness(*prepared["noise"]) > sharpness(*prepared["low_noise"]) + 30


def test_boominess_orders_spectra(prepared):
    assert boominess(*prepared["low_noise"]) > boominess(*prepared["noise"])
    assert boominess(*prepared["noise"]) > boominess(*prepared["high_noise"])


def test_beating_tones_are_rough(prepared):
    assert roughness(*prepared["tone"]) == 0.0
    assert roughness(*prepared["beating"]) > 20


def test_reverberant_bursts_are_reverberant():
    rng = np.random.default_rng(1)
    dry = np.zeros(5 * SR)
    for start in range(0, len(dry), SR // 2):
        dry[start : start + 200] = rng.standard_normal(200)
    tail = np.arange(int(1.5 * SR))
    wet = np.convolve(dry, rng.standard_normal(len(tail)) * np.exp(-tail / SR * 4.6))[: len(dry)]
    assert reverb_probability(*prepare(dry, SR)) < 0.5 < reverb_probability(*prepare(wet, SR))
