"""``/v1/audio-features``: Spotify's AudioFeatures object over a real server, equal to the
command line's and the catalogue's for the same file."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.api.schemas import AUDIO_FEATURES_EXAMPLE
from app.audio_features import CALIBRATION_FILE, UNIT_FIELDS
from app.table import audio_feature_column
from tests.api.conftest import SERVER_ENV, UPLOAD_LIMIT, start_server, stop_server
from tests.audio_fixtures import encode, song, write
from tests.catalogue.conftest import read_rows, run_catalogue
from tests.model_fixtures import copy_model

pytestmark = pytest.mark.slow  # starts the service, the command and catalogue jobs

SONG = encode(song(25.0), 44100, "mp3")

FIELDS = {
    **dict.fromkeys(UNIT_FIELDS, float),
    "duration_ms": int,
    "key": int,
    "loudness": float,
    "mode": int,
    "tempo": float,
    "time_signature": int,
    "type": str,
}
"""Spotify's fields and their JSON types."""

BAD_UPLOADS = {
    "empty": b"",
    "not audio": b"<html>no music</html>" * 50,
    "too large": bytes(UPLOAD_LIMIT + 200_000),
}


def assert_spotify_object(answer: dict) -> None:
    """Spotify's fields, types and ranges."""
    assert set(answer) == set(FIELDS)
    for name, kind in FIELDS.items():
        assert type(answer[name]) is kind, (name, answer[name])
    assert all(0 <= answer[name] <= 1 for name in UNIT_FIELDS), answer
    assert answer["type"] == "audio_features"
    assert -60 <= answer["loudness"] <= 0 and answer["tempo"] > 0
    assert -1 <= answer["key"] <= 11 and answer["mode"] in (0, 1)
    assert 3 <= answer["time_signature"] <= 7


def test_one_song_gets_spotify_s_object(client):
    response = client.post("/v1/audio-features", files={"file": ("a.mp3", SONG)})
    assert response.status_code == 200, response.text
    assert_spotify_object(response.json())
    assert response.json()["duration_ms"] == pytest.approx(25_000, abs=100)


def test_a_batch_answers_in_order_with_a_failed_file_as_its_own_problem(client):
    single = client.post("/v1/audio-features", files={"file": ("a.mp3", SONG)}).json()
    files = [
        ("files", ("a.mp3", SONG)),
        ("files", ("notes.txt", b"not audio" * 100)),
        ("files", ("b.mp3", SONG)),
    ]
    response = client.post("/v1/audio-features/batch", files=files)
    assert response.status_code == 200, response.text
    first, failed, last = response.json()["audio_features"]
    assert first == single == last
    emotion = client.post("/v1/emotion", files={"file": ("n.txt", b"not audio" * 100)}).json()
    assert {k: failed[k] for k in ("type", "status", "title")} == {
        k: emotion[k] for k in ("type", "status", "title")
    }


@pytest.mark.parametrize("name", BAD_UPLOADS)
def test_bad_input_gets_the_problem_of_v1_emotion(client, name):
    files = {"file": ("a.mp3", BAD_UPLOADS[name])}
    emotion = client.post("/v1/emotion", files=files)
    features = client.post("/v1/audio-features", files=files)
    assert features.status_code == emotion.status_code >= 400
    assert features.headers["content-type"] == "application/problem+json"
    assert features.json()["type"] == emotion.json()["type"]


def test_a_batch_over_the_limit_is_refused_as_emotion_s(client):
    files = [("files", (f"{i}.mp3", SONG)) for i in range(17)]
    emotion = client.post("/v1/emotion/batch", files=files)
    features = client.post("/v1/audio-features/batch", files=files)
    assert features.status_code == emotion.status_code == 413
    assert features.json()["type"] == emotion.json()["type"]


def test_the_openapi_document_shows_the_object_and_the_problems(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/audio-features", "/v1/audio-features/batch"):
        responses = paths[path]["post"]["responses"]
        assert {"400", "413", "415", "422", "501", "503"} <= set(responses)
    example = paths["/v1/audio-features"]["post"]["responses"]["200"]["content"]
    assert_spotify_object(example["application/json"]["example"])


def test_the_openapi_example_is_the_shipped_model_s_answer(client, shared_datasets):
    clip = shared_datasets / "4q" / "audio" / "MT0000004637.mp3"
    answer = client.post("/v1/audio-features", files={"file": (clip.name, clip.read_bytes())})
    assert answer.json() == AUDIO_FEATURES_EXAMPLE


def test_analyses_are_counted_in_the_metrics(client):
    client.post("/v1/audio-features", files={"file": ("a.mp3", SONG)})
    metrics = client.get("/metrics").text
    assert 'route="/v1/audio-features"' in metrics
    assert 'music_emotion_stage_duration_seconds_count{stage="evidence"}' in metrics


def test_the_api_the_batch_the_command_and_the_catalogue_agree(client, tmp_path):
    (tmp_path / "songs").mkdir()
    path = write(tmp_path / "songs" / "a.flac", song(20.0), 44100)
    data = path.read_bytes()
    answer = client.post("/v1/audio-features", files={"file": (path.name, data)}).json()
    assert_spotify_object(answer)
    batch = client.post("/v1/audio-features/batch", files=[("files", (path.name, data))])
    assert batch.json()["audio_features"] == [answer]
    emotion = client.post(
        "/v1/emotion", params={"audio_features": "true"}, files={"file": (path.name, data)}
    )
    assert emotion.json()["audio_features"] == answer

    command = subprocess.run(
        [sys.executable, "-m", "app.cli", "audio-features", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert command.returncode == 0, command.stderr
    assert json.loads(command.stdout) == {"path": str(path), **answer}

    # A catalogue scored without the audio features gains them on a rerun that asks.
    out = tmp_path / "catalogue"
    assert run_catalogue(str(path.parent), "--out", str(out)).returncode == 0
    rerun = run_catalogue(str(path.parent), "--out", str(out), "--audio-features")
    assert rerun.returncode == 0, rerun.stderr
    assert "scored again" in rerun.stderr
    [row] = read_rows(out)
    fields = set(FIELDS) - {"duration_ms", "type"}
    assert {name: row[audio_feature_column(name)] for name in fields} == {
        name: answer[name] for name in fields
    }
    assert row["spotify_valence"] == answer["valence"] and -1 <= row["valence"] <= 1

    # The search's filters read these columns.
    def found(*conditions: str) -> list[str]:
        search = [sys.executable, "-m", "app.cli", "search", str(out), "--json"]
        query = subprocess.run(
            [*search, "--valence", "0", "--arousal", "0", *conditions],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert query.returncode == 0, query.stderr
        return [json.loads(line)["path"] for line in query.stdout.splitlines()]

    mode, other = ("major", "minor") if answer["mode"] else ("minor", "major")
    assert found("--mode", mode, "--tempo-min", str(answer["tempo"] - 1)) == [str(path)]
    assert found("--mode", other) == []


@pytest.fixture(scope="module")
def model_without_audio_features(tmp_path_factory) -> Path:
    """The shipped model without its audio-features calibration."""
    folder = copy_model(tmp_path_factory.mktemp("model"))
    (folder / CALIBRATION_FILE).unlink()
    return folder


@pytest.fixture(scope="module")
def server_without_audio_features(model_without_audio_features) -> Iterator[str]:
    url, process = start_server(
        {**SERVER_ENV, "MUSIC_EMOTION_MODEL_PATH": str(model_without_audio_features)}
    )
    yield url
    stop_server(process)


@pytest.mark.parametrize("batch", [False, True])
def test_a_model_without_audio_features_answers_the_documented_problem(
    server_without_audio_features, batch
):
    with httpx.Client(base_url=server_without_audio_features, timeout=60) as client:
        if batch:
            response = client.post("/v1/audio-features/batch", files=[("files", ("a", SONG))])
        else:
            response = client.post("/v1/audio-features", files={"file": ("a.mp3", SONG)})
        assert response.status_code == 501, response.text
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["type"] == "/problems/audio-features-unavailable"
        assert CALIBRATION_FILE in body["detail"]
        assert client.get(body["type"]).status_code == 200  # the problem's page
        emotion = client.post("/v1/emotion", files={"file": ("a.mp3", SONG)})
        assert emotion.status_code == 200, emotion.text
        asked = client.post(
            "/v1/emotion", params={"audio_features": "true"}, files={"file": ("a.mp3", SONG)}
        )
        assert asked.status_code == 501 and asked.json()["type"] == body["type"]


def test_the_command_without_audio_features_exits_2_saying_why(
    model_without_audio_features, tmp_path
):
    path = write(tmp_path / "a.flac", song(5.0), 44100)
    command = subprocess.run(
        [
            *(sys.executable, "-m", "app.cli", "audio-features", str(path)),
            *("--model", str(model_without_audio_features)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert command.returncode == 2
    assert CALIBRATION_FILE in command.stderr and not command.stdout
