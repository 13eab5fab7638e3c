"""The catalogue's songs as columns in memory: what every query reads.

A catalogue may hold several rows of one path: a file changed since it was scored gets
a newer row (a later ``modified``), and a part written before the sound column existed
keeps its rows until the rerun that re-scores them retires it. A song is the newest row
of its path (on a tie, the row of the part with more columns, then the later part);
a path whose newest row is a problem (the file could not be scored) is no song.

Only the small columns are held: paths, valence, arousal, duration, the mood shares and
the audio features present. The sound column (800 bytes a song) is streamed once, part
by part, into the similarity index (:func:`sound_vectors`), never held whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from app import table
from app.analysis import quadrant_numbers
from app.dataset import filesystem, fingerprint, part_infos
from app.errors import NoCatalogueError

NUMERIC_COLUMNS = (
    *table.MOOD_COLUMNS.values(),
    *table.TEMPO_COLUMNS,
    table.KEY,
    table.MODE,
    table.ENERGY,
)
"""The optional columns held in memory when present, for filters and rankings."""

_READ = (table.PATH, table.MODIFIED, table.VALENCE, table.AROUSAL, table.DURATION)


@dataclass
class Songs:
    """The scored songs of a catalogue, one per path, as arrays in one order.

    Attributes
    ----------
    location : the catalogue's folder or URI
    fingerprint : the state of the dataset they were read from (:func:`app.dataset.fingerprint`)
    paths : (songs,) strings
    valence, arousal, duration_s : (songs,) float64
    quadrant : (songs,) the quadrant numbers 1-4 (:func:`app.analysis.quadrant_numbers`)
    numbers : the optional columns present (mood shares, audio features), NaN where null
    columns : every column of the dataset
    part, row : (songs,) where each song's row is: its part's number and its row in it
    parts : the part files, in the order ``part`` numbers them
    """

    location: str
    fingerprint: str
    paths: pa.Array
    valence: np.ndarray
    arousal: np.ndarray
    duration_s: np.ndarray
    quadrant: np.ndarray
    numbers: dict[str, np.ndarray]
    columns: frozenset[str]
    part: np.ndarray
    row: np.ndarray
    parts: list[str]

    def __len__(self) -> int:
        return len(self.valence)

    def __post_init__(self) -> None:
        # Path lookups by hash: 16 bytes a song, where a dict would take ten times more.
        hashes = np.fromiter((hash(p) for p in self.paths.to_pylist()), np.int64, len(self))
        self._order = np.argsort(hashes, kind="stable")
        self._hashes = hashes[self._order]

    def path(self, song: int) -> str:
        """The path of one song."""
        return self.paths[song].as_py()

    def find(self, path: str) -> int | None:
        """The song at ``path``, or None."""
        key = hash(path)
        start = np.searchsorted(self._hashes, key)
        stop = np.searchsorted(self._hashes, key, side="right")
        for song in self._order[start:stop]:
            if self.path(int(song)) == path:
                return int(song)
        return None

    def points(self) -> np.ndarray:
        """(songs, 2) valence and arousal."""
        return np.column_stack([self.valence, self.arousal])


def load_songs(location: str) -> Songs:
    """Read the songs of the catalogue at ``location`` (a folder or a URI).

    Raises
    ------
    NoCatalogueError
        If ``location`` holds no part file.
    """
    infos = part_infos(location)
    if not infos:
        raise NoCatalogueError(f"{location} holds no catalogue (no Parquet part files)")
    fs, _ = filesystem(location)
    parts = [info.path for info in infos]
    schemas = [pq.read_schema(part, filesystem=fs) for part in parts]
    names = frozenset(name for schema in schemas for name in schema.names)
    optional = [name for name in NUMERIC_COLUMNS if name in names]
    pieces = []
    for number, (part, schema) in enumerate(zip(parts, schemas, strict=True)):
        present = [n for n in (*_READ, table.ERROR_TYPE, *optional) if n in schema.names]
        piece = pq.read_table(part, columns=present, filesystem=fs)
        piece = piece.append_column("_part", pa.array(np.full(piece.num_rows, number, np.int32)))
        piece = piece.append_column("_row", pa.array(np.arange(piece.num_rows, dtype=np.int64)))
        # The part's width breaks ties: a row re-scored for a column added later wins.
        width = np.full(piece.num_rows, len(schema.names), np.int32)
        pieces.append(piece.append_column("_width", pa.array(width)))
    rows = pa.concat_tables(pieces, promote_options="default")
    rows = rows.take(_newest_per_path(rows))
    scored = pc.and_(pc.is_null(rows.column(table.ERROR_TYPE)), pc.is_valid(rows["valence"]))
    rows = rows.filter(scored)
    valence = _floats(rows, table.VALENCE)
    arousal = _floats(rows, table.AROUSAL)
    return Songs(
        location=location,
        fingerprint=fingerprint(infos),
        paths=rows.column(table.PATH).combine_chunks(),
        valence=valence,
        arousal=arousal,
        duration_s=_floats(rows, table.DURATION),
        quadrant=quadrant_numbers(valence, arousal).astype(np.int8),
        numbers={name: _floats(rows, name) for name in optional},
        columns=names,
        part=rows.column("_part").to_numpy(),
        row=rows.column("_row").to_numpy(),
        parts=parts,
    )


def _newest_per_path(rows: pa.Table) -> np.ndarray:
    """The index of each path's newest row (ties: the wider part, then the later one)."""
    codes = rows.column(table.PATH).combine_chunks().dictionary_encode().indices.to_numpy()
    modified = rows.column(table.MODIFIED).cast(pa.int64()).fill_null(np.iinfo(np.int64).min)
    order = np.lexsort(
        (
            rows.column("_part").to_numpy(),
            rows.column("_width").to_numpy(),
            modified.to_numpy(),
            codes,
        )
    )
    last = np.ones(len(order), bool)
    last[:-1] = codes[order[1:]] != codes[order[:-1]]
    return np.sort(order[last])


def _floats(rows: pa.Table, name: str) -> np.ndarray:
    """A numeric column as float64, NaN where null."""
    column = rows.column(name).cast(pa.float64()).fill_null(np.nan)
    return column.to_numpy()


def sound_vectors(songs: Songs, batch: int = 8192) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The songs' sound vectors, part by part: (song numbers, (n, SOUND_SIZE) float32)
    pairs, leaving out the songs without one (rows written before the sound column, or
    by a model without musicnn)."""
    fs, _ = filesystem(songs.location)
    by_part = np.argsort(songs.part, kind="stable")
    bounds = np.searchsorted(songs.part[by_part], np.arange(len(songs.parts) + 1))
    for number, part in enumerate(songs.parts):
        members = by_part[bounds[number] : bounds[number + 1]]
        if not len(members) or table.SOUND not in pq.read_schema(part, filesystem=fs).names:
            continue
        column = pq.read_table(part, columns=[table.SOUND], filesystem=fs).column(table.SOUND)
        picked = column.take(pa.array(songs.row[members])).combine_chunks()
        valid = picked.is_valid().to_numpy(zero_copy_only=False)
        if not valid.any():
            continue
        vectors = picked.filter(pa.array(valid)).flatten().to_numpy()
        vectors = vectors.reshape(-1, table.SOUND_SIZE).astype(np.float32, copy=False)
        kept = members[valid]
        for start in range(0, len(kept), batch):
            yield kept[start : start + batch], vectors[start : start + batch]
