"""music-emotion catalogue: score every audio file of a library into a Parquet dataset.

Run it again with the same OUT and it scores only the files not in OUT yet (same path,
size and modification time); --force scores everything again.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from app.settings import Settings

if TYPE_CHECKING:
    from app.catalogue.progress import Tally
    from app.catalogue.sources import Entry
    from app.catalogue.store import Done

ENGINES = ("local", "ray")

FAILED_BEFORE = "failed in an earlier run"
"""Why a file already in OUT as a problem is skipped (and the job's status is 1)."""

EXIT_STATUSES = """\
exit status:
  0    every file has a result row in OUT
  1    some file could not be analysed (its row in OUT holds the problem, also when
       it failed in an earlier run), or the analysis processes could not start
  2    the command was misused, the model could not be loaded (or, with
       --audio-features, has no audio features), or OUT holds another job's columns
  128+N  stopped by signal N (130 for Ctrl-C, 143 for SIGTERM): every row of the
       files analysed so far is written, and the same command resumes"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``catalogue`` subcommand to the ``music-emotion`` command."""
    settings = Settings()
    command = subparsers.add_parser(
        "catalogue",
        help="score every audio file of folders, lists or s3:// prefixes into Parquet",
        description=__doc__,
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument(
        "sources",
        nargs="*",
        metavar="SOURCE",
        help="audio files, folders (searched recursively) or URIs such as s3://bucket/prefix",
    )
    command.add_argument(
        "--list",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="a file of sources, one per line (may be given several times)",
    )
    command.add_argument("--out", required=True, help="the Parquet dataset: a folder or a URI")
    command.add_argument(
        "--engine", choices=ENGINES, default="local", help="processes here, or Ray Data"
    )
    command.add_argument(
        "--workers",
        type=int,
        default=len(os.sched_getaffinity(0)),
        metavar="N",
        help="analysis processes (Ray actors with --engine ray); default: every core",
    )
    command.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="a Ray cluster to run on (default: RAY_ADDRESS, or a local Ray)",
    )
    command.add_argument("--features", action="store_true", help="add the feature summary")
    command.add_argument("--timeline", action="store_true", help="add each 20-s window")
    command.add_argument(
        "--audio-features",
        action="store_true",
        help="add Spotify's audio features (tempo, key, mode, energy, ...), as "
        "/v1/audio-features answers them",
    )
    command.add_argument("--force", action="store_true", help="score again what OUT holds")
    command.add_argument(
        "--timeout",
        type=float,
        default=settings.analysis_timeout_s,
        metavar="S",
        help="longest analysis of one file; its process is then killed and replaced",
    )
    command.add_argument(
        "--rows-per-part",
        type=int,
        default=1000,
        metavar="N",
        help="rows per part file (a part is also written every 30 s)",
    )
    command.add_argument(
        "--model", type=Path, default=settings.model_path, help="the model's folder"
    )


def run(args: argparse.Namespace) -> int:
    """Run the job; its exit status (:data:`EXIT_STATUSES`)."""
    from app.audio_features import calibration_of
    from app.catalogue import store
    from app.catalogue.progress import Progress, Tally
    from app.catalogue.rows import Columns
    from app.catalogue.scorer import ScoringOptions
    from app.catalogue.sources import entries, read_list
    from app.errors import AudioFeaturesUnavailableError, ModelContractError, WorkerCrashedError
    from app.model import EmotionModel
    from app.result import ModelInfo

    if importlib.util.find_spec("pyarrow") is None:
        print("catalogue: needs pyarrow: pip install 'music-emotion[catalogue]'", file=sys.stderr)
        return 2
    if not args.sources and not args.list:
        print("catalogue: give at least one SOURCE or --list FILE", file=sys.stderr)
        return 2
    unreadable = [str(path) for path in args.list if not path.is_file()]
    if unreadable:
        print(f"catalogue: no list file {', '.join(unreadable)}", file=sys.stderr)
        return 2
    settings = Settings()
    try:
        model = EmotionModel(args.model)
        calibration = calibration_of(model) if args.audio_features else None
    except (ModelContractError, AudioFeaturesUnavailableError) as error:
        print(f"catalogue: {error}", file=sys.stderr)
        return 2
    columns = Columns(
        features=args.features,
        moods=model.has_moods,
        timeline=args.timeline,
        sound=model.embedder is not None,
        confidence=model.calibration is not None,
        audio_features=args.audio_features,
    )
    options = ScoringOptions(
        model_path=args.model,
        model=ModelInfo.of(model),
        max_duration_s=settings.max_duration_s,
        max_remote_bytes=settings.max_upload_bytes,
        timeout_s=args.timeout,
        columns=columns,
        audio_features=calibration,
    )
    del model  # the workers load their own
    try:
        older = store.prepare(args.out, columns.schema(), force=args.force)
    except store.CatalogueError as error:
        print(f"catalogue: {error}", file=sys.stderr)
        return 2
    if older:
        print(
            f"catalogue: {len(older)} parts of {args.out} were written before the columns "
            f"{', '.join(store.missing_columns(args.out, older, columns.schema()))}: "
            "their files are scored again",
            file=sys.stderr,
        )
    tally = Tally()
    done = store.Done(args.out, older)

    def listing(skipped: Counter) -> Iterator[Entry]:
        sources = chain(args.sources, *(read_list(path) for path in args.list))
        return _not_done(entries(sources, skipped), done, skipped)

    progress = Progress(tally)
    if args.engine == "ray":
        from app.catalogue.ray_engine import score_ray

        try:
            score_ray(
                listing(tally.skipped),
                options,
                args.workers,
                args.out,
                args.rows_per_part,
                progress,
                args.ray_address,
            )
        except KeyboardInterrupt:  # the parts Ray has written stay: a rerun resumes
            return 128 + signal.SIGINT
        finally:
            progress.close()
        _retire(args.out, older)
        return _status(tally)

    from app.catalogue.local import score_local

    stop = threading.Event()
    stopped_by: list[int] = []

    def request_stop(signum: int, frame: object) -> None:
        stopped_by.append(signum)
        stop.set()

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        writer = store.PartWriter(args.out, columns.schema(), args.rows_per_part)
        # The listing twice: counted (a throwaway tally of skips) for the total, then scored.
        count = listing(Counter())
        score_local(listing(tally.skipped), options, args.workers, writer, progress, stop, count)
    except WorkerCrashedError as error:  # the model cannot be loaded: nothing can be scored
        print(f"catalogue: {error}", file=sys.stderr)
        return 1
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        progress.close()
    if stopped_by:
        return 128 + stopped_by[0]
    _retire(args.out, older)
    return _status(tally)


def _retire(out: str, older: list[str]) -> None:
    """Remove the older parts whose files now all have their new rows, and say so."""
    from app.catalogue import store

    if older:
        retired = store.retire(out, older)
        kept = len(older) - len(retired)
        print(
            f"catalogue: replaced {len(retired)} older parts"
            + (f"; {kept} kept for files not scored again (gone, or not listed)" if kept else ""),
            file=sys.stderr,
        )


def _status(tally: Tally) -> int:
    """0 if every file of the job has a result row in OUT, else 1."""
    return 1 if tally.failed or tally.skipped[FAILED_BEFORE] else 0


def _not_done(found: Iterable[Entry], done: Done, skipped: Counter) -> Iterator[Entry]:
    """The entries of ``found`` not in ``done`` nor already met in this job (a file named
    twice, or inside two sources); counts the others in ``skipped``."""
    met: set[int] = set()  # this job's identities, as 8-byte hashes
    for entry in found:
        key = hash(entry.identity)
        if entry in done:
            skipped[FAILED_BEFORE if done.failed(entry) else "already in OUT"] += 1
        elif key in met:
            skipped["listed twice"] += 1
        else:
            met.add(key)
            yield entry
