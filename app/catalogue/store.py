"""The catalogue on disk: a folder (or prefix) of Parquet part files, one table.

Part files appear only whole: each is written under a temporary name that readers
ignore (a leading ``_``) and renamed when complete, so a job killed at any moment
leaves only whole parts and a rerun finds exactly the rows written so far. A part
file that cannot be read (the remains of a killed Ray write) is removed at the
start of a run, and its files scored again.
"""

from __future__ import annotations

import logging
import time
import uuid

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyarrow import fs as pafs

from app.catalogue import rows
from app.catalogue.sources import Entry
from app.dataset import filesystem, part_files

logger = logging.getLogger("music_emotion.catalogue")

TEMPORARY_PREFIX = "_writing-"
"""Part files being written; pyarrow, DuckDB and Spark skip names starting with ``_``."""


class CatalogueError(Exception):
    """OUT cannot take this job's rows (another schema, or not a catalogue)."""


def prepare(out: str, schema: pa.Schema, *, force: bool) -> list[str]:
    """Make ``out`` ready for this job: create it, drop leftovers of killed writes and,
    with ``force``, every previous part; refuse parts of another schema.

    Returns the parts written before some of this job's columns existed (they lack only
    columns of :data:`rows.ADDED_LATER`): this job scores their files again, and
    :func:`retire` removes them once their rows are all written anew.
    """
    fs, path = filesystem(out)
    fs.create_dir(path)
    for info in fs.get_file_info(pafs.FileSelector(path)):
        if info.base_name.startswith(TEMPORARY_PREFIX):
            fs.delete_file(info.path)
    older = []
    for part in part_files(out):
        try:
            found = pq.read_schema(part, filesystem=fs)
        except (OSError, pa.ArrowInvalid):
            logger.warning("removing %s: an incomplete part file from a killed job", part)
            fs.delete_file(part)
            continue
        if force:
            fs.delete_file(part)
        elif _lacks_only_later_columns(found, schema):
            older.append(part)
        elif not found.equals(schema):
            raise CatalogueError(
                f"{out} holds a catalogue with other columns ({', '.join(found.names)}); "
                "score with the same options, or give --force or another --out"
            )
    return older


def _lacks_only_later_columns(found: pa.Schema, schema: pa.Schema) -> bool:
    """Whether ``found`` is ``schema`` without some of the columns added later."""
    missing = set(schema.names) - set(found.names)
    if not missing or not missing <= rows.ADDED_LATER:
        return False
    return found.equals(pa.schema([f for f in schema if f.name not in missing]))


def missing_columns(out: str, older: list[str], schema: pa.Schema) -> list[str]:
    """The columns of ``schema`` that some of the ``older`` parts lack, sorted."""
    fs, _ = filesystem(out)
    missing: set[str] = set()
    for part in older:
        missing |= set(schema.names) - set(pq.read_schema(part, filesystem=fs).names)
    return sorted(missing)


def retire(out: str, older: list[str]) -> list[str]:
    """Remove the ``older`` parts whose every file has a row in the other parts (scored
    again by this job); the ones removed. A part with a file this job did not reach
    (gone, or not among its sources) stays: its rows are kept as they are."""
    fs, _ = filesystem(out)
    done = Done(out, leave_out=older)
    retired = []
    for part in older:
        identities = pq.read_table(part, columns=[f.name for f in rows.IDENTITY], filesystem=fs)
        if all(done.has(key) for key in _hashes(identities)):
            fs.delete_file(part)
            retired.append(part)
    return retired


class Done:
    """Identities of the files already in the catalogue, for skipping them, and of those
    among them whose row is a problem; the parts ``leave_out`` (older parts, whose files
    are scored again) do not count.

    Holds an 8-byte hash per row (80 MB for ten million files), never the rows.
    """

    def __init__(self, out: str, leave_out: list[str] = ()) -> None:
        fs, _ = filesystem(out)
        every, failed = [], []
        for part in part_files(out):
            if part in leave_out:
                continue
            columns = [f.name for f in rows.IDENTITY] + ["error_type"]
            table = pq.read_table(part, columns=columns, filesystem=fs)
            every.append(_hashes(table))
            failed.append(_hashes(table.filter(pc.is_valid(table.column("error_type")))))
        self._hashes = _sorted(every)
        self._failed = _sorted(failed)

    def __len__(self) -> int:
        return self._hashes.size

    def __contains__(self, entry: Entry) -> bool:
        return self.has(hash(entry.identity))

    def has(self, key: int) -> bool:
        """Whether an identity's hash is in the catalogue."""
        return _holds(self._hashes, key)

    def failed(self, entry: Entry) -> bool:
        """Whether the row of ``entry`` in the catalogue is a problem."""
        return _holds(self._failed, hash(entry.identity))


def _sorted(hashes: list[np.ndarray]) -> np.ndarray:
    return np.sort(np.concatenate(hashes)) if hashes else np.empty(0, np.int64)


def _holds(hashes: np.ndarray, key: int) -> bool:
    i = np.searchsorted(hashes, key)
    return bool(i < hashes.size and hashes[i] == key)


def _hashes(identities: pa.Table) -> np.ndarray:
    modified = identities.column("modified").cast(pa.int64()).to_pylist()
    return np.fromiter(
        (
            hash((path, size, mtime))
            for path, size, mtime in zip(
                identities.column("path").to_pylist(),
                identities.column("size_bytes").to_pylist(),
                modified,
                strict=True,
            )
        ),
        np.int64,
        count=identities.num_rows,
    )


class PartWriter:
    """Collect rows and write them as part files of ``rows_per_part`` rows, or sooner
    once ``seconds_per_part`` have passed since the last part, so little is lost to a kill.

    Parameters
    ----------
    out : str
        The catalogue's folder or URI.
    schema : pa.Schema
    rows_per_part : int
    seconds_per_part : float
    """

    def __init__(
        self, out: str, schema: pa.Schema, rows_per_part: int, seconds_per_part: float = 30.0
    ) -> None:
        self.fs, self.folder = filesystem(out)
        self.schema = schema
        self.rows_per_part = rows_per_part
        self.seconds_per_part = seconds_per_part
        self.run = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        self._names = (f"part-{self.run}-{n:05d}.parquet" for n in range(10**9))
        self._rows: list[dict] = []
        self._last = time.monotonic()

    def add(self, row: dict) -> None:
        """Keep ``row``; write a part if it is due."""
        self._rows.append(row)
        if len(self._rows) >= self.rows_per_part:
            self.flush()

    def flush_if_due(self) -> None:
        """Write the rows held if the last part is older than ``seconds_per_part``."""
        if self._rows and time.monotonic() - self._last >= self.seconds_per_part:
            self.flush()

    def flush(self) -> None:
        """Write the rows held as one part file, atomically."""
        if self._rows:
            name = next(self._names)
            temporary = f"{self.folder}/{TEMPORARY_PREFIX}{name}"
            with self.fs.open_output_stream(temporary) as stream:
                pq.write_table(rows.table(self._rows, self.schema), stream)
            self.fs.move(temporary, f"{self.folder}/{name}")
            self._rows = []
        self._last = time.monotonic()
