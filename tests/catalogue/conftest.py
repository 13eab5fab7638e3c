"""A small music library on disk (real encoded songs and broken files), and the command."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.audio_features import calibration_of
from app.catalogue.rows import Columns
from app.catalogue.scorer import ScoringOptions
from app.catalogue.sources import Entry, entries
from app.model import EmotionModel
from app.result import ModelInfo
from app.settings import Settings
from tests.api.conftest import spawned
from tests.audio_fixtures import encode, song, tone, write

SR = 44100

SONGS = ("rock/a.mp3", "rock/b.flac", "jazz/c.wav", "jazz/live/d.ogg", "e.m4a", "f.opus")
"""Good songs, in every format and at several depths."""

BROKEN = {
    "broken/corrupt.mp3": "unsupported-audio",
    "broken/empty.wav": "empty-file",
    "broken/silent.flac": "silent-audio",
    "broken/short.wav": "audio-too-short",
    "broken/truncated.m4a": None,  # whatever the API says: the parity test compares
}
"""Files with an audio extension that cannot be scored, and their problem type."""

NOT_AUDIO = ("notes.txt", "rock/cover.jpg")


def _song(seed: int, seconds: float = 5.0, sr: int = SR) -> np.ndarray:
    """A short song, made different per ``seed`` by a detuned lead line."""
    lead = tone(220.0 * 2 ** (seed / 12), seconds, sr, 0.2)
    return (song(seconds, sr) + lead).astype(np.float32)


@pytest.fixture(scope="session")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Songs in every format, broken audio files and other files, in nested folders."""
    root = tmp_path_factory.mktemp("library")
    for seed, name in enumerate(SONGS):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        sr = 48000 if name.endswith(".opus") else SR
        write(path, _song(seed, sr=sr), sr)
    (root / "broken").mkdir()
    rng = np.random.default_rng(0)
    (root / "broken/corrupt.mp3").write_bytes(rng.integers(0, 256, 20000, np.uint8).tobytes())
    (root / "broken/empty.wav").write_bytes(b"")
    write(root / "broken/silent.flac", np.zeros(5 * SR, np.float32), SR)
    write(root / "broken/short.wav", _song(0, seconds=0.4), SR)
    (root / "broken/truncated.m4a").write_bytes(encode(_song(1), SR, "m4a")[:3000])
    for name in NOT_AUDIO:
        (root / name).write_bytes(b"not audio")
    return root


def catalogue_command(*args: str) -> list[str]:
    """The ``music-emotion catalogue`` command line."""
    return [sys.executable, "-m", "app.cli", "catalogue", *args]


def run_catalogue(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a catalogue job to its end in a fresh process."""
    return subprocess.run(
        catalogue_command(*args),
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, **(env or {})},
    )


def read_rows(out: Path | str, filesystem=None) -> list[dict]:
    """The catalogue's rows, sorted by path; ``modified`` in integer nanoseconds (Python's
    datetime has no nanoseconds, and pandas, which would, is not a dependency)."""
    table = pq.read_table(out, filesystem=filesystem)
    modified = table.schema.get_field_index("modified")
    table = table.set_column(modified, "modified", table["modified"].cast(pa.int64()))
    rows = table.to_pylist()
    return sorted(rows, key=lambda row: row["path"])


@pytest.fixture(scope="session")
def scored(library: Path, tmp_path_factory: pytest.TempPathFactory):
    """The library scored by the local engine with two workers, every optional column."""
    out = tmp_path_factory.mktemp("scored") / "catalogue"
    result = run_catalogue(
        str(library), "--out", str(out), "--workers", "2", "--features", "--timeline"
    )
    assert result.returncode == 1, result.stderr  # the broken files have no result
    return out, result


def long_song(path: Path) -> Path:
    """Four minutes of music in a small FLAC (8 kHz): a noticeable time of decoding."""
    path.write_bytes(encode(np.tile(song(8.0, 8000), 30), 8000, "flac"))
    return path


def freeze_while_reading(path: Path, job: subprocess.Popen) -> int:
    """Stop (SIGSTOP) the analysis process of ``job`` at a moment it holds ``path`` open,
    that is in the middle of that file; its pid.

    Each try stops the process, then looks: the state is checked, not guessed.
    """
    target = os.path.realpath(path)
    while job.poll() is None:
        for pid in spawned(job.pid):
            try:
                os.kill(pid, signal.SIGSTOP)
                if any(os.readlink(fd) == target for fd in Path(f"/proc/{pid}/fd").iterdir()):
                    return pid
                os.kill(pid, signal.SIGCONT)
            except OSError:  # it ended (a restart) while we looked
                continue
        time.sleep(0.005)
    raise RuntimeError(f"the job ended before reading {path}: {job.stderr.read()}")


FIRST_TOTAL = r"catalogue: 0/3 files, (starting the analysis processes|0\.00/s, ETA \?, 0 failed)"
"""The first progress line once three files are counted, before any is scored."""


class LogLines(io.TextIOBase):
    """A non-terminal text stream keeping its lines, which a test can wait for."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self._changed = threading.Condition()

    def write(self, text: str) -> int:
        with self._changed:
            self.lines += text.splitlines()
            self._changed.notify_all()
        return len(text)

    def wait_for(self, text: str, timeout_s: float = 600) -> None:
        """Block until a line holds ``text`` (the timeout only guards against a hang)."""
        with self._changed:
            found = self._changed.wait_for(
                lambda: any(text in line for line in self.lines), timeout_s
            )
        assert found, f"no line with {text!r} in {self.lines}"


def scoring_options(**columns: bool) -> ScoringOptions:
    """What the command gives its workers: the shipped model and the default limits."""
    settings = Settings()
    model = EmotionModel(settings.model_path)
    return ScoringOptions(
        model_path=settings.model_path,
        model=ModelInfo.of(model),
        max_duration_s=settings.max_duration_s,
        max_remote_bytes=settings.max_upload_bytes,
        timeout_s=settings.analysis_timeout_s,
        columns=Columns(moods=model.has_moods, **columns),
        audio_features=calibration_of(model) if columns.get("audio_features") else None,
    )


@pytest.fixture
def three_songs(tmp_path: Path) -> list[Entry]:
    """Three short songs in a folder, listed as a job lists them."""
    songs = tmp_path / "songs"
    songs.mkdir()
    for i in range(3):
        write(songs / f"{i}.wav", _song(i), SR)
    return list(entries([str(songs)], Counter()))


def blocked_after(entries: list[Entry], n: int, release: threading.Event) -> Iterator[Entry]:
    """A listing that yields ``n`` entries, then waits for ``release`` before the rest:
    a slow listing (a huge folder, a bucket of millions), by construction."""
    yield from entries[:n]
    release.wait()
    yield from entries[n:]
