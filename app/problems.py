"""The one vocabulary of errors: each problem type, and the problem of any exception.

Every error the service, the command line or the catalogue reports is one of
:data:`PROBLEM_TYPES`, named by a slug; over HTTP its type URI is ``/problems/<slug>``
(RFC 9457), and that URI answers a page built from the same entry. :func:`problem_of`
maps an exception to its problem; nothing here depends on the web framework.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from app.errors import (
    AnalysisTimeoutError,
    AudioFeaturesUnavailableError,
    AudioTooShortError,
    CorruptIndexError,
    EmptyInputError,
    InputTooLargeError,
    InvalidQueryError,
    MissingColumnError,
    NoCatalogueError,
    SearchUnavailableError,
    SilentAudioError,
    UndecodableAudioError,
    UnknownSongError,
    WorkerCrashedError,
)


@dataclass(frozen=True)
class ProblemType:
    """One kind of error: its HTTP status, a short title, and what it means and what to do."""

    slug: str
    status: int
    title: str
    meaning: str
    advice: str
    example: str
    """A typical ``detail``, for the API's documentation."""

    @property
    def uri(self) -> str:
        """The type URI, relative to the service (``/problems/<slug>``)."""
        return f"/problems/{self.slug}"


PROBLEM_TYPES: dict[str, ProblemType] = {
    t.slug: t
    for t in (
        ProblemType(
            "empty-file",
            400,
            "Empty file",
            "The uploaded file holds no bytes.",
            "Send the file's content: with curl, put an @ before the path (-F file=@song.mp3).",
            "the file is empty",
        ),
        ProblemType(
            "unreadable-file",
            400,
            "Unreadable file",
            "The path names a folder, a file that does not exist, or one that cannot be read.",
            "Give the path of an audio file that this process may read.",
            "'songs' is a folder, not a file",
        ),
        ProblemType(
            "malformed-request",
            400,
            "Malformed request",
            "The request body could not be parsed, for example a broken multipart form.",
            "Send a multipart/form-data body, as curl -F does.",
            "There was an error parsing the body",
        ),
        ProblemType(
            "api-key-required",
            401,
            "API key required",
            "This service requires an API key on /v1 requests; the request had none, "
            "or a wrong one, in its X-API-Key header.",
            "Send the key the operator gave you: -H 'X-API-Key: <key>'.",
            "a valid X-API-Key header is required",
        ),
        ProblemType(
            "not-found",
            404,
            "Not found",
            "Nothing answers at this path.",
            "The API's paths are listed at /docs.",
            "Not Found",
        ),
        ProblemType(
            "unknown-model",
            404,
            "Unknown model",
            "The path names a model this service does not run.",
            "Use the model name given by the service's answers (model.name), "
            "music-emotion for the shipped model.",
            "no model named 'x'; this service runs 'music-emotion'",
        ),
        ProblemType(
            "no-catalogue",
            404,
            "No catalogue",
            "This service has no catalogue to search: the setting MUSIC_EMOTION_CATALOGUE "
            "is unset, or the catalogue at its location holds no scored song.",
            "Start the service with MUSIC_EMOTION_CATALOGUE set to the folder or s3:// "
            "prefix of a catalogue made by music-emotion catalogue.",
            "this service has no catalogue (MUSIC_EMOTION_CATALOGUE is unset)",
        ),
        ProblemType(
            "unknown-song",
            404,
            "Unknown song",
            "The catalogue holds no scored song at this path (it is looked up in the "
            "catalogue's rows, never opened).",
            "Give the path exactly as the catalogue's path column holds it, or upload the "
            "file itself.",
            "the catalogue holds no scored song at '/music/a.mp3'",
        ),
        ProblemType(
            "method-not-allowed",
            405,
            "Method not allowed",
            "The path exists but does not answer this HTTP method.",
            "Analyses are POST requests; health, metadata and metrics are GET. See /docs.",
            "Method Not Allowed",
        ),
        ProblemType(
            "file-too-large",
            413,
            "File too large",
            "The upload is larger than the service's limit for one file "
            "(the setting MUSIC_EMOTION_MAX_UPLOAD_BYTES); it was refused before being read.",
            "Send a shorter or more compressed file: only the first minutes are analysed anyway "
            "(MUSIC_EMOTION_MAX_DURATION_S).",
            "the file exceeds the limit of 50000000 bytes (50 MB), which the setting "
            "MUSIC_EMOTION_MAX_UPLOAD_BYTES raises",
        ),
        ProblemType(
            "batch-too-large",
            413,
            "Batch too large",
            "The files of a batch add up to more than the service's limit for one batch "
            "(the setting MUSIC_EMOTION_MAX_BATCH_BYTES); it was refused before being read.",
            "Split the files over several batch requests.",
            "the batch exceeds the limit of 100000000 bytes (100 MB) for all its files, which "
            "the setting MUSIC_EMOTION_MAX_BATCH_BYTES raises",
        ),
        ProblemType(
            "too-many-files",
            413,
            "Too many files",
            "The batch holds more files than the service's limit "
            "(the setting MUSIC_EMOTION_MAX_BATCH_FILES).",
            "Split the files over several batch requests.",
            "a batch holds at most 16 files; this one holds 20",
        ),
        ProblemType(
            "unsupported-audio",
            415,
            "Unsupported audio",
            "No decoder could read the file as audio: it is not audio, its format is not "
            "supported, it is too damaged to decode, or it has more than 8 channels or "
            "NaN samples. Files are recognised by their content, whatever their name.",
            "Send mp3, wav, flac, ogg/opus or m4a/aac audio; check that the file plays.",
            "the file is not audio in a supported format",
        ),
        ProblemType(
            "invalid-request",
            422,
            "Invalid request",
            "The request lacks a required part or has a malformed parameter.",
            "Compare the request with the examples at /docs: the file goes in the multipart "
            "field 'file' (or 'files' for a batch).",
            "the body is audio/mpeg, not multipart/form-data; send the audio as a "
            "multipart/form-data field named 'file' (curl -F file=@song.mp3)",
        ),
        ProblemType(
            "missing-column",
            422,
            "Missing column",
            "The query needs a column this catalogue does not have: tempo, key, mode and "
            "energy come with music-emotion catalogue --audio-features (tempo also with "
            "--features), and the songs' sound, which similar songs and playlists read, "
            "with a model that computes musicnn's embedding.",
            "Leave that filter out, or score the catalogue with the option that adds the "
            "column; the error's detail names it.",
            "this catalogue has no key column: score it with --audio-features",
        ),
        ProblemType(
            "audio-too-short",
            422,
            "Audio too short",
            "The audio lasts less than one second: too little music to tell an emotion.",
            "Send at least one second of audio.",
            "the audio lasts 0.40 s; at least 1 s is needed",
        ),
        ProblemType(
            "silent-audio",
            422,
            "Silent audio",
            "The audio is silent (nothing above -70 LUFS): it has no emotion to tell.",
            "Check that the file holds the intended recording.",
            "the audio is silent",
        ),
        ProblemType(
            "analysis-crashed",
            500,
            "Analysis crashed",
            "The process analysing the file stopped (a decoder crash, or it was killed); "
            "a fresh one takes the next request.",
            "Retry once; if this file fails again, it crashes the decoder: report it.",
            "the analysis process stopped",
        ),
        ProblemType(
            "internal-error",
            500,
            "Internal error",
            "An unexpected error in the service.",
            "Retry later; if it persists, report it with the time of the request.",
            "internal error",
        ),
        ProblemType(
            "corrupt-index",
            500,
            "Corrupt index",
            "The similarity index kept beside the catalogue (its _index folder) is damaged: "
            "its content differs from what its manifest records. It is refused, never used; "
            "the catalogue's rows are untouched.",
            "Delete the catalogue's _index folder: the next start of the service (or "
            "music-emotion similar) builds it again from the rows.",
            "the index _index/sound-0123abcd.usearch is damaged (its SHA-256 differs from "
            "its manifest's); delete _index to rebuild it",
        ),
        ProblemType(
            "search-unavailable",
            501,
            "Search unavailable",
            "This installation cannot query catalogues: it lacks the catalogue extra "
            "(pyarrow, which reads the dataset, and usearch, its similarity index).",
            "Install it (pip install 'music-emotion[catalogue]') and restart the service.",
            "catalogue queries need the catalogue extra: pip install 'music-emotion[catalogue]'",
        ),
        ProblemType(
            "audio-features-unavailable",
            501,
            "Audio features unavailable",
            "The served model cannot give Spotify's audio features: it reads no musicnn "
            "network (whose tags most fields come from), or its folder has no usable "
            "audio_features.json (the fields' calibration). Its emotion answers are unaffected.",
            "Serve a model that has both, such as the shipped one (MUSIC_EMOTION_MODEL_PATH); "
            "retrying the same service does not help.",
            "model my-model 1.0.0 has no audio_features.json beside it; "
            "python -m training.audio_features writes one",
        ),
        ProblemType(
            "not-ready",
            503,
            "Not ready",
            "The service is still starting its analysis processes: loading the model and "
            "warming up, a few seconds, and on a first start compiling the feature kernels "
            "first, longer. The detail says which, and about how long it takes.",
            "Retry after the seconds given in the Retry-After header; GET /v2/health/ready "
            "answers 200 once the service is ready.",
            "the service is starting: loading the model and warming up (a few seconds); "
            "retry in a few seconds",
        ),
        ProblemType(
            "start-failed",
            503,
            "Start failed",
            "The service's analysis processes failed to start (its log says why); "
            "liveness answers 503 so that an orchestrator restarts it.",
            "Restart the service; if it fails again, read its log (a missing model, "
            "not enough memory).",
            "the analysis processes failed to start",
        ),
        ProblemType(
            "at-capacity",
            503,
            "At capacity",
            "Every analysis process is busy and the expected wait for one is longer than "
            "MAX_QUEUE_WAIT_S (or the queue's hard cap is reached); the request was refused "
            "at once rather than queued past what the service can answer in time.",
            "Retry after the seconds given in the Retry-After header.",
            "the service is at capacity; retry shortly",
        ),
        ProblemType(
            "analysis-timeout",
            504,
            "Analysis timed out",
            "The analysis ran past the time limit (the setting "
            "MUSIC_EMOTION_ANALYSIS_TIMEOUT_S) and was stopped.",
            "Retry when the service is less busy, or send a shorter file.",
            "the analysis took longer than 60 s",
        ),
    )
}
"""Every problem type, by slug."""

SLUG_OF_STATUS = {
    400: "malformed-request",
    401: "api-key-required",
    404: "not-found",
    405: "method-not-allowed",
    413: "file-too-large",
    422: "invalid-request",
    500: "internal-error",
    503: "not-ready",
}
"""The problem type of an HTTP error that names no more precise one (the framework's own)."""

SLUG_OF_ERROR: dict[type[BaseException], str] = {
    EmptyInputError: "empty-file",
    InputTooLargeError: "file-too-large",
    UndecodableAudioError: "unsupported-audio",
    AudioTooShortError: "audio-too-short",
    SilentAudioError: "silent-audio",
    WorkerCrashedError: "analysis-crashed",
    AnalysisTimeoutError: "analysis-timeout",
    NoCatalogueError: "no-catalogue",
    UnknownSongError: "unknown-song",
    MissingColumnError: "missing-column",
    InvalidQueryError: "invalid-request",
    CorruptIndexError: "corrupt-index",
    SearchUnavailableError: "search-unavailable",
    AudioFeaturesUnavailableError: "audio-features-unavailable",
}
"""The problem type of each error class (its subclasses included); an ``OSError`` is
``unreadable-file``."""


class ProblemDetail(NamedTuple):
    """One occurrence of a problem: its status, type slug, title and detail."""

    status: int
    slug: str
    title: str
    detail: str

    @property
    def type(self) -> str:
        """The type URI (``/problems/<slug>``)."""
        return f"/problems/{self.slug}"

    def as_dict(self, instance: str | None = None) -> dict[str, str | int]:
        """The RFC 9457 problem details object."""
        body: dict[str, str | int] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance is not None:
            body["instance"] = instance
        return body


class ProblemError(Exception):
    """An error raised with its problem type named, where no domain error fits
    (an unknown model, too many files in a batch)."""

    def __init__(self, slug: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.slug = slug
        self.headers = headers


def problem(slug: str, detail: str) -> ProblemDetail:
    """The problem of type ``slug`` with ``detail``."""
    kind = PROBLEM_TYPES[slug]
    return ProblemDetail(kind.status, slug, kind.title, detail)


def problem_of(error: BaseException) -> ProblemDetail:
    """The problem an exception stands for; ``internal-error`` for anything unexpected.

    Examples
    --------
    >>> problem_of(EmptyInputError("the file is empty"))
    ProblemDetail(status=400, slug='empty-file', title='Empty file', detail='the file is empty')
    """
    if isinstance(error, ProblemError):
        return problem(error.slug, str(error))
    if isinstance(error, OSError):
        return problem("unreadable-file", _file_error_detail(error))
    for cls in type(error).__mro__:
        if cls in SLUG_OF_ERROR:
            return problem(SLUG_OF_ERROR[cls], str(error))
    # An unexpected error's message may reveal internals: it is logged, not told.
    return problem("internal-error", "internal error")


def file_too_large(max_upload_bytes: int) -> str:
    """The detail of a file over the upload limit; the one wording of that limit."""
    return (
        f"the file exceeds the limit of {_bytes(max_upload_bytes)}, "
        "which the setting MUSIC_EMOTION_MAX_UPLOAD_BYTES raises"
    )


def batch_too_large(max_batch_bytes: int) -> str:
    """The detail of a batch over its total limit; the one wording of that limit."""
    return (
        f"the batch exceeds the limit of {_bytes(max_batch_bytes)} for all its files, "
        "which the setting MUSIC_EMOTION_MAX_BATCH_BYTES raises"
    )


def _bytes(n: int) -> str:
    """A size as its setting states it, and in (decimal) megabytes: ``50000000 bytes (50 MB)``."""
    mb = n / 1_000_000
    return f"{n} bytes ({mb:.3g} MB)" if mb < 100 else f"{n} bytes ({mb:.0f} MB)"


def _file_error_detail(error: OSError) -> str:
    """A short sentence for a file that cannot be read."""
    name = error.filename
    if name is None:
        return str(error)
    if isinstance(error, IsADirectoryError):
        return f"'{name}' is a folder, not a file"
    if isinstance(error, FileNotFoundError):
        return f"'{name}' does not exist"
    if isinstance(error, PermissionError):
        return f"'{name}' cannot be read: permission denied"
    return f"'{name}' cannot be read: {error.strerror or error}"
