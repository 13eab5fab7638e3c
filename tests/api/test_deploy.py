"""The deployment: docker-compose.yml and deploy/nginx.conf agree with the app, the
nginx configuration runs for real (Debian's nginx) in front of the test server, and,
marked ``container``, compose runs the replicas behind nginx in a real Docker engine.

Compose v1 (Debian's docker-compose 1.29) reads ``deploy.replicas`` only with
``--compatibility``; Compose v2 reads it as it is.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import yaml

from app.api.limits import MULTIPART_OVERHEAD
from app.settings import Settings
from tests.api.conftest import free_port, in_flight
from tests.audio_fixtures import encode, song
from tests.container_engine import PATIENCE_S, address, docker, inspect

pytestmark = pytest.mark.slow  # starts the service (a real server and its analysis processes)

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def nginx_directive(name: str) -> str:
    match = re.search(rf"^\s*{name}\s+([^;]+);", NGINX_CONF.read_text(), re.MULTILINE)
    assert match, f"no {name} in {NGINX_CONF}"
    return match.group(1)


def test_nginx_body_limit_matches_the_app(monkeypatch):
    monkeypatch.delenv("MUSIC_EMOTION_MAX_UPLOAD_BYTES", raising=False)
    environment = COMPOSE["services"]["music-emotion"].get("environment") or {}
    app_limit = int(environment.get("MUSIC_EMOTION_MAX_UPLOAD_BYTES", Settings().max_upload_bytes))
    assert int(nginx_directive("client_max_body_size")) == app_limit + MULTIPART_OVERHEAD


def test_compose_runs_replicas_checked_for_readiness_behind_nginx():
    app, nginx = COMPOSE["services"]["music-emotion"], COMPOSE["services"]["nginx"]
    assert app["deploy"]["replicas"] >= 2
    assert "ports" not in app, "replicas are reached through nginx only"
    assert "/v2/health/ready" in " ".join(app["healthcheck"]["test"])
    assert nginx["depends_on"]["music-emotion"]["condition"] == "service_healthy"
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in nginx["volumes"]
    assert "server music-emotion:8000" in NGINX_CONF.read_text()
    for service in (app, nginx):
        assert service["read_only"] is True
        assert any(t.startswith("/tmp") for t in service["tmpfs"])


@pytest.fixture(scope="module")
def nginx(server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """deploy/nginx.conf with its paths in a temp dir and two upstreams: a dead port
    (a replica that is down) and the test server."""
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed (apt-get install nginx-light)")
        pytest.skip("nginx is not installed")
    prefix = tmp_path_factory.mktemp("nginx")
    port = free_port()
    upstreams = f"server 127.0.0.1:{free_port()};\n        server {server[len('http://') :]};"
    conf = (
        NGINX_CONF.read_text()
        .replace("/tmp/", f"{prefix}/")
        .replace("listen 8080;", f"listen 127.0.0.1:{port};")
        .replace("server music-emotion:8000 max_fails=3 fail_timeout=10s;", upstreams)
        .replace("access_log /dev/stdout;", "access_log off;")
    )
    (prefix / "nginx.conf").write_text(conf)
    user = ["-g", "user root;"] if os.geteuid() == 0 else []  # workers read the temp dir
    check = subprocess.run(
        [binary, "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), *user],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(
        [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;", *user],
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            httpx.get(f"{url}/v2/health/live")
            break
        except httpx.TransportError:
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_nginx_passes_requests_on_past_a_dead_replica(nginx):
    data = encode(song(3.0), 44100, "mp3")
    for _ in range(4):
        response = httpx.post(f"{nginx}/v1/emotion", files={"file": ("a.mp3", data)}, timeout=60)
        assert response.status_code == 200, response.text
    assert httpx.get(f"{nginx}/v2/health/ready").json() == {"ready": True}


def test_nginx_refuses_oversized_uploads_as_problem_json(nginx):
    limit = int(nginx_directive("client_max_body_size"))
    response = httpx.post(
        f"{nginx}/v1/emotion",
        content=bytes(limit + 1),
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 413


@pytest.fixture(scope="module")
def compose(image: str) -> Iterator[tuple[list[str], str]]:
    """docker-compose.yml up (compose v1 with --compatibility): its command and nginx's URL."""
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed")
    port = free_port()
    command = ["docker-compose", "--compatibility", "--project-name", f"music-emotion-{port}"]
    env = {**os.environ, "MUSIC_EMOTION_PUBLISHED_PORT": str(port)}

    def run(*args: str) -> str:
        result = subprocess.run(
            [*command, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=PATIENCE_S
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    try:
        run("up", "--detach", "--no-build")  # nginx starts once the replicas are healthy
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + PATIENCE_S
        while not _ready(url):
            assert time.monotonic() < deadline, "nginx did not answer"
            time.sleep(0.5)
        yield command, url
    finally:
        run("down", "--volumes", "--timeout", str(PATIENCE_S))


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/v2/health/ready", timeout=10).status_code == 200
    except httpx.TransportError:
        return False


def _containers(compose: tuple[list[str], str], service: str) -> list[str]:
    command, _ = compose
    result = subprocess.run(
        [*command, "ps", "-q", service], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return result.stdout.split()


@pytest.mark.container
def test_compose_runs_the_replicas_behind_nginx(compose):
    replicas = _containers(compose, "music-emotion")
    assert len(replicas) == COMPOSE["services"]["music-emotion"]["deploy"]["replicas"]
    data = encode(song(5.0), 44100, "mp3")
    response = httpx.post(f"{compose[1]}/v1/emotion", files={"file": ("a.mp3", data)}, timeout=60)
    assert response.status_code == 200, response.text


@pytest.mark.container
def test_a_replica_killed_in_a_burst_costs_at_most_its_requests_in_flight(compose):
    _, url = compose
    data = encode(song(10.0), 44100, "mp3")

    def post(_: int) -> str:
        try:
            files = {"file": ("a.mp3", data)}
            return str(httpx.post(f"{url}/v1/emotion", files=files, timeout=PATIENCE_S).status_code)
        except httpx.TransportError as error:
            return type(error).__name__

    with ThreadPoolExecutor(6) as clients:
        answers = clients.map(post, range(18))
        # The first replica seen with requests in flight (besides this GET) is killed.
        deadline = time.monotonic() + PATIENCE_S
        while time.monotonic() < deadline:
            busy = {r: in_flight(address(r)) - 1 for r in _containers(compose, "music-emotion")}
            victim, lost_at_most = max(busy.items(), key=lambda item: item[1])
            if lost_at_most >= 1:
                docker("kill", victim)
                break
            time.sleep(0.05)
        answers = list(answers)
    failed = [a for a in answers if a != "200"]
    assert len(failed) <= lost_at_most, answers


@pytest.mark.container
def test_compose_stop_ends_every_container_cleanly(compose):
    # Draining the requests in flight is tests/test_container.py's; here every running
    # container (not the replica killed above) must end with status 0.
    command, _ = compose
    containers = _containers(compose, "music-emotion") + _containers(compose, "nginx")
    running = [c for c in containers if inspect(c)["State"]["Running"]]
    assert len(running) >= 3
    subprocess.run([*command, "stop", "--timeout", str(PATIENCE_S)], cwd=ROOT, check=True)
    for container in running:
        state = inspect(container)["State"]
        assert (state["Running"], state["ExitCode"]) == (False, 0), container
