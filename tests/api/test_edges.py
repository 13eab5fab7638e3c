"""The edges a newcomer's first requests meet: a trailing slash, the file in the wrong
field (or no form at all), and a file over the limit."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from app.settings import Settings
from tests.api.conftest import TestClient, in_process
from tests.api.test_emotion import assert_problem


@pytest.fixture(scope="module")
def app_client() -> Iterator[TestClient]:
    """The app in-process, with small limits."""
    client = in_process(Settings(max_upload_bytes=100_000, max_batch_bytes=300_000))
    yield client
    client.close()


@pytest.mark.parametrize("path", ["/v1/emotion", "/v1/emotion/batch"])
def test_a_trailing_slash_reaches_the_same_route(app_client, path):
    without = assert_problem(app_client.post(path, data={"other": "x"}), 422)
    # Not followed: a redirect (an empty 307) is what curl users got.
    answer = app_client.post(f"{path}/", data={"other": "x"}, follow_redirects=False)
    with_slash = assert_problem(answer, 422)
    assert with_slash["detail"] == without["detail"]


@pytest.mark.slow  # a real server answers it
def test_a_trailing_slash_is_served(client: httpx.Client, song_files):
    path = song_files["mp3"]
    response = client.post("/v1/emotion/", files={"file": (path.name, path.read_bytes())})
    assert response.status_code == 200, response.text
    assert response.json()["quadrant"]


@pytest.mark.parametrize(
    ("path", "field"), [("/v1/emotion", "file"), ("/v1/emotion/batch", "files")]
)
def test_the_file_in_another_field_names_multipart_and_the_field(app_client, path, field):
    body = assert_problem(app_client.post(path, files={"audio": ("song.mp3", b"ID3...")}), 422)
    assert body["type"] == "/problems/invalid-request"
    assert "multipart/form-data" in body["detail"]
    assert f"field named '{field}'" in body["detail"]
    assert f"-F {field}=@song.mp3" in body["detail"]


def test_a_raw_body_is_told_to_be_a_multipart_form(app_client):
    response = app_client.post(
        "/v1/emotion", content=b"ID3" + bytes(100), headers={"Content-Type": "audio/mpeg"}
    )
    detail = assert_problem(response, 422)["detail"]
    assert "the body is audio/mpeg, not multipart/form-data" in detail
    assert "field named 'file'" in detail and "-F file=@song.mp3" in detail


def test_a_file_over_the_limit_says_megabytes_and_the_setting(app_client):
    body = assert_problem(
        app_client.post("/v1/emotion", files={"file": ("a.wav", bytes(200_000))}), 413
    )
    assert "100000 bytes (0.1 MB)" in body["detail"]
    assert "MUSIC_EMOTION_MAX_UPLOAD_BYTES" in body["detail"]
    files = [("files", (f"{i}.wav", bytes(95_000))) for i in range(4)]
    body = assert_problem(app_client.post("/v1/emotion/batch", files=files), 413)
    assert "300000 bytes (0.3 MB)" in body["detail"]
    assert "MUSIC_EMOTION_MAX_BATCH_BYTES" in body["detail"]
