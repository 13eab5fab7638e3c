"""A real catalogue to query: music-like songs encoded in several formats, a byte copy of
one of them under another path, scored by the catalogue job."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app import table
from app.catalogue.rows import Columns
from app.model import MOODS
from tests.audio_fixtures import chord, clicks, noise, tone, write
from tests.catalogue.conftest import read_rows, run_catalogue

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
    return [row for row in read_rows(out) if row["error_type"] is None]


SYNTHETIC_SONGS = 400
SYNTHETIC_COPY = "/music/copy-of-0007.mp3"
SYNTHETIC_CHANGED = "/music/0003.mp3"


def _row(i: int, rng: np.random.Generator, centres: np.ndarray) -> dict:
    moods = rng.dirichlet(np.ones(len(MOODS)))
    sound = centres[i % len(centres)] + 0.3 * rng.standard_normal(table.SOUND_SIZE)
    return {
        "path": f"/music/{i:04d}.mp3",
        "size_bytes": 1000 + i,
        "modified": 10**18 + i,
        "valence": round(float(rng.uniform(-1, 1)), 4),
        "arousal": round(float(rng.uniform(-1, 1)), 4),
        "duration_s": round(float(rng.uniform(60, 300)), 4),
        "tempo_bpm": round(float(rng.uniform(60, 180)), 2),
        **{f"mood_{m}": round(float(s), 4) for m, s in zip(MOODS, moods, strict=True)},
        table.SOUND: sound.astype(np.float32).tolist(),
    }


@pytest.fixture(scope="session")
def synthetic_catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A catalogue written directly in the job's schema (no analysis: fast): several
    hundred songs, a copy of one, a file re-scored after a change, a failed file."""
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((12, table.SOUND_SIZE))
    rows = [_row(i, rng, centres) for i in range(SYNTHETIC_SONGS)]
    rows.append({**rows[7], "path": SYNTHETIC_COPY})  # the same audio under another path
    rows.append({**_row(3, rng, centres), "modified": 10**18 + 10**9})  # 0003 changed since
    rows.append({"path": "/music/broken.mp3", "error_type": "/problems/unsupported-audio"})
    folder = tmp_path_factory.mktemp("synthetic")
    schema = Columns(features=True, moods=True, sound=True).schema()
    pq.write_table(pa.Table.from_pylist(rows[:250], schema=schema), folder / "part-1.parquet")
    pq.write_table(pa.Table.from_pylist(rows[250:], schema=schema), folder / "part-2.parquet")
    return folder
