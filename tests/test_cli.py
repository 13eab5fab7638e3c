"""The ``music-emotion`` command: many files in one process, JSON Lines out."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys

import numpy as np
import pytest

from app.analysis import Analyzer
from app.result import EmotionResult, ModelInfo
from app.settings import Settings
from tests.audio_fixtures import clicks, noise, tone, write
from tests.feature_fixtures import TIMBRE_KEYS

pytestmark = pytest.mark.slow  # runs the command in subprocesses that load the model


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the command line in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_predict_prints_one_json_line_per_file(song_files):
    paths = [str(song_files[fmt]) for fmt in ("mp3", "flac", "m4a")]
    result = run("predict", *paths, "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["path"] for line in lines] == paths
    for line in lines:
        assert set(line) == {"path", "valence", "arousal", "quadrant", "confidence"}
        assert -1 <= line["valence"] <= 1 and -1 <= line["arousal"] <= 1
        assert all(0 <= p <= 1 for p in line["confidence"].values())


def test_predict_reports_a_bad_file_and_goes_on(tmp_path, song_files):
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"not audio" * 100)
    result = run("predict", str(bad), str(song_files["wav"]), "--json")
    assert result.returncode == 1
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["path"] == str(bad) and first["problem"] == "unsupported-audio"
    assert "valence" in second


def test_a_folder_is_said_to_be_a_folder(tmp_path, song_files):
    result = run("predict", str(tmp_path), str(song_files["wav"]), "--json")
    assert result.returncode == 1
    first = json.loads(result.stdout.splitlines()[0])
    assert first["error"] == f"'{tmp_path}' is a folder, not a file"
    assert first["problem"] == "unreadable-file"


@pytest.mark.parametrize("command", ["predict", "serve"])
def test_a_missing_model_is_one_line_naming_the_setting(tmp_path, command, song_files):
    env = {**os.environ, "MUSIC_EMOTION_MODEL_PATH": str(tmp_path / "nowhere")}
    args = [str(song_files["wav"])] if command == "predict" else ["--port", "0"]
    result = run(command, *args, env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "MUSIC_EMOTION_MODEL_PATH" in result.stderr and "Traceback" not in result.stderr


def test_help_is_plain_text_and_documents_options_and_exit_statuses():
    for command in ([], ["predict"], ["features"]):
        result = run(*command, "--help")
        assert result.returncode == 0
        assert "``" not in result.stdout
        assert "exit status" in result.stdout and "  2  " in result.stdout
    assert "card.json" in run("predict", "--help").stdout  # --model says what it wants


def _without_settings() -> dict[str, str]:
    """This environment without MUSIC_EMOTION_ variables: the defaults apply."""
    return {k: v for k, v in os.environ.items() if not k.startswith("MUSIC_EMOTION_")}


def test_serve_help_describes_each_option_with_its_default_and_setting():
    shown = run("serve", "--help", env=_without_settings())
    assert shown.returncode == 0
    text = " ".join(shown.stdout.split("options:")[1].split())  # argparse wraps lines anywhere
    for option in ("host", "port", "workers"):
        default = Settings.model_fields[option].default
        said = re.search(rf"--{option} \S+ (.+?)(?= --|\s*exit status)", text)
        assert said, text
        assert f"default: {default}" in said[1], said[1]
        assert f"MUSIC_EMOTION_{option.upper()}" in said[1], said[1]
    assert re.search(r"exit status: .* 2 .*port is in use", text), text


def test_a_busy_port_is_one_line_naming_the_port_and_the_setting():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--port", str(port))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"port {port}" in lines[0]
    assert "--port" in lines[0] and "MUSIC_EMOTION_PORT" in lines[0]


def test_features_prints_every_feature(tmp_path):
    path = write(tmp_path / "clicks.wav", clicks(120, 25.0), 44100)
    result = run("features", str(path), "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["path"] == str(path)
    assert record["tempo_bpm"] == pytest.approx(120, rel=0.03)
    assert set(record["timbre"]) == TIMBRE_KEYS
    series = record["series"]
    steps = round(25.0 / series["step_s"])  # the whole song, not one 20-s window
    assert len(series["spectral_centroid_hz"]) == len(series["spectral_rolloff_hz"]) == steps
    assert np.shape(series["mfcc"]) == (20, steps) and np.shape(series["chroma"]) == (12, steps)
    for key in ("loudness_lufs", "zero_crossings_per_s"):
        assert isinstance(record[key], float)


def test_features_summary_is_the_api_s_for_the_whole_song(tmp_path):
    # Dark for the first 20-s window, bright after: a first-window summary would differ.
    sr = 44100
    y = np.concatenate([tone(220, 22.0, sr), noise(23.0, sr, amplitude=0.3)])
    path = write(tmp_path / "two_halves.flac", y, sr)
    result = run("features", str(path), "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    emotion = Analyzer(Settings().model_path, warm_up=False)(path)
    info = ModelInfo(name="m", version="0")
    api = EmotionResult.of(emotion, info, features=True, timeline=False).model_dump(mode="json")
    assert {key: record[key] for key in api["features"]} == api["features"]
    assert record["duration_s"] == api["duration_s"]
    centroid = np.array(record["series"]["spectral_centroid_hz"])
    assert record["spectral_centroid_mean_hz"] == pytest.approx(centroid.mean(), abs=1e-3)
    assert centroid[250:].mean() > 2 * centroid[:200].mean()


def test_readable_features_name_each_value(tmp_path):
    path = write(tmp_path / "clicks.wav", clicks(120, 5.0), 44100)
    result = run("features", str(path))
    assert result.returncode == 0, result.stderr
    for name in ("spectral_centroid_mean_hz=", "timbre.hardness=", "tempo_bpm="):
        assert name in result.stdout
    assert "window_start_s" not in result.stdout and "series" not in result.stdout


def test_readable_output_without_json(song_files):
    result = run("predict", str(song_files["ogg"]))
    assert result.returncode == 0, result.stderr
    assert "valence=" in result.stdout and "quadrant=" in result.stdout
