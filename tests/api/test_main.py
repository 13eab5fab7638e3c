"""The application: its documentation works offline, and its start-up says what it does."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from app.settings import Settings
from tests.api.conftest import free_port, in_process, stop_server, wait_ready


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
        r"analysis process \d+ ready: model loaded in \d+\.\d s, warmed up in \d+\.\d s \(numba",
        r"ready: 1 analysis processes warm in \d+\.\d s",
    ):
        assert re.search(step, text), f"{step!r} not in the log:\n{text}"
