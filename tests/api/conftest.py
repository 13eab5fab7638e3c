"""A real server: ``music-emotion serve`` in a subprocess, on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

UPLOAD_LIMIT = 3_000_000
"""The test server's upload limit: small, so that the 413 test sends little."""


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, timeout_s: float = 120.0) -> None:
    """Poll readiness until it answers 200; fail if the process dies or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/v2/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError("the server did not become ready")


def start_server(env: dict[str, str]) -> tuple[str, subprocess.Popen]:
    """Start ``music-emotion serve`` with ``env`` added; returns its base URL and process."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
    except Exception:
        process.kill()
        raise RuntimeError(process.stderr.read().decode(errors="replace")[-3000:]) from None
    return url, process


def stop_server(process: subprocess.Popen) -> None:
    """Ask the server to stop, and make sure it has."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """Base URL of a running service with the shipped model."""
    url, process = start_server({"MUSIC_EMOTION_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT)})
    yield url
    stop_server(process)


@pytest.fixture
def client(server: str) -> Iterator[httpx.Client]:
    """An HTTP client bound to the running service."""
    with httpx.Client(base_url=server, timeout=60) as c:
        yield c
