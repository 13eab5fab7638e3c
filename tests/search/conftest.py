"""A real catalogue to query: music-like songs encoded in several formats, a byte copy of
one of them under another path, scored by the catalogue job."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.audio_fixtures import chord, clicks, noise, tone, write
from tests.catalogue.conftest import run_catalogue

SR = 44100

SONGS = {
    "calm/a.flac": (0, 70, 0.01),
    "calm/b.ogg": (3, 80, 0.02),
    "calm/c.mp3": (5, 90, 0.01),
    "mid/d.wav": (7, 110, 0.05),
    "mid/e.m4a": (2, 120, 0.08),
    "loud/f.mp3": (9, 140, 0.2),
    "loud/g.flac": (4, 160, 0.3),
    "loud/h.ogg": (11, 175, 0.25),
}
"""Songs by path: (chord root in semitones above C4, click tempo in BPM, noise level)."""

ORIGINAL = "calm/c.mp3"
COPY = "copies/c-copy.mp3"
"""A byte copy of ORIGINAL under another path: the same audio."""


def varied_song(root: int, bpm: float, level: float, seconds: float = 6.0) -> np.ndarray:
    """A chord on ``root`` pulsing over a click track at ``bpm`` with noise at ``level``:
    songs that differ in key, tempo and roughness, so that they differ in sound and mood."""
    base = 261.6 * 2 ** (root / 12)
    t = np.arange(int(seconds * SR)) / SR
    pulse = 0.6 + 0.4 * (np.sin(2 * np.pi * bpm / 60 * t) > 0)
    return (
        0.4 * chord((base, base * 1.26, base * 1.5), seconds, SR) * pulse
        + 0.2 * tone(base / 2, seconds, SR, 0.5)
        + 0.3 * clicks(bpm, seconds, SR)
        + noise(seconds, SR, level, seed=root)
    ).astype(np.float32)


@pytest.fixture(scope="session")
def search_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The songs, and the copy."""
    root = tmp_path_factory.mktemp("search-library")
    for name, (key, bpm, level) in SONGS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        write(root / name, varied_song(key, bpm, level), SR)
    (root / COPY).parent.mkdir()
    shutil.copyfile(root / ORIGINAL, root / COPY)
    return root


@pytest.fixture(scope="session")
def scored_catalogue(search_library: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The library scored with its feature summary (for the tempo filter). Tests that
    change a catalogue work on a copy (:func:`copy_catalogue`)."""
    out = tmp_path_factory.mktemp("search-catalogue") / "catalogue"
    result = run_catalogue(str(search_library), "--out", str(out), "--workers", "2", "--features")
    assert result.returncode == 0, result.stderr
    return out


def copy_catalogue(source: Path, target: Path) -> Path:
    """A copy of a catalogue's part files (not its index)."""
    target.mkdir(parents=True)
    for part in source.glob("*.parquet"):
        shutil.copy2(part, target / part.name)
    return target


def parquet_rows(out: Path) -> list[dict]:
    """The catalogue's scored rows, straight from Parquet."""
    rows = pq.read_table(out).to_pylist()
    return [row for row in rows if row["error_type"] is None]
