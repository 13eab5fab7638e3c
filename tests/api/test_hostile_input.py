"""Hostile and awkward uploads: a correct result or a clean 4xx, never a 5xx or a hang."""

from __future__ import annotations

import numpy as np
import pytest

from tests.api.conftest import (
    DURATION_LIMIT_S,
    analysis_processes,
    memory_mb,
    peak_memory_mb,
    reset_peak_memory,
)
from tests.api.corpus import corpus, long_file, pcm
from tests.audio_fixtures import song
from tests.damaged_audio import corpus as damaged_corpus

pytestmark = pytest.mark.slow  # starts the service (a real server and its analysis processes)


@pytest.fixture(scope="module")
def hostile_corpus() -> dict[str, tuple[bytes, frozenset[int]]]:
    return corpus()


BOUNDED = {"/v1/emotion": ("valence", -1, 1), "/v1/audio-features": ("energy", 0, 1)}
"""Each analysing route, and a value of its answer with its range."""


@pytest.mark.parametrize("route", BOUNDED)
def test_every_case_gets_a_result_or_a_clean_4xx(client, hostile_corpus, route):
    field, low, high = BOUNDED[route]
    wrong = []
    for name, (data, expected) in hostile_corpus.items():
        # The file name and type are the client's claims, never trusted: mislabel them all.
        response = client.post(route, files={"file": (f"{name}.wav", data, "audio/wav")})
        status = response.status_code
        if status not in expected:
            wrong.append(f"{name}: {status} not in {sorted(expected)}: {response.text[:200]}")
        elif status != 200 and response.headers["content-type"] != "application/problem+json":
            wrong.append(f"{name}: {status} answered as {response.headers['content-type']}")
        elif status == 200 and not low <= response.json()[field] <= high:
            wrong.append(f"{name}: {field} {response.json()[field]}")
    assert not wrong, "\n".join(wrong)
    assert client.get("/v2/health/ready").status_code == 200


def test_real_world_damage_is_analysed(client):
    wrong = []
    for name, (data, seconds) in damaged_corpus().items():
        response = client.post("/v1/emotion", files={"file": ("song.mp3", data)})
        if response.status_code != 200:
            wrong.append(f"{name}: {response.status_code} {response.text[:200]}")
        elif abs(response.json()["duration_s"] - seconds) > 0.03 * seconds:
            wrong.append(f"{name}: {response.json()['duration_s']} s, not {seconds} s")
    assert not wrong, "\n".join(wrong)


def test_hours_long_file_is_cut_at_the_limit_in_bounded_memory(client, server_process):
    # Three hours that compress to a few hundred kB: ten seconds of music, then silence.
    data = long_file("FLAC", "PCM_16", 3 * 3600, head=song(10.0, 8000))
    assert len(data) < 1_000_000
    workers = analysis_processes(server_process[1].pid)
    for pid in workers:
        reset_peak_memory(pid)
    # Answered, not timed out: only the first DURATION_LIMIT_S are decoded.
    response = client.post("/v1/emotion", files={"file": ("long.flac", data)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["truncated"] is True
    assert body["duration_s"] == pytest.approx(DURATION_LIMIT_S, abs=0.1)
    # Three hours decoded at 22.05 kHz would take 950 MB on their own.
    growth = [peak_memory_mb(pid) - memory_mb(pid) for pid in workers]
    assert max(growth) < 500, growth


def test_surround_is_mixed_down_to_the_same_emotion_as_mono(client):
    y = song(5.0, 44100)
    mono, surround = (
        client.post(
            "/v1/emotion",
            files={"file": ("s.wav", pcm(np.stack([y] * channels, axis=1), 44100))},
        ).json()
        for channels in (1, 6)
    )
    for axis in ("valence", "arousal"):
        assert surround[axis] == pytest.approx(mono[axis], abs=1e-3)
