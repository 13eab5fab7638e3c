"""Dependencies shared by the routers."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from app.analysis import Analyzer
from app.settings import Settings

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    return request.app.state.settings


def get_analyzer(request: Request) -> Analyzer:
    """The loaded analyzer; 503 while the model is still loading."""
    analyzer = request.app.state.analyzer
    if analyzer is None:
        raise HTTPException(503, "the model is still loading", headers={"Retry-After": "5"})
    return analyzer


def check_api_key(
    settings: Annotated[Settings, Depends(get_settings)],
    key: Annotated[str | None, Security(api_key_header)],
) -> None:
    """401 unless the request carries the configured API key (no key configured: open)."""
    expected = settings.api_key
    if expected is None:
        return
    if key is None or not secrets.compare_digest(key, expected.get_secret_value()):
        raise HTTPException(401, "a valid X-API-Key header is required")


AnalyzerDep = Annotated[Analyzer, Depends(get_analyzer)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
