"""The application: its documentation works offline, and its start-up says what it does."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.settings import Settings
from tests.api.conftest import analysis_processes, free_port, in_process, stop_server, wait_ready


def test_docs_load_nothing_from_another_host():
    client = in_process(Settings())
    page = client.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert {a.rsplit(".", 1)[-1] for a in assets} >= {"js", "css"}
    assert not re.search(r"https?://", page.text), "the page names another host"
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.content) > 1000, asset
    assert "openapi" in client.get("/openapi.json").json()
    client.close()


@pytest.mark.slow  # starts the service
def test_start_up_logs_each_step_and_its_duration(tmp_path):
    log = tmp_path / "serve.log"
    port = free_port()
    env = {**os.environ, "MUSIC_EMOTION_ANALYSIS_PROCESSES": "1"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
    try:
        wait_ready(f"http://127.0.0.1:{port}", process)
    finally:
        stop_server(process)
    text = log.read_text()
    for step in (
        r"model music-emotion \S+ loaded from \S+ in \d+\.\d s",
        r"starting 1 analysis processes",
        r"analysis process \d+ ready: model loaded in \d+\.\d s, warmed up in \d+\.\d s, "
        r"one warm-up analysis \d+\.\d+ s \(numba",
        r"ready: 1 analysis processes warm in \d+\.\d s",
    ):
        assert re.search(step, text), f"{step!r} not in the log:\n{text}"


def _wait_for_line(log: Path, pattern: str, process: subprocess.Popen) -> None:
    """Block until the log has a line matching ``pattern``; fail if the service is
    ready first (the deadline guards a hang)."""
    deadline = time.monotonic() + 900
    while not re.search(pattern, text := log.read_text()):
        assert "analysis processes warm in" not in text, f"ready, and no {pattern!r}: {text}"
        assert process.poll() is None, text
        assert time.monotonic() < deadline, text
        time.sleep(0.2)


@pytest.mark.slow  # starts the service with a cold numba cache
def test_a_first_start_says_it_compiles_and_the_503_says_what_and_how_long(tmp_path):
    """A cold numba cache (an empty NUMBA_CACHE_DIR): the log says the kernels are being
    compiled, and while they are, the 503 says so, with the time it takes."""
    log = tmp_path / "serve.log"
    url = f"http://127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "MUSIC_EMOTION_ANALYSIS_PROCESSES": "1",
        "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache"),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", url.rsplit(":", 1)[1]],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
    try:
        compiling = (
            r"compiling the feature kernels into numba's cache \(first start only, about \d+ s\)"
        )
        _wait_for_line(log, compiling, process)
        (analysis,) = analysis_processes(process.pid)
        os.kill(analysis, signal.SIGSTOP)  # it cannot become ready while we ask
        try:
            for path in ("/v2/health/ready", "/v2/models/music-emotion/ready"):
                answer = httpx.get(f"{url}{path}", timeout=60)
                assert answer.status_code == 503, answer.text
                detail = answer.json()["detail"]
                assert re.search(compiling, detail), detail
                assert "model is still loading" not in detail
        finally:
            os.kill(analysis, signal.SIGCONT)
        wait_ready(url, process, timeout_s=900)
    finally:
        stop_server(process)
    text = log.read_text()
    steps = [r"starting 1 analysis processes", compiling, r"ready: 1 analysis processes warm"]
    places = [re.search(step, text) for step in steps]
    assert all(places), text
    assert [m.start() for m in places] == sorted(m.start() for m in places), text
