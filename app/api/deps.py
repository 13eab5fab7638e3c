"""Dependencies shared by the routers."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader

from app.api.capacity import AnalysisPool
from app.audio_features import AudioFeaturesCalibration
from app.errors import AudioFeaturesUnavailableError
from app.model import EmotionModel
from app.settings import Settings
from app.worker import COMPILING

WARM_UP_WAIT_S = 60.0
"""Longest wait of an analysis request for the warm-up before it gets 503."""

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)
"""Declares the key in the OpenAPI document; :class:`app.api.limits.RequireApiKey` checks it."""


def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    return request.app.state.settings


def get_model(request: Request) -> EmotionModel:
    """The served model (loaded before the server accepts requests)."""
    return request.app.state.model


def get_audio_features(request: Request) -> AudioFeaturesCalibration:
    """The served model's audio-features calibration (loaded with the model); raises
    :class:`AudioFeaturesUnavailableError` (501) when the model has none it can use."""
    found = request.app.state.audio_features
    if isinstance(found, AudioFeaturesUnavailableError):
        raise found
    return found


async def get_pool(request: Request) -> AnalysisPool:
    """The analysis pool, once warmed up; a request arriving during the warm-up waits
    for it (a worker restarted among several takes connections before it is warm)."""
    warmed: asyncio.Event = request.app.state.warmed
    if not warmed.is_set():
        try:
            await asyncio.wait_for(warmed.wait(), WARM_UP_WAIT_S)
        except TimeoutError:
            raise HTTPException(503, not_ready(request), headers={"Retry-After": "5"}) from None
    return request.app.state.pool


def check_ready(request: Request) -> None:
    """503 until the analysis pool is warmed up."""
    if not request.app.state.warmed.is_set():
        raise HTTPException(503, not_ready(request), headers={"Retry-After": "5"})


def not_ready(request: Request) -> str:
    """What the service does while it starts, and about how long that takes (the detail of
    its 503s until it is ready)."""
    if request.app.state.failed:
        return "the analysis processes failed to start; the service's log says why"
    doing = [worker.starting for worker in request.app.state.pool.workers if worker.starting]
    if not doing:
        return "the service is starting its analysis processes; retry in a few seconds"
    now = COMPILING if COMPILING in doing else doing[0]
    return f"the service is starting: {now}; retry in a few seconds"


AudioFeaturesDep = Annotated[AudioFeaturesCalibration, Depends(get_audio_features)]
ModelDep = Annotated[EmotionModel, Depends(get_model)]
PoolDep = Annotated[AnalysisPool, Depends(get_pool)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
