"""The local engine: one thread per worker, each driving its own analysis process.

The files are counted first, while the analysis processes start, for the progress's
total; then the listing is streamed into a queue of at most two files per worker, so
memory is bounded by the workers' songs and one part file's rows, whatever the
catalogue's size.
A stop request (SIGINT, SIGTERM) lets the files in analysis finish, writes every row
held and returns.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from app.catalogue.progress import Progress
from app.catalogue.scorer import Scorer, ScoringOptions
from app.catalogue.sources import Entry
from app.catalogue.store import PartWriter
from app.worker import numba_cache_is_compiled

POLL_S = 0.5
"""How often blocked threads look at the stop flag (a responsiveness, not a limit)."""


@dataclass
class _Finished:
    """A worker thread's last message: None, or the error that ended it."""

    error: BaseException | None = None


def score_local(
    pending: Iterator[Entry],
    options: ScoringOptions,
    workers: int,
    writer: PartWriter,
    progress: Progress,
    stop: threading.Event,
    count: Iterable[Entry],
) -> None:
    """Score every entry of ``pending`` with ``workers`` analysis processes into ``writer``.

    ``count`` lists the same entries again: they are counted, for the progress's total,
    before the first entry of ``pending`` is scored. Returns when every entry has its
    row, or, once ``stop`` is set, when the files in analysis have theirs; in both cases
    with every row written.
    """
    todo: queue.Queue[Entry | None] = queue.Queue(maxsize=2 * workers)
    done: queue.Queue[dict | _Finished] = queue.Queue()
    listing_error: list[BaseException] = []

    def feed() -> None:
        try:
            for _ in progress.counting(count):
                if stop.is_set():
                    return
            for entry in pending:
                while not _put(todo, entry, stop):
                    if stop.is_set():
                        return
        except BaseException as error:  # a listing failure ends the job, reported below
            listing_error.append(error)
            stop.set()
        finally:
            for _ in range(workers):
                _put(todo, None, stop, block=True)

    # On a cold numba cache the first process compiles the kernels alone; the others
    # start once it is ready and load them (see numba_cache_is_compiled).
    first_ready = threading.Event()
    if numba_cache_is_compiled():
        first_ready.set()

    def work(first: bool) -> None:
        scorer = None
        try:
            while not first and not first_ready.wait(POLL_S) and not stop.is_set():
                pass
            if stop.is_set():
                done.put(_Finished())
                return
            scorer = Scorer(options)
            first_ready.set()
            progress.ready()
            while not stop.is_set():
                entry = todo.get()
                if entry is None:
                    break
                done.put(scorer.score(entry))
        except BaseException as error:
            stop.set()
            first_ready.set()
            done.put(_Finished(error))
            return
        finally:
            if scorer is not None:
                scorer.close()
        done.put(_Finished())

    threads = [threading.Thread(target=feed, name="catalogue-feed", daemon=True)]
    threads += [
        threading.Thread(target=work, args=(i == 0,), name=f"catalogue-worker-{i}", daemon=True)
        for i in range(workers)
    ]
    for thread in threads:
        thread.start()
    finished = 0
    errors = []
    try:
        while finished < workers:
            try:
                item = done.get(timeout=POLL_S)
            except queue.Empty:
                writer.flush_if_due()
                progress.show()
                continue
            if isinstance(item, _Finished):
                finished += 1
                if item.error is not None:
                    errors.append(item.error)
                continue
            writer.add(item)
            progress.tally.count(item["error_type"])
            writer.flush_if_due()
            progress.show()
    finally:
        writer.flush()
    if listing_error or errors:
        raise (listing_error or errors)[0]


def _put(
    todo: queue.Queue, item: Entry | None, stop: threading.Event, *, block: bool = False
) -> bool:
    """Put ``item`` in ``todo``, waiting at most :data:`POLL_S` unless ``block``;
    whether it was put."""
    while True:
        try:
            todo.put(item, timeout=POLL_S)
            return True
        except queue.Full:
            if not block:
                return False
            if stop.is_set():
                # The workers have stopped taking files: make room for the end marker.
                with contextlib.suppress(queue.Empty):
                    todo.get_nowait()
