"""Every error the API answers has a ``/problems/<slug>`` type, and that type is a page."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from app.problems import PROBLEM_TYPES
from app.settings import Settings
from tests.api.conftest import TestClient, in_process
from tests.api.test_emotion import assert_problem


@pytest.fixture(scope="module")
def app_client() -> Iterator[TestClient]:
    """The app in-process, with an API key and at most two files a batch."""
    client = in_process(Settings(max_batch_files=2, api_key="key"), {"X-API-Key": "key"})
    yield client
    client.close()


def test_framework_errors_have_problem_types_that_resolve(app_client):
    answers = {
        "not-found": app_client.get("/v1/nothing"),
        "method-not-allowed": app_client.get("/v1/emotion"),
        "invalid-request": app_client.post("/v1/emotion", data={"other": "x"}),
        "api-key-required": app_client.post("/v1/emotion", headers={"X-API-Key": "wrong"}),
        "too-many-files": app_client.post(
            "/v1/emotion/batch", files=[("files", (f"{i}.mp3", b"x")) for i in range(3)]
        ),
    }
    for slug, response in answers.items():
        kind = PROBLEM_TYPES[slug]
        body = assert_problem(response, kind.status)
        assert (body["type"], body["title"]) == (kind.uri, kind.title), body
        page = app_client.get(body["type"])
        assert page.status_code == 200 and kind.title in page.text
    assert "at most 2 files; this one holds 3" in answers["too-many-files"].json()["detail"]


@pytest.mark.parametrize("slug", sorted(PROBLEM_TYPES))
def test_each_problem_type_is_a_page_saying_what_to_do(app_client, slug):
    kind = PROBLEM_TYPES[slug]
    page = app_client.get(f"/problems/{slug}", headers={"X-API-Key": ""})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for text in (kind.title, str(kind.status), "What to do"):
        assert text in page.text


def test_an_unknown_problem_type_is_itself_a_problem(app_client):
    body = assert_problem(app_client.get("/problems/no-such-thing"), 404)
    assert body["type"] == "/problems/not-found"


def test_openapi_lists_each_status_s_problem_types(app_client):
    responses = app_client.get("/openapi.json").json()["paths"]["/v1/emotion"]["post"]["responses"]
    assert "/problems/file-too-large" in responses["413"]["description"]
    assert "/problems/batch-too-large" in responses["413"]["description"]
    example = responses["415"]["content"]["application/problem+json"]["example"]
    assert example["type"] == "/problems/unsupported-audio"


def test_a_served_answer_type_resolves_on_the_real_server(client: httpx.Client):
    body = assert_problem(client.get("/v2/models/another-model"), 404)
    assert body["type"] == "/problems/unknown-model"
    assert client.get(body["type"]).status_code == 200
