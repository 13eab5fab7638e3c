"""A bounded pool for the CPU work, and load shedding past its capacity."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from fastapi import HTTPException

T = TypeVar("T")


class AnalysisPool:
    """Runs analyses off the event loop on ``threads`` threads, with at most ``queue`` waiting.

    Past that, :meth:`admit` answers 503 with Retry-After at once instead of queueing
    without bound: a client or load balancer can retry elsewhere or later.
    """

    def __init__(self, threads: int, queue: int, retry_after_s: int = 1) -> None:
        self.executor = ThreadPoolExecutor(threads, thread_name_prefix="analysis")
        self.capacity = threads + queue
        self.retry_after_s = retry_after_s
        self.admitted = 0

    @contextmanager
    def admit(self) -> Iterator[None]:
        """Hold one of the pool's places, or raise 503 if none is free."""
        if self.admitted >= self.capacity:
            raise HTTPException(
                503,
                "the service is at capacity; retry shortly",
                headers={"Retry-After": str(self.retry_after_s)},
            )
        self.admitted += 1
        try:
            yield
        finally:
            self.admitted -= 1

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Run ``fn(*args)`` on a pool thread, once admitted."""
        with self.admit():
            return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    def shutdown(self) -> None:
        """Finish the analyses under way, then stop the threads."""
        self.executor.shutdown(wait=True)
