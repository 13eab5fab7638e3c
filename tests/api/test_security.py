"""A locked-down server: API key, CORS, and a read-only root filesystem with a tmpfs.

As the container runs (``read_only: true`` and a tmpfs at /tmp): in a private mount
namespace the whole root filesystem is remounted read-only, a tmpfs is mounted on a
scratch directory, and HOME, TMPDIR and the numba cache point into it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import start_server, stop_server
from tests.audio_fixtures import encode, song

pytestmark = pytest.mark.slow  # starts the service (a real server and its analysis processes)

KEY = "s3cret-key"
ORIGIN = "https://player.example"

READ_ONLY_ROOT = (
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "sh",
    "-c",
    'mount -o remount,bind,ro / && mount -t tmpfs -o size=256m tmpfs "$TMPDIR" && exec "$@"',
    "sh",
)
"""Runs a command with / read-only and a tmpfs at $TMPDIR (needs root)."""


def can_remount() -> bool:
    """Whether this machine lets the tests make a read-only mount namespace."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    probe = subprocess.run(
        [*READ_ONLY_ROOT[:-2], "mount -o remount,bind,ro / && exec true"], capture_output=True
    )
    return probe.returncode == 0


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, bool]]:
    scratch = tmp_path_factory.mktemp("tmpfs")
    env = {
        "MUSIC_EMOTION_API_KEY": KEY,
        "MUSIC_EMOTION_CORS_ORIGINS": f'["{ORIGIN}"]',
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        # Writable, as the compose volume is; here empty, as a tmpfs would be.
        "NUMBA_CACHE_DIR": str(scratch / "numba"),
        # An empty numba cache means compiling at start: one process compiles once.
        "MUSIC_EMOTION_ANALYSIS_PROCESSES": "1",
    }
    read_only = can_remount()
    url, process = start_server(env, prefix=READ_ONLY_ROOT if read_only else ())
    # The tmpfs lives in the server's mount namespace: look at it through its root.
    seen = Path(f"/proc/{process.pid}/root{scratch}") if read_only else scratch
    yield url, seen, read_only
    stop_server(process)


def test_runs_on_a_read_only_root_with_a_tmpfs(locked):
    url, scratch, read_only = locked
    if os.environ.get("CI") and not read_only:
        pytest.fail("CI runs as root and must test the read-only root filesystem")
    # More than the 1-MB in-memory spool: the upload goes to a file in TMPDIR.
    data = encode(song(15.0), 44100, "wav")
    assert len(data) > 1_000_000
    response = httpx.post(
        f"{url}/v1/emotion",
        files={"file": ("../../../../../etc/cron.d/pwned.wav", data)},
        headers={"X-API-Key": KEY},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert any((scratch / "numba").iterdir()), "the numba cache is not in the tmpfs"
    # The client's file name is never a path.
    assert not Path("/etc/cron.d/pwned.wav").exists()
    assert not list(scratch.rglob("*pwned*"))


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}])
def test_analysis_without_the_key_is_401(locked, headers):
    url, _, _ = locked
    for path in ("/v1/emotion", "/v1/emotion/batch"):
        response = httpx.post(f"{url}{path}", files={"file": ("a.wav", b"x")}, headers=headers)
        assert response.status_code == 401, response.text
        assert response.headers["content-type"] == "application/problem+json"


def test_health_and_metrics_need_no_key(locked):
    url, _, _ = locked
    for path in ("/v2/health/live", "/v2/health/ready", "/metrics"):
        assert httpx.get(f"{url}{path}").status_code == 200


def test_cors_allows_only_the_configured_origins(locked):
    url, _, _ = locked
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-api-key",
    }
    allowed = httpx.options(f"{url}/v1/emotion", headers={"Origin": ORIGIN, **preflight})
    assert allowed.headers.get("access-control-allow-origin") == ORIGIN
    assert "x-api-key" in allowed.headers.get("access-control-allow-headers", "").lower()
    other = httpx.options(
        f"{url}/v1/emotion", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in other.headers


def test_nothing_shells_out():
    # No subprocess, os.system or shell anywhere in the service's code.
    root = Path(__file__).resolve().parents[2] / "app"
    for path in root.rglob("*.py"):
        text = path.read_text()
        for needle in ("subprocess", "os.system", "os.popen", "shell=True"):
            assert needle not in text, f"{path} uses {needle}"
