"""The local engine, through the command: errors as rows, resume, signals, dead workers."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from app.catalogue.store import TEMPORARY_PREFIX, part_files
from app.dataset import fingerprint, part_infos
from app.model import EmotionModel
from app.search.index import FOLDER, MANIFEST
from app.settings import Settings
from tests.catalogue.conftest import (
    BROKEN,
    NOT_AUDIO,
    SONGS,
    _song,
    catalogue_command,
    freeze_while_reading,
    long_song,
    read_rows,
    run_catalogue,
    write,
)

pytestmark = pytest.mark.slow  # runs catalogue jobs with their analysis processes

SR = 44100


def test_every_audio_file_has_one_row_and_bad_ones_are_error_rows(library, scored):
    out, result = scored
    rows = {Path(row["path"]).relative_to(library).as_posix(): row for row in read_rows(out)}
    model = EmotionModel(Settings().model_path)
    assert sorted(rows) == sorted([*SONGS, *BROKEN])
    for name in SONGS:
        row = rows[name]
        assert row["error_type"] is None and row["error"] is None
        assert -1 <= row["valence"] <= 1 and -1 <= row["arousal"] <= 1
        assert row["duration_s"] == pytest.approx(5.0, abs=0.05)
        assert row["model"] == f"{model.name}/{model.version}"
        assert row["tempo_bpm"] > 0 and 0 <= row["timbre_hardness"] <= 100
        assert [w["start_s"] for w in row["timeline"]] == [0.0]
        assert row["size_bytes"] == (library / name).stat().st_size
    for name, slug in BROKEN.items():
        row = rows[name]
        assert row["error_type"].startswith("/problems/") and row["error"]
        if slug is not None:
            assert row["error_type"] == f"/problems/{slug}"
        assert row["valence"] is None and row["timeline"] is None and row["tempo_bpm"] is None
    summary = result.stderr.strip().splitlines()[-1]
    assert f"scored {len(SONGS)}, failed {len(BROKEN)}" in summary
    assert f"skipped {len(NOT_AUDIO)} ({len(NOT_AUDIO)} not audio)" in summary


def test_a_rerun_scores_only_new_files_and_force_scores_all(tmp_path):
    songs = tmp_path / "songs"
    songs.mkdir()
    for seed in range(2):
        write(songs / f"{seed}.wav", _song(seed), SR)
    out = tmp_path / "out"
    args = (str(songs), "--out", str(out), "--workers", "1")
    assert run_catalogue(*args).returncode == 0
    first = read_rows(out)
    write(songs / "2.wav", _song(2), SR)

    again = run_catalogue(*args)
    assert again.returncode == 0, again.stderr
    assert "scored 1, failed 0" in again.stderr and "2 already in OUT" in again.stderr
    rows = read_rows(out)
    assert [row["path"] for row in rows] == [str(songs / f"{i}.wav") for i in range(3)]
    assert rows[:2] == first

    forced = run_catalogue(*args, "--force")
    assert forced.returncode == 0, forced.stderr
    assert "scored 3, failed 0" in forced.stderr
    assert read_rows(out) == rows


def test_the_exit_status_is_1_while_a_file_has_no_result(tmp_path):
    songs = tmp_path / "songs"
    songs.mkdir()
    write(songs / "good.wav", _song(0), SR)
    out = tmp_path / "out"
    args = (str(songs), "--out", str(out), "--workers", "1")
    every = run_catalogue(*args)
    assert every.returncode == 0, every.stderr
    (songs / "bad.mp3").write_bytes(b"not audio" * 100)

    failed = run_catalogue(*args)
    assert failed.returncode == 1, failed.stderr
    assert "scored 0, failed 1 (1 unsupported-audio)" in failed.stderr
    manifest = out / FOLDER / MANIFEST
    assert json.loads(manifest.read_text())["dataset"] == fingerprint(part_infos(str(out)))
    # Nothing left to score, but a file still has no result row: still 1.
    again = run_catalogue(*args)
    assert again.returncode == 1, again.stderr
    assert "skipped 2 (1 already in OUT, 1 failed in an earlier run)" in again.stderr


def test_help_documents_the_exit_statuses():
    shown = run_catalogue("--help")
    assert shown.returncode == 0
    statuses = shown.stdout.split("exit status:")[1]
    for status, meaning in [
        ("0", "every file has a result row"),
        ("1", "some file could not be analysed"),
        ("2", "the command was misused"),
        ("128+N", "stopped by signal N"),
    ]:
        assert re.search(rf"^  {re.escape(status)} +{meaning}", statuses, re.M), statuses


def test_other_options_on_the_same_out_are_refused(library, scored):
    refused = run_catalogue(str(library), "--out", str(scored[0]))  # no --features
    assert refused.returncode == 2
    assert "other columns" in refused.stderr


def _start_job(tmp_path: Path, before: int, after: int, *extra: str):
    """Songs, then four minutes of music (the test stops its analysis), then songs; one
    worker, so the files are scored in this order. Starts the job; its files, the long
    one, OUT and the process."""
    folder = tmp_path / "songs"
    folder.mkdir()
    paths = [write(folder / f"{i:02d}.wav", _song(i), SR) for i in range(before + after)]
    long = long_song(folder / "long.flac")
    paths.insert(before, long)
    out = tmp_path / "out"
    command = catalogue_command(
        *map(str, paths), "--out", str(out), "--workers", "1", "--timeout", "600", *extra
    )
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True)
    return paths, long, out, process


def test_sigterm_stops_cleanly_and_a_rerun_finishes(tmp_path):
    paths, long, out, process = _start_job(tmp_path, before=2, after=3)
    analysis = freeze_while_reading(long, process)
    process.send_signal(signal.SIGTERM)
    os.kill(analysis, signal.SIGCONT)  # the file in analysis is finished, no other begun
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert [row["path"] for row in read_rows(out)] == sorted(map(str, paths[:3]))
    assert "catalogue: scored 3, failed 0" in stderr

    rerun = run_catalogue(*map(str, paths), "--out", str(out), "--workers", "1")
    assert rerun.returncode == 0, rerun.stderr
    assert "scored 3, failed 0" in rerun.stderr and "3 already in OUT" in rerun.stderr
    assert [row["path"] for row in read_rows(out)] == sorted(map(str, paths))


def test_sigkill_then_rerun_has_every_file_exactly_once(tmp_path):
    paths, long, out, process = _start_job(tmp_path, 3, 3, "--rows-per-part", "1")
    freeze_while_reading(long, process)
    # Each file is its own part: wait until the three before the long one are on disk.
    while len(part_files(str(out))) < 3:
        assert process.poll() is None
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert len(read_rows(out)) == 3

    rerun = run_catalogue(*map(str, paths), "--out", str(out), "--workers", "2")
    assert rerun.returncode == 0, rerun.stderr
    assert "scored 4, failed 0" in rerun.stderr and "3 already in OUT" in rerun.stderr
    assert sorted(row["path"] for row in read_rows(out)) == sorted(map(str, paths))
    # Whole parts only; names starting with "_" are not parts (the similarity index).
    assert all(name.startswith(("part-", "_")) for name in os.listdir(out))
    assert not any(name.startswith(TEMPORARY_PREFIX) for name in os.listdir(out))


def test_a_killed_or_hung_worker_costs_only_its_file(tmp_path):
    killed = long_song(tmp_path / "a-killed.flac")
    hung = long_song(tmp_path / "b-hung.flac")
    good = write(tmp_path / "c-good.wav", _song(0), SR)
    out = tmp_path / "out"
    # The time limit is far above a 5-s song's analysis, even on a busy machine; only
    # the stopped analysis reaches it.
    command = catalogue_command(
        *map(str, (killed, hung, good)), "--out", str(out), "--workers", "1", "--timeout", "30"
    )
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    os.kill(freeze_while_reading(killed, process), signal.SIGKILL)
    freeze_while_reading(hung, process)  # and left stopped: it hangs
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 1, stderr
    rows = read_rows(out)
    assert [(row["path"], row["error_type"]) for row in rows] == [
        (str(killed), "/problems/analysis-crashed"),
        (str(hung), "/problems/analysis-timeout"),
        (str(good), None),
    ]
    assert rows[1]["error"] == "the analysis took longer than 30 s"
    assert "scored 1, failed 2 (1 analysis-crashed, 1 analysis-timeout)" in stderr


def test_a_cold_numba_cache_is_compiled_by_one_process_before_the_others_start(tmp_path):
    """Several processes compiling one empty cache at once crashed a fresh install: the
    first compiles alone, the others load its kernels, and the job completes."""
    songs = tmp_path / "songs"
    songs.mkdir()
    for seed in range(3):
        write(songs / f"{seed}.wav", _song(seed), SR)
    cache = tmp_path / "numba-cache"
    result = run_catalogue(
        str(songs),
        "--out",
        str(tmp_path / "out"),
        "--workers",
        "2",
        env={"NUMBA_CACHE_DIR": str(cache)},
    )
    assert result.returncode == 0, result.stderr
    assert "scored 3, failed 0" in result.stderr
    assert any(cache.rglob("*.nbi"))
