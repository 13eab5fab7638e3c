"""Moods in the API: the nine GEMS shares, only when asked and when the model has them."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from app.model import MOODS
from tests.api.conftest import SERVER_ENV, start_server, stop_server
from tests.audio_fixtures import encode, song
from tests.model_fixtures import copy_model

pytestmark = pytest.mark.slow  # starts the service (a real server and its analysis processes)

SONG = encode(song(25.0), 44100, "mp3")


def assert_shares(moods: dict) -> None:
    """Nine GEMS shares in [0, 1] summing to 1 (to the API's 4-decimal rounding)."""
    assert list(moods) == list(MOODS)
    assert all(0 <= v <= 1 for v in moods.values())
    assert sum(moods.values()) == pytest.approx(1.0, abs=1e-3)


def test_moods_come_only_when_asked(client):
    plain = client.post("/v1/emotion", files={"file": ("a.mp3", SONG)})
    assert plain.status_code == 200, plain.text
    assert "moods" not in plain.json()
    asked = client.post("/v1/emotion", params={"moods": "true"}, files={"file": ("a.mp3", SONG)})
    assert asked.status_code == 200, asked.text
    assert_shares(asked.json()["moods"])
    assert asked.json()["valence"] == plain.json()["valence"]


def test_a_batch_gives_each_song_its_moods(client):
    files = [("files", ("a.mp3", SONG)), ("files", ("b.txt", b"not audio" * 100))]
    response = client.post("/v1/emotion/batch", params={"moods": "true"}, files=files)
    assert response.status_code == 200, response.text
    good, bad = response.json()["items"]
    assert_shares(good["result"]["moods"])
    assert "result" not in bad


def test_the_model_metadata_lists_the_moods_output(client):
    outputs = client.get("/v2/models/music-emotion").json()["outputs"]
    assert outputs[2] == {"name": "moods", "datatype": "FP32", "shape": [-1, len(MOODS)]}


@pytest.fixture(scope="module")
def moodless_server(tmp_path_factory) -> Iterator[str]:
    """A service running the shipped model with its mood head removed."""
    folder = copy_model(tmp_path_factory.mktemp("model"), graph_moods=False, card_moods=False)
    url, process = start_server({**SERVER_ENV, "MUSIC_EMOTION_MODEL_PATH": str(folder)})
    yield url
    stop_server(process)


def test_a_model_without_a_mood_head_answers_without_moods(moodless_server):
    with httpx.Client(base_url=moodless_server, timeout=60) as client:
        response = client.post(
            "/v1/emotion", params={"moods": "true"}, files={"file": ("a.mp3", SONG)}
        )
        assert response.status_code == 200, response.text
        assert "moods" not in response.json()
        outputs = client.get("/v2/models/music-emotion").json()["outputs"]
        assert [o["name"] for o in outputs] == ["valence", "arousal"]
