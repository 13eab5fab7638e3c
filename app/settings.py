"""The service's settings: the one place that reads the environment.

Every field can be set as an environment variable with the ``MUSIC_EMOTION_``
prefix (``MUSIC_EMOTION_MAX_UPLOAD_BYTES=10000000``) or in a ``.env`` file.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SHIPPED_MODEL = ("music-emotion", "0.4.0")
"""Name and version of the shipped model, the one place they are written: its folder is
``model_store/<name>-<version>``, and the training command's defaults make it."""

DEFAULT_MODEL_NAME = "-".join(SHIPPED_MODEL)


def default_model_path() -> Path:
    """The shipped model, wherever the command runs: installed inside the package
    (``app/model_store``, see setup.py), or at the root of a checkout."""
    package = Path(str(resources.files("app")))
    installed = package / "model_store" / DEFAULT_MODEL_NAME
    return installed if installed.exists() else package.parent / "model_store" / DEFAULT_MODEL_NAME


class Settings(BaseSettings):
    """Limits, model and server options, with defaults fit for one small host."""

    model_config = SettingsConfigDict(
        env_prefix="MUSIC_EMOTION_", env_file=".env", env_ignore_empty=True, extra="ignore"
    )

    model_path: Path = Field(
        default_factory=default_model_path, description="Folder holding model.onnx and card.json."
    )
    max_upload_bytes: int = Field(
        50_000_000, gt=0, description="Largest file, alone or in a batch."
    )
    max_duration_s: float = Field(
        600.0, gt=0, description="Longest analysed duration; audio past it is ignored."
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, description="HTTP server processes.")
    analysis_processes: int = Field(
        2, ge=1, description="Analysis processes per server process: analyses run at once."
    )
    max_queue_wait_s: float = Field(
        30.0,
        gt=0,
        description="Longest expected time to answer a request that must wait for an "
        "analysis process (its wait and its analysis); past it 503 + Retry-After.",
    )
    queue_size: int = Field(
        64,
        ge=0,
        description="Most requests waiting per server process, whatever the expected time: "
        "a bound on the memory and disk their uploads take.",
    )
    analysis_timeout_s: float = Field(
        60.0, gt=0, description="Longest analysis of one file; its process is then killed (504)."
    )
    max_batch_files: int = Field(16, ge=1, description="Most files in one batch request.")
    max_batch_bytes: int = Field(
        100_000_000, gt=0, description="Largest batch request: all its files together."
    )
    api_key: SecretStr | None = Field(None, description="If set, required in the X-API-Key header.")
    catalogue: str | None = Field(
        None,
        description="A catalogue to search (the folder or s3:// prefix that music-emotion "
        "catalogue wrote): enables /v1/catalogue. Needs the catalogue extra.",
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Browser origins allowed by CORS (a JSON list)."
    )
