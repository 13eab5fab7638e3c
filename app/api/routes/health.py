"""Open Inference Protocol health: ``/v2/health/live`` and ``/v2/health/ready``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from app.api.problems import problem_response

router = APIRouter(prefix="/v2/health", tags=["health"])


class Health(BaseModel):
    """A health answer."""

    live: bool | None = None
    ready: bool | None = None


@router.get("/live", response_model=Health, response_model_exclude_none=True)
async def live() -> Health:
    """The process is up and answering."""
    return Health(live=True)


@router.get("/ready", response_model=Health, response_model_exclude_none=True)
async def ready(request: Request):
    """The model is loaded and warmed up; 503 until then."""
    if request.app.state.analyzer is None:
        return problem_response(503, "the model is still loading", headers={"Retry-After": "5"})
    return Health(ready=True)
