"""The README's catalogue commands and docs/catalogue.md's queries work as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.catalogue.rows import Columns
from app.catalogue.store import PartWriter
from tests.conftest import ROOT


def _section(path: Path, heading: str) -> str:
    """The text under ``heading`` up to the next heading of its level or higher."""
    return path.read_text().split(f"{heading}\n", 1)[1].split("\n## ", 1)[0]


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def test_the_readme_and_the_catalogue_page_run_the_checkouts_venv():
    readme = _blocks(_section(ROOT / "README.md", "## A catalogue in three lines"), "bash")
    commands = readme[0].strip().splitlines()
    assert [c.split()[1] for c in commands] == ["catalogue", "search", "similar"]
    run = _blocks(_section(ROOT / "docs" / "catalogue.md", "## Run it"), "bash")[0]
    commands += run.strip().splitlines()
    for command in commands:
        assert command.startswith(".venv/bin/"), command
    assert "pip install '.[catalogue]' duckdb" in run  # the page's queries read DuckDB


@pytest.fixture
def catalogue(tmp_path: Path) -> Path:
    """A folder holding ``catalogue/``: three songs and a problem row."""
    out = tmp_path / "catalogue"
    out.mkdir()
    writer = PartWriter(str(out), Columns().schema(), rows_per_part=2)
    for i, (valence, arousal, quadrant) in enumerate(
        [(-0.5, -0.4, "sad/depressed"), (0.3, 0.6, "happy/excited"), (-0.2, -0.1, "sad/depressed")]
    ):
        writer.add(
            {
                "path": f"/music/{i}.mp3",
                "valence": valence,
                "arousal": arousal,
                "quadrant": quadrant,
            }
        )
    writer.add(
        {
            "path": "/music/broken.mp3",
            "error_type": "/problems/unsupported-audio",
            "error": "the file is not audio in a supported format",
        }
    )
    writer.flush()
    return tmp_path


def _python(code: str, cwd: Path) -> str:
    ran = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    return ran.stdout


def test_the_duckdb_queries_run_as_written(catalogue: Path):
    pytest.importorskip("duckdb", reason="DuckDB is the reader's choice, not a dependency")
    docs = (ROOT / "docs" / "catalogue.md").read_text()
    (queries,) = [b for b in _blocks(docs, "bash") if "import duckdb" in b]
    code = queries.split("<<'EOF'\n", 1)[1].rsplit("EOF", 1)[0]
    shown = _python(code, catalogue)
    assert re.search(r"sad/depressed\s*│\s*2", shown), shown
    assert "happy/excited" in shown and "/music/0.mp3" in shown
    assert "unsupported-audio" in shown and "/music/broken.mp3" in shown
