"""The FastAPI application: routers, errors, limits, and the model's start-up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app import __version__
from app.analysis import Analyzer
from app.api import problems
from app.api.limits import MULTIPART_OVERHEAD, BodySizeLimit
from app.api.routes import emotion, health
from app.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; the model loads and warms up in the background at start."""
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

    app = FastAPI(
        title="music-emotion",
        version=__version__,
        summary="Valence and arousal of a song, from its audio.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.analyzer = None
    problems.install(app)
    app.include_router(emotion.router)
    app.include_router(health.router)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"]
        )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes + MULTIPART_OVERHEAD)
    return app


def _warm_up(app: FastAPI, analyzer: Analyzer) -> None:
    """Warm the analyzer up, then publish it: readiness waits for this."""
    analyzer.warm_up()
    app.state.analyzer = analyzer
