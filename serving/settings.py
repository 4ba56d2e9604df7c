"""Runtime settings: defaults that work, overridden by CLAIMTYPE_* variables and flags.

Settings are built when a command runs, never at import time, so tests and the
app factory can pass their own.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .artefact import Precision
from .registry import current_model_dir

__all__ = ["DEFAULT_MODEL_NAME", "PAGES", "Settings", "default_model_dir"]

DEFAULT_MODEL_NAME = "claimtype-minilm"
#: where a wheel puts the shipped model, inside the package
SHIPPED_DIR = "shipped_model"

#: pages that `public_pages` may open to callers without a key; none of them holds data
PAGES = ("viewer", "docs", "openapi")


def default_model_dir() -> Path:
    """The model to serve when none is named: the working directory's, the checkout's or ours.

    A models/registry.json (written by `claimtype promote`) names the current
    version; without one, ./models/<name>. A wheel carries the shipped model
    inside the package (pyproject maps models/<name> to claimtype/shipped_model),
    so an installed claimtype finds a model from any working directory.
    """
    package = Path(__file__).resolve().parent
    for root in (Path.cwd(), package.parent):
        current = current_model_dir(root / "models")
        if current is not None:
            return current
        candidate = root / "models" / DEFAULT_MODEL_NAME
        if (candidate / "manifest.json").is_file():
            return candidate
    if (package / SHIPPED_DIR / "manifest.json").is_file():
        return package / SHIPPED_DIR
    return Path("models") / DEFAULT_MODEL_NAME


class Settings(BaseSettings):
    """Everything `predict`, `score` and `serve` can be told."""

    model_config = SettingsConfigDict(env_prefix="CLAIMTYPE_", extra="ignore")

    model: Path = Field(default_factory=default_model_dir, description="model directory")
    precision: Precision = "int8"
    threads: int | None = Field(default=None, ge=1, description="ONNX Runtime intra-op threads")
    batch_size: int = Field(default=32, ge=1, le=1024)
    spin: bool = Field(
        default=True,
        description="let ONNX Runtime threads busy-wait between calls: lower latency; turn "
        "off when other busy processes share the cores",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    max_texts: int = Field(default=256, ge=1, description="texts per request")
    max_chars: int = Field(default=10_000, ge=1, description="characters per text")
    max_body_bytes: int = Field(default=2_000_000, ge=1024, description="request body size")
    max_article_chars: int = Field(default=200_000, ge=1, description="characters per article")
    max_batch: int = Field(default=64, ge=1, description="texts per micro-batch")
    max_wait_ms: float = Field(default=2.0, ge=0, description="micro-batch wait under load")
    api_keys: str = Field(default="", description="comma-separated API keys; empty: no auth")
    api_key_file: Path | None = Field(default=None, description="file with one API key a line")
    admin_keys: str = Field(default="", description="comma-separated keys for /v1/admin/*")
    auth_health: bool = Field(default=False, description="require a key for /healthz, /readyz")
    auth_metrics: bool = Field(default=False, description="require a key for /metrics")
    public_pages: str = Field(
        default="viewer,docs,openapi",
        description="comma-separated pages open without a key when keys are on: viewer (/ and "
        "/static), docs (/docs, /redoc), openapi (/openapi.json); empty: every page needs one",
    )
    idle_timeout: float = Field(
        default=5.0,
        gt=0,
        description="seconds a connection may stay open with no request in progress, "
        "before its first request or between keep-alive requests",
    )
    request_timeout: float = Field(
        default=30.0,
        gt=0,
        description="seconds to receive a whole request, headers and body, from its first byte",
    )
    max_connections: int = Field(
        default=1000,
        ge=1,
        description="open connections; one more is answered 503 and closed at once",
    )
    graceful_timeout: float = Field(
        default=30.0,
        ge=0,
        description="seconds SIGTERM waits for requests in flight before cancelling them",
    )
    log_json: bool = Field(default=True, description="one JSON object per log line")
    viewer: bool = Field(default=True, description="serve the article viewer page at /")
    ray_temp_dir: Path | None = Field(
        default=None,
        description="session folder of a Ray that `score --engine ray` starts itself "
        "(default: a fresh temporary folder, removed afterwards; Ray's own is /tmp/ray)",
    )
    feedback_db: Path = Field(
        default=Path("feedback.sqlite3"),
        description="SQLite file for users' corrections; created on the first one",
    )

    @field_validator("public_pages")
    @classmethod
    def _known_pages(cls, value: str) -> str:
        pages = [p.strip() for p in value.split(",") if p.strip()]
        unknown = sorted(set(pages) - set(PAGES))
        if unknown:
            raise ValueError(f"unknown pages {unknown}; choose from {', '.join(PAGES)}")
        if "docs" in pages and "openapi" not in pages:
            raise ValueError("docs needs openapi: the docs page loads /openapi.json without a key")
        return ",".join(pages)

    def named_model(self) -> Path | None:
        """The model directory named by a flag or CLAIMTYPE_MODEL; None: the default."""
        return self.model if "model" in self.model_fields_set else None

    def model_path(self) -> Path:
        """The model to load now: the one named, or the default looked up afresh.

        Looking the default up again on every (re)load is what lets a running
        server pick up `claimtype promote` or `rollback` on SIGHUP.
        """
        return self.named_model() or default_model_dir()

    def pages(self) -> frozenset[str]:
        return frozenset(p for p in self.public_pages.split(",") if p)

    def keys(self) -> list[str]:
        """API keys from CLAIMTYPE_API_KEYS and the key file; empty means auth is off."""
        keys = [k.strip() for k in self.api_keys.split(",")]
        if self.api_key_file is not None:
            keys += [k.strip() for k in self.api_key_file.read_text().splitlines()]
        return [k for k in keys if k and not k.startswith("#")]

    def admin(self) -> list[str]:
        return [k.strip() for k in self.admin_keys.split(",") if k.strip()]
