"""``music-emotion search``, ``similar`` and ``playlist``: query a catalogue from the shell.

Each prints one song per line, nearest or first first: readable ``key=value`` pairs,
or with ``--json`` one JSON object per line (:meth:`Track.as_dict`, the HTTP API's
tracks). Exit status 0 with an answer, 2 when the query or the catalogue is at fault
(one line on stderr says why).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import (
    MusicEmotionError,
    NoCatalogueError,
    SearchUnavailableError,
    UnknownSongError,
)
from app.model import MOODS
from app.search.filters import Filters, parse_key, parse_mode, parse_quadrant
from app.settings import Settings

if TYPE_CHECKING:
    from app.search.catalogue import Catalogue, Track

COMMANDS = ("search", "similar", "playlist")

CATALOGUE_HELP = "the catalogue: the folder or URI given to music-emotion catalogue --out"


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``search``, ``similar`` and ``playlist`` subcommands."""
    search = _parser(
        subparsers,
        "search",
        "print the songs of a catalogue nearest to a point of the plane (exact), or with "
        "the largest share of a mood",
    )
    search.add_argument("--valence", type=float, metavar="V", help="the point's valence")
    search.add_argument("--arousal", type=float, metavar="A", help="the point's arousal")
    search.add_argument(
        "--mood", choices=MOODS, help="rank by this mood's share instead (largest first)"
    )
    search.add_argument(
        "--within", type=float, metavar="R", help="only songs within R of the point"
    )
    search.add_argument("--quadrant", help="only this quadrant: 1-4, or a name such as calm")
    search.add_argument("--tempo-min", type=float, metavar="BPM")
    search.add_argument("--tempo-max", type=float, metavar="BPM")
    search.add_argument("--key", help="only this key: 0-11 or a name such as F# (audio features)")
    search.add_argument("--mode", help="only major or minor songs (audio features)")
    search.add_argument("--energy-min", type=float, metavar="E")
    search.add_argument("--energy-max", type=float, metavar="E")

    similar = _parser(
        subparsers,
        "similar",
        "print the songs of a catalogue most like FILE by sound and mood, copies of its "
        "audio first (marked duplicate)",
    )
    similar.add_argument(
        "file",
        metavar="FILE",
        help="a path of the catalogue (looked up), or another audio file (analysed)",
    )
    similar.add_argument(
        "--sound-weight",
        type=float,
        metavar="W",
        help="weight of sound against mood, 0-1 (default 0.5: a typical difference of "
        "each counts alike)",
    )
    similar.add_argument(
        "--model",
        type=Path,
        default=Settings().model_path,
        help="the model that analyses a FILE not in the catalogue",
    )

    playlist = _parser(
        subparsers,
        "playlist",
        "print a playlist whose songs travel steadily from one point (or song) of the "
        "plane to another, each close in sound and tempo to the one before",
    )
    playlist.add_argument(
        "--from", dest="start", required=True, metavar="V,A|PATH", help="where it starts"
    )
    playlist.add_argument(
        "--to", dest="end", required=True, metavar="V,A|PATH", help="where it ends"
    )
    playlist.add_argument("--length", type=int, required=True, metavar="N", help="songs")


def _parser(
    subparsers: argparse._SubParsersAction, name: str, text: str
) -> argparse.ArgumentParser:
    command = subparsers.add_parser(name, help=text, description=f"{text[0].upper()}{text[1:]}.")
    command.add_argument("catalogue", metavar="OUT", help=CATALOGUE_HELP)
    if name != "playlist":
        command.add_argument("--limit", type=int, default=10, metavar="N", help="songs (10)")
    command.add_argument("--json", action="store_true", help="one JSON object per line")
    return command


def run(args: argparse.Namespace) -> int:
    """Answer one query; the exit status."""
    from app.search.catalogue import Catalogue, parse_end

    try:
        catalogue = Catalogue.open(args.catalogue)
        if args.command == "search":
            tracks = catalogue.search(
                args.valence,
                args.arousal,
                mood=args.mood,
                limit=args.limit,
                filters=_filters(args),
            )
        elif args.command == "similar":
            tracks = _similar(catalogue, args)
        else:
            start, end = parse_end(args.start), parse_end(args.end)
            tracks = catalogue.playlist(start, end, args.length)
    except (MusicEmotionError, OSError) as error:
        print(f"music-emotion {args.command}: {error}", file=sys.stderr)
        return 2
    for track in tracks:
        record = track.as_dict()
        print(json.dumps(record) if args.json else _readable(record), flush=True)
    return 0


def refresh_index(out: str) -> None:
    """Bring the similarity index beside the catalogue at ``out`` up to date (the end of
    a catalogue job); says only what went wrong. Without usearch nothing is indexed: the
    first query builds the index instead."""
    from app.search.catalogue import Catalogue

    try:
        Catalogue.open(out)
    except (SearchUnavailableError, NoCatalogueError):
        return
    except MusicEmotionError as error:
        print(f"catalogue: the similarity index: {error}", file=sys.stderr)


def _filters(args: argparse.Namespace) -> Filters:
    return Filters(
        quadrant=None if args.quadrant is None else parse_quadrant(args.quadrant),
        tempo_min=args.tempo_min,
        tempo_max=args.tempo_max,
        key=None if args.key is None else parse_key(args.key),
        mode=None if args.mode is None else parse_mode(args.mode),
        energy_min=args.energy_min,
        energy_max=args.energy_max,
        within=args.within,
    )


def _similar(catalogue: Catalogue, args: argparse.Namespace) -> list[Track]:
    """Songs like FILE: the catalogue's own song if FILE names one, else FILE analysed."""
    names = [args.file] if "://" in args.file else [args.file, os.path.abspath(args.file)]
    for name in names:
        if catalogue.songs.find(name) is not None:
            return catalogue.similar(name, limit=args.limit, sound_weight=args.sound_weight)
    if not Path(args.file).is_file():
        raise UnknownSongError(
            f"{args.file!r} is neither a song of the catalogue nor an audio file here"
        )
    from app.analysis import Analyzer

    analyzer = Analyzer(args.model, max_duration_s=Settings().max_duration_s, warm_up=False)
    emotion = analyzer(Path(args.file))
    return catalogue.similar(emotion=emotion, limit=args.limit, sound_weight=args.sound_weight)


def _readable(record: dict) -> str:
    return "  ".join(f"{key}={value}" for key, value in record.items())
