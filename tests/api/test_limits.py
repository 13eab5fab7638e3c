"""Size limits: each stated once, with the same number in every answer that quotes it."""

from __future__ import annotations

import httpx
import pytest

from app.api.limits import MULTIPART_OVERHEAD
from app.problems import batch_too_large, file_too_large
from app.settings import Settings
from tests.api.conftest import UPLOAD_LIMIT, in_process
from tests.api.test_emotion import assert_problem
from tests.audio_fixtures import encode, song


@pytest.mark.slow  # starts the service
def test_a_file_over_the_limit_quotes_the_setting_alone_or_in_a_batch(client: httpx.Client):
    big = bytes(UPLOAD_LIMIT + 1)
    alone = assert_problem(client.post("/v1/emotion", files={"file": ("big.wav", big)}), 413)
    files = [("files", ("big.wav", big)), ("files", ("a.mp3", encode(song(2.0), 44100, "mp3")))]
    response = client.post("/v1/emotion/batch", files=files)
    assert response.status_code == 200, response.text
    in_batch, good = response.json()["items"]
    assert alone["detail"] == in_batch["error"]["detail"] == file_too_large(UPLOAD_LIMIT)
    assert alone["type"] == in_batch["error"]["type"] == "/problems/file-too-large"
    assert "result" in good


def test_a_batch_is_limited_by_its_own_total():
    settings = Settings(max_upload_bytes=100_000, max_batch_bytes=300_000)
    client = in_process(settings)
    # Parts in a field the route does not read: a body let through gets 422, not an
    # analysis (this in-process app has no analysis processes).
    files = [("other", (f"{i}.wav", bytes(95_000))) for i in range(3)]
    assert_problem(client.post("/v1/emotion/batch", files=files), 422)
    files.append(("other", ("3.wav", bytes(95_000))))
    body = assert_problem(client.post("/v1/emotion/batch", files=files), 413)
    assert body["detail"] == batch_too_large(300_000)
    assert body["type"] == "/problems/batch-too-large"
    body = assert_problem(client.post("/v1/emotion", files={"file": ("a", bytes(200_000))}), 413)
    assert body["detail"] == file_too_large(100_000)
    client.close()


def test_the_multipart_framing_is_allowed_beyond_the_stated_limit():
    client = in_process(Settings(max_upload_bytes=100_000))
    exact = client.post("/v1/emotion", files={"other": ("a.wav", bytes(100_000))})
    assert_problem(exact, 422)
    assert MULTIPART_OVERHEAD < 100_000  # so that one more framing's worth is refused
    over = client.post(
        "/v1/emotion", files={"file": ("a.wav", bytes(100_001 + MULTIPART_OVERHEAD))}
    )
    assert_problem(over, 413)
    client.close()
