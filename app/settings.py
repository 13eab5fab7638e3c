"""The service's settings: the one place that reads the environment.

Every field can be set as an environment variable with the ``MUSIC_EMOTION_``
prefix (``MUSIC_EMOTION_MAX_UPLOAD_BYTES=10000000``) or in a ``.env`` file.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL_NAME = "music-emotion-0.1.0"


def default_model_path() -> Path:
    """The shipped model: beside the code in a checkout, else under ``./model_store``."""
    beside_code = Path(__file__).resolve().parent.parent / "model_store" / DEFAULT_MODEL_NAME
    return beside_code if beside_code.exists() else Path("model_store") / DEFAULT_MODEL_NAME


class Settings(BaseSettings):
    """Limits, model and server options, with defaults fit for one small host."""

    model_config = SettingsConfigDict(
        env_prefix="MUSIC_EMOTION_", env_file=".env", env_ignore_empty=True, extra="ignore"
    )

    model_path: Path = Field(
        default_factory=default_model_path, description="Folder holding model.onnx and card.json."
    )
    max_upload_bytes: int = Field(50_000_000, gt=0, description="Largest accepted upload.")
    max_duration_s: float = Field(
        600.0, gt=0, description="Longest analysed duration; audio past it is ignored."
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, description="HTTP server processes.")
    analysis_processes: int = Field(
        2, ge=1, description="Analysis processes per server process: analyses run at once."
    )
    queue_size: int = Field(
        8, ge=0, description="Requests waiting per server process before 503 + Retry-After."
    )
    analysis_timeout_s: float = Field(
        60.0, gt=0, description="Longest analysis of one file; its process is then killed (504)."
    )
    max_batch_files: int = Field(16, ge=1, description="Most files in one batch request.")
    api_key: SecretStr | None = Field(None, description="If set, required in the X-API-Key header.")
    cors_origins: list[str] = Field(
        default_factory=list, description="Browser origins allowed by CORS (a JSON list)."
    )
