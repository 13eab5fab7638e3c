"""RFC 9457 problem details: every error the API returns is ``application/problem+json``."""

from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from app.errors import (
    AudioTooShortError,
    EmptyInputError,
    InputTooLargeError,
    MusicEmotionError,
    SilentAudioError,
    UndecodableAudioError,
)

MEDIA_TYPE = "application/problem+json"

STATUS_OF: dict[type[MusicEmotionError], tuple[int, str]] = {
    EmptyInputError: (400, "empty-file"),
    InputTooLargeError: (413, "file-too-large"),
    UndecodableAudioError: (415, "unsupported-audio"),
    AudioTooShortError: (422, "audio-too-short"),
    SilentAudioError: (422, "silent-audio"),
}
"""HTTP status and problem slug of each domain error."""


class Problem(BaseModel):
    """A problem detail object (RFC 9457)."""

    type: str = Field("about:blank", examples=["/problems/unsupported-audio"])
    title: str = Field(examples=["Unsupported Media Type"])
    status: int = Field(examples=[415])
    detail: str | None = Field(None, examples=["the file is not audio in a supported format"])
    instance: str | None = Field(None, examples=["/v1/emotion"])


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


def problem_for(error: MusicEmotionError, instance: str | None = None) -> JSONResponse:
    """The problem response of a domain error."""
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            status, slug = STATUS_OF[cls]
            return problem_response(status, str(error), slug=slug, instance=instance)
    return problem_response(500, "internal error", instance=instance)


def install(app: FastAPI) -> None:
    """Route every error through problem+json."""

    @app.exception_handler(MusicEmotionError)
    async def domain_error(request: Request, error: MusicEmotionError) -> JSONResponse:
        return problem_for(error, request.url.path)

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
