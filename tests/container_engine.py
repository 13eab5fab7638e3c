"""The Docker engine for the tests marked ``container``: the image built once per session.

Where no engine runs (no ``docker`` command, or no daemon answering), those tests skip.
``.ci/container-engine.sh`` starts one and makes the base images locally.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
IMAGE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["music-emotion"][
    "image"
]
"""The tag compose runs: the tests build it from the Dockerfile, as compose would."""

PATIENCE_S = 600
"""Longest wait for something that must happen (a build, a start): a guard against hangs."""


def docker(*args: str, check: bool = True, timeout: float = PATIENCE_S) -> str:
    """Run ``docker *args``; its standard output."""
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)}: {result.stderr[-3000:]}")
    return result.stdout.strip()


def engine_runs() -> bool:
    """Whether a Docker daemon answers here."""
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def inspect(container: str) -> dict:
    """``docker inspect`` of one container."""
    return json.loads(docker("inspect", container))[0]


def address(container: str) -> str:
    """The container's base URL on its first network, for port 8000."""
    networks = inspect(container)["NetworkSettings"]["Networks"]
    ip = next(iter(networks.values()))["IPAddress"]
    return f"http://{ip}:8000"


def wait_until_ready(url: str, container: str) -> None:
    """Poll readiness; fail if the container stops or time runs out."""
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        state = inspect(container)["State"]
        if not state["Running"] and not state["Restarting"]:
            logs = docker("logs", "--tail", "50", container, check=False)
            raise RuntimeError(f"the container stopped ({state['ExitCode']}): {logs}")
        try:
            if httpx.get(f"{url}/v2/health/ready", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{container} did not become ready")


SIGNAL_ANALYSIS_PROCESSES = """
import os, pathlib, sys
for proc in pathlib.Path("/proc").glob("[0-9]*"):
    try:
        cmdline = (proc / "cmdline").read_bytes()
    except OSError:
        continue
    # Not this script, whose own text names spawn_main.
    if b"spawn_main" in cmdline and proc.name != str(os.getpid()):
        os.kill(int(proc.name), int(sys.argv[1]))
"""


def signal_analysis_processes(container: str, signum: int) -> None:
    """Send ``signum`` to the container's analysis processes, from inside it (as its user)."""
    docker("exec", container, "python", "-c", SIGNAL_ANALYSIS_PROCESSES, str(signum))


@pytest.fixture(scope="session")
def image() -> str:
    """The project's image, built from its Dockerfile unchanged; its tag."""
    if not engine_runs():
        pytest.skip("no container engine runs here (.ci/container-engine.sh starts one)")
    docker("build", "-q", "-t", IMAGE, str(ROOT), timeout=3 * PATIENCE_S)
    return IMAGE
