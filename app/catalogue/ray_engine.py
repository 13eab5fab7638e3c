"""The Ray engine: the same job on Ray Data, on one machine or a cluster.

The files to score become a dataset; ``map_batches`` runs :class:`Scorer` in a pool
of actors (each one analysis process holding one loaded model), and Ray writes the
rows as Parquet part files into OUT as blocks finish. Every worker must reach the
files by the same locations: object storage URIs, or a filesystem mounted at the
same path on every node.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from itertools import islice

import pyarrow as pa

from app.catalogue import rows
from app.catalogue.progress import Tally
from app.catalogue.scorer import Scorer, ScoringOptions
from app.catalogue.sources import Entry
from app.catalogue.store import part_files, read_column

MAX_BLOCK = 1000
"""Most files in one block of the input dataset."""


def score_ray(
    pending: Iterable[Entry],
    options: ScoringOptions,
    workers: int,
    out: str,
    rows_per_part: int,
    tally: Tally,
    address: str | None = None,
) -> None:
    """Score ``pending`` on Ray with ``workers`` actors and write the rows to ``out``.

    Connects to the cluster at ``address`` (or ``RAY_ADDRESS``), or starts a local Ray
    if none is given and none is running in this process; counts the rows into ``tally``.
    """
    import ray

    if not ray.is_initialized():
        if address or os.environ.get("RAY_ADDRESS"):
            ray.init(address=address, log_to_driver=False)
        else:  # a local Ray: its dashboard would take CPU from the actors
            ray.init(log_to_driver=False, include_dashboard=False)
    blocks = _listing_blocks(pending, workers)
    if not blocks:
        return
    before = set(part_files(out))
    (
        ray.data.from_arrow(blocks)
        .map_batches(
            Scorer,
            fn_constructor_kwargs={"options": options},
            batch_size=1,  # files take seconds each: single files balance the actors best
            batch_format="pyarrow",
            concurrency=workers,
            num_cpus=1,
        )
        .write_parquet(out, min_rows_per_file=rows_per_part)
    )
    written = sorted(set(part_files(out)) - before)
    for error_type in read_column(written, out, "error_type"):
        tally.count(error_type)


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
