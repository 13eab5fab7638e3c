"""The rest of the API's contract: batch, Open Inference Protocol metadata, metrics, docs."""

from __future__ import annotations

import pytest

from app.features import STAGES
from tests.api.test_emotion import assert_problem
from tests.audio_fixtures import encode, song

pytestmark = pytest.mark.slow  # starts the service (a real server and its analysis processes)

SONG = encode(song(3.0), 44100, "mp3")


def test_batch_answers_each_file_with_its_result_or_its_problem(client):
    files = [
        ("files", ("good.mp3", SONG)),
        ("files", ("notes.txt", b"no music here\n" * 100)),
        ("files", ("empty.wav", b"")),
        ("files", ("../../etc/passwd", SONG)),
    ]
    response = client.post("/v1/emotion/batch", params={"features": "true"}, files=files)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [i["filename"] for i in items] == [
        "good.mp3",
        "notes.txt",
        "empty.wav",
        "../../etc/passwd",
    ]
    assert -1 <= items[0]["result"]["valence"] <= 1
    assert set(items[0]["result"]["features"]) == {
        "tempo_bpm",
        "loudness_lufs",
        "zero_crossings_per_s",
        "spectral_centroid_mean_hz",
        "spectral_rolloff_mean_hz",
        "timbre",
    }
    assert items[1]["error"]["status"] == 415 and "result" not in items[1]
    assert items[2]["error"]["status"] == 400
    assert items[3]["result"] == items[0]["result"]


def test_batch_over_the_file_count_limit_is_413(client):
    files = [("files", (f"{i}.mp3", b"x")) for i in range(17)]
    body = assert_problem(client.post("/v1/emotion/batch", files=files), 413)
    assert body["type"] == "/problems/too-many-files"


def test_model_metadata_follows_the_open_inference_protocol(client):
    meta = client.get("/v2/models/music-emotion").json()
    assert meta["name"] == "music-emotion"
    assert meta["versions"] and meta["platform"] == "onnxruntime_onnx"
    inputs = {t["name"]: t for t in meta["inputs"]}
    assert set(inputs) == {"mfcc", "chroma", "spectral", "scalars", "musicnn"}
    assert inputs["mfcc"] == {"name": "mfcc", "datatype": "FP32", "shape": [-1, 20, 200]}
    assert inputs["musicnn"] == {"name": "musicnn", "datatype": "FP32", "shape": [-1, 400]}
    assert [t["name"] for t in meta["outputs"]] == ["valence", "arousal", "moods"]
    assert client.get("/v2/models/music-emotion/ready").json() == {
        "name": "music-emotion",
        "ready": True,
    }
    assert_problem(client.get("/v2/models/another-model"), 404)


def test_metrics_count_requests_and_time_each_stage(client):
    client.post("/v1/emotion", files={"file": ("a.mp3", SONG)})
    client.post("/v1/emotion", files={"file": ("a.mp3", b"not audio" * 100)})
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    for line in (
        'music_emotion_requests_total{method="POST",route="/v1/emotion",status="200"}',
        'music_emotion_requests_total{method="POST",route="/v1/emotion",status="415"}',
        'music_emotion_request_duration_seconds_bucket{le="0.5",route="/v1/emotion"}',
        *(
            f'music_emotion_stage_duration_seconds_count{{stage="{stage}"}}'
            for stage in ("decode", *STAGES, "inference")
        ),
        "music_emotion_in_flight_requests 1.0",  # this scrape itself
    ):
        assert line in text, line


def test_openapi_documents_examples_and_problems(client):
    schema = client.get("/openapi.json").json()
    post = schema["paths"]["/v1/emotion"]["post"]
    assert post["responses"]["200"]["content"]["application/json"]["example"]["quadrant"]
    for status in ("400", "401", "413", "415", "422", "500", "503", "504"):
        content = post["responses"][status]["content"]
        assert list(content) == ["application/problem+json"], status
        assert content["application/problem+json"]["example"]["status"] == int(status)
    batch = schema["paths"]["/v1/emotion/batch"]["post"]["responses"]["200"]
    assert batch["content"]["application/json"]["example"]["items"]
    assert {"/v2/health/live", "/v2/health/ready", "/v2/models/{name}", "/metrics"} <= set(
        schema["paths"]
    )
