"""Response bodies: every number rounded to what the model can mean."""

from __future__ import annotations

import re

import httpx

from app.result import DECIMALS
from tests.audio_fixtures import encode, song


def test_every_number_in_an_answer_has_at_most_four_decimals(client: httpx.Client):
    data = encode(song(25.0), 44100, "flac")
    params = {"features": "true", "timeline": "true", "moods": "true"}
    response = client.post("/v1/emotion", params=params, files={"file": ("a.flac", data)})
    assert response.status_code == 200, response.text
    numbers = re.findall(r"-?\d+\.\d+(?:e-?\d+)?", response.text)
    assert len(numbers) > 20
    assert all(len(n.split(".")[1]) <= DECIMALS for n in numbers), numbers
    batch = client.post("/v1/emotion/batch", params=params, files={"files": ("a.flac", data)})
    assert batch.json()["items"][0]["result"] == response.json()
