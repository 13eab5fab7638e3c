"""The queries on a catalogue written directly in the job's schema (no analysis, so fast):
several hundred songs, a copy, a file re-scored after a change, and a failed file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from app.errors import CorruptIndexError
from app.search.catalogue import Catalogue
from app.search.filters import Filters
from app.search.index import FOLDER, MANIFEST
from tests.catalogue.conftest import read_rows
from tests.search.conftest import SYNTHETIC_CHANGED as CHANGED
from tests.search.conftest import SYNTHETIC_COPY as COPY
from tests.search.conftest import SYNTHETIC_SONGS as SONGS


@pytest.fixture(scope="module")
def songs(synthetic_catalogue: Path) -> list[dict]:
    """The songs as a reader of the rows sees them: the newest row of each path, scored."""
    newest: dict[str, dict] = {}
    for row in read_rows(synthetic_catalogue):
        if row["path"] not in newest or row["modified"] > newest[row["path"]]["modified"]:
            newest[row["path"]] = row
    return [row for row in newest.values() if row["error_type"] is None]


@pytest.fixture(scope="module")
def catalogue(synthetic_catalogue: Path) -> Catalogue:
    return Catalogue.open(str(synthetic_catalogue))


def ranked(rows: list[dict], point: tuple[float, float], limit: int) -> list[str]:
    return [r["path"] for r in sorted(rows, key=lambda r: (_d(r, point), r["path"]))[:limit]]


def _d(row: dict, point: tuple[float, float]) -> float:
    return math.dist(point, (row["valence"], row["arousal"]))


def test_each_path_is_one_song_its_newest_scored_row(catalogue, songs):
    assert len(catalogue.songs) == len(songs) == SONGS + 1
    changed = next(r for r in songs if r["path"] == CHANGED)
    found = catalogue.songs.find(CHANGED)
    assert catalogue.songs.valence[found] == changed["valence"]
    assert catalogue.songs.find("/music/broken.mp3") is None


@pytest.mark.parametrize("point", [(0.0, 0.0), (0.93, -0.41), (-1.0, 1.0)])
def test_search_is_exact(catalogue, songs, point):
    for limit in (1, 10, 50):
        found = catalogue.search(*point, limit=limit)
        assert [t.path for t in found] == ranked(songs, point, limit)
    tempo = [r for r in songs if 90 <= r["tempo_bpm"] <= 120 and r["valence"] < 0]
    filters = Filters(tempo_min=90, tempo_max=120, quadrant=3)
    kept = [r for r in tempo if r["arousal"] < 0]
    assert [t.path for t in catalogue.search(*point, limit=20, filters=filters)] == ranked(
        kept, point, 20
    )
    found = catalogue.search(*point, limit=SONGS, filters=Filters(within=0.3))
    near = [r for r in songs if _d(r, point) <= 0.3]
    assert [t.path for t in found] == ranked(near, point, SONGS)


def test_search_by_mood(catalogue, songs):
    found = catalogue.search(mood="sadness", limit=7)
    expected = sorted(songs, key=lambda r: (-r["mood_sadness"], r["path"]))[:7]
    assert [t.path for t in found] == [r["path"] for r in expected]


def test_similar_puts_the_copy_first_and_never_the_song(catalogue):
    found = catalogue.similar("/music/0007.mp3", limit=20)
    assert found[0].path == COPY and found[0].duplicate and found[0].sound_distance < 1e-6
    assert "/music/0007.mp3" not in [t.path for t in found]
    assert not any(t.duplicate for t in found[1:])
    assert [t.distance for t in found[1:]] == sorted(t.distance for t in found[1:])


def test_playlists_move_along_the_way_without_repeats(catalogue):
    for start, end, length in (((-1, -1), (1, 1), 12), ((0.8, -0.2), (-0.5, 0.9), 25)):
        found = catalogue.playlist(start, end, length)
        assert len(found) == len({t.path for t in found}) == length
        positions = [t.position for t in found]
        assert positions == sorted(positions)
        assert not {COPY, "/music/0007.mp3"} <= {t.path for t in found}


def test_a_damaged_index_is_refused(synthetic_catalogue, catalogue):
    out = synthetic_catalogue
    manifest = json.loads((out / FOLDER / MANIFEST).read_text())
    index = out / FOLDER / manifest["file"]
    kept = index.read_bytes()
    index.write_bytes(kept[:-10] + bytes(b ^ 0xFF for b in kept[-10:]))
    try:
        with pytest.raises(CorruptIndexError, match="damaged"):
            Catalogue.open(str(synthetic_catalogue))
    finally:
        index.write_bytes(kept)
    assert Catalogue.open(str(synthetic_catalogue)).similar("/music/0001.mp3", limit=1)
