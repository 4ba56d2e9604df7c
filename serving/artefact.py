"""The model directory: its manifest, and the loader that refuses a bad one.

A model directory carries its own contract (labels, max length, ONNX input
names, normalisation version, calibration temperature, the sha256 of each file).
`load_model_dir` checks all of it before anything is served, and raises
`ModelDirError` with the reason instead of falling back to something else.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .evidence import EVIDENCE_TAGS
from .labels import LABELS, id2label
from .preprocess import NORMALIZATION_VERSION

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST",
    "Manifest",
    "ModelDirError",
    "ModelDirectory",
    "Precision",
    "load_model_dir",
    "sha256_file",
]

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
Precision = Literal["int8", "fp32"]


class ModelDirError(RuntimeError):
    """The directory is not a usable claimtype model; the message says why."""


class BaseModelInfo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    sha256: str


class Manifest(BaseModel):
    """manifest.json: what the directory holds and how to feed it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["claimtype-model"] = "claimtype-model"
    format_version: int = FORMAT_VERSION
    name: str
    version: str
    labels: list[str]
    max_length: int = Field(ge=8, le=512)
    normalization_version: int
    inputs: list[str]
    output: str = "logits"
    #: the token head's output (BIO evidence tags), when the model has one
    evidence_output: str | None = None
    evidence_tags: list[str] | None = None
    onnx: dict[str, str]
    temperature: float = Field(default=1.0, gt=0)
    base_model: BaseModelInfo
    files: dict[str, str]
    optional_files: dict[str, str] = {}
    created: str
    claimtype_version: str


@dataclass(frozen=True)
class ModelDirectory:
    """A verified model directory, ready for a predictor."""

    path: Path
    manifest: Manifest
    precision: Precision

    @property
    def onnx_path(self) -> Path:
        return self.path / self.manifest.onnx[self.precision]

    @property
    def tokenizer_path(self) -> Path:
        return self.path / "tokenizer.json"

    @property
    def precisions(self) -> list[str]:
        """Precisions whose ONNX file is present in the directory."""
        return [p for p, f in self.manifest.onnx.items() if (self.path / f).is_file()]

    def files(self) -> dict[str, str]:
        """sha256 of each file the directory holds: every listed file, the optional ones present."""
        optional = self.manifest.optional_files.items()
        return {**self.manifest.files, **{n: h for n, h in optional if (self.path / n).is_file()}}

    def metrics(self) -> dict[str, Any]:
        """metrics.json, or an empty dict when the directory has none."""
        path = self.path / "metrics.json"
        return json.loads(path.read_text()) if path.is_file() else {}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_manifest(path: Path) -> Manifest:
    file = path / MANIFEST
    if not file.is_file():
        raise ModelDirError(f"{path}: no {MANIFEST}; is this a claimtype model directory?")
    try:
        return Manifest.model_validate_json(file.read_bytes())
    except ValidationError as exc:
        raise ModelDirError(f"{file}: invalid manifest: {exc}") from exc


def _check_files(path: Path, manifest: Manifest) -> None:
    for name, expected in manifest.files.items():
        file = path / name
        if not file.is_file():
            raise ModelDirError(f"{path}: {name} is listed in the manifest but missing")
        if sha256_file(file) != expected:
            raise ModelDirError(f"{path}: {name} does not match its sha256 in the manifest")
    for name, expected in manifest.optional_files.items():
        file = path / name
        if file.is_file() and sha256_file(file) != expected:
            raise ModelDirError(f"{path}: {name} does not match its sha256 in the manifest")


def _check_contract(path: Path, manifest: Manifest) -> None:
    if manifest.format_version != FORMAT_VERSION:
        raise ModelDirError(
            f"{path}: model format {manifest.format_version}, this claimtype reads {FORMAT_VERSION}"
        )
    if tuple(manifest.labels) != LABELS:
        raise ModelDirError(f"{path}: labels {manifest.labels} differ from {list(LABELS)}")
    tags = tuple(manifest.evidence_tags or ())
    if manifest.evidence_output is not None and tags != EVIDENCE_TAGS:
        raise ModelDirError(
            f"{path}: evidence tags {manifest.evidence_tags} differ from {list(EVIDENCE_TAGS)}"
        )
    if manifest.normalization_version != NORMALIZATION_VERSION:
        raise ModelDirError(
            f"{path}: trained with text normalisation v{manifest.normalization_version}, "
            f"this claimtype has v{NORMALIZATION_VERSION}"
        )
    for required in ("config.json", "tokenizer.json"):
        if required not in manifest.files:
            raise ModelDirError(f"{path}: the manifest does not list {required}")
    try:
        config = json.loads((path / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise ModelDirError(f"{path}: unreadable config.json: {exc}") from exc
    found = {int(k): v for k, v in config.get("id2label", {}).items()}
    if found != id2label():
        raise ModelDirError(f"{path}: config.json id2label {found} differs from {id2label()}")


def load_model_dir(path: str | Path, precision: Precision = "int8") -> ModelDirectory:
    """Read and verify a model directory; raise ModelDirError if anything is off."""
    path = Path(path)
    if not path.is_dir():
        raise ModelDirError(f"{path}: no such model directory")
    manifest = _read_manifest(path)
    _check_files(path, manifest)
    _check_contract(path, manifest)
    if precision not in manifest.onnx:
        raise ModelDirError(f"{path}: no {precision} model in the manifest")
    if not (path / manifest.onnx[precision]).is_file():
        raise ModelDirError(
            f"{path}: the {precision} model {manifest.onnx[precision]} is not in the directory"
        )
    return ModelDirectory(path=path, manifest=manifest, precision=precision)
