"""Paths as clients type them: ``POST /v1/emotion/`` is ``POST /v1/emotion``."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class TrailingSlash:
    """ASGI middleware: a path under ``prefix`` that ends in ``/`` is routed without it.

    The framework would answer it with an empty 307 redirect, which curl does not follow
    (without ``-L``) and which makes any client send its upload twice.
    """

    def __init__(self, app: ASGIApp, prefix: str = "/v1/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(self.prefix) and path.endswith("/"):
            scope = {**scope, "path": path.rstrip("/")}
            if "raw_path" in scope:
                scope["raw_path"] = scope["raw_path"].rstrip(b"/")
        await self.app(scope, receive, send)
