"""models/registry.json: which model versions are installed, where they came from, which serves.

Each promoted model lives in its own directory under the models root
(`claimtype-minilm-<version>/`, never modified after install); the registry
points at the current one. Promoting and rolling back therefore only rewrite
one small JSON file, which is written beside itself and renamed over the old
one, so a reader sees the old registry or the new one, never half of one. An
exclusive lock file serialises concurrent promotions.

`previous` is a stack: promotion pushes the version it replaces, rollback pops
it. Every change is appended to `events`, including forced promotions.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .artefact import ModelDirError, load_model_dir
from .files import atomic_write

__all__ = [
    "REGISTRY",
    "Event",
    "Registry",
    "RegistryError",
    "Version",
    "current_model_dir",
    "locked",
    "now",
    "read_registry",
    "rollback",
    "write_registry",
]

REGISTRY = "registry.json"
LOCK = ".registry.lock"


class RegistryError(ModelDirError):
    """The registry is unreadable or cannot do what was asked; the message says why."""


class Version(BaseModel):
    """One installed model and its lineage."""

    model_config = ConfigDict(extra="forbid")

    version: str
    dir: str = Field(description="directory under the models root")
    name: str
    parent: str | None = Field(description="the version that was current when it was promoted")
    run: str | None = Field(default=None, description="the training run it was exported from")
    data_sha256: str | None = Field(default=None, description="train + dev data of that run")
    code_version: str | None = None
    metrics: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="set name -> figures, measured when it was promoted"
    )
    evaluated_on: dict[str, str] = Field(
        default_factory=dict, description="set name -> sha256 of the file measured on"
    )
    installed: str
    forced: bool = False
    gate_failures: list[str] = Field(default_factory=list)


class Event(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: str
    action: Literal["register", "promote", "rollback"]
    version: str
    previous: str | None = None
    forced: bool = False
    gate_failures: list[str] = Field(default_factory=list)
    note: str = ""


class Registry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["claimtype-registry"] = "claimtype-registry"
    format_version: Literal[1] = 1
    current: str | None = None
    previous: list[str] = Field(default_factory=list, description="rollback stack, last on top")
    versions: dict[str, Version] = Field(default_factory=dict)
    events: list[Event] = Field(default_factory=list)

    def dir_of(self, models: Path, version: str) -> Path:
        return models / self.versions[version].dir


def now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def read_registry(models: Path) -> Registry | None:
    """The registry of a models root, or None when it has none."""
    path = models / REGISTRY
    if not path.is_file():
        return None
    try:
        registry = Registry.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        raise RegistryError(f"{path}: invalid registry: {exc}") from exc
    if registry.current is not None and registry.current not in registry.versions:
        raise RegistryError(f"{path}: current version {registry.current} is not listed")
    return registry


def write_registry(models: Path, registry: Registry) -> None:
    """Replace the registry atomically (write a temporary file, fsync, rename)."""
    models.mkdir(parents=True, exist_ok=True)
    atomic_write(models / REGISTRY, [(registry.model_dump_json(indent=2) + "\n").encode()])


@contextlib.contextmanager
def locked(models: Path) -> Iterator[None]:
    """Hold the models root's lock: one promotion or rollback at a time."""
    import fcntl  # POSIX only: imported here so that reading a registry works everywhere

    models.mkdir(parents=True, exist_ok=True)
    with (models / LOCK).open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def current_model_dir(models: Path) -> Path | None:
    """The directory of the current version, or None when there is no registry or no current."""
    registry = read_registry(models)
    if registry is None or registry.current is None:
        return None
    return registry.dir_of(models, registry.current)


def rollback(models: Path, note: str = "") -> tuple[Version, Version]:
    """Make the version that the current one replaced current again; return (old, new).

    The directory rolled back to is verified first: a rollback to a damaged
    model is refused and the registry is left as it was.
    """
    with locked(models):
        registry = read_registry(models)
        if registry is None or registry.current is None:
            raise RegistryError(f"{models}: no registry, nothing to roll back")
        if not registry.previous:
            raise RegistryError(
                f"{models}: {registry.current} is the first version, nothing to roll back to"
            )
        target = registry.previous[-1]
        load_model_dir(registry.dir_of(models, target))
        old = registry.versions[registry.current]
        registry.previous.pop()
        registry.current = target
        registry.events.append(
            Event(at=now(), action="rollback", version=target, previous=old.version, note=note)
        )
        write_registry(models, registry)
        return old, registry.versions[target]
