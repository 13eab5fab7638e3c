"""A real server: ``music-emotion serve`` in a subprocess, on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.api.main import create_app
from app.settings import Settings

with warnings.catch_warnings():  # its advice (another package) is not ours to take
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

UPLOAD_LIMIT = 3_000_000
"""The test server's upload limit: small, so that the 413 test sends little."""

DURATION_LIMIT_S = 40
"""The test server's analysed duration: long enough for a 35-s timeline, short enough
that an hours-long file is cut quickly."""

SERVER_ENV = {
    "MUSIC_EMOTION_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT),
    "MUSIC_EMOTION_MAX_DURATION_S": str(DURATION_LIMIT_S),
    "MUSIC_EMOTION_ANALYSIS_PROCESSES": "2",
    "MUSIC_EMOTION_QUEUE_SIZE": "2",
}
"""The shared test server: two analysis processes and two waiting places, so that a
small load test reaches its capacity."""


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(
    url: str, process: subprocess.Popen, timeout_s: float = 120.0, consecutive: int = 1
) -> None:
    """Poll readiness until it answers 200 ``consecutive`` times in a row (one per worker
    process); fail if the process dies or time runs out."""
    deadline = time.monotonic() + timeout_s
    streak = 0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            ok = httpx.get(f"{url}/v2/health/ready", timeout=2).status_code == 200
            if not ok and httpx.get(f"{url}/v2/health/live", timeout=2).status_code != 200:
                raise RuntimeError("the analysis processes failed to start")
        except httpx.TransportError:
            ok = False
        streak = streak + 1 if ok else 0
        if streak >= consecutive:
            return
        time.sleep(0.05 if ok else 0.2)
    raise TimeoutError("the server did not become ready")


def start_server(
    env: dict[str, str], *, workers: int = 1, prefix: tuple[str, ...] = ()
) -> tuple[str, subprocess.Popen]:
    """Start ``music-emotion serve`` with ``env`` added; returns its base URL and process.

    ``prefix`` is a command that runs the server (it must ``exec`` it, keeping the pid).
    """
    port = free_port()
    serve = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    # A file, not a pipe: a pipe nobody reads fills up with decoder warnings and blocks.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [*prefix, *serve, "--workers", str(workers)],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            wait_ready(url, process, consecutive=4 * workers if workers > 1 else 1)
        except Exception:
            process.kill()
            process.wait()
            log.seek(0)
            raise RuntimeError(log.read().decode(errors="replace")[-3000:]) from None
    return url, process


def stop_server(process: subprocess.Popen) -> None:
    """Ask the server to stop, and make sure it has."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def in_flight(url: str) -> float:
    """The server's gauge of requests being answered (this request to /metrics included)."""
    for line in httpx.get(f"{url}/metrics", timeout=60).text.splitlines():
        if line.startswith("music_emotion_in_flight_requests "):
            return float(line.split()[1])
    raise AssertionError("no in-flight gauge in /metrics")


def accepts_connections(url: str) -> bool:
    """Whether the server at ``url`` still accepts connections (not once it shuts down)."""
    try:
        httpx.get(f"{url}/v2/health/live", timeout=60)
    except httpx.ConnectError:
        return False
    return True


def children(pid: int) -> list[int]:
    """Process ids of the children of ``pid`` (Linux ``/proc``)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:  # the task ended while we looked
            continue
    return found


def spawned(pid: int) -> list[int]:
    """Children of ``pid`` started by multiprocessing's spawn (not its resource tracker)."""
    result = []
    for child in children(pid):
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                result.append(child)
        except OSError:
            continue
    return result


def analysis_processes(server_pid: int) -> list[int]:
    """The analysis processes of a server: spawned processes that spawned nothing.

    With one worker they are the server's children; with several, uvicorn's spawned
    HTTP workers stand between (and each of those has spawned analysis processes).
    """
    found = []
    for pid in spawned(server_pid):
        found += analysis_processes(pid) or [pid]
    return found


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no {field} for {pid}")


def memory_mb(pid: int) -> float:
    """The resident memory of a process now (VmRSS), in MB."""
    return _status_mb(pid, "VmRSS")


def peak_memory_mb(pid: int) -> float:
    """The peak resident memory of a process (VmHWM), in MB."""
    return _status_mb(pid, "VmHWM")


def reset_peak_memory(pid: int) -> None:
    """Start the peak (VmHWM) of a process afresh from its memory now (Linux >= 4.0)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


@pytest.fixture(scope="session")
def server_process() -> Iterator[tuple[str, subprocess.Popen]]:
    """A running service with the shipped model, and its process."""
    url, process = start_server(SERVER_ENV)
    yield url, process
    stop_server(process)


@pytest.fixture(scope="session")
def server(server_process: tuple[str, subprocess.Popen]) -> str:
    """Base URL of the shared running service."""
    return server_process[0]


@pytest.fixture
def client(server: str) -> Iterator[httpx.Client]:
    """An HTTP client bound to the running service."""
    with httpx.Client(base_url=server, timeout=60) as c:
        yield c


def in_process(settings: Settings, headers: dict[str, str] | None = None) -> TestClient:
    """The app in this process, without its analysis processes or model: enough for the
    answers given before an analysis (routing, validation, limits, keys, pages, docs)."""
    app = create_app(settings)
    app.state.warmed.set()
    # Not entered as a context manager: that would run the lifespan, which loads the model.
    return TestClient(app, raise_server_exceptions=False, headers=headers)
