"""Analysis in child processes: a crash, a kill or a hang costs one request, not the server.

Each :class:`AnalysisWorker` owns one process that loads the model once and then
analyses one upload at a time. The HTTP process only forwards bytes and waits: if the
child dies (a decoder crash, the OOM killer, a SIGKILL) or runs past the time limit,
that one analysis fails with :class:`WorkerCrashedError` or :class:`AnalysisTimeoutError`
and a fresh process takes the child's place for the next request.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import time
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import AnalysisTimeoutError, MusicEmotionError, WorkerCrashedError

if TYPE_CHECKING:
    from app.analysis import Analyzer, Emotion

logger = logging.getLogger("music_emotion")

START_TIMEOUT_S = 300.0
"""Longest wait for a new process to load the model and warm up."""

STOP_TIMEOUT_S = 10.0
"""Longest wait for an idle process to exit at shutdown before it is killed."""

COMPILE_S = 40
"""About how long a first start compiles the feature kernels (numba) on two idle cores;
later starts load them from numba's on-disk cache in seconds."""

COMPILE_NOTE_S = 10.0
"""Seconds between the start-up's notes while it compiles."""

LOADING = "loading the model and warming up (a few seconds)"
COMPILING = (
    f"compiling the feature kernels into numba's cache (first start only, about {COMPILE_S} s)"
)


class AnalysisWorker:
    """One analysis process, restarted whenever it dies or is killed.

    Not thread-safe: the pool hands each worker to one caller at a time.
    """

    def __init__(self, model_path: Path, max_duration_s: float) -> None:
        self._args = (str(model_path), max_duration_s)
        # One analysis per core: thread pools inside an analysis process fight the other
        # processes' for the cores (six times slower per file on two busy cores). The
        # spawned child inherits the environment; this process has its pools already.
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        # spawn, not fork: the HTTP process runs threads and an event loop.
        self._context = multiprocessing.get_context("spawn")
        self._start()

    def _start(self) -> None:
        self.starting: str | None = LOADING
        """What the process is doing while it starts (:data:`LOADING`, :data:`COMPILING`);
        None once it is ready."""
        self._conn, child = self._context.Pipe()
        self.process = self._context.Process(
            target=_serve, args=(child, *self._args), name="music-emotion-analysis", daemon=True
        )
        self.process.start()
        child.close()
        self._ready = False

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Block until the process has loaded the model and warmed up; log its notes
        meanwhile (a first start compiles for a while)."""
        if self._ready:
            return
        deadline = time.monotonic() + timeout_s
        while True:
            if self._wait(max(0.0, deadline - time.monotonic())) != "reply":
                self._restart()
                raise WorkerCrashedError("the analysis process failed to start")
            kind, start_up = self._receive()
            if kind == "ready":
                break
            self._note_compiling(start_up)
        self._ready = True
        self.starting = None
        self.warm_up_analysis_s: float = start_up["analysis_s"]
        """How long this process's warm-up analysis took, numba's compilation aside."""
        logger.info(
            "analysis process %d ready: model loaded in %.1f s, warmed up in %.1f s, "
            "one warm-up analysis %.2f s (%s)",
            self.process.pid,
            start_up["model_s"],
            start_up["warm_up_s"],
            start_up["analysis_s"],
            f"numba compiled {start_up['compiled']} functions into its cache"
            if start_up["compiled"]
            else "numba kernels loaded from its cache",
        )

    def _note_compiling(self, progress: dict) -> None:
        if self.starting != COMPILING:
            self.starting = COMPILING
            logger.info("analysis process %d: %s...", self.process.pid, COMPILING)
        else:
            logger.info(
                "analysis process %d: still compiling, %.0f s so far (kernels compiled: %d)",
                self.process.pid,
                progress["elapsed_s"],
                progress["compiled"],
            )

    def analyse(self, data: bytes, timeout_s: float) -> Emotion:
        """The emotion of ``data``; raises what the analysis raised."""
        if not self.process.is_alive():
            self._restart()  # died while idle: not this request's fault
        self.wait_ready()
        try:
            self._conn.send(data)
        except (BrokenPipeError, ConnectionResetError, EOFError):
            self._restart()
            raise WorkerCrashedError("the analysis process stopped") from None
        outcome = self._wait(timeout_s)
        if outcome != "reply":
            self._restart()
            if outcome == "timeout":
                raise AnalysisTimeoutError(f"the analysis took longer than {timeout_s:g} s")
            raise WorkerCrashedError("the analysis process stopped")
        kind, value = self._receive()
        if kind == "error":
            raise value
        if kind == "failed":
            raise RuntimeError(value)
        return value

    def stop(self) -> None:
        """Ask the process to exit once idle; kill it if it does not."""
        with contextlib.suppress(OSError):
            self._conn.send(None)
        self.process.join(STOP_TIMEOUT_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self._conn.close()

    def _wait(self, timeout_s: float) -> str:
        """Wait for a reply: "reply", or "died" or "timeout" if that came first."""
        ready = wait([self._conn, self.process.sentinel], timeout_s)
        # A reply sent just before dying is still a reply.
        if self._conn in ready or (ready and self._conn.poll()):
            return "reply"
        # Not is_alive(): a process that has just died may not be reaped yet.
        return "died" if ready else "timeout"

    def _receive(self) -> tuple[str, Any]:
        try:
            return self._conn.recv()
        except (EOFError, OSError):
            self._restart()
            raise WorkerCrashedError("the analysis process stopped") from None

    def _restart(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self._conn.close()
        self._start()


def _serve(conn: Connection, model_path: str, max_duration_s: float) -> None:
    """The child's loop: load and warm up, say so, then analyse each upload sent."""
    # Ctrl-C reaches the whole process group; the parent stops its children itself,
    # once the analyses in flight are answered.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from app.analysis import Analyzer

    started = time.perf_counter()
    analyzer = Analyzer(Path(model_path), max_duration_s=max_duration_s, warm_up=False)
    loaded = time.perf_counter()
    compiled = _warm_up(analyzer, conn)
    warmed_up = time.perf_counter()
    if compiled:  # the time of an analysis, not of numba compiling: once more
        analyzer.warm_up()
    start_up = {
        "model_s": loaded - started,
        "warm_up_s": warmed_up - loaded,
        "analysis_s": time.perf_counter() - warmed_up if compiled else warmed_up - loaded,
    }
    conn.send(("ready", {**start_up, "compiled": compiled}))
    while True:
        try:
            data = conn.recv()
        except EOFError:  # the parent is gone
            return
        if data is None:
            return
        try:
            reply: tuple[str, object] = ("ok", analyzer(data))
        except MusicEmotionError as error:
            reply = ("error", error)
        except Exception as error:  # a bug: report it, keep serving
            reply = ("failed", f"{type(error).__name__}: {error}")
        try:
            conn.send(reply)
        except OSError:  # the parent is gone
            return


def _warm_up(analyzer: Analyzer, conn: Connection) -> int:
    """Warm ``analyzer`` up, telling the parent when numba starts compiling and every
    :data:`COMPILE_NOTE_S` while it does; returns how many of our functions it compiled
    (none once they are in numba's on-disk cache, which later starts load in seconds)."""
    from numba.core import event

    class Notes(event.Listener):
        def __init__(self) -> None:
            self.compiled = 0
            self.began: float | None = None
            self.noted = 0.0

        def on_start(self, e: event.Event) -> None:
            if not _ours(e):
                return
            now = time.perf_counter()
            if self.began is None or now - self.noted >= COMPILE_NOTE_S:
                self.began = self.began or now
                self.noted = now
                conn.send(("compiling", {"compiled": self.compiled, "elapsed_s": now - self.began}))

        def on_end(self, e: event.Event) -> None:
            self.compiled += _ours(e)

    notes = Notes()
    with event.install_listener("numba:compile", notes):
        analyzer.warm_up()
    return notes.compiled


def _ours(e: object) -> bool:
    """Whether a numba compile event is of one of our (or librosa's) functions, not one
    of numba's own."""
    return not e.data["dispatcher"].py_func.__module__.startswith("numba.")


def numba_cache_is_compiled() -> bool:
    """Whether ``NUMBA_CACHE_DIR`` is set and holds compiled kernels (their index files).

    Until it does, start one analysis process alone first: processes compiling the same
    cache at once have crashed a fresh install and left a cache that crashes later starts.
    """
    folder = os.environ.get("NUMBA_CACHE_DIR")
    return folder is not None and any(Path(folder).rglob("*.nbi"))
