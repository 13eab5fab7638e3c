"""Part files: whole or absent, what OUT already holds, and what a new job may add."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from app.catalogue import store
from app.catalogue.rows import Columns
from app.catalogue.sources import Entry

SCHEMA = Columns().schema()


def _row(i: int) -> dict:
    return {"path": f"/music/{i}.mp3", "size_bytes": 1000 + i, "modified": 10**18 + i}


def test_parts_are_written_by_size_and_are_whole(tmp_path):
    writer = store.PartWriter(str(tmp_path), SCHEMA, rows_per_part=2)
    for i in range(5):
        writer.add(_row(i))
    assert len(store.part_files(str(tmp_path))) == 2
    writer.flush()
    parts = store.part_files(str(tmp_path))
    assert len(parts) == 3 and sorted(p.name for p in tmp_path.iterdir()) == [
        p.rsplit("/", 1)[1] for p in parts
    ]
    table = pq.read_table(tmp_path)
    assert table.schema.equals(SCHEMA) and table.num_rows == 5


def test_done_knows_the_identities_in_out(tmp_path):
    writer = store.PartWriter(str(tmp_path), SCHEMA, rows_per_part=10)
    for i in range(3):
        writer.add(_row(i))
    writer.flush()
    done = store.Done(str(tmp_path))
    assert len(done) == 3
    assert Entry("/music/1.mp3", 1001, 10**18 + 1) in done
    assert Entry("/music/1.mp3", 1002, 10**18 + 1) not in done  # a changed file is new
    assert Entry("/music/9.mp3", 1009, 10**18 + 9) not in done
    assert len(store.Done(str(tmp_path / "absent"))) == 0


def test_done_knows_which_files_in_out_have_a_problem(tmp_path):
    writer = store.PartWriter(str(tmp_path), SCHEMA, rows_per_part=10)
    writer.add(_row(0))
    writer.add({**_row(1), "error_type": "/problems/silent-audio", "error": "the audio is silent"})
    writer.flush()
    done = store.Done(str(tmp_path))
    scored, failed = Entry("/music/0.mp3", 1000, 10**18), Entry("/music/1.mp3", 1001, 10**18 + 1)
    assert scored in done and failed in done
    assert not done.failed(scored) and done.failed(failed)
    assert not done.failed(Entry("/music/9.mp3", 1009, 10**18 + 9))


def test_prepare_drops_leftovers_and_refuses_another_schema(tmp_path):
    writer = store.PartWriter(str(tmp_path), SCHEMA, rows_per_part=10)
    writer.add(_row(0))
    writer.flush()
    (tmp_path / f"{store.TEMPORARY_PREFIX}part-x.parquet").write_bytes(b"PAR1 half")
    (tmp_path / "killed-ray-write.parquet").write_bytes(b"PAR1 half")
    store.prepare(str(tmp_path), SCHEMA, force=False)
    assert len(list(tmp_path.iterdir())) == 1
    with pytest.raises(store.CatalogueError, match="other columns"):
        store.prepare(str(tmp_path), Columns(features=True).schema(), force=False)
    store.prepare(str(tmp_path), Columns(features=True).schema(), force=True)
    assert not list(tmp_path.iterdir())
