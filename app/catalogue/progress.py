"""Progress on stderr while a job runs, and its summary at the end.

The files are counted first (a running count while the listing goes on), so that every
later line names the total: on a terminal, one line redrawn in place (a bar, files done
of total, rate, ETA, failures); otherwise, for logs, a plain line every few seconds. A
few lines of our own rather than tqdm as a dependency of the service: tqdm's
non-terminal output is a stream of carriage returns, not log lines.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TextIO, TypeVar

BAR_WIDTH = 24

T = TypeVar("T")


@dataclass
class Tally:
    """What a job did: files scored, failed by problem type, and skipped by reason."""

    scored: int = 0
    failed: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)

    @property
    def done(self) -> int:
        """Files with a row written by this job."""
        return self.scored + sum(self.failed.values())

    def count(self, error_type: str | None) -> None:
        """Count one row: a result, or a problem of type ``error_type``."""
        if error_type is None:
            self.scored += 1
        else:
            self.failed[error_type.rsplit("/", 1)[-1]] += 1

    def summary(self) -> str:
        """The end-of-job report."""
        wall = time.monotonic() - self.started
        failed = ", ".join(f"{n} {slug}" for slug, n in self.failed.most_common()) or "none"
        skipped = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items())) or "none"
        return (
            f"scored {self.scored}, failed {sum(self.failed.values())} ({failed}), "
            f"skipped {sum(self.skipped.values())} ({skipped}); "
            f"{wall:.1f} s, {self.done / wall if wall else 0.0:.2f} files/s"
        )


class Progress:
    """Report a :class:`Tally` on ``stream``: redrawn on a terminal, a log line otherwise.

    Safe to call from several threads.

    Parameters
    ----------
    tally : Tally
    stream : text stream, stderr by default
    interval_s : seconds between log lines when ``stream`` is not a terminal
    """

    def __init__(self, tally: Tally, stream: TextIO | None = None, interval_s: float = 5.0):
        self.tally = tally
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty()
        self.interval_s = 0.2 if self.terminal else interval_s
        self.total: int | None = None
        """Files to score, once counted."""
        self.listed = 0
        """Files counted so far."""
        self.scoring_since: float | None = None
        """When the first analysis process was ready: the rate is measured from then, so
        that the start-up (seconds, a minute on a first start) does not inflate the ETA."""
        self._last = 0.0
        self._lock = threading.Lock()

    def counting(self, files: Iterable[T]) -> Iterator[T]:
        """Yield ``files``, counting them; the total is set once they are all listed."""
        for item in files:
            self.listed += 1
            self.show()
            yield item
        self.total = self.listed
        self.show(force=True)

    def ready(self) -> None:
        """Note that an analysis process is ready (only the first call counts)."""
        if self.scoring_since is None:
            self.scoring_since = time.monotonic()

    def show(self, *, force: bool = False) -> None:
        """Report, unless the last report is too recent."""
        with self._lock:
            now = time.monotonic()
            if not force and now - self._last < self.interval_s:
                return
            self._last = now
            line = self._line(now)
            if self.terminal:
                self.stream.write(f"\r{line}\x1b[K")
            else:
                self.stream.write(f"catalogue: {line}\n")
            self.stream.flush()

    def close(self) -> None:
        """The final report, then the summary on its own line."""
        self.show(force=True)
        with self._lock:
            self.stream.write(
                ("\n" if self.terminal else "") + f"catalogue: {self.tally.summary()}\n"
            )
            self.stream.flush()

    def _line(self, now: float) -> str:
        tally = self.tally
        failed = sum(tally.failed.values())
        if self.total is None:
            done = f", {tally.done} done, {failed} failed" if tally.done else ""
            return f"counting the files to score: {self.listed} so far{done}"
        total = max(self.total, tally.done)  # files added to a folder since it was counted
        bar = ""
        if self.terminal and total:
            filled = int(BAR_WIDTH * tally.done / total)
            bar = "[" + "#" * filled + "." * (BAR_WIDTH - filled) + "] "
        if self.scoring_since is None:
            return f"{bar}{tally.done}/{total} files, starting the analysis processes"
        elapsed = now - self.scoring_since
        rate = tally.done / elapsed if elapsed > 0 else 0.0
        eta = duration((total - tally.done) / rate) if rate else "?"
        return f"{bar}{tally.done}/{total} files, {rate:.2f}/s, ETA {eta}, {failed} failed"


def duration(seconds: float) -> str:
    """A duration for people: ``42 s``, ``12 min 05 s``, ``3 h 20 min``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
