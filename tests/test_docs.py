"""The README and docs/ against the code: settings, links, length, commands."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app import cli
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
SERVING = ROOT / "docs" / "serving.md"
PREFIX = Settings.model_config["env_prefix"]

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]+`")
SUBCOMMAND = re.compile(r"\bmusic-emotion(?!-)\s+([a-z][a-z-]*)")
SETTINGS_ROW = re.compile(rf"^\| (`{PREFIX}\w+`(?:, `{PREFIX}\w+`)*) \| ([^|]*) \|", re.MULTILINE)


def _env_name(field: str) -> str:
    return f"{PREFIX}{field}".upper()


def _prose(text: str) -> str:
    """``text`` without its code: links inside code blocks are examples, not links."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def _code(text: str) -> str:
    """The code of ``text``: its fenced blocks and inline spans."""
    return "\n".join(FENCE.findall(text) + INLINE_CODE.findall(FENCE.sub("", text)))


def _anchor(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = heading.strip().lower().replace("`", "")
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    headings = re.findall(r"^#+ (.+)$", FENCE.sub("", page.read_text()), re.MULTILINE)
    return {_anchor(heading) for heading in headings}


def _settings_rows() -> dict[str, str]:
    """Each environment variable of serving.md's settings table -> its documented default."""
    rows = {}
    for names, defaults in SETTINGS_ROW.findall(SERVING.read_text()):
        names = re.findall(r"`(\w+)`", names)
        values = [defaults.strip()] if len(names) == 1 else defaults.split(",")
        assert len(values) == len(names), f"one default per variable: {names}"
        rows.update(zip(names, (value.strip().strip("`") for value in values), strict=True))
    return rows


def test_every_setting_is_documented_in_serving_md_with_its_default():
    rows = _settings_rows()
    fields = Settings.model_fields
    assert set(rows) == {_env_name(field) for field in fields}
    for field, info in fields.items():
        documented = rows[_env_name(field)]
        if field == "model_path":  # its default depends on where the package is installed
            assert "shipped model" in documented
            continue
        default = info.get_default(call_default_factory=True)
        if default is None:
            assert documented == "unset", field
        elif isinstance(default, list):
            assert json.loads(documented) == default, field
        elif isinstance(default, int | float):
            assert float(documented) == default, field
        else:
            assert documented == str(default), field


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_relative_links_point_to_existing_files_and_headings(page: Path):
    for target in LINK.findall(_prose(page.read_text())):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name}: {target}"
        if anchor and linked.suffix == ".md":
            assert anchor in _anchors(linked), f"{page.name}: {target}"


def test_readme_is_at_most_300_lines():
    assert len(README.read_text().splitlines()) <= 300


def test_every_subcommand_the_readme_shows_exists(capsys: pytest.CaptureFixture[str]):
    shown = set(SUBCOMMAND.findall(_code(README.read_text())))
    assert shown, "the README shows no music-emotion command"
    for name in sorted(shown):
        with pytest.raises(SystemExit) as stopped:
            cli.main([name, "--help"])
        assert stopped.value.code == 0, f"music-emotion {name}: {capsys.readouterr().err}"
