"""The ``music-emotion`` command: many files in one process, JSON Lines out."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.audio_fixtures import clicks, write

TIMBRE_KEYS = {
    "hardness",
    "depth",
    "brightness",
    "roughness",
    "warmth",
    "sharpness",
    "boominess",
    "reverb",
}


def run(*args: str) -> subprocess.CompletedProcess:
    """Run the command line in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_predict_prints_one_json_line_per_file(song_files):
    paths = [str(song_files[fmt]) for fmt in ("mp3", "flac", "m4a")]
    result = run("predict", *paths, "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["path"] for line in lines] == paths
    for line in lines:
        assert set(line) == {"path", "valence", "arousal", "quadrant"}
        assert -1 <= line["valence"] <= 1 and -1 <= line["arousal"] <= 1


def test_predict_reports_a_bad_file_and_goes_on(tmp_path, song_files):
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"not audio" * 100)
    result = run("predict", str(bad), str(song_files["wav"]), "--json")
    assert result.returncode == 1
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert "error" in first and first["path"] == str(bad)
    assert "valence" in second


def test_features_prints_every_feature(tmp_path):
    path = write(tmp_path / "clicks.wav", clicks(120, 25.0), 44100)
    result = run("features", str(path), "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["path"] == str(path)
    assert record["tempo_bpm"] == pytest.approx(120, rel=0.03)
    assert set(record["timbre"]) == TIMBRE_KEYS
    assert len(record["spectral_centroid"]) == len(record["spectral_rolloff"]) == 200
    assert [len(record["mfcc"]), len(record["mfcc"][0])] == [20, 200]
    assert [len(record["chroma"]), len(record["chroma"][0])] == [12, 200]
    for key in ("loudness_lufs", "zero_crossings_per_s"):
        assert isinstance(record[key], float)


def test_readable_output_without_json(song_files):
    result = run("predict", str(song_files["ogg"]))
    assert result.returncode == 0, result.stderr
    assert "valence=" in result.stdout and "quadrant=" in result.stdout
