"""The similarity index beside the dataset: built when missing, rebuilt when stale,
refused when damaged, and the dataset never touched."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from app.errors import CorruptIndexError
from app.search.catalogue import Catalogue
from app.search.index import FOLDER, MANIFEST
from tests.search.conftest import copy_catalogue

pytestmark = pytest.mark.slow  # scores a catalogue with the job's analysis processes


def _index_files(out: Path) -> list[str]:
    return sorted(p.name for p in (out / FOLDER).iterdir())


def _parts(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in out.glob("*.parquet")}


def test_a_missing_index_is_built_and_kept_beside_the_dataset(scored_catalogue, tmp_path):
    out = copy_catalogue(scored_catalogue, tmp_path / "out")
    parts = _parts(out)
    first = Catalogue.open(str(out))
    files = _index_files(out)
    manifest = json.loads((out / FOLDER / MANIFEST).read_text())
    assert files == sorted([MANIFEST, manifest["file"]])
    assert manifest["vectors"] == len(first.songs) and manifest["library"] == "usearch"
    # Parquet readers skip the index folder: the table is the parts' rows alone.
    assert pq.read_table(out).num_rows == sum(pq.read_metadata(out / p).num_rows for p in parts)
    # The next open uses it as it is.
    mtime = (out / FOLDER / manifest["file"]).stat().st_mtime_ns
    again = Catalogue.open(str(out))
    assert (out / FOLDER / manifest["file"]).stat().st_mtime_ns == mtime
    assert [t.as_dict() for t in again.similar(first.songs.path(0))] == [
        t.as_dict() for t in first.similar(first.songs.path(0))
    ]
    assert _parts(out) == parts


def test_a_stale_index_is_rebuilt_when_the_dataset_changes(scored_catalogue, tmp_path):
    rows = pq.read_table(scored_catalogue)
    out = tmp_path / "out"
    out.mkdir()
    pq.write_table(rows.slice(0, 5), out / "part-1.parquet")  # the dataset so far
    before = Catalogue.open(str(out))
    old = json.loads((out / FOLDER / MANIFEST).read_text())
    pq.write_table(rows.slice(5), out / "part-2.parquet")  # a new part arrives
    assert not before.is_current()
    after = Catalogue.open(str(out))
    new = json.loads((out / FOLDER / MANIFEST).read_text())
    assert new["dataset"] != old["dataset"] and new["file"] != old["file"]
    assert _index_files(out) == sorted([MANIFEST, new["file"]])  # the old file is gone
    assert len(after.songs) > len(before.songs) and new["vectors"] == len(after.songs)
    assert after.is_current()


def test_a_damaged_index_is_refused_clearly_and_nothing_is_lost(scored_catalogue, tmp_path):
    out = copy_catalogue(scored_catalogue, tmp_path / "out")
    Catalogue.open(str(out))
    parts = _parts(out)
    manifest = json.loads((out / FOLDER / MANIFEST).read_text())
    index = out / FOLDER / manifest["file"]
    data = bytearray(index.read_bytes())
    data[len(data) // 2] ^= 0xFF
    index.write_bytes(bytes(data))
    with pytest.raises(CorruptIndexError, match=rf"{manifest['file']} is damaged.*delete"):
        Catalogue.open(str(out))
    assert index.read_bytes() == bytes(data) and _parts(out) == parts  # kept as found

    index.write_bytes(bytes(data[:1000]))  # cut short
    with pytest.raises(CorruptIndexError, match="damaged"):
        Catalogue.open(str(out))
    (out / FOLDER / MANIFEST).write_text('{"format": 1, "file": ')
    with pytest.raises(CorruptIndexError, match=r"manifest .* is damaged"):
        Catalogue.open(str(out))
    shutil.rmtree(out / FOLDER)  # what the error advises: then it is built again
    assert Catalogue.open(str(out)).similar(str(next(iter(_paths(out)))), limit=1)


def _paths(out: Path) -> list[str]:
    return [r["path"] for r in pq.read_table(out, columns=["path"]).to_pylist()]
