"""A catalogue written before the sound column: queries say how to add it, and a rerun of
the job scores only the files without it, then retires the older parts."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from app.dataset import fingerprint, part_infos
from app.errors import MissingColumnError
from app.search.catalogue import Catalogue
from app.search.index import FOLDER, MANIFEST
from tests.catalogue.conftest import read_rows, run_catalogue
from tests.search.conftest import SONGS, copy_catalogue

pytestmark = pytest.mark.slow  # scores a catalogue with the job's analysis processes


def _without_sound(out: Path) -> None:
    """Rewrite the catalogue as one part, as a job before the sound column wrote it."""
    rows = pq.read_table(out).drop_columns(["sound"])
    for part in out.glob("*.parquet"):
        part.unlink()
    pq.write_table(rows, out / "part-older.parquet")


def _values(out: Path) -> dict[str, tuple]:
    rows = read_rows(out)
    return {r["path"]: (r["valence"], r["arousal"], r["tempo_bpm"]) for r in rows}


def test_an_older_catalogue_gains_the_sound_by_a_rerun(scored_catalogue, search_library, tmp_path):
    out = copy_catalogue(scored_catalogue, tmp_path / "out")
    _without_sound(out)
    before = _values(out)
    older = Catalogue.open(str(out))
    assert len(older.search(0.0, 0.0, limit=3)) == 3  # what needs no sound still works
    some = older.songs.path(0)
    with pytest.raises(MissingColumnError, match=r"rerun music-emotion catalogue .* --out"):
        older.similar(some)
    with pytest.raises(MissingColumnError, match="sound"):
        older.playlist((0.0, 0.0), (1.0, 1.0), 3)

    # A rerun over part of the library: those files are scored again; the older part
    # stays for the others, and each path is one song, the newer row where there is one.
    listed = tmp_path / "some.txt"
    some_files = sorted(str(search_library / name) for name in SONGS)[:3]
    listed.write_text("\n".join(some_files))
    partial = run_catalogue("--list", str(listed), "--out", str(out), "--features")
    assert partial.returncode == 0, partial.stderr
    assert "written before the columns sound: their files are scored again" in partial.stderr
    assert "scored 3, failed 0" in partial.stderr
    assert "replaced 0 older parts; 1 kept" in partial.stderr
    mixed = Catalogue.open(str(out))
    assert len(mixed.songs) == len(older.songs)
    assert mixed.similar(some_files[0], limit=2)
    with pytest.raises(MissingColumnError, match="has no sound"):
        mixed.similar(sorted(set(before) - set(some_files))[0])

    # The whole library: the rest is scored, nothing twice, and the older part retired.
    full = run_catalogue(str(search_library), "--out", str(out), "--features")
    assert full.returncode == 0, full.stderr
    assert f"scored {len(before) - 3}, failed 0" in full.stderr
    assert "3 already in OUT" in full.stderr and "replaced 1 older parts" in full.stderr
    manifest = json.loads((out / FOLDER / MANIFEST).read_text())
    assert manifest["dataset"] == fingerprint(part_infos(str(out)))  # the job indexed it
    table = pq.read_table(out)
    assert table.num_rows == len(before) and table.column("sound").null_count == 0
    assert _values(out) == before  # the same analysis, the same values
    assert len(Catalogue.open(str(out)).similar(some, limit=3)) == 3
