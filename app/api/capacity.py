"""A pool of analysis processes, and admission by the expected time to answer."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.limits import discard_body
from app.api.problems import problem_response
from app.errors import WorkerCrashedError
from app.worker import AnalysisWorker, numba_cache_is_compiled

T = TypeVar("T")

RECENT_ANALYSES = 16
"""How many of the latest analyses the expected time to answer is estimated from."""


class AnalysisTimes:
    """How long an analysis holds its process, as admission expects it: the mean of the
    latest :data:`RECENT_ANALYSES` analyses; before the first, the mean of the processes'
    warm-up analyses (each process times its own, once its code is compiled)."""

    def __init__(self) -> None:
        self._recent_s: deque[float] = deque(maxlen=RECENT_ANALYSES)
        self._warm_ups_s: list[float] = []

    def warmed_up(self, seconds: float) -> None:
        """Count a process's warm-up analysis."""
        self._warm_ups_s.append(seconds)

    def record(self, seconds: float) -> None:
        """Count an analysis that held its process ``seconds``."""
        self._recent_s.append(seconds)

    def per_request_s(self) -> float:
        """The expected time one analysis holds its process."""
        times = self._recent_s or self._warm_ups_s
        if not times:
            raise RuntimeError("no process has warmed up yet")
        return sum(times) / len(times)


class AnalysisPool:
    """``size`` analysis processes, and the requests in line for them.

    Requests hold a place from before their body is read until they are answered
    (:meth:`admit`). A newcomer is admitted while a process is free, or while the
    expected time to answer it (its wait for a process, then its analysis) stays
    within ``max_wait_s``, and fewer than ``queue`` requests wait (a bound on the
    memory and disk the waiting uploads take); otherwise :class:`LoadShedding` answers
    503 with a Retry-After from the same estimate, so a client or load balancer can
    retry elsewhere or later.

    The estimate is per request (:class:`AnalysisTimes`), from the mean time of the
    recent analyses, or before any from the processes' warm-up analyses: the audio
    length of a waiting upload is unknown until it is decoded.
    """

    def __init__(
        self,
        model_path: Path,
        max_duration_s: float,
        size: int,
        queue: int,
        max_wait_s: float,
    ) -> None:
        self._worker_args = (model_path, max_duration_s)
        self.size = size
        self.capacity = size + queue
        self.max_wait_s = max_wait_s
        self.admitted = 0
        self.times = AnalysisTimes()
        self.workers: list[AnalysisWorker] = []
        self._free: asyncio.Queue[AnalysisWorker] = asyncio.Queue()
        # Threads only wait on pipes; the CPU work happens in the worker processes.
        self._threads = ThreadPoolExecutor(size, thread_name_prefix="analysis")

    async def start(self) -> None:
        """Start the processes and wait until every one is warmed up.

        Unless the numba cache already holds compiled kernels (as the image's does), the
        first process starts alone: on a cold start it compiles the kernels into their
        on-disk cache, which the others then load (processes compiling the same cache
        at once have crashed a fresh checkout). A process that dies while starting is
        restarted once.
        """
        loop = asyncio.get_running_loop()
        self.workers = [AnalysisWorker(*self._worker_args)]
        if not numba_cache_is_compiled():
            await loop.run_in_executor(self._threads, _wait_ready, self.workers[0])
        self.workers += [AnalysisWorker(*self._worker_args) for _ in range(self.size - 1)]
        await asyncio.gather(
            *(loop.run_in_executor(self._threads, _wait_ready, w) for w in self.workers)
        )
        for worker in self.workers:
            self.times.warmed_up(worker.warm_up_analysis_s)
            self._free.put_nowait(worker)

    def expected_answer_s(self) -> float:
        """How long one more request would take to be answered if it must wait; 0 while
        a process is free (it is then always admitted).

        Every admitted request is ahead of it, ``size`` of them served at a time; then
        its own analysis.
        """
        ahead = self.admitted - self.size + 1
        if ahead <= 0:
            return 0.0
        per_request = self._seconds_per_request()
        return ahead * per_request / self.size + per_request

    def retry_after_s(self) -> int | None:
        """None if one more request can be admitted, else the seconds until it could be."""
        over_cap = self.admitted - self.capacity + 1
        answer = self.expected_answer_s()
        if over_cap <= 0 and answer <= self.max_wait_s:
            return None
        # The time until the line is short enough: both conditions, same estimate.
        seconds_per_place = self._seconds_per_request() / self.size
        return max(1, math.ceil(max(answer - self.max_wait_s, over_cap * seconds_per_place)))

    def _seconds_per_request(self) -> float:
        return self.times.per_request_s()

    @contextmanager
    def admit(self) -> Iterator[None]:
        """Hold one of the pool's places for the duration of a request."""
        self.admitted += 1
        try:
            yield
        finally:
            self.admitted -= 1

    async def run(self, fn: Callable[[AnalysisWorker], T]) -> T:
        """Call ``fn(worker)`` on a pool thread with a worker process to itself."""
        worker = await self._free.get()
        loop = asyncio.get_running_loop()
        started: list[float] = []

        def timed(worker: AnalysisWorker) -> T:
            started.append(time.monotonic())
            return fn(worker)

        job = self._threads.submit(timed, worker)

        def release(_: object) -> None:
            # Only once the thread is done with it, even if the request was cancelled.
            elapsed_s = time.monotonic() - started[0] if started else None
            if not loop.is_closed():
                loop.call_soon_threadsafe(self._release, worker, elapsed_s)

        job.add_done_callback(release)
        return await asyncio.wrap_future(job)

    def _release(self, worker: AnalysisWorker, elapsed_s: float | None) -> None:
        # Failures count too: a time-out held its process as long as it took.
        if elapsed_s is not None:
            self.times.record(elapsed_s)
        self._free.put_nowait(worker)

    def shutdown(self) -> None:
        """Stop the processes; the requests in flight have been answered by now."""
        for worker in self.workers:
            worker.stop()
        self._threads.shutdown(wait=True)


class LoadShedding:
    """ASGI middleware: 503 + Retry-After when the pool admits no more, the body never stored.

    Only POSTs under ``prefix`` (the analysis routes) take a place; health, metadata
    and metrics are always answered.
    """

    def __init__(self, app: ASGIApp, pool: AnalysisPool, prefix: str = "/v1/") -> None:
        self.app = app
        self.pool = pool
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"  # CORS preflights and the like take no place
            or not scope["path"].startswith(self.prefix)
        ):
            await self.app(scope, receive, send)
            return
        retry_after_s = self.pool.retry_after_s()
        if retry_after_s is not None:
            await discard_body(receive)
            response = problem_response(
                503,
                f"the service is at capacity; retry in {retry_after_s} s",
                slug="at-capacity",
                instance=scope["path"],
                headers={"Retry-After": str(retry_after_s)},
            )
            await response(scope, receive, send)
            return
        with self.pool.admit():
            await self.app(scope, receive, send)


def _wait_ready(worker: AnalysisWorker) -> None:
    """Wait for ``worker`` to start; once more if it died starting (it was restarted)."""
    try:
        worker.wait_ready()
    except WorkerCrashedError:
        worker.wait_ready()
