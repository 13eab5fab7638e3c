"""RFC 9457 problem details: every error the API returns is ``application/problem+json``."""

from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from app.api.workers import AnalysisTimeoutError, WorkerCrashedError
from app.errors import (
    AudioTooShortError,
    EmptyInputError,
    InputTooLargeError,
    MusicEmotionError,
    SilentAudioError,
    UndecodableAudioError,
)

MEDIA_TYPE = "application/problem+json"

STATUS_OF: dict[type[Exception], tuple[int, str]] = {
    EmptyInputError: (400, "empty-file"),
    InputTooLargeError: (413, "file-too-large"),
    UndecodableAudioError: (415, "unsupported-audio"),
    AudioTooShortError: (422, "audio-too-short"),
    SilentAudioError: (422, "silent-audio"),
    WorkerCrashedError: (500, "analysis-crashed"),
    AnalysisTimeoutError: (504, "analysis-timeout"),
}
"""HTTP status and problem slug of each error an analysis can end with."""


DESCRIPTIONS = {
    400: ("The upload is empty.", "empty-file", "the file is empty"),
    401: ("The API key is missing or wrong.", None, "a valid X-API-Key header is required"),
    404: ("No such model.", None, "no model named 'x'; this service runs 'music-emotion'"),
    413: (
        "The upload is larger than the limit.",
        "file-too-large",
        "the file exceeds 50000000 bytes",
    ),
    415: (
        "The upload is not audio in a supported format.",
        "unsupported-audio",
        "the file is not audio in a supported format",
    ),
    422: (
        "The request is malformed, or the audio is too short or silent.",
        "audio-too-short",
        "the audio lasts 0.40 s; at least 1 s is needed",
    ),
    500: (
        "The analysis process crashed; a new one takes the next request.",
        "analysis-crashed",
        "the analysis process stopped",
    ),
    503: (
        "The model is still loading, or the service is at capacity (see Retry-After).",
        "at-capacity",
        "the service is at capacity; retry shortly",
    ),
    504: (
        "The analysis took longer than the time limit.",
        "analysis-timeout",
        "the analysis took longer than 60 s",
    ),
}
"""Per status: what it means, and the slug and detail of an example, for the OpenAPI document."""


class Problem(BaseModel):
    """A problem detail object (RFC 9457)."""

    type: str = Field("about:blank", examples=["/problems/unsupported-audio"])
    title: str = Field(examples=["Unsupported Media Type"])
    status: int = Field(examples=[415])
    detail: str | None = Field(None, examples=["the file is not audio in a supported format"])
    instance: str | None = Field(None, examples=["/v1/emotion"])


def problem_responses(*statuses: int) -> dict[int | str, dict]:
    """OpenAPI ``responses`` entries for problem answers with these statuses."""
    entries: dict[int | str, dict] = {}
    for status in statuses:
        description, slug, detail = DESCRIPTIONS[status]
        example = Problem(
            type=f"/problems/{slug}" if slug else "about:blank",
            title=HTTPStatus(status).phrase,
            status=status,
            detail=detail,
        ).model_dump(exclude_none=True)
        schema = Problem.model_json_schema()
        entries[status] = {
            "description": description,
            "content": {MEDIA_TYPE: {"schema": schema, "example": example}},
        }
    return entries


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    slug: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response; ``slug`` names our problem type under ``/problems/``."""
    problem = Problem(
        type=f"/problems/{slug}" if slug else "about:blank",
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=instance,
    )
    return JSONResponse(
        problem.model_dump(exclude_none=True), status, headers=headers, media_type=MEDIA_TYPE
    )


def problem_for(error: Exception, instance: str | None = None) -> JSONResponse:
    """The problem response of an analysis error; 500 for anything unexpected."""
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            status, slug = STATUS_OF[cls]
            return problem_response(status, str(error), slug=slug, instance=instance)
    return problem_response(500, "internal error", instance=instance)


def install(app: FastAPI) -> None:
    """Route every error through problem+json."""

    async def analysis_error(request: Request, error: Exception) -> JSONResponse:
        return problem_for(error, request.url.path)

    for error_class in (MusicEmotionError, WorkerCrashedError, AnalysisTimeoutError):
        app.add_exception_handler(error_class, analysis_error)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return problem_response(
            error.status_code, str(error.detail), instance=request.url.path, headers=error.headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        return problem_response(422, detail, slug="invalid-request", instance=request.url.path)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
        return problem_response(500, "internal error", instance=request.url.path)
