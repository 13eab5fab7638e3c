"""Faults for real: SIGKILL mid-request, an analysis past its time limit, SIGTERM.

One server with two HTTP worker processes (uvicorn's supervisor restarts a dead one),
each with one analysis process; one-process servers for the time limit and shutdown.
Nothing here depends on how fast the machine is: a request is held in flight by
pausing (SIGSTOP) the analysis process it is sent to, and made to outlast the time
limit the same way, never by its length.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.api.conftest import (
    accepts_connections,
    analysis_processes,
    in_flight,
    spawned,
    start_server,
    stop_server,
)
from tests.audio_fixtures import encode, song

pytestmark = pytest.mark.slow  # starts the service (a real server and its analysis processes)

TIMEOUT_S = 3
"""The time limit of the ``limited`` server."""

PATIENCE_S = 600
"""Longest wait for something that must happen: a guard against hangs, never reached."""


@pytest.fixture(scope="module")
def faulty() -> Iterator[tuple[str, subprocess.Popen]]:
    env = {
        "MUSIC_EMOTION_ANALYSIS_PROCESSES": "1",
        "MUSIC_EMOTION_ANALYSIS_TIMEOUT_S": str(PATIENCE_S),
        "MUSIC_EMOTION_MAX_DURATION_S": "600",
    }
    url, process = start_server(env, workers=2)
    yield url, process
    stop_server(process)


def one_process_server(timeout_s: float) -> Iterator[tuple[str, subprocess.Popen]]:
    env = {
        "MUSIC_EMOTION_ANALYSIS_PROCESSES": "1",
        "MUSIC_EMOTION_ANALYSIS_TIMEOUT_S": str(timeout_s),
    }
    url, process = start_server(env)
    yield url, process
    stop_server(process)


@pytest.fixture
def limited() -> Iterator[tuple[str, subprocess.Popen]]:
    yield from one_process_server(TIMEOUT_S)


@pytest.fixture
def patient() -> Iterator[tuple[str, subprocess.Popen]]:
    yield from one_process_server(PATIENCE_S)


@pytest.fixture(scope="module")
def clips() -> dict[str, bytes]:
    return {"short": encode(song(3.0, 22050), 22050, "mp3")}


def post(url: str, data: bytes) -> httpx.Response:
    return httpx.post(f"{url}/v1/emotion", files={"file": ("a.flac", data)}, timeout=PATIENCE_S)


def in_background(url: str, data: bytes) -> tuple[threading.Thread, list]:
    """Post ``data`` on a thread; the list receives the response or the transport error."""
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(post(url, data))
        except httpx.TransportError as error:
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def paused_in_flight(
    url: str, server: subprocess.Popen, data: bytes
) -> tuple[threading.Thread, list, int]:
    """Post ``data`` with every analysis process paused (SIGSTOP): the one whose socket
    receives the upload holds the request, and stays paused; the others go on.

    Returns the posting thread, its outcome list and the paused process.
    """
    paused = analysis_processes(server.pid)
    for pid in paused:
        os.kill(pid, signal.SIGSTOP)
    thread, outcome = in_background(url, data)
    deadline = time.monotonic() + PATIENCE_S
    while (holder := receiving(paused)) is None:
        assert thread.is_alive() and time.monotonic() < deadline, outcome
        time.sleep(0.05)
    for pid in paused:
        if pid != holder:
            os.kill(pid, signal.SIGCONT)
    return thread, outcome, holder


def receiving(pids: list[int]) -> int | None:
    """The process among ``pids`` with unread bytes on a Unix socket (from ``ss``)."""
    ss = shutil.which("ss") or pytest.skip("ss (iproute2) is not installed")
    listing = subprocess.run([ss, "-x", "-p", "-n"], capture_output=True, text=True, check=True)
    for line in listing.stdout.splitlines()[1:]:
        fields = line.split()
        if len(fields) > 2 and fields[2].isdigit() and int(fields[2]) > 0:
            for pid in pids:
                if f"pid={pid}," in line:
                    return pid
    return None


def assert_next_requests_succeed(url: str, data: bytes, n: int = 4) -> None:
    statuses = [post(url, data).status_code for _ in range(n)]
    assert statuses == [200] * n


def test_killed_analysis_process_costs_one_request(faulty, clips):
    url, process = faulty
    thread, outcome, victim = paused_in_flight(url, process, clips["short"])
    os.kill(victim, signal.SIGKILL)
    thread.join(PATIENCE_S)
    response = outcome[0]
    assert response.status_code == 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/analysis-crashed"
    assert victim not in analysis_processes(process.pid)
    assert_next_requests_succeed(url, clips["short"])


def test_analysis_past_the_time_limit_is_stopped(limited, clips):
    url, process = limited
    (paused,) = analysis_processes(process.pid)
    # Paused before the request: the analysis cannot end within any time limit.
    os.kill(paused, signal.SIGSTOP)
    try:
        response = post(url, clips["short"])
    finally:
        with contextlib.suppress(ProcessLookupError):  # killed at the time limit
            os.kill(paused, signal.SIGCONT)
    assert response.status_code == 504, response.text
    assert response.json()["type"] == "/problems/analysis-timeout"
    assert paused not in analysis_processes(process.pid)
    assert_next_requests_succeed(url, clips["short"])


def test_killed_http_worker_costs_only_its_requests(faulty, clips):
    url, process = faulty
    workers = spawned(process.pid)
    assert len(workers) == 2
    thread, outcome, paused = paused_in_flight(url, process, clips["short"])
    victim = next(w for w in workers if paused in analysis_processes(w))
    os.kill(victim, signal.SIGKILL)
    # The orphaned analysis process finds its parent gone once it goes on, and exits.
    os.kill(paused, signal.SIGCONT)
    thread.join(PATIENCE_S)
    # A dead process cannot answer: the client sees the connection drop (behind
    # nginx, a 502), and uvicorn's supervisor starts a new worker.
    assert isinstance(outcome[0], httpx.TransportError) or outcome[0].status_code >= 500
    assert_next_requests_succeed(url, clips["short"])
    deadline = time.monotonic() + PATIENCE_S
    while len(spawned(process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert victim not in spawned(process.pid) and len(spawned(process.pid)) == 2
    assert_next_requests_succeed(url, clips["short"])


def test_shutdown_finishes_the_requests_in_flight(patient, clips):
    # One server process: its metrics are the whole server's, and it closes its
    # listening socket as its shutdown starts.
    url, process = patient
    (paused,) = analysis_processes(process.pid)
    os.kill(paused, signal.SIGSTOP)  # the request cannot finish before SIGTERM
    thread, outcome = in_background(url, clips["short"])
    while in_flight(url) < 2 and thread.is_alive():  # the POST and this GET
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    while accepts_connections(url):
        time.sleep(0.05)
    os.kill(paused, signal.SIGCONT)
    thread.join(PATIENCE_S)
    assert outcome[0].status_code == 200, outcome[0]
    # After its graceful shutdown uvicorn ends by the signal it got (a container's
    # PID 1 ignores it and exits 0: tests/test_container.py).
    assert process.wait(timeout=PATIENCE_S) in (0, -signal.SIGTERM)
    assert not analysis_processes(process.pid)
