"""A catalogue opened for queries: search, similar songs, playlists and the songs' points.

The command line, the HTTP API and Python programs all call :class:`Catalogue`, and
each answer is a list of :class:`Track`; :meth:`Track.as_dict` is the one JSON shape
of a song in an answer, rounded like every number the service reports.

>>> from app.search.catalogue import Catalogue            # doctest: +SKIP
>>> catalogue = Catalogue.open("catalogue/")             # doctest: +SKIP
>>> catalogue.search(valence=0.5, arousal=-0.4, limit=3)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from app import table
from app.analysis import Emotion, Quadrant
from app.errors import (
    InvalidQueryError,
    MissingColumnError,
    SearchUnavailableError,
    UnknownSongError,
)
from app.model import MOODS
from app.result import rounded
from app.search.filters import Filters, tempo_column

if TYPE_CHECKING:  # pyarrow and usearch are imported once the extra is known present
    from scipy.spatial import cKDTree

    from app.search.index import SoundIndex
    from app.search.similar import Scales
    from app.search.songs import Songs

MAX_LIMIT = 1000
"""Most songs one answer holds."""

MAX_LENGTH = 200
"""Most songs in one playlist."""

NO_SOUND = (
    "this catalogue's songs have no sound column (it was scored before it existed, or by "
    "a model without musicnn): rerun music-emotion catalogue with the same sources and "
    "--out; it scores again only the files without it"
)

Point = tuple[float, float]


@dataclass(frozen=True)
class Track:
    """One song in an answer; the fields a query does not give are None (left out of
    :meth:`as_dict`).

    Attributes
    ----------
    path, valence, arousal, quadrant : the song, as the catalogue holds it
    distance : search: to the query's point in the plane; similar: the mixed distance
        (:mod:`app.search.similar`); playlist: to the song's target point on the way
    share : search by mood: the song's share of that mood
    sound_distance, plane_distance : similar: the two distances mixed
    duplicate : similar: the same audio as the query's under another path
    position : playlist: the song's position along the way, 0 at the start, 1 at the end
    """

    path: str
    valence: float
    arousal: float
    quadrant: str
    distance: float | None = None
    share: float | None = None
    sound_distance: float | None = None
    plane_distance: float | None = None
    duplicate: bool | None = None
    position: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The song as JSON: the fields given, numbers rounded to 4 decimals."""
        return rounded({key: value for key, value in asdict(self).items() if value is not None})


@dataclass
class Catalogue:
    """A catalogue's songs, the k-d tree of their points and the index of their sound.

    Build it with :meth:`open`.
    """

    songs: Songs
    index: SoundIndex
    tree: cKDTree = field(init=False)
    scales: Scales = field(init=False)

    def __post_init__(self) -> None:
        from app.search.plane import plane_tree
        from app.search.similar import Scales

        self.tree = plane_tree(self.songs)
        self.scales = Scales.of(self.songs, self.index)

    @classmethod
    def open(cls, location: str) -> Catalogue:
        """Read the catalogue at ``location`` (a folder or a URI), with its index (built
        and kept beside it when missing or stale).

        Raises
        ------
        SearchUnavailableError
            Without the ``catalogue`` extra.
        NoCatalogueError
            If ``location`` holds no catalogue.
        CorruptIndexError
            If the index beside it is damaged.
        """
        try:
            import pyarrow  # noqa: F401
            import usearch  # noqa: F401
        except ImportError as error:
            raise SearchUnavailableError(
                f"catalogue queries need {error.name}: pip install 'music-emotion[catalogue]'"
            ) from None
        from app.search.index import open_index
        from app.search.songs import load_songs

        songs = load_songs(location)
        return cls(songs, open_index(songs))

    @property
    def location(self) -> str:
        """Where the catalogue is."""
        return self.songs.location

    def is_current(self) -> bool:
        """Whether the dataset is still the one read (no part added or removed since)."""
        from app.dataset import fingerprint, part_infos

        return fingerprint(part_infos(self.location)) == self.songs.fingerprint

    def search(
        self,
        valence: float | None = None,
        arousal: float | None = None,
        *,
        mood: str | None = None,
        limit: int = 10,
        filters: Filters | None = None,
    ) -> list[Track]:
        """The ``limit`` songs nearest to (``valence``, ``arousal``), nearest first: exact.

        With a ``mood`` (a GEMS category, :data:`app.model.MOODS`) they are the songs with
        the largest share of it instead, ties nearest to the point if one is given.
        ``filters`` keep only the songs that meet them.
        """
        from app.search.plane import by_share, distances, nearest

        _check_limit(limit)
        point = _point(valence, arousal)
        if point is None and mood is None:
            raise InvalidQueryError("give a point (valence and arousal), a mood, or both")
        keep = (filters or Filters()).mask(self.songs, point)
        if mood is None:
            found = nearest(self.songs, self.tree, point, limit, keep)
            return [self._track(s, distance=d) for s, d in self._measured(found, point)]
        if mood not in MOODS:
            raise InvalidQueryError(f"{mood!r} is no mood; the moods are {', '.join(MOODS)}")
        shares = self.songs.numbers.get(table.MOOD_COLUMNS[mood])
        if shares is None:
            raise MissingColumnError(
                "this catalogue has no mood shares: it was scored by a model without a mood head"
            )
        found = by_share(self.songs, shares, limit, keep, point)
        measured = distances(self.songs, point, found) if point else [None] * len(found)
        return [
            self._track(s, distance=d, share=float(shares[s]))
            for s, d in zip(found, measured, strict=True)
        ]

    def similar(
        self,
        path: str | None = None,
        *,
        emotion: Emotion | None = None,
        limit: int = 10,
        sound_weight: float | None = None,
    ) -> list[Track]:
        """The ``limit`` other songs most like one: the catalogue's song at ``path`` (looked
        up, never opened), or a new song's analysis ``emotion``. Copies of its audio
        under other paths come first, marked duplicate; never the song itself.
        ``sound_weight`` (0-1) weighs sound against mood (:mod:`app.search.similar`)."""
        from app.search.similar import SOUND_WEIGHT, rank_similar

        _check_limit(limit)
        weight = SOUND_WEIGHT if sound_weight is None else sound_weight
        if not 0 <= weight <= 1:
            raise InvalidQueryError(f"sound_weight {weight} is not within 0-1")
        if (path is None) == (emotion is None):
            raise InvalidQueryError("give the path of a song of the catalogue, or a new song")
        self._need_sound()
        if path is not None:
            own = self._song(path)
            sound = self.index.vectors(np.array([own]))[0]
            point = (self.songs.valence[own], self.songs.arousal[own])
            duration = self.songs.duration_s[own]
        else:
            own = None
            sound = table.sound_of(emotion.features.embedding)
            if sound is None:
                raise MissingColumnError("the model analysing the song computes no sound")
            point, duration = (emotion.valence, emotion.arousal), emotion.duration_s
        found = rank_similar(
            self.songs,
            self.index,
            self.tree,
            self.scales,
            sound=sound,
            point=point,
            duration_s=duration,
            own=own,
            limit=limit,
            weight=weight,
        )
        return [
            self._track(
                like.song,
                distance=like.distance,
                sound_distance=like.sound,
                plane_distance=like.plane,
                duplicate=like.duplicate,
            )
            for like in found
        ]

    def playlist(self, start: Point | str, end: Point | str, length: int) -> list[Track]:
        """``length`` distinct songs travelling from ``start`` to ``end``, each a point
        (valence, arousal) or the path of a seed song (:mod:`app.search.playlist`)."""
        from app.search.plane import distances
        from app.search.playlist import positions, travel

        if not 2 <= length <= MAX_LENGTH:
            raise InvalidQueryError(f"a playlist holds 2 to {MAX_LENGTH} songs, not {length}")
        self._need_sound()
        first, a = self._end(start)
        last, b = self._end(end)
        if first is not None and first == last:
            raise InvalidQueryError("a playlist needs two different seed songs")
        tempo = None
        if any(name in self.songs.numbers for name in table.TEMPO_COLUMNS):
            tempo = tempo_column(self.songs)
        found = travel(
            self.songs,
            self.index,
            self.tree,
            self.scales,
            start=a,
            end=b,
            length=length,
            first=first,
            last=last,
            tempo=tempo,
        )
        along = positions(self.songs, np.asarray(a), np.asarray(b), np.asarray(found, np.int64))
        aims = np.asarray(a) + np.outer(np.linspace(0.0, 1.0, length), np.subtract(b, a))
        return [
            self._track(s, distance=float(distances(self.songs, tuple(aim), s)), position=t)
            for s, t, aim in zip(found, along.tolist(), aims, strict=True)
        ]

    def points(self, most: int | None = None) -> dict[str, Any]:
        """Every song's path, valence and arousal, as three columns (the page's plane), and
        ``total``, the number of songs; past ``most`` songs, an even sample of them."""
        total = len(self.songs)
        step = max(1, -(-total // most)) if most else 1
        return {
            "path": self.songs.paths[::step].to_pylist(),
            "valence": rounded(self.songs.valence[::step].tolist()),
            "arousal": rounded(self.songs.arousal[::step].tolist()),
            "total": total,
        }

    def _track(self, song: int, **fields: Any) -> Track:
        songs = self.songs
        v, a = float(songs.valence[song]), float(songs.arousal[song])
        return Track(songs.path(int(song)), v, a, Quadrant.of(v, a).value, **fields)

    def _measured(self, found: np.ndarray, point: Point) -> list[tuple[int, float]]:
        from app.search.plane import distances

        return list(zip(found.tolist(), distances(self.songs, point, found).tolist(), strict=True))

    def _song(self, path: str) -> int:
        song = self.songs.find(path)
        if song is None:
            raise UnknownSongError(f"the catalogue holds no scored song at {path!r}")
        if not self.index.has(np.array([song]))[0]:
            raise MissingColumnError(f"{path!r} has no sound: {NO_SOUND}")
        return song

    def _end(self, end: Point | str) -> tuple[int | None, Point]:
        """A playlist's end: (its seed song or None, its point)."""
        if isinstance(end, str):
            song = self._song(end)
            return song, (float(self.songs.valence[song]), float(self.songs.arousal[song]))
        point = _point(*end)
        if point is None:
            raise InvalidQueryError("a playlist's end is a point (valence, arousal) or a song")
        return None, point

    def _need_sound(self) -> None:
        if not self.index.size:
            raise MissingColumnError(NO_SOUND)


def parse_end(text: str) -> tuple[float, float] | str:
    """A playlist's end as given: ``V,A`` is a point, anything else a song's path."""
    parts = text.split(",")
    if len(parts) == 2:
        try:
            return float(parts[0]), float(parts[1])
        except ValueError:
            pass
    return text


def _point(valence: float | None, arousal: float | None) -> Point | None:
    if (valence is None) != (arousal is None):
        raise InvalidQueryError("give both valence and arousal, or neither")
    if valence is None:
        return None
    if not (-1 <= valence <= 1 and -1 <= arousal <= 1):
        raise InvalidQueryError("valence and arousal lie within -1 and 1")
    return (float(valence), float(arousal))


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidQueryError(f"limit {limit} is not within 1-{MAX_LIMIT}")
