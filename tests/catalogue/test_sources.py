"""Listing files, folders, lists and an S3 bucket served by a real S3 server (moto)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyarrow import fs as pafs

from app.catalogue.sources import entries, read_list
from tests.api.conftest import free_port
from tests.catalogue.conftest import BROKEN, NOT_AUDIO, SONGS, read_rows, run_catalogue

S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def test_a_folder_gives_its_audio_files_recursively_in_order(library):
    skipped: Counter = Counter()
    found = list(entries([str(library)], skipped))
    names = [Path(e.path).relative_to(library).as_posix() for e in found]
    assert names == sorted(names, key=lambda n: n.split("/")) and set(names) == {*SONGS, *BROKEN}
    assert skipped == {"not audio": len(NOT_AUDIO)}
    first = found[0]
    assert first.size_bytes == os.stat(first.path).st_size
    assert first.modified_ns == os.stat(first.path).st_mtime_ns


def test_named_files_lists_and_missing_paths(library, tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text(f"# songs\n{library / 'notes.txt'}\n\n{library / 'jazz'}\n")
    skipped: Counter = Counter()
    found = list(entries([*read_list(listing), str(tmp_path / "gone.mp3")], skipped))
    assert [e.path for e in found] == [
        str(library / "notes.txt"),  # named: scored whatever its extension
        str(library / "jazz/c.wav"),
        str(library / "jazz/live/d.ogg"),
        str(tmp_path / "gone.mp3"),
    ]
    assert found[-1].size_bytes is None and not skipped


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    """moto's S3 server on loopback; its endpoint URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    s3 = pafs.S3FileSystem(endpoint_override=url, allow_bucket_creation=True, **_keys())
    deadline = time.monotonic() + 120
    while True:
        try:
            s3.create_dir("bucket")
            break
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
    yield url
    server.terminate()
    server.wait()


def _keys() -> dict:
    return {
        "access_key": S3_ENV["AWS_ACCESS_KEY_ID"],
        "secret_key": S3_ENV["AWS_SECRET_ACCESS_KEY"],
        "region": S3_ENV["AWS_DEFAULT_REGION"],
    }


def test_an_s3_prefix_is_scored_into_s3_like_local_files(s3_server, library, scored):
    s3 = pafs.S3FileSystem(endpoint_override=s3_server, **_keys())
    names = ["rock/a.mp3", "jazz/c.wav", "broken/corrupt.mp3", "notes.txt"]
    for name in names:
        with s3.open_output_stream(f"bucket/library/{name}") as stream:
            stream.write((library / name).read_bytes())
    env = {**S3_ENV, "AWS_ENDPOINT_URL": s3_server}
    result = run_catalogue(
        "s3://bucket/library",
        "--out",
        "s3://bucket/catalogue",
        "--features",
        "--timeline",
        "--workers",
        "2",
        env=env,
    )
    assert result.returncode == 1, result.stderr  # the corrupt file has no result
    assert "skipped 1 (1 not audio)" in result.stderr
    remote = read_rows("bucket/catalogue", filesystem=s3)
    local = {row["path"]: row for row in read_rows(scored[0])}
    assert [row["path"] for row in remote] == [
        f"s3://bucket/library/{name}" for name in sorted(names[:3])
    ]
    for row in remote:
        twin = local[str(library / row["path"].removeprefix("s3://bucket/library/"))]
        ignored = {"path", "size_bytes", "modified"}
        assert {k: v for k, v in row.items() if k not in ignored} == {
            k: v for k, v in twin.items() if k not in ignored
        }
        assert row["size_bytes"] == twin["size_bytes"] and row["modified"] is not None
    again = run_catalogue(
        "s3://bucket/library",
        "--out",
        "s3://bucket/catalogue",
        "--features",
        "--timeline",
        env=env,
    )
    assert "2 already in OUT, 1 failed in an earlier run" in again.stderr, again.stderr
    assert len(read_rows("bucket/catalogue", filesystem=s3)) == 3
