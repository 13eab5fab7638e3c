"""Progress lines and the summary."""

from __future__ import annotations

import io

from app.catalogue.progress import Progress, Tally


def test_a_log_line_then_the_summary():
    tally = Tally()
    tally.skipped["not audio"] += 2
    for error_type in (None, None, "/problems/silent-audio", None):
        tally.count(error_type)
    stream = io.StringIO()
    progress = Progress(tally, stream)
    progress.listed = 5
    progress.show()
    progress.total = 6
    progress.close()
    first, last, summary = stream.getvalue().splitlines()
    assert first.startswith("catalogue: 4/5+ files,") and "ETA ?, 1 failed" in first
    assert last.startswith("catalogue: 4/6 files,")
    assert summary.startswith(
        "catalogue: scored 3, failed 1 (1 silent-audio), skipped 2 (2 not audio); "
    )
    assert summary.endswith("files/s")
