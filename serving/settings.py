"""Runtime settings: defaults that work, overridden by CLAIMTYPE_* variables and flags.

Settings are built when a command runs, never at import time, so tests and the
app factory can pass their own.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from serving.artefact import Precision

__all__ = ["DEFAULT_MODEL_NAME", "Settings", "default_model_dir"]

DEFAULT_MODEL_NAME = "claimtype-minilm"


def default_model_dir() -> Path:
    """The shipped model: ./models/<name> in the working directory or the checkout."""
    for root in (Path.cwd(), Path(__file__).resolve().parent.parent):
        candidate = root / "models" / DEFAULT_MODEL_NAME
        if (candidate / "manifest.json").is_file():
            return candidate
    return Path("models") / DEFAULT_MODEL_NAME


class Settings(BaseSettings):
    """Everything `predict`, `score` and `serve` can be told."""

    model_config = SettingsConfigDict(env_prefix="CLAIMTYPE_", extra="ignore")

    model: Path = Field(default_factory=default_model_dir, description="model directory")
    precision: Precision = "int8"
    threads: int | None = Field(default=None, ge=1, description="ONNX Runtime intra-op threads")
    batch_size: int = Field(default=32, ge=1, le=1024)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    max_texts: int = Field(default=256, ge=1, description="texts per request")
    max_chars: int = Field(default=10_000, ge=1, description="characters per text")
    max_body_bytes: int = Field(default=2_000_000, ge=1024, description="request body size")
