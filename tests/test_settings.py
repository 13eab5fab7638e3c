"""Settings, and the installed package: its command finds the shipped model from any folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import pytest

from app.settings import DEFAULT_MODEL_NAME, Settings

ROOT = Path(__file__).resolve().parents[1]

# Build with this environment's setuptools if it is recent enough for pyproject.toml
# (fast, offline); else in pip's isolated build environment.
NO_BUILD_ISOLATION = (
    ["--no-build-isolation"] if int(metadata.version("setuptools").split(".")[0]) >= 69 else []
)


def test_the_default_model_does_not_depend_on_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MUSIC_EMOTION_MODEL_PATH", raising=False)
    path = Settings().model_path
    assert path.is_absolute() and path.name == DEFAULT_MODEL_NAME
    assert (path / "card.json").is_file() and (path / "model.onnx").is_file()


@pytest.mark.slow  # installs the package into a fresh venv
def test_the_installed_command_works_from_any_folder(tmp_path, song_files):
    """``pip install .`` (not editable) into a fresh venv, then ``music-emotion predict``
    from a folder that is not the checkout."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # The dependencies come from this environment, appended after the venv's own packages.
    Path(site, "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MUSIC_EMOTION_", "PYTHON"))}
    install = subprocess.run(
        # --ignore-installed: never uninstall this environment's own copy, which pip sees
        # through deps.pth.
        [
            python,
            "-m",
            "pip",
            "install",
            "--no-deps",
            *NO_BUILD_ISOLATION,
            "--ignore-installed",
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [
            python,
            "-c",
            "import app, app.settings as s; print(app.__file__, s.Settings().model_path)",
        ],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
        check=True,
    ).stdout.split()
    assert all(p.startswith(str(venv)) for p in where), where  # the installed copy, its model
    song = song_files["mp3"]
    result = subprocess.run(
        [venv / "bin" / "music-emotion", "predict", str(song), "--json"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout)["quadrant"]
