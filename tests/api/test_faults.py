"""Faults for real: SIGKILL mid-request, an analysis past its time limit, SIGTERM.

One server with two HTTP worker processes (uvicorn's supervisor restarts a dead one),
each with one analysis process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.api.conftest import analysis_processes, spawned, start_server, stop_server
from tests.audio_fixtures import encode, song

TIMEOUT_S = 3
"""The server's analysis time limit: far above a 5-s clip, far below 10 minutes of audio."""


@pytest.fixture(scope="module")
def faulty() -> Iterator[tuple[str, subprocess.Popen]]:
    env = {
        "MUSIC_EMOTION_ANALYSIS_PROCESSES": "1",
        "MUSIC_EMOTION_ANALYSIS_TIMEOUT_S": str(TIMEOUT_S),
        "MUSIC_EMOTION_MAX_DURATION_S": "600",
    }
    url, process = start_server(env, workers=2)
    yield url, process
    stop_server(process)


@pytest.fixture(scope="module")
def clips() -> dict[str, bytes]:
    ten_minutes = encode(np.tile(song(8.0, 8000), 75), 8000, "flac")
    return {"short": encode(song(5.0), 44100, "mp3"), "long": ten_minutes}


def post(url: str, data: bytes) -> httpx.Response:
    return httpx.post(f"{url}/v1/emotion", files={"file": ("a.flac", data)}, timeout=120)


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


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def busy(pids: list[int]) -> int:
    """The process among ``pids`` that uses the CPU now."""
    before = {pid: cpu_ticks(pid) for pid in pids}
    time.sleep(0.5)
    return max(pids, key=lambda pid: cpu_ticks(pid) - before[pid])


def assert_next_requests_succeed(url: str, data: bytes, n: int = 4) -> None:
    statuses = [post(url, data).status_code for _ in range(n)]
    assert statuses == [200] * n


def test_killed_analysis_process_costs_one_request(faulty, clips):
    url, process = faulty
    thread, outcome = in_background(url, clips["long"])
    time.sleep(0.5)
    victim = busy(analysis_processes(process.pid))
    os.kill(victim, signal.SIGKILL)
    thread.join(60)
    response = outcome[0]
    assert response.status_code == 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/analysis-crashed"
    assert victim not in analysis_processes(process.pid)
    assert_next_requests_succeed(url, clips["short"])


def test_analysis_past_the_time_limit_is_stopped(faulty, clips):
    url, _ = faulty
    start = time.monotonic()
    response = post(url, clips["long"])
    assert response.status_code == 504, response.text
    assert response.json()["type"] == "/problems/analysis-timeout"
    assert time.monotonic() - start < TIMEOUT_S + 5
    assert_next_requests_succeed(url, clips["short"])


def test_killed_http_worker_costs_only_its_requests(faulty, clips):
    url, process = faulty
    workers = spawned(process.pid)
    assert len(workers) == 2
    thread, outcome = in_background(url, clips["long"])
    time.sleep(0.5)
    busy_analysis = busy(analysis_processes(process.pid))
    victim = next(w for w in workers if busy_analysis in analysis_processes(w))
    os.kill(victim, signal.SIGKILL)
    thread.join(60)
    # A dead process cannot answer: the client sees the connection drop (behind
    # nginx, a 502), and uvicorn's supervisor starts a new worker.
    assert isinstance(outcome[0], httpx.TransportError) or outcome[0].status_code >= 500
    assert_next_requests_succeed(url, clips["short"])
    deadline = time.monotonic() + 30
    while len(spawned(process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert victim not in spawned(process.pid) and len(spawned(process.pid)) == 2
    assert_next_requests_succeed(url, clips["short"])


def test_shutdown_finishes_the_requests_in_flight(faulty, clips):
    url, process = faulty
    thread, outcome = in_background(url, encode(song(10.0), 44100, "flac"))
    time.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    thread.join(60)
    assert outcome[0].status_code == 200, outcome[0]
    assert process.wait(timeout=30) == 0
    assert not analysis_processes(process.pid)
