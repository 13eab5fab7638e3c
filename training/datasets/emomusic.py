"""emoMusic, "1000 songs" (Soleymani et al. 2013): static valence/arousal of 744 45-s clips.

Layout (the original annotation files; the audio is the user's own)::

    root/annotations/songs_info.csv          song_id, file_name, Artist, ..., Genre,
                                             Mediaeval 2013 set (tab-padded quoted fields)
    root/annotations/static_annotations.csv  song_id, mean_arousal, std_arousal,
                                             mean_valence, std_valence, mean_valence_stand
    root/clips_45seconds/<song_id>.mp3       or ``audio_dir``

Targets are the listener means on the 1..9 scale mapped to [-1, 1] by ``(x - 5) / 4``;
``mean_valence_stand`` is ignored (a min-max rescaling over this set, not a fixed scale).
``split`` is the MediaEval 2013 set (619 development / 125 evaluation). Songs whose audio
is missing are skipped with a logged warning (a user may own part of the set); if none has
audio, loading raises.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from training.datasets import Item
from training.datasets._common import read_rows, to_unit, with_audio

CITATION = (
    "Soleymani, Caro, Schmidt, Sha & Yang, '1000 songs for emotional analysis of music', "
    "CrowdMM 2013 (ACM Multimedia workshop). Music from the Free Music Archive."
)

TARGETS = (
    "valence, arousal = static_annotations.csv mean_valence, mean_arousal (crowd listeners' "
    "means on the 1..9 SAM scale) mapped to [-1, 1] by (x - 5) / 4; split = MediaEval 2013 "
    "development/evaluation set from songs_info.csv."
)

SCALE = (1.0, 9.0)
SPLITS = ("development", "evaluation")


def canonical_artists(names: Iterable[str]) -> dict[str, str]:
    """Map each ``Artist`` field to the performer it names.

    A few fields are "Artist-Title" (e.g. ``Kevin MacLeod-Night on the Docks``). When the
    part before a hyphen is itself an artist of the set, it is the performer: mapping it
    keeps that artist's songs in one fold group. Hyphenated names (``Cooper-Moore``) stay.
    """
    known = {" ".join(n.split()) for n in names}
    canonical = {}
    for name in known:
        cut = [i for i, ch in enumerate(name) if ch == "-" and name[:i].strip() in known]
        canonical[name] = name[: cut[0]].strip() if cut else name
    return canonical


def annotated(root: Path, audio_dir: Path | None = None) -> list[Item]:
    """Every annotated song with the path its audio should have, whether or not it exists.

    Raises
    ------
    ValueError
        If the two files disagree on the songs or a value is outside 1..9.
    """
    root = Path(root)
    audio_dir = Path(audio_dir) if audio_dir is not None else root / "clips_45seconds"
    info_path = root / "annotations" / "songs_info.csv"
    static_path = root / "annotations" / "static_annotations.csv"
    info = read_rows(info_path, "song_id", "Artist", "Genre", "Mediaeval 2013 set")
    static = read_rows(static_path, "song_id", "mean_valence", "mean_arousal")
    by_id = {row["song_id"]: row for _, row in info}
    artists = canonical_artists(row["Artist"] for row in by_id.values())
    items = []
    for line, row in static:
        song = row["song_id"]
        meta = by_id.get(song)
        if meta is None:
            raise ValueError(f"{static_path} line {line}: song {song} is not in {info_path.name}")
        split = meta["Mediaeval 2013 set"].lower()
        if split not in SPLITS:
            raise ValueError(f"{info_path}: song {song} has unknown set {split!r}")
        where = f"{static_path} line {line}"
        artist = " ".join(meta["Artist"].split())
        items.append(
            Item(
                key=f"emomusic/{song}",
                path=audio_dir / f"{song}.mp3",
                valence=to_unit(row["mean_valence"], SCALE, f"{where} mean_valence"),
                arousal=to_unit(row["mean_arousal"], SCALE, f"{where} mean_arousal"),
                artist=artists.get(artist, artist) or None,
                # lower case like Emotify's genres, so the genre baseline pools them
                genre=meta["Genre"].lower() or None,
                split=split,
            )
        )
    if len({i.key for i in items}) < len(items):
        raise ValueError(f"{static_path}: a song_id appears twice")
    return items


def load(root: Path, audio_dir: Path | None = None) -> list[Item]:
    """The annotated songs whose audio exists, in ``audio_dir`` or ``root/clips_45seconds``.

    Raises
    ------
    FileNotFoundError
        If no annotated song has audio (the folder is wrong).
    """
    items = annotated(root, audio_dir)
    splits = Counter(i.split for i in items)
    summary = " / ".join(f"{splits[s]} {s}" for s in SPLITS)
    folder = items[0].path.parent if items else Path(root)
    return with_audio(items, "emoMusic", folder, summary)
