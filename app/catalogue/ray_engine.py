"""The Ray engine: the same job on Ray Data, on one machine or a cluster.

The driver lists (and counts) the files to score into a dataset; ``map_batches`` runs
:class:`Scorer` in a pool of actors (each one analysis process holding one loaded
model), and Ray writes the rows as Parquet part files into OUT as blocks finish. The
actors report each batch's rows to a small actor that the driver reads for its
progress line; Ray's own progress bars and notes go to Ray's log files only. Every
worker must reach the files by the same locations: object storage URIs, or a
filesystem mounted at the same path on every node.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
import warnings
from collections.abc import Iterable
from itertools import islice

import pyarrow as pa

from app.catalogue import rows
from app.catalogue.progress import Progress
from app.catalogue.scorer import Scorer, ScoringOptions
from app.catalogue.sources import Entry

MAX_BLOCK = 1000
"""Most files in one block of the input dataset."""

POLL_S = 0.5
"""How often the driver reads the actors' reports while Ray runs the job."""


def score_ray(
    pending: Iterable[Entry],
    options: ScoringOptions,
    workers: int,
    out: str,
    rows_per_part: int,
    progress: Progress,
    address: str | None = None,
) -> None:
    """Score ``pending`` on Ray with ``workers`` actors and write the rows to ``out``.

    Connects to the cluster at ``address`` (or ``RAY_ADDRESS``), or starts a local Ray
    if none is given and none is running in this process; counts the rows into
    ``progress.tally`` as the actors report them.
    """
    _start_ray(address)
    import ray

    blocks = _listing_blocks(progress.counting(pending), workers)
    if not blocks:
        return
    reports = ray.remote(num_cpus=0)(_Reports).remote()
    with warnings.catch_warnings():
        # Ray 2.60 has no named parameter for max_restarts: its map_batches still takes
        # it (and documents it) among the remote arguments it calls deprecated.
        warnings.filterwarnings("ignore", "`ray_remote_args` is deprecated", DeprecationWarning)
        dataset = ray.data.from_arrow(blocks).map_batches(
            _ReportingScorer,
            fn_constructor_kwargs={"options": options, "reports": reports},
            batch_size=1,  # files take seconds each: single files balance the actors best
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=1,
            # An analysis that crashes costs its file, not its actor (the Scorer restarts
            # its analysis process); an actor lost with its node ends the job, which a
            # rerun resumes. Ray Data passes every actor its map function through the
            # object store, so a restartable actor has Ray log an error (ray#57733).
            max_restarts=0,
        )
    failure: list[BaseException] = []

    def write() -> None:
        try:
            dataset.write_parquet(out, min_rows_per_file=rows_per_part)
        except BaseException as error:  # raised in the driver's thread below
            failure.append(error)

    writer = threading.Thread(target=write, name="catalogue-ray-write", daemon=True)
    writer.start()
    while writer.is_alive():
        writer.join(POLL_S)
        _take_reports(reports, progress)
    _take_reports(reports, progress)
    if failure:
        raise failure[0]


def _start_ray(address: str | None) -> None:
    """Connect to Ray, or start a local one, with Ray's own notes kept off the terminal."""
    local = not (address or os.environ.get("RAY_ADDRESS"))
    if local and "ray" not in sys.modules:
        # Token authentication for the local Ray, asked for explicitly (Ray otherwise
        # enables it with a warning); Ray reads the mode when it is imported.
        os.environ.setdefault("RAY_AUTH_MODE", "token")
    import ray

    if not ray.is_initialized():
        # The dashboard of a local Ray would take CPU from the actors.
        extra = {"address": address} if not local else {"include_dashboard": False}
        ray.init(log_to_driver=False, logging_level=logging.WARNING, **extra)
    context = ray.data.DataContext.get_current()
    # The job's own progress line says how far it is; Ray's bars would fight it for the
    # terminal, and Ray's notes on each execution are in its log files.
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    _quiet(logging.getLogger("ray.data"))


def _quiet(logger: logging.Logger) -> None:
    """Let only errors of ``logger`` reach the terminal; its log files keep the rest."""
    for handler in logger.handlers:
        if type(handler).__name__ == "PlainRayHandler":  # Ray Data's console handler
            handler.setLevel(logging.ERROR)


def _take_reports(reports: object, progress: Progress) -> None:
    """Count the rows the actors reported since the last call, and show the progress."""
    import ray

    report = ray.get(reports.take.remote())
    if report["ready"]:
        progress.ready()
    for error_type in report["error_types"]:
        progress.tally.count(error_type)
    progress.show()


class _ReportingScorer(Scorer):
    """A :class:`Scorer` that tells the driver when it is ready and what it scored."""

    def __init__(self, options: ScoringOptions, reports: object) -> None:
        super().__init__(options)
        self.reports = reports
        reports.mark_ready.remote()

    def __call__(self, batch: pa.Table) -> pa.Table:
        scored = super().__call__(batch)
        self.reports.add.remote(scored.column("error_type").to_pylist())
        return scored


class _Reports:
    """What the actors have scored since the driver last asked (a Ray actor)."""

    def __init__(self) -> None:
        self.ready = False
        self.error_types: list[str | None] = []

    def mark_ready(self) -> None:
        self.ready = True

    def add(self, error_types: list[str | None]) -> None:
        self.error_types += error_types

    def take(self) -> dict:
        taken, self.error_types = self.error_types, []
        return {"ready": self.ready, "error_types": taken}


def _listing_blocks(pending: Iterable[Entry], workers: int) -> list[pa.Table]:
    """The entries as tables of the identity columns: about eight per worker, so that
    the actors share the work evenly to the end, and at most :data:`MAX_BLOCK` files
    each."""
    schema = pa.schema(rows.IDENTITY)
    entries = iter(pending)
    listing = pa.concat_tables(
        [rows.table([], schema)]
        + [
            rows.table([rows.identity_row(entry) for entry in chunk], schema)
            for chunk in iter(lambda: list(islice(entries, MAX_BLOCK)), [])
        ]
    )
    size = min(MAX_BLOCK, max(1, math.ceil(listing.num_rows / (8 * workers))))
    return [listing.slice(start, size) for start in range(0, listing.num_rows, size)]
