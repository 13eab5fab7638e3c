"""The Ray engine on a local Ray with 2 CPUs: the same rows as the local engine, the
project's progress and nothing of Ray's on the terminal."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest

from app.catalogue.progress import Progress, Tally
from app.cli import main
from tests.catalogue.conftest import (
    FIRST_TOTAL,
    SR,
    LogLines,
    _song,
    blocked_after,
    read_rows,
    run_catalogue,
    scoring_options,
    write,
)

pytestmark = pytest.mark.slow  # runs catalogue jobs with their analysis processes

ray = pytest.importorskip("ray", reason="the ray extra is not installed")

RAY_ALARMS = re.compile(
    r"(?i:deprecat|token authentication)|\bERROR\b|^\[[^\]]* E \d+ \d+\]|\(raylet\)"
    r"|Running Dataset|Total Progress|Starting execution",
    re.M,
)
"""What Ray says that is not the user's business: deprecations, its error-level lines
(Python's ``ERROR``, its C++ core's ``[... E pid tid]``), its token note and its own
progress."""


def test_a_ray_run_shows_the_projects_progress_and_no_alarm(tmp_path):
    """A fresh process, as a user runs it: Ray started by the command."""
    songs = tmp_path / "songs"
    songs.mkdir()
    for i in range(3):
        write(songs / f"{i}.wav", _song(i), SR)
    (songs / "bad.mp3").write_bytes(b"not audio" * 100)
    out = tmp_path / "out"
    result = run_catalogue(str(songs), "--out", str(out), "--engine", "ray", "--workers", "2")
    shown = result.stdout + result.stderr
    assert result.returncode == 1, shown  # the bad file has no result
    assert not RAY_ALARMS.findall(shown), shown
    assert "catalogue: 0/4 files" in result.stderr
    assert "catalogue: 4/4 files" in result.stderr
    assert "catalogue: scored 3, failed 1 (1 unsupported-audio)" in result.stderr
    assert len(read_rows(out)) == 4


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One small local Ray for the module (starting Ray takes seconds)."""
    ray.init(
        num_cpus=2,
        object_store_memory=100 * 1024**2,
        include_dashboard=False,
        log_to_driver=False,
    )
    yield
    ray.shutdown()


def test_ray_gives_the_local_engines_rows(local_ray, library, scored, tmp_path, capsys):
    out = tmp_path / "catalogue"
    args = ["catalogue", str(library), "--out", str(out), "--engine", "ray", "--workers", "2"]
    assert main([*args, "--features", "--timeline"]) == 1  # the broken files
    assert read_rows(out) == read_rows(scored[0])
    summary = capsys.readouterr().err.strip().splitlines()[-1]
    assert "scored 6, failed 5" in summary and "skipped 2 (2 not audio)" in summary

    assert main([*args, "--features", "--timeline"]) == 1
    assert "6 already in OUT, 5 failed in an earlier run" in capsys.readouterr().err
    assert len(read_rows(out)) == 11


def test_the_total_is_known_before_the_first_file_is_done(local_ray, three_songs, tmp_path):
    """The driver lists the files (blocked half-way, as a huge bucket would) before
    the actors score any: a running count, then every line names the total."""
    from app.catalogue.ray_engine import score_ray

    listed = three_songs
    out = tmp_path / "out"
    stream = LogLines()
    progress = Progress(Tally(), stream, interval_s=0)
    release = threading.Event()
    job = threading.Thread(
        target=score_ray,
        args=(blocked_after(listed, 2, release), scoring_options(), 2, str(out), 10, progress),
    )
    job.start()
    stream.wait_for("counting the files to score: 2 so far")
    assert progress.tally.done == 0 and not out.exists()
    release.set()
    job.join()

    assert progress.tally.scored == 3 and len(read_rows(out)) == 3
    scoring = [line for line in stream.lines if "counting" not in line]
    assert re.fullmatch(FIRST_TOTAL, scoring[0]), scoring[0]
    assert all(re.match(r"catalogue: [0-3]/3 files, ", line) for line in scoring), scoring
    assert scoring[-1].startswith("catalogue: 3/3 files")
