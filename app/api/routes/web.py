"""``/`` and ``/web/*``: the browser page, under a Content-Security-Policy of its own.

The policy allows only this origin's scripts, styles and connections, so that no inline
or remote script can run in the page; it is set on the page's answers only, because
``/docs`` needs inline script.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import PurePath

from fastapi import APIRouter, HTTPException, Response

router = APIRouter(tags=["web"], include_in_schema=False)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Revalidate on every load: an upgraded service never runs with yesterday's script.
    "Cache-Control": "no-cache",
}

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}

ASSETS = {
    path.name: (path.read_bytes(), MEDIA_TYPES[PurePath(path.name).suffix])
    for path in files("app.web").iterdir()
    if PurePath(path.name).suffix in MEDIA_TYPES
}
"""Every file of the page, read once: only these names are ever served."""


def _asset(name: str) -> Response:
    if name not in ASSETS:
        raise HTTPException(404, f"no page file named {name!r}")
    body, media_type = ASSETS[name]
    return Response(body, media_type=media_type, headers=HEADERS)


@router.api_route("/", methods=["GET", "HEAD"])
async def page() -> Response:
    """The page: pick or drop songs and see their emotion."""
    return _asset("index.html")


@router.api_route("/web/{name}", methods=["GET", "HEAD"])
async def page_file(name: str) -> Response:
    """A stylesheet or script module of the page."""
    return _asset(name)
