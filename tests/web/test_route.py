"""``/`` and ``/web/*`` over HTTP: the page's files, its headers and what its HTML may hold."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib.resources import files

import httpx
import pytest

from app.api.routes.web import CONTENT_SECURITY_POLICY

PAGE_FILES = sorted(
    p.name for p in files("app.web").iterdir() if p.name.endswith((".html", ".css", ".js"))
)


class Markup(HTMLParser):
    """Collects the scripts, inline handlers, inline styles and outside addresses of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.inline_code: list[str] = []
        self.addresses: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            self.scripts.append(attributes)
            self._in_script = True
        self.inline_code += [f"{tag} {n}" for n in attributes if n.startswith("on") or n == "style"]
        self.addresses += [v or "" for n, v in attributes.items() if n in ("src", "href")]

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_code.append(f"script body {data.strip()[:40]!r}")


@pytest.fixture(scope="module")
def page(web_server: str) -> httpx.Response:
    return httpx.get(f"{web_server}/", timeout=60)


def test_the_policy_forbids_inline_and_remote_scripts() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


@pytest.mark.slow  # starts the service
def test_the_page_and_its_files_are_served_with_the_policy(web_server: str, page) -> None:
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    answers = [page]
    for name in PAGE_FILES:
        answers.append(httpx.get(f"{web_server}/web/{name}", timeout=60))
        assert answers[-1].status_code == 200, name
        assert answers[-1].content == (files("app.web") / name).read_bytes()
    for answer in answers:
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert answer.headers["x-content-type-options"] == "nosniff"
    script = httpx.get(f"{web_server}/web/app.js", timeout=60)
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"


@pytest.mark.slow  # starts the service
@pytest.mark.parametrize("name", ["nothing.js", "__init__.py", "..%2Fapi%2Fmain.py", "%2E%2E"])
def test_only_the_page_files_are_served(web_server: str, name: str) -> None:
    answer = httpx.get(f"{web_server}/web/{name}", timeout=60)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.slow  # starts the service
def test_the_html_holds_no_inline_script_and_loads_nothing_remote(page) -> None:
    markup = Markup()
    markup.feed(page.text)
    assert markup.scripts == [{"type": "module", "src": "/web/app.js"}]
    assert markup.inline_code == []
    for address in markup.addresses:
        assert re.match(r"^(/(?!/)|data:,$)", address), address


def test_the_scripts_never_parse_text_as_html() -> None:
    for name in PAGE_FILES:
        if name.endswith(".js"):
            source = (files("app.web") / name).read_text()
            for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
                assert sink not in source, f"{name} uses {sink}"
            assert not re.search(r"\beval\(|new Function\(", source), name


@pytest.mark.slow  # starts the service
def test_the_api_documents_no_page_route(web_server: str) -> None:
    paths = httpx.get(f"{web_server}/openapi.json", timeout=60).json()["paths"]
    assert "/" not in paths
    assert not any(p.startswith("/web") for p in paths)
