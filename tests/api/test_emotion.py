"""``POST /v1/emotion`` over a real uvicorn server."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import UPLOAD_LIMIT
from tests.audio_fixtures import FORMATS, encode, noise, song, tone
from tests.feature_fixtures import TIMBRE_KEYS

pytestmark = pytest.mark.slow  # starts the service (a real server and its analysis processes)

QUADRANTS = {"happy/excited", "angry/tense", "sad/depressed", "calm/relaxed"}


def assert_problem(response: httpx.Response, status: int) -> dict:
    """The response is problem+json with ``status``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    return body


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_gets_an_emotion(client, song_files, fmt):
    path = song_files[fmt]
    response = client.post("/v1/emotion", files={"file": (path.name, path.read_bytes())})
    assert response.status_code == 200, response.text
    body = response.json()
    assert -1 <= body["valence"] <= 1
    assert -1 <= body["arousal"] <= 1
    assert body["quadrant"] in QUADRANTS
    assert body["model"]["name"] == "music-emotion"
    assert body["model"]["version"]
    assert body["duration_s"] == pytest.approx(8.0, abs=0.1)
    assert "features" not in body and "timeline" not in body


def test_formats_of_the_same_song_agree(client, song_files):
    results = [
        client.post("/v1/emotion", files={"file": (p.name, p.read_bytes())}).json()
        for p in song_files.values()
    ]
    for axis in ("valence", "arousal"):
        values = [r[axis] for r in results]
        assert max(values) - min(values) < 0.15, values


def test_features_and_timeline_on_request(client):
    data = encode(song(35.0, 44100), 44100, "flac")
    response = client.post(
        "/v1/emotion",
        params={"features": "true", "timeline": "true"},
        files={"file": ("song.flac", data, "audio/flac")},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["features"]["tempo_bpm"] == pytest.approx(120, rel=0.05)
    assert set(body["features"]["timbre"]) == TIMBRE_KEYS
    assert [s["start_s"] for s in body["timeline"]] == pytest.approx([0, 10, 15], abs=0.1)
    mean_valence = sum(s["valence"] for s in body["timeline"]) / len(body["timeline"])
    assert body["valence"] == pytest.approx(mean_valence, abs=1e-4)


def test_different_music_gets_different_emotions(client):
    calm = encode(tone(220, 12.0, 44100, 0.05), 44100, "wav")
    harsh = encode(noise(12.0, 44100, 0.5), 44100, "wav")
    a = client.post("/v1/emotion", files={"file": ("calm.wav", calm)}).json()
    b = client.post("/v1/emotion", files={"file": ("harsh.wav", harsh)}).json()
    assert (a["valence"], a["arousal"]) != (b["valence"], b["arousal"])


def test_empty_upload_is_400(client):
    assert_problem(client.post("/v1/emotion", files={"file": ("a.mp3", b"")}), 400)


def test_non_audio_is_415(client):
    response = client.post("/v1/emotion", files={"file": ("a.mp3", b"<html>no music</html>" * 50)})
    assert_problem(response, 415)


def test_unsupported_container_is_415(client):
    png = b"\x89PNG\r\n\x1a\n" + bytes(4000)
    response = client.post("/v1/emotion", files={"file": ("a.png", png)})
    assert_problem(response, 415)


def test_too_short_is_422(client):
    data = encode(tone(440, 0.3, 44100), 44100, "wav")
    assert_problem(client.post("/v1/emotion", files={"file": ("short.wav", data)}), 422)


def test_missing_file_field_is_422(client):
    assert_problem(client.post("/v1/emotion", data={"other": "x"}), 422)


def test_too_large_is_413(client):
    data = bytes(UPLOAD_LIMIT + 200_000)
    assert_problem(client.post("/v1/emotion", files={"file": ("big.wav", data)}), 413)


def test_too_large_without_content_length_is_413(client):
    def chunks():
        # A well-formed multipart head, then a file part that never ends.
        yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
        for _ in range(UPLOAD_LIMIT // 65536 + 4):
            yield bytes(65536)

    response = client.post(
        "/v1/emotion",
        content=chunks(),
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert_problem(response, 413)


def test_unknown_route_is_problem_json(client):
    assert_problem(client.get("/v1/nothing"), 404)


def test_health_and_docs(client):
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").json() == {"ready": True}
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "/v1/emotion" in schema["paths"]


def test_silence_is_422(client):
    data = encode(tone(440, 5.0, 44100, 0.0), 44100, "flac")
    body = assert_problem(client.post("/v1/emotion", files={"file": ("silence.flac", data)}), 422)
    assert body["type"] == "/problems/silent-audio"
