"""RFC 9457 problem details: every error the API returns is ``application/problem+json``.

The vocabulary itself (each problem type, and the problem of an exception) lives in
:mod:`app.problems`; this module turns it into HTTP answers and OpenAPI entries.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from app.errors import AnalysisTimeoutError, MusicEmotionError, WorkerCrashedError
from app.problems import (
    PROBLEM_TYPES,
    SLUG_OF_STATUS,
    ProblemDetail,
    ProblemError,
    problem,
    problem_of,
)

MEDIA_TYPE = "application/problem+json"

logger = logging.getLogger("music_emotion")


class Problem(BaseModel):
    """A problem detail object (RFC 9457); ``type`` resolves to a page about the problem."""

    type: str = Field(examples=["/problems/unsupported-audio"])
    title: str = Field(examples=["Unsupported audio"])
    status: int = Field(examples=[415])
    detail: str | None = Field(None, examples=["the file is not audio in a supported format"])
    instance: str | None = Field(None, examples=["/v1/emotion"])


def problem_responses(*statuses: int) -> dict[int | str, dict]:
    """OpenAPI ``responses`` entries for problem answers with these statuses."""
    schema = Problem.model_json_schema()
    entries: dict[int | str, dict] = {}
    for status in statuses:
        kinds = [t for t in PROBLEM_TYPES.values() if t.status == status]
        description = "; ".join(f"[{t.title}]({t.uri}): {t.meaning}" for t in kinds)
        example = problem(kinds[0].slug, kinds[0].example).as_dict()
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
    """A problem+json response of type ``slug``, by default the status's generic type."""
    slug = slug or SLUG_OF_STATUS.get(status)
    if slug is None:
        # A status the API never answers on purpose: RFC 9457's generic type.
        body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
        if detail:
            body["detail"] = detail
        return JSONResponse(body, status, headers=headers, media_type=MEDIA_TYPE)
    found = problem(slug, detail or PROBLEM_TYPES[slug].title)
    return render(found, instance=instance, headers=headers)


def render(
    found: ProblemDetail, *, instance: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The problem+json response of ``found``."""
    return JSONResponse(
        found.as_dict(instance), found.status, headers=headers, media_type=MEDIA_TYPE
    )


def problem_for(error: BaseException, instance: str | None = None) -> JSONResponse:
    """The problem response of an error; 500 for anything unexpected."""
    return render(problem_of(error), instance=instance, headers=getattr(error, "headers", None))


UPLOAD_FIELDS = ("file", "files")
"""The multipart fields that carry the audio: one file, or a batch's files."""


def _missing_upload(request: Request, errors: Sequence[dict]) -> str | None:
    """What to send, and how, when the audio's multipart field is missing (the file sent
    in another field, or not as a form at all); None for other invalid requests."""
    missing = [
        e["loc"][1]
        for e in errors
        if e["type"] == "missing" and tuple(e["loc"]) in {("body", f) for f in UPLOAD_FIELDS}
    ]
    if not missing:
        return None
    field = missing[0]
    sent = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if sent == "multipart/form-data":
        found = f"the form has no field named '{field}'"
    elif sent:
        found = f"the body is {sent}, not multipart/form-data"
    else:
        found = "the request has no multipart/form-data body"
    example = f"curl -F {field}=@song.mp3" + (" -F files=@other.mp3" if field == "files" else "")
    return f"{found}; send the audio as a multipart/form-data field named '{field}' ({example})"


def install(app: FastAPI) -> None:
    """Route every error through problem+json."""

    async def known_error(request: Request, error: Exception) -> JSONResponse:
        return problem_for(error, request.url.path)

    for error_class in (MusicEmotionError, WorkerCrashedError, AnalysisTimeoutError, ProblemError):
        app.add_exception_handler(error_class, known_error)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return problem_response(
            error.status_code, str(error.detail), instance=request.url.path, headers=error.headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        detail = _missing_upload(request, error.errors()) or "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        return problem_response(422, detail, slug="invalid-request", instance=request.url.path)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
        logger.exception("unexpected error on %s", request.url.path)
        return problem_response(500, "internal error", instance=request.url.path)
