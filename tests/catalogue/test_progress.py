"""Progress lines and the summary: the total is counted before any file is scored."""

from __future__ import annotations

import io
import re
import threading

import pytest

from app.catalogue.local import score_local
from app.catalogue.progress import Progress, Tally, duration
from app.catalogue.store import PartWriter, part_files, prepare
from tests.catalogue.conftest import (
    FIRST_TOTAL,
    LogLines,
    blocked_after,
    scoring_options,
)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_running_count_then_the_total_rate_and_eta_then_the_summary():
    tally = Tally()
    tally.skipped["not audio"] += 2
    stream = io.StringIO()
    progress = Progress(tally, stream)
    counted = list(progress.counting(range(6)))
    assert counted == list(range(6)) and progress.total == 6
    progress.ready()
    for error_type in (None, None, "/problems/silent-audio", None):
        tally.count(error_type)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "catalogue: counting the files to score: 1 so far"
    assert re.fullmatch(r"catalogue: 4/6 files, [\d.]+/s, ETA \d+ s, 1 failed", lines[-2])
    assert lines[-1].startswith(
        "catalogue: scored 3, failed 1 (1 silent-audio), skipped 2 (2 not audio); "
    )
    assert lines[-1].endswith("files/s")


def test_a_terminal_gets_one_line_redrawn_with_a_bar():
    tally = Tally()
    stream = Terminal()
    progress = Progress(tally, stream)
    list(progress.counting(range(4)))
    progress.ready()
    tally.count(None)
    progress.show(force=True)
    last = stream.getvalue().split("\r")[-1]
    assert re.fullmatch(r"\[#{6}\.{18}\] 1/4 files, [\d.]+/s, ETA \d+ s, 0 failed\x1b\[K", last)


def test_durations_read_as_people_say_them():
    assert [duration(s) for s in (4.4, 65, 3600 * 3 + 20 * 60 + 5)] == [
        "4 s",
        "1 min 05 s",
        "3 h 20 min",
    ]


@pytest.mark.slow  # scores with a real analysis process
def test_the_total_is_known_before_the_first_file_is_done(three_songs, tmp_path):
    """The listing blocks half-way (a bucket of millions): its running count is shown,
    no file is scored before the count ends, and every line after names the total."""
    listed = three_songs
    out = tmp_path / "out"
    options = scoring_options()
    prepare(str(out), options.columns.schema(), force=False)
    writer = PartWriter(str(out), options.columns.schema(), rows_per_part=1)
    stream = LogLines()
    progress = Progress(Tally(), stream, interval_s=0)
    release = threading.Event()
    job = threading.Thread(
        target=score_local,
        args=(iter(listed), options, 1, writer, progress, threading.Event()),
        kwargs={"count": blocked_after(listed, 2, release)},
    )
    job.start()
    stream.wait_for("counting the files to score: 2 so far")
    assert progress.tally.done == 0 and not part_files(str(out))
    release.set()
    job.join()

    assert progress.tally.scored == 3
    after = stream.lines[stream.lines.index("catalogue: counting the files to score: 2 so far") :]
    counting = [line for line in after if "counting" in line]
    scoring = after[len(counting) :]
    assert all(line.startswith("catalogue: counting") for line in counting)
    assert re.fullmatch(FIRST_TOTAL, scoring[0]), scoring[0]
    for line in scoring[1:]:
        if line.startswith("catalogue: 0/"):
            assert re.fullmatch(FIRST_TOTAL, line), line
        else:
            assert re.match(r"catalogue: [1-3]/3 files, [\d.]+/s, ETA \d+ s, 0 failed", line), line
    assert scoring[-1].startswith("catalogue: 3/3 files")
