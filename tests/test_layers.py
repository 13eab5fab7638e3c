"""One-way layers: the core stands alone; the HTTP API, the command line, the catalogue
job, the query layer and the training stand on it and never on each other's insides."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CORE = (
    "app.errors",
    "app.problems",
    "app.native_stderr",
    "app.audio",
    "app.features",
    "app.calibration",
    "app.model",
    "app.analysis",
    "app.audio_features",
    "app.worker",
    "app.result",
    "app.settings",
    "app.table",
    "app.dataset",
)
"""Decoding, features, model, the analysis path, Spotify's audio features of an analysis,
the process that runs analyses, the result's shape and rounding, the settings and the
error vocabulary; the catalogue's column names and where its dataset lives (the job
writes it, the queries read it)."""

ABOVE_THE_CORE = ("app.api", "app.catalogue", "app.search", "app.cli", "training")

FORBIDDEN = [
    *((core, ABOVE_THE_CORE) for core in CORE),
    # The feature pipeline reads no settings and knows no model: training and serving
    # call it alike.
    ("app.features", ("app.settings", "app.model", "app.analysis", "app.worker", "app.result")),
    ("app.api", ("app.catalogue", "app.cli", "training")),
    ("app.catalogue", ("app.api", "app.search", "app.cli", "training")),
    ("app.search", ("app.api", "app.catalogue", "app.cli", "training")),
    ("training", ("app.api", "app.catalogue", "app.search", "app.cli")),
]
"""(module prefix, the prefixes it must never import, its own room excepted)."""


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of the file (lazy imports too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(f"{prefix}.")


SOURCES = sorted([*(ROOT / "app").rglob("*.py"), *(ROOT / "training").rglob("*.py")])


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_room_imports_a_room_above_or_beside_it(path):
    name = module_name(path)
    rules = [bad for room, bad in FORBIDDEN if within(name, room)]
    wrong = sorted(
        imported
        for imported in imports(path)
        for bad in rules
        for prefix in bad
        if within(imported, prefix) and not within(name, prefix)
    )
    assert not wrong, f"{name} imports {wrong}"


def test_nothing_outside_the_http_layer_imports_it():
    outside = [
        f"{module_name(path)} imports {imported}"
        for path in SOURCES
        if not within(module_name(path), "app.api")
        for imported in imports(path)
        if within(imported, "app.api")
    ]
    assert not outside


def test_the_rules_catch_a_violation(tmp_path):
    """The import finder sees a lazy import inside a function."""
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from app.api.main import create_app\n")
    assert "app.api.main" in imports(source)
