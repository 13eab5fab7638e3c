"""The same answers from the command line, the HTTP API and Python; the problems the API
answers; a catalogue in S3 (moto's server)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pyarrow import fs as pafs

from app.search.catalogue import Catalogue
from tests.api.conftest import start_server, stop_server
from tests.catalogue.test_sources import S3_ENV, _keys, s3_server  # noqa: F401 (a fixture)
from tests.search.conftest import ORIGINAL

WAIT_S = 300

pytestmark = pytest.mark.slow  # runs the command, servers and moto's S3 server


@pytest.fixture(scope="module")
def catalogue(scored_catalogue: Path) -> Catalogue:
    return Catalogue.open(str(scored_catalogue))


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        env=env,
    )


def lines(result: subprocess.CompletedProcess) -> list[dict]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def dicts(tracks) -> list[dict]:
    return [t.as_dict() for t in tracks]


def test_the_command_line_answers_as_python(catalogue, scored_catalogue, search_library, tmp_path):
    out = str(scored_catalogue)
    song = str(search_library / ORIGINAL)
    for args, expected in (
        (
            ("search", out, "--valence", "0.2", "--arousal", "-0.3", "--limit", "4"),
            catalogue.search(0.2, -0.3, limit=4),
        ),
        (
            ("search", out, "--mood", "tension", "--quadrant", "sad"),
            catalogue.search(mood="tension", filters=_filters(quadrant=3)),
        ),
        (
            ("similar", out, song, "--limit", "5", "--sound-weight", "0.3"),
            catalogue.similar(song, limit=5, sound_weight=0.3),
        ),
        (
            ("playlist", out, "--from=-1,-1", "--to", "1,1", "--length", "4"),
            catalogue.playlist((-1.0, -1.0), (1.0, 1.0), 4),
        ),
    ):
        assert lines(cli(*args, "--json")) == dicts(expected), args
    # A file outside the catalogue is analysed; its copies in the catalogue come first.
    outside = tmp_path / "outside.mp3"
    outside.write_bytes((search_library / ORIGINAL).read_bytes())
    found = lines(cli("similar", out, str(outside), "--json"))
    assert found[0]["duplicate"] and found[1]["duplicate"] and not found[2]["duplicate"]
    readable = cli("search", out, "--valence", "0", "--arousal", "0", "--limit", "1")
    assert readable.returncode == 0 and readable.stdout.startswith("path=")


def _filters(**given):
    from app.search.filters import Filters

    return Filters(**given)


def test_the_command_line_says_what_is_wrong(scored_catalogue, tmp_path):
    out = str(scored_catalogue)
    for args, said in (
        (("search", out, "--valence", "0", "--arousal", "0", "--key", "C"), "no key column"),
        (("search", out, "--valence", "0"), "both valence and arousal"),
        (("similar", out, "/nowhere/song.mp3"), "neither a song of the catalogue"),
        (("search", str(tmp_path), "--valence", "0", "--arousal", "0"), "no catalogue"),
        (("playlist", out, "--from", "0,0", "--to", "0,0", "--length", "3"), "two different"),
    ):
        result = cli(*args)
        assert result.returncode == 2 and said in result.stderr, (args, result.stderr)
        assert result.stdout == ""


@pytest.fixture(scope="module")
def served(scored_catalogue: Path) -> Iterator[str]:
    """A real service with the catalogue, once the catalogue is loaded."""
    url, process = start_server({"MUSIC_EMOTION_CATALOGUE": str(scored_catalogue)})
    deadline = time.monotonic() + WAIT_S
    while httpx.get(f"{url}/v1/catalogue/points", timeout=WAIT_S).status_code != 200:
        assert time.monotonic() < deadline, "the catalogue did not load"
        time.sleep(0.2)
    yield url
    stop_server(process)


def test_http_answers_as_python(served, catalogue, search_library):
    def get(path: str, **params) -> list[dict]:
        answer = httpx.get(f"{served}{path}", params=params, timeout=WAIT_S)
        assert answer.status_code == 200, answer.text
        return answer.json()["tracks"]

    song = str(search_library / ORIGINAL)
    assert get("/v1/catalogue/search", valence=0.2, arousal=-0.3, limit=4) == dicts(
        catalogue.search(0.2, -0.3, limit=4)
    )
    assert get("/v1/catalogue/search", mood="calmness", tempo_min=80, limit=3) == dicts(
        catalogue.search(mood="calmness", limit=3, filters=_filters(tempo_min=80))
    )
    assert get("/v1/catalogue/playlist", **{"from": "-1,-1", "to": "1,1", "length": 4}) == dicts(
        catalogue.playlist((-1.0, -1.0), (1.0, 1.0), 4)
    )
    assert get("/v1/catalogue/playlist", **{"from": song, "to": "1,1", "length": 3}) == dicts(
        catalogue.playlist(song, (1.0, 1.0), 3)
    )
    by_path = httpx.post(
        f"{served}/v1/catalogue/similar", data={"path": song}, params={"limit": 5}, timeout=WAIT_S
    )
    assert by_path.json()["tracks"] == dicts(catalogue.similar(song, limit=5))
    upload = httpx.post(
        f"{served}/v1/catalogue/similar",
        files={"file": ("new.mp3", (search_library / ORIGINAL).read_bytes())},
        timeout=WAIT_S,
    )
    tracks = upload.json()["tracks"]
    assert {t["path"] for t in tracks[:2]} == {song, by_path.json()["tracks"][0]["path"]}
    assert tracks[0]["duplicate"] and tracks[1]["duplicate"] and not tracks[2]["duplicate"]

    points = httpx.get(f"{served}/v1/catalogue/points", timeout=WAIT_S)
    assert points.headers["content-encoding"] == "gzip"
    assert points.json() == catalogue.points() and points.json()["total"] == len(catalogue.songs)


def test_http_problems(served):
    search, similar, playlist = (f"/v1/catalogue/{n}" for n in ("search", "similar", "playlist"))
    for method, path, kwargs, status, slug in (
        ("GET", search, {"params": {"valence": 0, "arousal": 0, "key": 0}}, 422, "missing-column"),
        ("GET", search, {"params": {"valence": 2, "arousal": 0}}, 422, "invalid-request"),
        ("GET", search, {"params": {"quadrant": "Q7", "mood": "power"}}, 422, "invalid-request"),
        ("POST", similar, {"data": {"path": "/etc/passwd"}}, 404, "unknown-song"),
        ("POST", similar, {}, 422, "invalid-request"),
        ("GET", playlist, {"params": {"from": "0,0", "to": "0,0"}}, 422, "invalid-request"),
        ("GET", playlist, {"params": {"from": "0,0", "to": "/x.mp3"}}, 404, "unknown-song"),
    ):
        answer = httpx.request(method, f"{served}{path}", timeout=WAIT_S, **kwargs)
        assert answer.status_code == status, (path, kwargs, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"] == f"/problems/{slug}"


def test_a_catalogue_in_s3_answers_as_the_same_one_on_disk(
    s3_server,  # noqa: F811 (the fixture imported above)
    scored_catalogue,
    catalogue,
    search_library,
    monkeypatch,
):
    s3 = pafs.S3FileSystem(endpoint_override=s3_server, **_keys())
    for part in scored_catalogue.glob("*.parquet"):
        with s3.open_output_stream(f"bucket/search/{part.name}") as stream:
            stream.write(part.read_bytes())
    for name, value in {**S3_ENV, "AWS_ENDPOINT_URL": s3_server}.items():
        monkeypatch.setenv(name, value)
    remote = Catalogue.open("s3://bucket/search")
    song = str(search_library / ORIGINAL)
    assert dicts(remote.search(0.1, 0.1, limit=5)) == dicts(catalogue.search(0.1, 0.1, limit=5))
    assert dicts(remote.similar(song, limit=4)) == dicts(catalogue.similar(song, limit=4))
    assert dicts(remote.playlist((-1, -1), (1, 1), 4)) == dicts(
        catalogue.playlist((-1, -1), (1, 1), 4)
    )
    # Its index was written beside it in the bucket, and the next open reads it.
    kept = {i.base_name for i in s3.get_file_info(pafs.FileSelector("bucket/search/_index"))}
    assert "sound.json" in kept and any(n.endswith(".usearch") for n in kept)
    again = cli("similar", "s3://bucket/search", song, "--limit", "4", "--json")
    assert lines(again) == dicts(catalogue.similar(song, limit=4))
