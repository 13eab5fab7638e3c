"""``/problems/{slug}``: a short page for each problem type the API answers with."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from app.api.problems import problem_responses
from app.problems import PROBLEM_TYPES, ProblemError

router = APIRouter(prefix="/problems", tags=["problems"])

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title} ({status})</title></head>
<body>
<h1>{title}</h1>
<p>HTTP status {status}. Problem type <code>{uri}</code>.</p>
<h2>What happened</h2>
<p>{meaning}</p>
<h2>What to do</h2>
<p>{advice}</p>
<p>Example: <code>{example}</code></p>
<p><a href="/docs">API documentation</a></p>
</body>
</html>
"""


@router.get("/{slug}", response_class=HTMLResponse, responses=problem_responses(404))
async def problem_page(slug: str) -> HTMLResponse:
    """What a problem type means and what to do about it (the ``type`` of an error)."""
    kind = PROBLEM_TYPES.get(slug)
    if kind is None:
        raise ProblemError("not-found", f"no problem type named {slug!r}")
    names = ("title", "status", "uri", "meaning", "advice", "example")
    fields = {name: escape(str(getattr(kind, name))) for name in names}
    return HTMLResponse(PAGE.format(**fields))
