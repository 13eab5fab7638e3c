"""Progress on stderr while a job runs, and its summary at the end.

On a terminal, one line redrawn in place (a bar, files done of total, rate, ETA,
failures); otherwise, for logs, a plain line every few seconds. A dozen lines of
our own rather than tqdm as a dependency of the service: tqdm's non-terminal output
is a stream of carriage returns, not log lines.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TextIO

BAR_WIDTH = 24


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
        """Files to score, once the listing has ended."""
        self.listed = 0
        self._last = 0.0

    def show(self, *, force: bool = False) -> None:
        """Report, unless the last report is too recent."""
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
        self.stream.write(("\n" if self.terminal else "") + f"catalogue: {self.tally.summary()}\n")
        self.stream.flush()

    def _line(self, now: float) -> str:
        tally = self.tally
        elapsed = now - tally.started
        rate = tally.done / elapsed if elapsed > 0 else 0.0
        total = self.total if self.total is not None else self.listed
        of = f"{total}" if self.total is not None else f"{total}+"
        eta = f"{(total - tally.done) / rate:.0f} s" if rate and self.total is not None else "?"
        bar = ""
        if self.terminal and total:
            filled = int(BAR_WIDTH * tally.done / total)
            bar = "[" + "#" * filled + "." * (BAR_WIDTH - filled) + "] "
        failed = sum(tally.failed.values())
        return f"{bar}{tally.done}/{of} files, {rate:.2f}/s, ETA {eta}, {failed} failed"
