"""``/v1/catalogue``: search the service's catalogue, find similar songs, make playlists.

A service started with ``MUSIC_EMOTION_CATALOGUE`` (a folder or an ``s3://`` prefix
written by ``music-emotion catalogue``) loads it in the background at start; until it
is loaded these routes answer 503 ``not-ready``, without the setting 404
``no-catalogue``, and without the ``catalogue`` extra 501 ``search-unavailable``. The
answers are those of :class:`app.search.catalogue.Catalogue`, as the command line and
Python get them. A song is named by its path in the catalogue's rows and looked up
there: no request makes the service open a file of its own disk.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Annotated

from fastapi import (
    APIRouter,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    Response,
    Security,
    UploadFile,
)
from pydantic import BaseModel, Field

from app.api.deps import SettingsDep, api_key_header, get_pool
from app.api.problems import problem_responses
from app.api.uploads import analyse_one
from app.errors import InvalidQueryError, NoCatalogueError, SearchError
from app.model import MOODS

if TYPE_CHECKING:
    from app.search.catalogue import Catalogue, Track

logger = logging.getLogger("music_emotion")

router = APIRouter(
    prefix="/v1/catalogue", tags=["catalogue"], dependencies=[Security(api_key_header)]
)

CHECK_EVERY_S = 60.0
"""How often the dataset is looked at for new or removed parts (then reloaded)."""

MAX_POINTS = 250_000
"""Most songs ``/points`` sends; a larger catalogue sends an even sample of them."""

PROBLEMS = problem_responses(401, 404, 422, 500, 501, 503)
UPLOAD_PROBLEMS = problem_responses(400, 401, 404, 413, 415, 422, 500, 501, 503, 504)
"""``/similar`` also takes an upload, which can be malformed, too large or not audio."""


class TrackOut(BaseModel):
    """A song in an answer (:class:`app.search.catalogue.Track`); numbers rounded to 4
    decimals, the fields a query does not give left out."""

    path: str = Field(examples=["/music/rock/a.mp3"])
    valence: float = Field(examples=[0.41])
    arousal: float = Field(examples=[-0.27])
    quadrant: str = Field(examples=["calm/relaxed"])
    distance: float | None = Field(
        None,
        description="search: to the point in the plane; similar: sound and mood mixed; "
        "playlist: to the song's target on the way",
    )
    share: float | None = Field(None, description="search by mood: the song's share of it")
    sound_distance: float | None = Field(None, description="similar: cosine distance of sound")
    plane_distance: float | None = Field(None, description="similar: distance in the plane")
    duplicate: bool | None = Field(
        None, description="similar: the same audio as the query's, under another path"
    )
    position: float | None = Field(
        None, description="playlist: the song's position along the way, 0 to 1"
    )


class Tracks(BaseModel):
    """Songs, nearest (or first) first."""

    tracks: list[TrackOut]


class Points(BaseModel):
    """Every song's path and point, as columns (an even sample past 250,000 songs)."""

    path: list[str]
    valence: list[float]
    arousal: list[float]
    total: int = Field(description="Songs in the catalogue.")


class ServedCatalogue:
    """The service's catalogue: loaded in the background, reloaded when its dataset
    changes (the loaded one answers meanwhile), and the error that stopped it if any."""

    def __init__(self, location: str | None) -> None:
        self.location = location
        self.catalogue: Catalogue | None = None
        self.error: Exception | None = None
        self._loading = False
        self._checked = time.monotonic()
        self._lock = threading.Lock()
        self._points: dict[str, bytes] = {}

    def start(self) -> None:
        """Load the catalogue in a background thread."""
        if self.location is not None:
            self._in_background(self._load)

    def get(self) -> Catalogue:
        """The loaded catalogue; raises the problem that stands in its place."""
        if self.location is None:
            raise NoCatalogueError(
                "this service has no catalogue (MUSIC_EMOTION_CATALOGUE is unset)"
            )
        if time.monotonic() - self._checked > CHECK_EVERY_S:
            self._checked = time.monotonic()
            self._in_background(self._reload_if_changed)
        if self.catalogue is not None:
            return self.catalogue
        if self.error is not None:
            if isinstance(self.error, SearchError):
                raise type(self.error)(str(self.error))
            raise RuntimeError(f"the catalogue cannot be loaded: {self.error}")
        raise HTTPException(503, "the catalogue is still loading", headers={"Retry-After": "5"})

    def points(self, encoding: str) -> bytes:
        """The ``/points`` answer as JSON, plain (``encoding`` "identity") or "gzip",
        made once per loaded catalogue."""
        catalogue = self.get()
        with self._lock:
            if not self._points:
                plain = json.dumps(catalogue.points(MAX_POINTS)).encode()
                self._points = {"identity": plain, "gzip": gzip.compress(plain, 5)}
            return self._points[encoding]

    def _in_background(self, work) -> None:
        with self._lock:
            if self._loading:
                return
            self._loading = True
        threading.Thread(target=work, name="catalogue-load", daemon=True).start()

    def _load(self) -> None:
        from app.search.catalogue import Catalogue

        started = time.perf_counter()
        try:
            catalogue = Catalogue.open(self.location)
        except Exception as error:  # told to every request until a reload succeeds
            logger.warning("the catalogue %s cannot be loaded: %s", self.location, error)
            self.error = error
        else:
            with self._lock:
                self.catalogue, self.error, self._points = catalogue, None, {}
            logger.info(
                "catalogue %s loaded: %d songs in %.1f s",
                self.location,
                len(catalogue.songs),
                time.perf_counter() - started,
            )
        finally:
            self._loading = False

    def _reload_if_changed(self) -> None:
        try:
            current = self.catalogue is not None and self.catalogue.is_current()
        except Exception:  # the location cannot be read now: keep what is loaded
            current = self.catalogue is not None
        if current:
            self._loading = False
        else:
            self._load()


def get_catalogue(request: Request) -> Catalogue:
    """The service's catalogue, or the problem that stands in its place."""
    return request.app.state.catalogue.get()


def tracks(found: list[Track]) -> Tracks:
    """An answer of songs."""
    return Tracks(tracks=[TrackOut(**track.as_dict()) for track in found])


MOOD_HELP = f"Rank by a mood's share instead: {', '.join(MOODS)}."

Limit = Annotated[int, Query(ge=1, le=1000, description="Most songs in the answer.")]


@router.get("/search", response_model=Tracks, response_model_exclude_none=True, responses=PROBLEMS)
def search(
    request: Request,
    valence: Annotated[float | None, Query(ge=-1, le=1)] = None,
    arousal: Annotated[float | None, Query(ge=-1, le=1)] = None,
    mood: Annotated[
        str | None, Query(description=f"Rank by a mood's share: {', '.join(MOODS)}")
    ] = None,
    within: Annotated[
        float | None, Query(ge=0, description="Largest distance from the point.")
    ] = None,
    quadrant: Annotated[str | None, Query(description="1-4 or a name such as calm.")] = None,
    tempo_min: Annotated[float | None, Query(description="BPM")] = None,
    tempo_max: Annotated[float | None, Query(description="BPM")] = None,
    key: Annotated[str | None, Query(description="0-11 or a name such as F#.")] = None,
    mode: Annotated[str | None, Query(description="major or minor.")] = None,
    energy_min: Annotated[float | None, Query(ge=0, le=1)] = None,
    energy_max: Annotated[float | None, Query(ge=0, le=1)] = None,
    limit: Limit = 10,
) -> Tracks:
    """The songs nearest to a point of the plane, nearest first (exact), or with the
    largest share of a mood; filters keep only the songs that meet them.

    Example: `curl 'http://127.0.0.1:8000/v1/catalogue/search?valence=0.5&arousal=-0.5&limit=5'`.
    """
    from app.search.filters import Filters, parse_key, parse_mode, parse_quadrant

    filters = Filters(
        quadrant=None if quadrant is None else parse_quadrant(quadrant),
        tempo_min=tempo_min,
        tempo_max=tempo_max,
        key=None if key is None else parse_key(key),
        mode=None if mode is None else parse_mode(mode),
        energy_min=energy_min,
        energy_max=energy_max,
        within=within,
    )
    catalogue = get_catalogue(request)
    return tracks(catalogue.search(valence, arousal, mood=mood, limit=limit, filters=filters))


@router.post(
    "/similar",
    response_model=Tracks,
    response_model_exclude_none=True,
    responses=UPLOAD_PROBLEMS,
)
async def similar(
    request: Request,
    settings: SettingsDep,
    file: Annotated[UploadFile | None, File(description="A new song: an audio file.")] = None,
    path: Annotated[
        str | None, Form(description="Or a song of the catalogue: its path, as its rows hold it.")
    ] = None,
    limit: Limit = 10,
    sound_weight: Annotated[
        float | None, Query(ge=0, le=1, description="Sound against mood, 0-1 (0.5).")
    ] = None,
) -> Tracks:
    """The other songs most like one, by sound and mood; copies of its audio under other
    paths first, marked `duplicate`; never the song itself.

    Example: `curl -F path=/music/rock/a.mp3 http://127.0.0.1:8000/v1/catalogue/similar`
    or `curl -F file=@song.mp3 ...`.
    """
    if (file is None) == (path is None):
        raise InvalidQueryError("send either a file (an upload) or a path of the catalogue")
    catalogue = get_catalogue(request)
    if path is not None:
        found = await asyncio.to_thread(
            catalogue.similar, path, limit=limit, sound_weight=sound_weight
        )
        return tracks(found)
    pool = await get_pool(request)  # only an upload waits for the analysis processes
    emotion = await analyse_one(request, pool, settings, file, lambda emotion: emotion)
    found = await asyncio.to_thread(
        catalogue.similar, emotion=emotion, limit=limit, sound_weight=sound_weight
    )
    return tracks(found)


@router.get(
    "/playlist", response_model=Tracks, response_model_exclude_none=True, responses=PROBLEMS
)
def playlist(
    request: Request,
    start: Annotated[str, Query(alias="from", description="V,A or a path of the catalogue.")],
    end: Annotated[str, Query(alias="to", description="V,A or a path of the catalogue.")],
    length: Annotated[int, Query(ge=2, le=200, description="Songs in the playlist.")] = 10,
) -> Tracks:
    """Songs travelling steadily from one point (or seed song) of the plane to another,
    each close in sound and tempo to the one before; no song twice.

    Example: `curl 'http://127.0.0.1:8000/v1/catalogue/playlist?from=-0.5,-0.5&to=0.5,0.5&length=8'`.
    """
    from app.search.catalogue import parse_end

    catalogue = get_catalogue(request)
    return tracks(catalogue.playlist(parse_end(start), parse_end(end), length))


@router.get("/points", response_model=Points, responses=PROBLEMS)
def points(request: Request) -> Response:
    """Every song's path, valence and arousal as three columns, for drawing the catalogue
    (gzip-compressed for a client that accepts it)."""
    served: ServedCatalogue = request.app.state.catalogue
    headers = {"Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(served.points("gzip"), media_type="application/json", headers=headers)
    return Response(served.points("identity"), media_type="application/json", headers=headers)
