"""The Ray engine on a local Ray with 2 CPUs: the same rows as the local engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.cli import main
from tests.catalogue.conftest import read_rows

pytestmark = pytest.mark.slow  # runs catalogue jobs with their analysis processes

ray = pytest.importorskip("ray", reason="the ray extra is not installed")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One small local Ray for the module (starting Ray takes seconds)."""
    ray.init(
        num_cpus=2,
        object_store_memory=100 * 1024**2,
        include_dashboard=False,
        log_to_driver=False,
    )
    yield
    ray.shutdown()


def test_ray_gives_the_local_engines_rows(local_ray, library, scored, tmp_path, capsys):
    out = tmp_path / "catalogue"
    args = ["catalogue", str(library), "--out", str(out), "--engine", "ray", "--workers", "2"]
    assert main([*args, "--features", "--timeline"]) == 0
    assert read_rows(out) == read_rows(scored[0])
    summary = capsys.readouterr().err.strip().splitlines()[-1]
    assert "scored 6, failed 5" in summary and "skipped 2 (2 not audio)" in summary

    assert main([*args, "--features", "--timeline"]) == 0
    assert "11 already in OUT" in capsys.readouterr().err
    assert len(read_rows(out)) == 11
