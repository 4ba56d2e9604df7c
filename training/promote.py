"""Compare a candidate model with the current one, and promote it only if it is not worse.

Both models are evaluated here, on the same dev and challenge sentences,
through serving's OnnxPredictor: the figures that decide a promotion are those
of the model as served, never numbers copied from a metrics.json. The gate
refuses a candidate whose macro-F1 is more than 0.5 points lower, or any of
whose labels loses more than 2 points of F1, on any evaluated set; `force`
overrides it and the registry records that it did.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..artefact import MANIFEST, load_model_dir
from ..labels import LABELS
from ..predictor import OnnxPredictor
from ..registry import (
    Event,
    Registry,
    RegistryError,
    Version,
    locked,
    now,
    read_registry,
    write_registry,
)
from ..settings import DEFAULT_MODEL_NAME
from .data import read_jsonl, validate_rows
from .evaluate import evaluate_predictor

__all__ = [
    "MAX_LABEL_DROP",
    "MAX_MACRO_DROP",
    "Comparison",
    "PromotionRefused",
    "compare",
    "comparison_json",
    "evaluate_model",
    "format_comparison",
    "gate",
    "load_sets",
    "promote",
]

_SAFE_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
MAX_MACRO_DROP = 0.005  # 0.5 points of macro-F1
MAX_LABEL_DROP = 0.02  # 2 points of one label's F1


class PromotionRefused(RuntimeError):
    """The candidate failed the gate; `.reasons` lists each failure."""

    def __init__(self, reasons: list[str], comparison: Comparison) -> None:
        super().__init__("promotion refused:\n  " + "\n  ".join(reasons))
        self.reasons = reasons
        self.comparison = comparison


@dataclass(frozen=True)
class EvalSet:
    name: str
    path: Path
    rows: list[dict]
    sha256: str


def load_sets(paths: Mapping[str, Path]) -> list[EvalSet]:
    """The evaluation sets that exist and have sentences, validated against serving.labels."""
    sets = []
    for name, path in paths.items():
        if not path.is_file():
            raise FileNotFoundError(f"{path}: {name} set not found")
        rows = read_jsonl(path)
        problems = validate_rows(rows, str(path))
        if problems:
            raise ValueError("\n".join(problems[:20]))
        if rows:
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            sets.append(EvalSet(name, path, rows, sha))
    if not sets:
        raise ValueError("no evaluation sentences: give a dev or challenge set that has some")
    return sets


def summary(metrics: dict) -> dict:
    """What the gate and the registry keep of an evaluation."""
    return {
        "n": metrics["n"],
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "f1": {k: metrics["per_label"][k]["f1"] for k in LABELS},
    }


def evaluate_model(model: Path, sets: list[EvalSet], threads: int | None = None) -> dict:
    """{set name: summary} for one model directory, run through OnnxPredictor."""
    predictor = OnnxPredictor(load_model_dir(model), threads=threads)
    return {s.name: summary(evaluate_predictor(predictor, s.rows).metrics) for s in sets}


@dataclass(frozen=True)
class Comparison:
    candidate: Path
    candidate_name: str
    candidate_metrics: dict
    against: Path | None
    against_name: str | None
    against_metrics: dict | None
    sets: dict[str, str] = field(default_factory=dict)  # set name -> sha256 of its file


def _name(model: Path) -> str:
    manifest = load_model_dir(model).manifest
    return f"{manifest.name}@{manifest.version}"


def compare(
    candidate: Path, against: Path | None, sets: list[EvalSet], threads: int | None = None
) -> Comparison:
    """Evaluate the candidate and (when there is one) the model it would replace."""
    return Comparison(
        candidate=candidate,
        candidate_name=_name(candidate),
        candidate_metrics=evaluate_model(candidate, sets, threads),
        against=against,
        against_name=_name(against) if against else None,
        against_metrics=evaluate_model(against, sets, threads) if against else None,
        sets={s.name: s.sha256 for s in sets},
    )


def gate(
    candidate: dict,
    current: dict,
    max_macro_drop: float = MAX_MACRO_DROP,
    max_label_drop: float = MAX_LABEL_DROP,
) -> list[str]:
    """Reasons to refuse the candidate ({set: summary} each); empty when it may replace current.

    Differences are rounded before comparing so that exactly the limit passes
    despite floating-point noise.
    """
    reasons = []
    for name, cur in current.items():
        cand = candidate.get(name)
        if cand is None:
            reasons.append(f"{name}: the candidate was not evaluated on it")
            continue
        delta = round(cand["macro_f1"] - cur["macro_f1"], 6)
        if delta < -max_macro_drop:
            reasons.append(
                f"{name}: macro-F1 {cand['macro_f1']:.4f} vs {cur['macro_f1']:.4f} "
                f"({100 * delta:+.2f} points; at most -{100 * max_macro_drop:.1f} allowed)"
            )
        for label in LABELS:
            delta = round(cand["f1"][label] - cur["f1"][label], 6)
            if delta < -max_label_drop:
                reasons.append(
                    f"{name}: F1 {label} {cand['f1'][label]:.4f} vs {cur['f1'][label]:.4f} "
                    f"({100 * delta:+.2f} points; at most -{100 * max_label_drop:.1f} allowed)"
                )
    return reasons


def _figures(m: dict) -> list[tuple[str, float]]:
    return [("macro-F1", m["macro_f1"]), ("accuracy", m["accuracy"])] + [
        (f"F1 {k}", m["f1"][k]) for k in LABELS
    ]


def format_comparison(c: Comparison) -> str:
    """A side-by-side table: current, candidate and the difference in points."""
    lines = [f"candidate {c.candidate_name}  ({c.candidate})"]
    if c.against_metrics is None:
        lines.append("current   none: nothing to compare with")
    else:
        lines.append(f"current   {c.against_name}  ({c.against})")
    header = f"{'set':<18}{'metric':<12}{'current':>9}{'candidate':>11}{'delta':>9}"
    lines += ["", header, "-" * len(header)]
    for name, cand in c.candidate_metrics.items():
        cur = (c.against_metrics or {}).get(name)
        current = _figures(cur) if cur else [(label, None) for label, _ in _figures(cand)]
        for i, ((label, new), (_, old)) in enumerate(zip(_figures(cand), current, strict=True)):
            title = f"{name} ({cand['n']})" if i == 0 else ""
            if old is None:
                lines.append(f"{title:<18}{label:<12}{'-':>9}{new:>11.4f}")
            else:
                delta = 100 * (new - old)
                lines.append(f"{title:<18}{label:<12}{old:>9.4f}{new:>11.4f}{delta:>+9.2f}")
    lines.append("delta: candidate minus current, in points (x 100)")
    return "\n".join(lines)


@dataclass(frozen=True)
class Promotion:
    version: Version
    comparison: Comparison
    gate_failures: list[str]
    directory: Path


def _manifest_sha(model: Path) -> str:
    return hashlib.sha256((model / MANIFEST).read_bytes()).hexdigest()


def _bootstrap(models: Path) -> Registry:
    """A new registry; the shipped model, if there is one, becomes its first current version."""
    registry = Registry()
    shipped = models / DEFAULT_MODEL_NAME
    if (shipped / MANIFEST).is_file():
        manifest = load_model_dir(shipped).manifest
        registry.versions[manifest.version] = Version(
            version=manifest.version,
            dir=shipped.name,
            name=manifest.name,
            parent=None,
            installed=now(),
            **_lineage(shipped),
        )
        registry.current = manifest.version
        registry.events.append(Event(at=now(), action="register", version=manifest.version))
    return registry


def _install(candidate: Path, models: Path, dirname: str) -> Path:
    """Copy the candidate to models/dirname, verified, appearing all at once (rename)."""
    dest = models / dirname
    if dest.resolve() == candidate.resolve():
        return dest
    if dest.exists():
        raise RegistryError(f"{dest} exists but is not registered; move it away first")
    staging = models / f".{dirname}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(candidate, staging)
    try:
        load_model_dir(staging)
        staging.rename(dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dest


def _lineage(candidate: Path) -> dict:
    training = load_model_dir(candidate).metrics().get("training", {})
    return {k: training.get(k) for k in ("run", "data_sha256", "code_version")}


def promote(
    candidate: Path,
    models: Path,
    sets: list[EvalSet],
    force: bool = False,
    note: str = "",
    threads: int | None = None,
) -> Promotion:
    """Evaluate, gate, install as models/<name>-<version>/ and make it current in the registry.

    Raises PromotionRefused (nothing changed) when the gate fails and not `force`.
    """
    manifest = load_model_dir(candidate).manifest
    version = manifest.version
    if not _SAFE_VERSION.fullmatch(version):
        raise RegistryError(f"version {version!r} cannot name a directory: use [A-Za-z0-9._+-]")
    with locked(models):
        registry = read_registry(models) or _bootstrap(models)
        known = registry.versions.get(version)
        if known is not None:
            if _manifest_sha(registry.dir_of(models, version)) != _manifest_sha(candidate):
                raise RegistryError(
                    f"version {version} is already installed with other files; "
                    "export the candidate with another --version"
                )
            if registry.current == version:
                raise RegistryError(f"{version} is already the current version")
        current = registry.dir_of(models, registry.current) if registry.current else None
        comparison = compare(candidate, current, sets, threads)
        failures = (
            gate(comparison.candidate_metrics, comparison.against_metrics)
            if comparison.against_metrics is not None
            else []
        )
        if failures and not force:
            raise PromotionRefused(failures, comparison)
        replaced = registry.versions[registry.current] if registry.current else None
        if replaced is not None and not replaced.metrics:  # the shipped model has none yet
            replaced.metrics = comparison.against_metrics or {}
            replaced.evaluated_on = comparison.sets
        directory = (
            registry.dir_of(models, version)
            if known
            else _install(candidate, models, f"{manifest.name}-{version}")
        )
        entry = known or Version(
            version=version,
            dir=directory.name,
            name=manifest.name,
            parent=registry.current,
            installed=now(),
            **_lineage(candidate),
        )
        entry.metrics, entry.evaluated_on = comparison.candidate_metrics, comparison.sets
        entry.forced, entry.gate_failures = bool(failures), failures  # of its latest promotion
        registry.versions[version] = entry
        if registry.current is not None:
            registry.previous.append(registry.current)
        registry.events.append(
            Event(
                at=now(),
                action="promote",
                version=version,
                previous=registry.current,
                forced=bool(failures),
                gate_failures=failures,
                note=note,
            )
        )
        registry.current = version
        write_registry(models, registry)
    return Promotion(entry, comparison, failures, directory)


def comparison_json(c: Comparison) -> str:
    return json.dumps(
        {
            "candidate": {"model": c.candidate_name, "path": str(c.candidate)},
            "current": {"model": c.against_name, "path": str(c.against) if c.against else None},
            "sets": c.sets,
            "metrics": {"candidate": c.candidate_metrics, "current": c.against_metrics},
        },
        indent=2,
    )
