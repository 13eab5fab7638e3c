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


def _catalogue_section() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split("### A whole catalogue", 1)[1].split("\n### ", 1)[0]


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def test_the_readme_runs_the_checkouts_venv():
    commands = _blocks(_catalogue_section(), "bash")[0].strip().splitlines()
    assert len(commands) == 3
    for command in commands:
        assert command.startswith(".venv/bin/"), command
    assert "pip install '.[catalogue]' duckdb" in commands[0]
    assert "duckdb.sql(" in commands[2]  # DuckDB from Python, which pip installs


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
    line = _blocks(_catalogue_section(), "bash")[0].strip().splitlines()[2]
    code = re.fullmatch(r'\.venv/bin/python -c "(.*)"', line)[1].replace('\\"', '"')
    shown = _python(code, catalogue)
    assert re.search(r"sad/depressed\s*│\s*2", shown), shown

    docs = (ROOT / "docs" / "catalogue.md").read_text()
    (queries,) = [b for b in _blocks(docs, "bash") if "import duckdb" in b]
    code = queries.split("<<'EOF'\n", 1)[1].rsplit("EOF", 1)[0]
    shown = _python(code, catalogue)
    assert "happy/excited" in shown and "/music/0.mp3" in shown
    assert "unsupported-audio" in shown and "/music/broken.mp3" in shown
