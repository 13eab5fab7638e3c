"""The queries on a real catalogue, checked against the Parquet rows themselves."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from app.analysis import Analyzer, Quadrant
from app.errors import InvalidQueryError, MissingColumnError, UnknownSongError
from app.search.catalogue import Catalogue
from app.search.filters import Filters, parse_key, parse_mode, parse_quadrant
from app.settings import Settings
from tests.search.conftest import COPY, ORIGINAL, SONGS, parquet_rows

pytestmark = pytest.mark.slow  # scores a catalogue with the job's analysis processes


@pytest.fixture(scope="module")
def catalogue(scored_catalogue: Path) -> Catalogue:
    return Catalogue.open(str(scored_catalogue))


def brute_force(rows: list[dict], point: tuple[float, float], limit: int) -> list[tuple]:
    """(path, distance) of the ``limit`` rows nearest to ``point``, ties by path."""
    measured = [(math.dist(point, (r["valence"], r["arousal"])), r["path"]) for r in rows]
    return [(path, d) for d, path in sorted(measured)[:limit]]


@pytest.mark.parametrize("point", [(0.0, 0.0), (0.6, -0.4), (-1.0, 1.0), (0.1, 0.2)])
@pytest.mark.parametrize("limit", [1, 3, 9])
def test_search_is_the_brute_force_ranking_of_the_rows(catalogue, scored_catalogue, point, limit):
    expected = brute_force(parquet_rows(scored_catalogue), point, limit)
    found = [t.as_dict() for t in catalogue.search(*point, limit=limit)]
    assert [t["path"] for t in found] == [path for path, _ in expected]
    assert [t["distance"] for t in found] == pytest.approx([d for _, d in expected], abs=1e-4)
    rows = {r["path"]: r for r in parquet_rows(scored_catalogue)}
    for track in found:
        row = rows[track["path"]]
        assert (track["valence"], track["arousal"]) == (row["valence"], row["arousal"])
        assert track["quadrant"] == row["quadrant"]


def test_filters_rank_the_rows_that_meet_them(catalogue, scored_catalogue):
    rows = parquet_rows(scored_catalogue)
    point = (0.0, 0.0)
    quadrant = Quadrant.of(rows[0]["valence"], rows[0]["arousal"])
    kept = [r for r in rows if r["quadrant"] == quadrant.value]
    found = catalogue.search(*point, limit=20, filters=Filters(quadrant=quadrant.number))
    assert [t.path for t in found] == [p for p, _ in brute_force(kept, point, 20)]

    tempi = sorted(r["tempo_bpm"] for r in rows)
    low, high = tempi[2], tempi[-3]
    kept = [r for r in rows if low <= r["tempo_bpm"] <= high]
    found = catalogue.search(*point, limit=20, filters=Filters(tempo_min=low, tempo_max=high))
    assert [t.path for t in found] == [p for p, _ in brute_force(kept, point, 20)]
    assert 0 < len(found) < len(rows)

    radius = sorted(math.dist(point, (r["valence"], r["arousal"])) for r in rows)[3]
    found = catalogue.search(*point, limit=20, filters=Filters(within=radius))
    assert [t.path for t in found] == [p for p, _ in brute_force(rows, point, 4)]


def test_a_mood_ranks_by_its_share(catalogue, scored_catalogue):
    rows = parquet_rows(scored_catalogue)
    found = catalogue.search(mood="calmness", limit=4)
    expected = sorted(rows, key=lambda r: (-r["mood_calmness"], r["path"]))[:4]
    assert [t.path for t in found] == [r["path"] for r in expected]
    assert [t.share for t in found] == [r["mood_calmness"] for r in expected]
    assert all(t.distance is None for t in found)


def test_filters_on_absent_columns_are_refused_clearly(catalogue):
    for filters, column in (
        (Filters(key=parse_key("F#")), "key"),
        (Filters(mode=parse_mode("minor")), "mode"),
        (Filters(energy_min=0.5), "energy"),
    ):
        with pytest.raises(MissingColumnError, match=f"no {column} column.*--audio-features"):
            catalogue.search(0.0, 0.0, filters=filters)


def test_bad_queries_are_refused():
    assert (parse_key("Bb"), parse_key("11"), parse_mode("Major"), parse_quadrant("calm")) == (
        10,
        11,
        1,
        4,
    )
    for bad in (lambda: parse_key("H"), lambda: parse_quadrant("Q5"), lambda: parse_mode("x")):
        with pytest.raises(InvalidQueryError):
            bad()
    with pytest.raises(InvalidQueryError, match="empty"):
        Filters(tempo_min=120, tempo_max=100)


def test_bad_search_arguments(catalogue):
    with pytest.raises(InvalidQueryError, match="point"):
        catalogue.search()
    with pytest.raises(InvalidQueryError, match="both"):
        catalogue.search(0.5)
    with pytest.raises(InvalidQueryError, match="limit"):
        catalogue.search(0.0, 0.0, limit=0)
    with pytest.raises(InvalidQueryError, match="no mood"):
        catalogue.search(mood="boredom")
    with pytest.raises(InvalidQueryError, match="within"):
        catalogue.search(mood="calmness", filters=Filters(within=0.1))


def test_similar_never_returns_the_song_and_puts_its_copy_first(
    catalogue, search_library, scored_catalogue
):
    original, copy = str(search_library / ORIGINAL), str(search_library / COPY)
    found = catalogue.similar(original, limit=len(SONGS))
    paths = [t.path for t in found]
    assert original not in paths and len(paths) == len(set(paths)) == len(SONGS)
    assert paths[0] == copy and found[0].duplicate and found[0].sound_distance < 1e-3
    assert not any(t.duplicate for t in found[1:])
    assert [t.distance for t in found[1:]] == sorted(t.distance for t in found[1:])
    # The copy's own neighbours: the original first, never the copy.
    found = catalogue.similar(copy, limit=3)
    assert found[0].path == original and found[0].duplicate
    assert copy not in [t.path for t in found]


def test_the_weight_moves_the_ranking_from_mood_to_sound(catalogue, search_library):
    song = str(search_library / "mid/d.wav")
    by_mood = catalogue.similar(song, limit=len(SONGS), sound_weight=0.0)
    by_sound = catalogue.similar(song, limit=len(SONGS), sound_weight=1.0)
    plane = [t.plane_distance for t in by_mood]
    sound = [t.sound_distance for t in by_sound]
    assert plane == sorted(plane) and sound == sorted(sound)
    with pytest.raises(InvalidQueryError, match="0-1"):
        catalogue.similar(song, sound_weight=1.5)


def test_a_new_file_is_analysed_and_its_copy_in_the_catalogue_comes_first(
    catalogue, search_library, tmp_path
):
    outside = tmp_path / "new.mp3"
    outside.write_bytes((search_library / ORIGINAL).read_bytes())
    emotion = Analyzer(Settings().model_path, warm_up=False)(outside)
    found = catalogue.similar(emotion=emotion, limit=3)
    assert {t.path for t in found[:2]} == {
        str(search_library / ORIGINAL),
        str(search_library / COPY),
    }
    assert found[0].duplicate and found[1].duplicate and not found[2].duplicate


def test_similar_of_a_path_not_in_the_catalogue_is_refused_without_opening_it(catalogue):
    with pytest.raises(UnknownSongError, match="/etc/passwd"):
        catalogue.similar("/etc/passwd")


@pytest.mark.parametrize(
    ("start", "end", "length"), [((-1.0, -1.0), (1.0, 1.0), 5), ((0.5, 0.5), (-0.5, -0.5), 7)]
)
def test_a_playlist_moves_steadily_along_the_way_without_repeats(
    catalogue, search_library, start, end, length
):
    found = catalogue.playlist(start, end, length)
    assert len(found) == length
    paths = [t.path for t in found]
    assert len(set(paths)) == length
    assert not {str(search_library / ORIGINAL), str(search_library / COPY)} <= set(paths)
    way = np.subtract(end, start)
    along = [
        float(np.dot(np.subtract((t.valence, t.arousal), start), way) / way.dot(way)) for t in found
    ]
    assert along == sorted(along)
    assert [t.position for t in found] == pytest.approx(along, abs=1e-4)


def test_a_playlist_from_a_seed_song(catalogue, search_library):
    seed = str(search_library / "loud/g.flac")
    songs = catalogue.search(-1.0, -1.0, limit=1)
    found = catalogue.playlist(seed, songs[0].path, 3)
    assert found[0].path == seed and found[-1].path == songs[0].path
    assert found[0].position == 0.0 and found[-1].position == 1.0
    with pytest.raises(InvalidQueryError, match="2 to"):
        catalogue.playlist((0.0, 0.0), (1.0, 1.0), 1)
    with pytest.raises(InvalidQueryError, match="too few"):
        catalogue.playlist((0.0, 0.0), (1.0, 1.0), 50)
