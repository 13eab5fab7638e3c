"""The FastAPI application: routers, errors, limits, metrics, and the model's start-up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app import __version__
from app.analysis import Analyzer
from app.api import problems
from app.api.capacity import AnalysisPool
from app.api.limits import MULTIPART_OVERHEAD, BodySizeLimit
from app.api.metrics import Metrics, MetricsMiddleware
from app.api.routes import emotion, health, metrics, models
from app.settings import Settings

DESCRIPTION = """\
Upload a song, get its **valence** (negative to positive) and **arousal** (calm to
energetic) on Russell's circumplex, each in [-1, 1] with 0 neutral, and its quadrant.
Errors are `application/problem+json` (RFC 9457).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; the model loads at start and warms up in the background."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A model that disagrees with this code raises here and stops the start.
        analyzer = Analyzer(
            settings.model_path, max_duration_s=settings.max_duration_s, warm_up=False
        )
        warming = asyncio.create_task(asyncio.to_thread(_warm_up, app, analyzer))
        yield
        warming.cancel()
        app.state.pool.shutdown()

    app = FastAPI(
        title="music-emotion",
        version=__version__,
        summary="Valence and arousal of a song, from its audio.",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.analyzer = None
    app.state.pool = AnalysisPool(settings.analysis_threads, settings.queue_size)
    app.state.metrics = Metrics()
    problems.install(app)
    for module in (emotion, health, models, metrics):
        app.include_router(module.router)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"]
        )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes + MULTIPART_OVERHEAD)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    return app


def _warm_up(app: FastAPI, analyzer: Analyzer) -> None:
    """Warm the analyzer up, then publish it: readiness waits for this."""
    analyzer.warm_up()
    app.state.analyzer = analyzer
