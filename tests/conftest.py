"""Shared fixtures: where the shared datasets are, and synthesised audio files."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest

from tests.audio_fixtures import FORMATS, song, write
from tests.container_engine import image  # noqa: F401  (the container tests' shared image)

ROOT = Path(__file__).resolve().parents[1]

# The training package's tests need its extra (PyTorch); the service's tests run without it.
collect_ignore = [] if find_spec("torch") else ["training"]
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Container tests are slow tests too: ``-m "not slow"`` leaves them out."""
    for item in items:
        if item.get_closest_marker("container"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The shared labelled datasets; tests that need them skip where they are absent."""
    if not (SHARED_DATASETS / "README.md").exists():
        pytest.skip("../shared/datasets is not present on this machine")
    return SHARED_DATASETS


@pytest.fixture(scope="session")
def musicnn_reference() -> dict[str, np.ndarray]:
    """musicnn's own patches of ``training.musicnn_convert.reference_signal()`` and
    MSD_musicnn's TensorFlow outputs on them, written once by that module."""
    with np.load(ROOT / "tests" / "features" / "musicnn_reference.npz") as data:
        return {name: data[name] for name in data.files}


@pytest.fixture(scope="session")
def song_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same 8-s synthetic song encoded in every supported format."""
    folder = tmp_path_factory.mktemp("songs")
    y = song(8.0, 48000)
    return {fmt: write(folder / f"song.{fmt}", y, 48000) for fmt in FORMATS}
