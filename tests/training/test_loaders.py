"""The emoMusic, DEAM, PMEmo and generic-CSV loaders on their real file formats."""

from __future__ import annotations

import logging
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from app.audio import decode
from tests.audio_fixtures import encode, song, tone
from training.datasets import deam, emomusic, generic_csv, pmemo

SR = 44100
EMOMUSIC = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "emomusic"

# song_id: (artist after canonicalisation, genre, split, valence, arousal) from the real files;
# 142's Artist field is "Circus Marcus-Aux puces nº2", 175 and 536 are one song twice.
EMOMUSIC_SONGS = {
    2: ("The New Mystikal Troubadours", "blues", "development", (3 - 5) / 4, (3.1 - 5) / 4),
    3: ("Kevin MacLeod", "blues", "evaluation", (3.3 - 5) / 4, (3.5 - 5) / 4),
    142: ("Circus Marcus", None, None, None, None),
    175: ("Steven Arntson", None, "development", None, None),
    536: ("Steven Arntson", None, "development", None, None),
}


@pytest.fixture(scope="module")
def mp3() -> bytes:
    """One second of a music-like stand-in, MP3-encoded once for every test."""
    return encode(song(1.0, SR), SR, "mp3")


def va(items) -> list[float]:
    """The items' valence and arousal, flat, for pytest.approx."""
    return [x for i in items for x in (i.valence, i.arousal)]


def put(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_csv(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- emoMusic ---------------------------------------------------------------------------


@pytest.fixture
def emomusic_root(tmp_path, mp3) -> Path:
    """The real annotation files, with stand-in audio for :data:`EMOMUSIC_SONGS` only."""
    if not EMOMUSIC.is_dir():
        pytest.skip(f"the shared datasets are not at {EMOMUSIC.parent}")
    root = tmp_path / "emomusic"
    (root / "annotations").mkdir(parents=True)
    for name in ("songs_info.csv", "static_annotations.csv"):
        shutil.copy(EMOMUSIC / "annotations" / name, root / "annotations" / name)
    for song_id in EMOMUSIC_SONGS:
        put(root / "clips_45seconds" / f"{song_id}.mp3", mp3)
    return root


def test_emomusic_reports_every_annotated_song(emomusic_root):
    items = emomusic.annotated(emomusic_root)
    assert len(items) == 744
    assert Counter(i.split for i in items) == {"development": 619, "evaluation": 125}
    assert len({i.key for i in items}) == 744
    assert all(-1 <= i.valence <= 1 and -1 <= i.arousal <= 1 for i in items)
    assert all(i.artist and i.genre for i in items)


def test_emomusic_loads_exactly_the_songs_with_audio(emomusic_root, caplog):
    with caplog.at_level(logging.WARNING):
        items = emomusic.load(emomusic_root)
    assert [i.key for i in items] == [f"emomusic/{s}" for s in EMOMUSIC_SONGS]
    assert "739 of the 744 annotated songs (619 development / 125 evaluation)" in caplog.text
    for item, (artist, genre, split, valence, arousal) in zip(
        items, EMOMUSIC_SONGS.values(), strict=True
    ):
        assert item.path == emomusic_root / "clips_45seconds" / f"{item.key.split('/')[1]}.mp3"
        assert item.artist == artist
        assert genre is None or item.genre == genre
        assert split is None or item.split == split
        if valence is not None:
            assert (item.valence, item.arousal) == pytest.approx((valence, arousal))
    # the stand-in is real audio, not just a file that exists
    audio = decode(items[0].path)
    assert audio.duration_s == pytest.approx(1.0, abs=0.1)
    assert np.abs(audio.mono).max() > 0.1


def test_emomusic_audio_dir_and_no_audio(emomusic_root, tmp_path):
    elsewhere = tmp_path / "my clips"
    shutil.move(emomusic_root / "clips_45seconds", elsewhere)
    with pytest.raises(FileNotFoundError, match="none of the 744 annotated songs"):
        emomusic.load(emomusic_root)
    items = emomusic.load(emomusic_root, audio_dir=elsewhere)
    assert len(items) == len(EMOMUSIC_SONGS)
    assert all(i.path.parent == elsewhere for i in items)


def test_emomusic_artist_title_fields_map_to_the_artist():
    names = [
        "Kevin MacLeod",
        "Kevin MacLeod-Night on the Docks",
        "Cooper-Moore",
        "Cooper-Moore & Assif Tsahar",
        "Aaron Dunn-Sonatina No. 1",
        "K-Conjog",
    ]
    canonical = emomusic.canonical_artists(names)
    assert canonical["Kevin MacLeod-Night on the Docks"] == "Kevin MacLeod"
    # hyphenated names, and prefixes that are no artist of the set, stay as they are
    assert [canonical[n] for n in names[2:]] == names[2:]


# -- DEAM -------------------------------------------------------------------------------

DEAM_1_2000 = """song_id, valence_mean, valence_std, arousal_mean, arousal_std
2,3.1,0.94,3,0.63
3,3.5,1.75,3.3,1.62
1001,9,1.2,1,0.9
"""
DEAM_2000_2058 = (
    "song_id, valence_mean, valence_std, valence_max_mean, valence_max_std, valence_min_mean, "
    "valence_min_std, arousal_mean, arousal_std, arousal_max_mean, arousal_max_std, "
    "arousal_min_mean, arousal_min_std\n"
    "2001,6.2,1.4,7.1,1.2,4.8,1.5,5.8,1.1,6.9,1.3,4.2,1.6\n"
    "2002,4.0,1.0,5.0,1.0,3.0,1.0,4.4,1.0,5.0,1.0,3.0,1.0\n"
)


def write_deam(root: Path, mp3: bytes, files=(DEAM_1_2000, DEAM_2000_2058), audio=(2, 1001, 2001)):
    for name, text in zip(deam.FILES, files, strict=True):
        if text is not None:
            write_csv(root / deam.SONG_LEVEL / name, text)
    for song_id in audio:
        put(root / "MEMD_audio" / f"{song_id}.mp3", mp3)
    return root


def test_deam_reads_both_files_and_skips_songs_without_audio(tmp_path, mp3, caplog):
    root = write_deam(tmp_path / "deam", mp3)
    with caplog.at_level(logging.WARNING):
        items = deam.load(root)
    assert [i.key for i in items] == ["deam/2", "deam/1001", "deam/2001"]
    assert "2 of the 5 annotated songs" in caplog.text
    assert va(items) == pytest.approx(
        [(3.1 - 5) / 4, (3 - 5) / 4, 1.0, -1.0, (6.2 - 5) / 4, (5.8 - 5) / 4]
    )
    assert items[2].path == root / "MEMD_audio" / "2001.mp3"
    assert all(i.artist is None and i.split is None for i in items)


def test_deam_tolerates_one_file_and_refuses_bad_values(tmp_path, mp3):
    root = write_deam(tmp_path / "a", mp3, files=(DEAM_1_2000, None))
    assert [i.key for i in deam.load(root)] == ["deam/2", "deam/1001"]
    bad = DEAM_1_2000.replace("1001,9,", "1001,9.5,")
    with pytest.raises(ValueError, match=r"line 4 valence_mean: 9.5 is outside .*\[1, 9\]"):
        deam.load(write_deam(tmp_path / "b", mp3, files=(bad, None)))
    overlap = DEAM_2000_2058 + "2,5,1,5,1,5,1,5,1,5,1,5,1\n"
    with pytest.raises(ValueError, match="song 2 is already listed"):
        deam.load(write_deam(tmp_path / "c", mp3, files=(DEAM_1_2000, overlap)))
    with pytest.raises(FileNotFoundError, match="no static annotations"):
        deam.load(tmp_path / "empty")


# -- PMEmo ------------------------------------------------------------------------------

PMEMO_STATIC = """musicId,Arousal(mean),Valence(mean)
1,0.4,0.575
4,0.2625,0.2875
5,1,0
"""
PMEMO_METADATA = """musicId,fileName,title,artist,album,duration,chorus_start_time,chorus_end_time
1,1.mp3,Good Drank,2 Chainz,Based On A T.R.U. Story,253.0,02:35,03:00
4,4.mp3,X,Chris Brown,X,210.0,01:10,01:40
5,5.mp3,Goodbye,Miley Cyrus,Unreleased,190.0,00:55,01:20
"""


def test_pmemo_maps_zero_one_and_reads_artists(tmp_path, mp3):
    root = tmp_path / "PMEmo2019"
    write_csv(root / "annotations" / "static_annotations.csv", PMEMO_STATIC)
    for song_id in (1, 4):
        put(root / "chorus" / f"{song_id}.mp3", mp3)
    items = pmemo.load(root)  # without metadata.csv: no artists
    assert [i.key for i in items] == ["pmemo/1", "pmemo/4"]
    assert va(items) == pytest.approx([0.15, -0.2, -0.425, -0.475])
    assert all(i.artist is None for i in items)
    write_csv(root / "metadata.csv", PMEMO_METADATA)
    put(root / "chorus" / "5.mp3", mp3)
    items = pmemo.load(root)
    assert [i.artist for i in items] == ["2 Chainz", "Chris Brown", "Miley Cyrus"]
    assert (items[2].valence, items[2].arousal) == (-1.0, 1.0)
    assert items[1].path == root / "chorus" / "4.mp3"


# -- generic CSV ------------------------------------------------------------------------


def test_generic_csv_maps_the_declared_scale_and_resolves_paths(tmp_path, mp3):
    put(tmp_path / "clips" / "a.mp3", mp3)
    put(tmp_path / "clips" / "b.mp3", mp3)
    absolute = put(tmp_path / "elsewhere" / "c.wav", b"")
    listing = write_csv(
        tmp_path / "lists" / "mine.csv",
        f"path,valence,arousal\n../clips/a.mp3,1,9\n../clips/b.mp3, 5 , 7\n{absolute},3,5\n",
    )
    items = generic_csv.load(listing, scale=(1, 9))
    assert [i.path for i in items] == [
        tmp_path / "clips" / "a.mp3",
        tmp_path / "clips" / "b.mp3",
        absolute,
    ]
    assert va(items) == pytest.approx([-1.0, 1.0, 0.0, 0.5, -0.5, 0.0])
    assert items[0].key == "csv/../clips/a.mp3"
    percent = write_csv(tmp_path / "pct.csv", "path,valence,arousal,artist\nclips/a.mp3,25,100,X\n")
    (item,) = generic_csv.load(percent, scale=(0, 100))
    assert (item.valence, item.arousal, item.artist) == (-0.5, 1.0, "X")
    assert decode(item.path).sample_rate > 0


def test_generic_csv_errors_name_the_row(tmp_path, mp3):
    put(tmp_path / "a.mp3", encode(tone(440.0, 1.0, SR), SR, "mp3"))
    put(tmp_path / "b.mp3", mp3)
    listing = write_csv(tmp_path / "l.csv", "path,valence,arousal\na.mp3,0.5,0.5\nb.mp3,0.5,1.5\n")
    with pytest.raises(ValueError, match=r"l\.csv line 3 arousal: 1.5 is outside .*\[-1, 1\]"):
        generic_csv.load(listing, scale=(-1, 1))
    listing.write_text("path,valence,arousal\na.mp3,0.5,0.5\n./a.mp3,0.5,0.5\n")
    with pytest.raises(ValueError, match=r"line 3: \./a\.mp3 is listed twice"):
        generic_csv.load(listing, scale=(-1, 1))
    listing.write_text("path,valence,arousal\na.mp3,0.5,0.5\nc.mp3,0.5,0.5\n")
    with pytest.raises(FileNotFoundError, match="line 3: no audio file"):
        generic_csv.load(listing, scale=(-1, 1))
    listing.write_text("path,valence,arousal\na.mp3,0.5,x\n")
    with pytest.raises(ValueError, match="line 2 arousal: 'x' is not a number"):
        generic_csv.load(listing, scale=(-1, 1))
    listing.write_text("path,valence\na.mp3,0.5\n")
    with pytest.raises(ValueError, match=r"missing column.*arousal"):
        generic_csv.load(listing, scale=(-1, 1))
    with pytest.raises(ValueError, match="lo < hi"):
        generic_csv.load(listing, scale=(9, 1))


def test_every_loader_declares_citation_and_targets():
    for module in (emomusic, deam, pmemo, generic_csv):
        assert module.CITATION and module.TARGETS and callable(module.load)
