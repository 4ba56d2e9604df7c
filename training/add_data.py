"""Adding labelled sentences to the training data without duplicates or evaluation leaks.

New rows come from annotators or from users' corrections (`claimtype feedback
export`). Each row is checked against serving.labels and refused, with the
reason, when it is malformed, when it repeats exactly or nearly a sentence the
training file already has, or when it repeats a dev or challenge sentence: a
held-out sentence in train would make the figures that decide a promotion
measure memory instead of generalisation. Accepted rows are appended in one
atomic replace, so the training file is never left half-written.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..evidence import shift_spans
from ..files import atomic_write
from ..labels import LABELS
from ..sentences import split_sentences
from .data import (
    dedupe_key,
    evidence_problems,
    iter_jsonl,
    near_duplicates,
    read_jsonl,
    write_jsonl,
)

__all__ = ["AddReport", "Refusal", "add_data", "read_labelled", "write_refused"]

MAX_CHARS = 2000
DEFAULT_DOMAIN = "added"

#: why a row was refused; the report counts by these
INVALID, DUPLICATE, CONFLICT, HELD_OUT = "invalid", "duplicate", "label conflict", "held-out"


@dataclass(frozen=True)
class Refusal:
    line: int
    kind: str
    reason: str
    row: dict


@dataclass
class AddReport:
    source: Path
    target: Path
    read: int = 0
    accepted: list[dict] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    written: bool = False

    def refused_by_kind(self) -> dict[str, int]:
        return dict(Counter(r.kind for r in self.refused))

    def accepted_by_label(self) -> dict[str, int]:
        counts = Counter(r["label"] for r in self.accepted)
        return {k: counts[k] for k in LABELS}


@dataclass(frozen=True)
class _Held:
    """A sentence of the corpus, with where it lives (for the report)."""

    text: str
    label: str
    where: str


def read_labelled(path: Path) -> Iterator[tuple[int, dict | str]]:
    """(line number, row) for each record of a JSONL or CSV file, or (line, error message).

    A bad line is reported, not fatal: the caller refuses it and goes on.
    CSV needs a header naming at least `text` and `label` (`domain` is optional).
    """
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = set(reader.fieldnames or [])
            if not {"text", "label"} <= header:
                raise ValueError(
                    f"{path}: the CSV header must name text and label, found {sorted(header)}"
                )
            for row in reader:
                if None in row:
                    yield reader.line_num, "more fields than the header names"
                else:
                    yield reader.line_num, {k: v for k, v in row.items() if v is not None}
        return
    yield from iter_jsonl(path)


def _clean(row: dict, domain: str) -> dict | str:
    """The row as the corpus stores it, or why it cannot be."""
    text, label = row.get("text"), row.get("label")
    if not isinstance(text, str) or not isinstance(label, str):
        return "text and label must both be strings"
    lead = len(text) - len(text.lstrip())
    text, label = text.strip(), label.strip().lower()
    if label not in LABELS:
        return f"unknown label {row['label']!r} (expected one of {', '.join(LABELS)})"
    if not dedupe_key(text):
        return "empty text"
    if len(text) > MAX_CHARS:
        return f"text has {len(text)} characters > {MAX_CHARS}; one sentence per row"
    sentences = split_sentences(text)
    if len(sentences) > 1:
        return f"text holds {len(sentences)} sentences; split it, one sentence per row"
    row_domain = row.get("domain") or domain
    if not isinstance(row_domain, str) or not row_domain.strip():
        return "domain must be a non-empty string"
    out = {"text": text, "label": label, "domain": row_domain.strip()}
    story = row.get("story")
    if story is not None:
        if not isinstance(story, str):
            return "story must be a string"
        out["story"] = story
    if "evidence" in row:  # spans (from `claimtype feedback export`) follow the stripped text
        evidence = row["evidence"]
        out["evidence"] = shift_spans(evidence, lead) if isinstance(evidence, dict) else evidence
        problems = evidence_problems(out)
        if problems:
            return "; ".join(problems)
    return out


def _held(paths: Sequence[Path]) -> list[_Held]:
    return [
        _Held(r.get("text", ""), r.get("label", ""), f"{p.name}:{i}")
        for p in paths
        for i, r in enumerate(read_jsonl(p), start=1)
    ]


def _snippet(text: str) -> str:
    return repr(text[:70] + ("…" if len(text) > 70 else ""))


def add_data(
    source: Path,
    target: Path,
    held_out: Sequence[Path],
    domain: str = DEFAULT_DOMAIN,
    dry_run: bool = False,
) -> AddReport:
    """Check `source` against `target` (the training file) and the held-out sets; append.

    Held-out files (dev, challenge) must exist: adding data without knowing them
    could leak an evaluation sentence into train. A missing target is created.
    """
    for path in held_out:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: held-out set not found; pass its path explicitly")
    report = AddReport(source=source, target=target)
    train = _held([target]) if target.is_file() else []
    held = _held(held_out)
    held_stories = {
        r["story"] for p in held_out for r in read_jsonl(p) if isinstance(r.get("story"), str)
    }
    train_keys = {dedupe_key(t.text): t for t in train}
    held_keys = {dedupe_key(t.text): t for t in held}

    # exact checks, in file order; survivors go on to the near-duplicate checks
    candidates: list[tuple[int, dict, dict]] = []
    seen: dict[str, tuple[int, str]] = {}
    for line, raw in read_labelled(source):
        report.read += 1
        if isinstance(raw, str):
            report.refused.append(Refusal(line, INVALID, raw, {}))
            continue
        row = _clean(raw, domain)
        if isinstance(row, str):
            report.refused.append(Refusal(line, INVALID, row, raw))
            continue
        key = dedupe_key(row["text"])
        if key in held_keys:
            h = held_keys[key]
            report.refused.append(Refusal(line, HELD_OUT, f"is the held-out {h.where}", raw))
        elif row.get("story") in held_stories:
            reason = f"story {row['story']!r} is in a held-out set"
            report.refused.append(Refusal(line, HELD_OUT, reason, raw))
        elif key in train_keys:
            t = train_keys[key]
            if t.label == row["label"]:
                report.refused.append(Refusal(line, DUPLICATE, f"already in {t.where}", raw))
            else:
                reason = (
                    f"{t.where} has this sentence labelled {t.label!r}, not {row['label']!r}; "
                    "correct the label there"
                )
                report.refused.append(Refusal(line, CONFLICT, reason, raw))
        elif key in seen:
            first, label = seen[key]
            kind = DUPLICATE if label == row["label"] else CONFLICT
            reason = f"repeats line {first} of this file" + (
                "" if kind == DUPLICATE else f" with another label ({label!r})"
            )
            report.refused.append(Refusal(line, kind, reason, raw))
        else:
            seen[key] = (line, row["label"])
            candidates.append((line, row, raw))

    texts = [row["text"] for _, row, _ in candidates]
    refused: dict[int, tuple[str, str]] = {}
    for i, j, sim in near_duplicates(texts, [h.text for h in held]):
        where = f"the held-out {held[j].where} {_snippet(held[j].text)}"
        refused.setdefault(i, (HELD_OUT, f"near duplicate ({sim:.2f}) of {where}"))
    for i, j, sim in near_duplicates(texts, [t.text for t in train]):
        where = f"{train[j].where} {_snippet(train[j].text)}"
        refused.setdefault(i, (DUPLICATE, f"near duplicate ({sim:.2f}) of {where}"))
    for i, j, sim in sorted(near_duplicates(texts, texts)):
        if j > i and i not in refused:
            where = f"line {candidates[i][0]} of this file"
            refused.setdefault(j, (DUPLICATE, f"near duplicate ({sim:.2f}) of {where}"))
    for i, (line, row, raw) in enumerate(candidates):
        if i in refused:
            kind, reason = refused[i]
            report.refused.append(Refusal(line, kind, reason, raw))
        else:
            report.accepted.append(row)
    report.refused.sort(key=lambda r: r.line)

    if report.accepted and not dry_run:
        _append(target, report.accepted)
        report.written = True
    return report


def _append(target: Path, rows: list[dict]) -> None:
    """Old content plus the new rows, written beside the target and renamed over it."""
    old = target.read_bytes() if target.is_file() else b""
    if old and not old.endswith(b"\n"):
        old += b"\n"
    target.parent.mkdir(parents=True, exist_ok=True)
    new = (json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in rows)
    atomic_write(target, [old, *new])


def write_refused(path: Path, report: AddReport) -> None:
    """The refused rows with their line and reason, to fix and add again."""
    write_jsonl(
        path,
        ({**r.row, "_line": r.line, "_refused": f"{r.kind}: {r.reason}"} for r in report.refused),
    )
