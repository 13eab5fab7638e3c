"""The calibrated confidence over a real server, equal to the command's and the catalogue's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import SERVER_ENV, start_server, stop_server
from tests.audio_fixtures import song, write
from tests.catalogue.conftest import read_rows, run_catalogue
from tests.model_fixtures import CALIBRATION, copy_model

pytestmark = pytest.mark.slow  # starts the service, the command and a catalogue job


def _predict(path: Path, model: Path) -> dict:
    """``music-emotion predict PATH --json`` with ``model``: its one line."""
    command = subprocess.run(
        [sys.executable, "-m", "app.cli", "predict", str(path), "--json", "--model", str(model)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert command.returncode == 0, command.stderr
    return json.loads(command.stdout)


def test_the_api_the_command_and_the_catalogue_give_the_same_probabilities(tmp_path):
    model = copy_model(tmp_path / "model", calibration=CALIBRATION)
    (tmp_path / "songs").mkdir()
    path = write(tmp_path / "songs" / "a.flac", song(15.0), 44100)
    url, process = start_server({**SERVER_ENV, "MUSIC_EMOTION_MODEL_PATH": str(model)})
    try:
        answer = httpx.post(
            f"{url}/v1/emotion", files={"file": (path.name, path.read_bytes())}, timeout=120
        ).json()
    finally:
        stop_server(process)
    confidence = answer["confidence"]
    assert set(confidence) == {"quadrant", "valence_positive", "arousal_positive"}
    assert all(0 <= p <= 1 for p in confidence.values())

    assert _predict(path, model)["confidence"] == confidence

    out = tmp_path / "catalogue"
    job = run_catalogue(str(path.parent), "--out", str(out), "--model", str(model))
    assert job.returncode == 0, job.stderr
    [row] = read_rows(out)
    assert {name: row[f"{name}_probability"] for name in confidence} == confidence


def test_the_shipped_model_is_calibrated_and_a_model_without_it_says_nothing(client, tmp_path):
    path = write(tmp_path / "a.flac", song(5.0), 44100)
    answer = client.post("/v1/emotion", files={"file": (path.name, path.read_bytes())}).json()
    assert 0 <= answer["confidence"]["quadrant"] <= 1
    model = copy_model(tmp_path / "model")  # the shipped model without its calibration
    line = _predict(path, model)
    assert line["quadrant"] == answer["quadrant"] and "confidence" not in line
