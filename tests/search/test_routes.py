"""The catalogue routes without a catalogue, and without the catalogue extra."""

from __future__ import annotations

import sys
import time
import warnings

from app.api.main import create_app
from app.settings import Settings

with warnings.catch_warnings():  # its advice (another package) is not ours to take
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

WAIT_S = 300


def test_without_a_catalogue_the_routes_answer_a_clear_404():
    client = TestClient(create_app(Settings(catalogue=None)))
    for method, path in (
        ("GET", "/v1/catalogue/search?valence=0&arousal=0"),
        ("GET", "/v1/catalogue/playlist?from=0,0&to=1,1"),
        ("GET", "/v1/catalogue/points"),
    ):
        answer = client.request(method, path)
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"] == "/problems/no-catalogue"
        assert "MUSIC_EMOTION_CATALOGUE" in answer.json()["detail"]
    answer = client.post("/v1/catalogue/similar", data={"path": "/music/a.mp3"})
    assert answer.json()["type"] == "/problems/no-catalogue"
    assert client.get("/problems/no-catalogue").status_code == 200


def test_without_the_extra_the_routes_say_what_to_install(synthetic_catalogue, monkeypatch):
    monkeypatch.setitem(sys.modules, "usearch", None)  # as if it were not installed
    app = create_app(Settings(catalogue=str(synthetic_catalogue)))
    client = TestClient(app)
    app.state.catalogue.start()
    deadline = time.monotonic() + WAIT_S
    while (answer := client.get("/v1/catalogue/search?valence=0&arousal=0")).status_code == 503:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert answer.status_code == 501
    assert answer.json()["type"] == "/problems/search-unavailable"
    assert "pip install 'music-emotion[catalogue]'" in answer.json()["detail"]
