"""A bounded pool of analysis processes, and load shedding past its capacity."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.limits import discard_body
from app.api.problems import problem_response
from app.api.workers import AnalysisWorker, WorkerCrashedError

T = TypeVar("T")


class AnalysisPool:
    """``size`` analysis processes, with at most ``queue`` requests waiting for one.

    Requests hold a place from before their body is read until they are answered
    (:meth:`admit`); past ``size + queue`` places :class:`LoadShedding` answers 503
    with Retry-After at once instead of queueing without bound, so a client or load
    balancer can retry elsewhere or later.
    """

    def __init__(
        self, model_path: Path, max_duration_s: float, size: int, queue: int, retry_after_s: int = 1
    ) -> None:
        self._worker_args = (model_path, max_duration_s)
        self.size = size
        self.capacity = size + queue
        self.retry_after_s = retry_after_s
        self.admitted = 0
        self.workers: list[AnalysisWorker] = []
        self._free: asyncio.Queue[AnalysisWorker] = asyncio.Queue()
        # Threads only wait on pipes; the CPU work happens in the worker processes.
        self._threads = ThreadPoolExecutor(size, thread_name_prefix="analysis")

    async def start(self) -> None:
        """Start the processes and wait until every one is warmed up.

        The first process starts alone: on a cold start it compiles the numba kernels
        into their on-disk cache, which the others then load (processes compiling the
        same cache at once have crashed a fresh checkout). A process that dies while
        starting is restarted once.
        """
        loop = asyncio.get_running_loop()
        self.workers = [AnalysisWorker(*self._worker_args)]
        await loop.run_in_executor(self._threads, _wait_ready, self.workers[0])
        self.workers += [AnalysisWorker(*self._worker_args) for _ in range(self.size - 1)]
        await asyncio.gather(
            *(loop.run_in_executor(self._threads, _wait_ready, w) for w in self.workers[1:])
        )
        for worker in self.workers:
            self._free.put_nowait(worker)

    def has_room(self) -> bool:
        """Whether one more request can be admitted."""
        return self.admitted < self.capacity

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
        job = self._threads.submit(fn, worker)

        def release(_: object) -> None:
            # Only once the thread is done with it, even if the request was cancelled.
            if not loop.is_closed():
                loop.call_soon_threadsafe(self._free.put_nowait, worker)

        job.add_done_callback(release)
        return await asyncio.wrap_future(job)

    def shutdown(self) -> None:
        """Stop the processes; the requests in flight have been answered by now."""
        for worker in self.workers:
            worker.stop()
        self._threads.shutdown(wait=True)


class LoadShedding:
    """ASGI middleware: past the pool's capacity, 503 + Retry-After, the body never stored.

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
        if not self.pool.has_room():
            await discard_body(receive)
            response = problem_response(
                503,
                "the service is at capacity; retry shortly",
                slug="at-capacity",
                instance=scope["path"],
                headers={"Retry-After": str(self.pool.retry_after_s)},
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
