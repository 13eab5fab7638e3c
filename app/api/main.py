"""The FastAPI application: routers, errors, limits, metrics, and the model's start-up."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from app import __version__
from app.api import problems
from app.api.capacity import AnalysisPool, LoadShedding
from app.api.limits import BodySizeLimit, RequireApiKey
from app.api.metrics import Metrics, MetricsMiddleware
from app.api.paths import TrailingSlash
from app.api.routes import audio_features, catalogue, emotion, health, metrics, models, web
from app.api.routes import problems as problem_pages
from app.audio_features import AudioFeaturesCalibration, calibration_of
from app.errors import AudioFeaturesUnavailableError
from app.model import EmotionModel
from app.settings import Settings

logger = logging.getLogger("music_emotion")

DESCRIPTION = """\
Upload a song, get its **valence** (negative to positive) and **arousal** (calm to
energetic) on Russell's circumplex, each in [-1, 1] with 0 neutral, and its quadrant.
Errors are `application/problem+json` (RFC 9457).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; the analysis processes start and warm up in the background."""
    settings = settings or Settings()
    pool = AnalysisPool(
        settings.model_path,
        settings.max_duration_s,
        size=settings.analysis_processes,
        queue=settings.queue_size,
        max_wait_s=settings.max_queue_wait_s,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A model that disagrees with this code raises here and stops the start.
        started = time.perf_counter()
        app.state.model = EmotionModel(settings.model_path)
        logger.info(
            "model %s %s loaded from %s in %.1f s",
            app.state.model.name,
            app.state.model.version,
            settings.model_path,
            time.perf_counter() - started,
        )
        app.state.audio_features = _audio_features(app.state.model)
        starting = asyncio.create_task(_start(app, pool))
        app.state.catalogue.start()
        yield
        # uvicorn has answered the requests in flight by now.
        starting.cancel()
        await asyncio.to_thread(pool.shutdown)

    # The documentation's scripts and styles come from the package, not a CDN.
    app = FastAPIOffline(
        title="music-emotion",
        version=__version__,
        summary="Valence and arousal of a song, from its audio.",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.model = None
    app.state.audio_features = None
    app.state.warmed = asyncio.Event()
    app.state.failed = False
    app.state.pool = pool
    app.state.metrics = Metrics()
    app.state.catalogue = catalogue.ServedCatalogue(settings.catalogue)
    problems.install(app)
    for module in (emotion, audio_features, catalogue, health, models, metrics, web, problem_pages):
        app.include_router(module.router)
    # Each add wraps the app so far: metrics see every answer, and the early refusals
    # (413, 401 and 503 past capacity, all before the body is read) carry CORS headers.
    app.add_middleware(LoadShedding, pool=pool)
    if settings.api_key is not None:
        app.add_middleware(RequireApiKey, key=settings.api_key.get_secret_value())
    app.add_middleware(
        BodySizeLimit,
        max_upload_bytes=settings.max_upload_bytes,
        max_batch_bytes=settings.max_batch_bytes,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["X-API-Key"],
            expose_headers=["Retry-After"],
        )
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(TrailingSlash)  # outermost: every layer sees the path without it
    return app


def _audio_features(
    model: EmotionModel,
) -> AudioFeaturesCalibration | AudioFeaturesUnavailableError:
    """The model's audio-features calibration, or why it has none: then the service runs,
    and ``/v1/audio-features`` answers that reason as a 501 problem."""
    try:
        return calibration_of(model)
    except AudioFeaturesUnavailableError as error:
        logger.warning("/v1/audio-features answers 501: %s", error)
        return error


async def _start(app: FastAPI, pool: AnalysisPool) -> None:
    """Start the analysis processes, then publish readiness."""
    started = time.perf_counter()
    logger.info(
        "starting %d analysis processes; until they are warm, /v2/health/ready answers 503",
        pool.size,
    )
    try:
        await pool.start()
    except Exception:
        # Liveness turns 503 so that the orchestrator restarts this instance.
        logger.exception("the analysis processes failed to start")
        app.state.failed = True
        return
    app.state.warmed.set()
    logger.info(
        "ready: %d analysis processes warm in %.1f s", pool.size, time.perf_counter() - started
    )
