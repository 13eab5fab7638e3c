"""One source for every default and version: app/settings.py holds the defaults (the
deployment files set only what differs), app/__init__.py the package's version and
app.settings.SHIPPED_MODEL the shipped model's."""

from __future__ import annotations

import json
import os
import re
from importlib import metadata
from pathlib import Path

import pytest
import yaml

import app
from app.api.schemas import EMOTION_EXAMPLE
from app.settings import DEFAULT_MODEL_NAME, SHIPPED_MODEL, Settings, default_model_path

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "MUSIC_EMOTION_"


def compose_environment() -> dict[str, str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return compose["services"]["music-emotion"].get("environment") or {}


def configmap_data(path: str) -> dict[str, str]:
    return yaml.safe_load((ROOT / path).read_text()).get("data") or {}


def dockerfile_environment() -> dict[str, str]:
    """The ``ENV`` settings of the Dockerfile's final stage."""
    final = (ROOT / "Dockerfile").read_text().rsplit("\nFROM ", 1)[1]
    text = final.replace("\\\n", " ")
    return dict(re.findall(r"\b(\w+)=(\S+)", " ".join(re.findall(r"^ENV (.*)$", text, re.M))))


def repeated_defaults(environment: dict[str, str]) -> list[str]:
    """The settings in ``environment`` whose value equals the default."""
    repeated = []
    for key, value in environment.items():
        if not key.startswith(PREFIX) or "${" in str(value):
            continue
        name = key.removeprefix(PREFIX).lower()
        assert name in Settings.model_fields, f"{key} is no setting"
        if Settings(**{name: value}).model_dump()[name] == Settings().model_dump()[name]:
            repeated.append(key)
    return repeated


@pytest.mark.parametrize(
    "source",
    [
        compose_environment,
        dockerfile_environment,
        lambda: configmap_data("deploy/kubernetes/base/configmap.yaml"),
    ],
    ids=["compose", "Dockerfile", "configmap"],
)
def test_deployment_files_set_only_what_differs_from_the_defaults(source, monkeypatch):
    for key in list(os.environ):
        if key.startswith(PREFIX):
            monkeypatch.delenv(key)
    assert not repeated_defaults(source())


def test_the_check_sees_a_repeated_default(monkeypatch):
    monkeypatch.delenv("MUSIC_EMOTION_MAX_UPLOAD_BYTES", raising=False)
    assert repeated_defaults({"MUSIC_EMOTION_MAX_UPLOAD_BYTES": "50000000"})
    assert not repeated_defaults({"MUSIC_EMOTION_MAX_UPLOAD_BYTES": "10000000"})


def test_the_package_version_is_written_once():
    assert metadata.version("music-emotion") == app.__version__
    assert (
        "version ="
        not in (ROOT / "pyproject.toml").read_text().split("[project]")[1].split("\n[")[0]
    )
    overlay = yaml.safe_load(
        (ROOT / "deploy/kubernetes/overlays/example/kustomization.yaml").read_text()
    )
    assert overlay["images"][0]["newTag"] == app.__version__
    rayjob = (ROOT / "deploy/kubernetes/catalogue/rayjob.yaml").read_text()
    assert set(re.findall(r"music_emotion-([\d.]+)-py3", rayjob)) == {app.__version__}


def test_the_shipped_model_version_is_written_once():
    card = json.loads((default_model_path() / "card.json").read_text())
    assert (card["name"], card["version"]) == SHIPPED_MODEL
    assert default_model_path().name == DEFAULT_MODEL_NAME
    assert (EMOTION_EXAMPLE["model"]["name"], EMOTION_EXAMPLE["model"]["version"]) == SHIPPED_MODEL
