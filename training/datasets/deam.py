"""DEAM (Aljanaki, Yang & Soleymani 2017): static valence/arousal of 1802 songs.

Expected layout (as the DEAM archives unpack)::

    root/annotations/annotations averaged per song/song_level/
        static_annotations_averaged_songs_1_2000.csv     song_id, valence_mean, valence_std,
                                                         arousal_mean, arousal_std
        static_annotations_averaged_songs_2000_2058.csv  the same plus *_max_* / *_min_* columns
    root/MEMD_audio/<song_id>.mp3

The headers have spaces after the commas; both files are optional but at least one must be
there. Targets are the 1..9 means mapped to [-1, 1] by ``(x - 5) / 4``. Songs whose audio
is missing are skipped with a logged warning; if none has audio, loading raises.

DEAM's songs 2-1000 are emoMusic's 744 songs: do not train on both sets together, or the
same clips land on both sides of a fold. DEAM has no artist here, so folds group by song.
"""

from __future__ import annotations

from pathlib import Path

from training.datasets import Item
from training.datasets._common import log, read_rows, to_unit, with_audio

CITATION = (
    "Aljanaki, Yang & Soleymani, 'Developing a benchmark for emotional analysis of music', "
    "PLoS ONE 12(3) (2017). Music from the Free Music Archive, Jamendo and Medley DB."
)

TARGETS = (
    "valence, arousal = valence_mean, arousal_mean of the song-level static annotations "
    "(raters' means on the 1..9 scale) mapped to [-1, 1] by (x - 5) / 4."
)

SONG_LEVEL = Path("annotations", "annotations averaged per song", "song_level")
FILES = (
    "static_annotations_averaged_songs_1_2000.csv",
    "static_annotations_averaged_songs_2000_2058.csv",
)
SCALE = (1.0, 9.0)


def load(root: Path) -> list[Item]:
    """The annotated songs of both static files whose ``MEMD_audio/<song_id>.mp3`` exists.

    Raises
    ------
    FileNotFoundError
        If neither annotation file is there or no song has audio.
    ValueError
        If a value is outside 1..9 or a song has conflicting rows.
    """
    root = Path(root)
    paths = [root / SONG_LEVEL / name for name in FILES]
    present = [p for p in paths if p.is_file()]
    if not present:
        raise FileNotFoundError(f"DEAM: no static annotations at {' or '.join(map(str, paths))}")
    if len(present) < len(paths):
        log.warning("DEAM: reading only %s", present[0].name)
    by_song: dict[int, Item] = {}
    for path in present:
        for line, row in read_rows(path, "song_id", "valence_mean", "arousal_mean"):
            song = int(float(row["song_id"]))  # tolerate "2.0"
            where = f"{path} line {line}"
            item = Item(
                key=f"deam/{song}",
                path=root / "MEMD_audio" / f"{song}.mp3",
                valence=to_unit(row["valence_mean"], SCALE, f"{where} valence_mean"),
                arousal=to_unit(row["arousal_mean"], SCALE, f"{where} arousal_mean"),
            )
            # the file names overlap at 2000, so a song may be listed twice
            if by_song.setdefault(song, item) != item:
                raise ValueError(f"{where}: song {song} is already listed with other values")
    items = [by_song[s] for s in sorted(by_song)]
    return with_audio(items, "DEAM", root / "MEMD_audio")
