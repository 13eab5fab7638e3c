"""Open Inference Protocol health: ``/v2/health/live`` and ``/v2/health/ready``."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.api.deps import not_ready
from app.api.problems import problem_response, problem_responses

router = APIRouter(prefix="/v2/health", tags=["health"])


class Health(BaseModel):
    """A health answer."""

    live: bool | None = None
    ready: bool | None = None


def _probe(path: str) -> Callable[[Callable], Callable]:
    """The route of a probe: a :class:`Health` answer, or a 503 problem."""
    return router.get(
        path,
        response_model=Health,
        response_model_exclude_none=True,
        responses=problem_responses(503),
    )


@_probe("/live")
async def live(request: Request) -> Health | JSONResponse:
    """The process is up and answering; 503 if its analysis processes failed to start."""
    if request.app.state.failed:
        return problem_response(503, "the analysis processes failed to start", slug="start-failed")
    return Health(live=True)


@_probe("/ready")
async def ready(request: Request) -> Health | JSONResponse:
    """The model is loaded and every analysis process warmed up; 503 until then."""
    if not request.app.state.warmed.is_set():
        return problem_response(503, not_ready(request), headers={"Retry-After": "5"})
    return Health(ready=True)
