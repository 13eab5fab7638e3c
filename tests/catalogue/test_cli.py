"""``music-emotion catalogue``: its rows equal ``music-emotion predict`` and the HTTP API."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from tests.api.conftest import start_server, stop_server
from tests.catalogue.conftest import BROKEN, SONGS, read_rows, run_catalogue

pytestmark = pytest.mark.slow  # runs catalogue jobs with their analysis processes


def test_rows_equal_the_api_and_predict_for_the_same_files(library, scored):
    rows = {row["path"]: row for row in read_rows(scored[0])}
    url, server = start_server({})
    try:
        for name in [*SONGS, *BROKEN]:
            path = library / name
            answer = httpx.post(
                f"{url}/v1/emotion?features=true&timeline=true&moods=true",
                files={"file": (path.name, path.read_bytes())},
                timeout=300,
            ).json()
            row = rows[str(path)]
            if "type" in answer:  # a problem
                assert (row["error_type"], row["error"]) == (answer["type"], answer["detail"])
                continue
            row.pop("sound")  # the catalogue's own column, for its search: not in answers
            features = answer["features"]
            timbre = features.pop("timbre")
            assert row == {
                "path": str(path),
                "size_bytes": path.stat().st_size,
                "modified": row["modified"],
                "valence": answer["valence"],
                "arousal": answer["arousal"],
                "quadrant": answer["quadrant"],
                "valence_spread": answer["spread"]["valence"],
                "arousal_spread": answer["spread"]["arousal"],
                "duration_s": answer["duration_s"],
                "truncated": answer["truncated"],
                "model": f"{answer['model']['name']}/{answer['model']['version']}",
                "error_type": None,
                "error": None,
                **{f"{key}_probability": p for key, p in answer["confidence"].items()},
                **features,
                **{f"timbre_{key}": value for key, value in timbre.items()},
                "timeline": answer["timeline"],
                **{f"mood_{key}": share for key, share in answer.get("moods", {}).items()},
            }
    finally:
        stop_server(server)

    paths = [str(library / name) for name in SONGS]
    predicted = subprocess.run(
        [sys.executable, "-m", "app.cli", "predict", *paths, "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    for line in map(json.loads, predicted.stdout.splitlines()):
        row = rows[line["path"]]
        assert (row["valence"], row["arousal"], row["quadrant"]) == (
            line["valence"],
            line["arousal"],
            line["quadrant"],
        )


def test_a_job_needs_a_source(tmp_path):
    result = run_catalogue("--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "at least one SOURCE" in result.stderr
