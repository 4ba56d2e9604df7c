"""Reading, validating, de-duplicating and splitting the labelled corpus.

Labels are checked against serving.labels, the one schema. Splits are made by
story (a group of sentences about one event, contrast pairs kept together), so
dev and challenge never share an event or near-identical wording with train:
otherwise dev figures would measure memory, not generalisation.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..evidence import SPAN_EDGES, is_span, spans_overlap
from ..labels import LABELS
from ..preprocess import normalize

__all__ = [
    "EVAL_SETS",
    "HELD_OUT_BEATS",
    "RULES",
    "CorpusError",
    "dedupe_key",
    "iter_jsonl",
    "near_duplicates",
    "read_jsonl",
    "split_by_story",
    "stats",
    "validate_rows",
    "validate_splits",
    "write_jsonl",
]

REQUIRED = ("text", "label", "domain")
NEAR_DUPLICATE = 0.8
#: The evaluation sets every report and promotion gate uses, by name. dev_wire (written in the
#: shape of real wire copy, on beats of its own) chooses the best epoch and the temperature.
EVAL_SETS = {
    "dev": Path("data/dev.jsonl"),
    "dev_wire": Path("data/dev_wire.jsonl"),
    "challenge": Path("data/challenge.jsonl"),
}
#: Evaluation splits whose beats (domains) must not occur in train: they measure new beats.
HELD_OUT_BEATS = ("dev", "dev_wire")
#: Close-call rules of LABELS.md (and its hard cases) that a sentence may be written to exercise
#: (`rule` field); the data card counts sentences per rule.
RULES = (
    "main-clause", "offer-made", "silence", "not-guilty", "writer-correction", "performative",
    "open-offer", "refuse-request", "conditional", "trailing-denial", "reporting-vs-event",
    "no-comment", "own-involvement", "counterpart", "standing-rule", "agreed-deal",
    "accusation-offer", "verdict-finding", "unverified", "writer-threat", "insurance-claim",
    "offer-fate", "denial-anywhere", "denial-needs-claim", "appeals",
    "speech-fact", "negation-fact", "noun-sense", "attribution-far",
)  # fmt: skip
_WORD = re.compile(r"[a-z0-9]+")


class CorpusError(ValueError):
    """The corpus breaks a rule; the message lists every problem found."""


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict | str]]:
    """(line number, record) for each non-blank line, or (line number, problem) when bad."""
    with Path(path).open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                yield lineno, f"not JSON: {exc}"
                continue
            yield lineno, row if isinstance(row, dict) else "a record must be a JSON object"


def read_jsonl(path: Path) -> list[dict]:
    """Every record of a JSONL file; the first bad line raises CorpusError."""
    rows = []
    for lineno, row in iter_jsonl(path):
        if isinstance(row, str):
            raise CorpusError(f"{path}:{lineno}: {row}")
        rows.append(row)
    return rows


def write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    with Path(path).open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text).lower())


def dedupe_key(text: str) -> str:
    """Texts equal up to case, spacing and punctuation share a key."""
    return " ".join(words(text))


def _shingles(text: str) -> set[tuple[str, ...]]:
    w = words(text)
    n = 3 if len(w) >= 6 else 1
    return {tuple(w[i : i + n]) for i in range(max(1, len(w) - n + 1))}


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def near_duplicates(
    a: Sequence[str], b: Sequence[str], threshold: float = NEAR_DUPLICATE
) -> list[tuple[int, int, float]]:
    """Pairs (i, j, similarity) with texts a[i] and b[j] sharing most word 3-grams."""
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    b_sh = [_shingles(t) for t in b]
    for j, sh in enumerate(b_sh):
        for g in sh:
            index[g].append(j)
    found = []
    for i, text in enumerate(a):
        sh = _shingles(text)
        hits = Counter(j for g in sh for j in index.get(g, ()))
        for j, common in hits.items():
            if common / max(len(sh), len(b_sh[j])) < threshold:
                continue
            sim = _jaccard(sh, b_sh[j])
            if sim >= threshold:
                found.append((i, j, sim))
    return found


def evidence_problems(row: dict) -> list[str]:
    """What is wrong with a row's `evidence`: shape, offsets inside the text, trimmed spans,
    none on a fact; a row without the field has nothing wrong (it was not marked)."""
    if "evidence" not in row:
        return []
    evidence = row["evidence"]
    if row["label"] == "fact":
        return [] if evidence is None else ["a fact sentence has evidence"]
    if not isinstance(evidence, dict) or set(evidence) != {"source", "cue"}:
        return [f"evidence must be {{'source': span, 'cue': span}}, got {evidence!r}"]
    problems = []
    text = row["text"]
    valid = []
    for kind, span in evidence.items():
        if span is None:
            continue
        if not is_span(span) or not 0 <= span[0] < span[1] <= len(text):
            problems.append(f"{kind} span {span!r} is not [start, end) inside the text")
            continue
        valid.append(span)
        marked = text[span[0] : span[1]]
        if marked[0] in SPAN_EDGES[0] or marked[-1] in SPAN_EDGES[1]:
            problems.append(f"{kind} span {marked!r} is not trimmed")
    if len(valid) == 2 and spans_overlap(*valid):
        problems.append("source and cue spans overlap")
    return problems


def validate_rows(rows: Sequence[dict], name: str) -> list[str]:
    """Every problem of one split: missing fields, unknown labels, empty or duplicate texts,
    malformed evidence spans."""
    problems = []
    seen: dict[str, int] = {}
    for i, row in enumerate(rows, start=1):
        missing = [k for k in REQUIRED if not isinstance(row.get(k), str)]
        if missing:
            problems.append(f"{name}:{i}: missing or non-string {missing}")
            continue
        if row["label"] not in LABELS:
            problems.append(f"{name}:{i}: unknown label {row['label']!r}")
        if row.get("rule") is not None and row["rule"] not in RULES:
            problems.append(f"{name}:{i}: unknown rule {row['rule']!r}")
        problems += [f"{name}:{i}: {p}" for p in evidence_problems(row)]
        key = dedupe_key(row["text"])
        if not key:
            problems.append(f"{name}:{i}: empty text")
            continue
        if key in seen:
            problems.append(f"{name}:{i}: duplicate of line {seen[key]}: {row['text'][:60]!r}")
        seen.setdefault(key, i)
    return problems


def validate_splits(
    splits: dict[str, Sequence[dict]], held_out_beats: Sequence[str] = ()
) -> list[str]:
    """Problems within each split, plus near-duplicates and shared stories across splits,
    and any beat (domain) of the splits named in held_out_beats that train also covers."""
    problems = [p for name, rows in splits.items() for p in validate_rows(rows, name)]
    train_beats = {r.get("domain") for r in splits.get("train", ())}
    for name in held_out_beats:
        for beat in sorted({r.get("domain") for r in splits.get(name, ())} & train_beats):
            problems.append(f"beat {beat} of {name} is also in train")
    names = list(splits)
    for x, first in enumerate(names):
        for second in names[x + 1 :]:
            a = [r.get("text", "") for r in splits[first]]
            b = [r.get("text", "") for r in splits[second]]
            for i, j, sim in near_duplicates(a, b):
                problems.append(
                    f"{first}:{i + 1} ~ {second}:{j + 1} near-duplicate ({sim:.2f}): {a[i][:60]!r}"
                )
            stories_a = {r["story"] for r in splits[first] if r.get("story")}
            stories_b = {r["story"] for r in splits[second] if r.get("story")}
            for story in sorted(stories_a & stories_b):
                problems.append(f"story {story} is in both {first} and {second}")
    return problems


@dataclass(frozen=True)
class Split:
    train: list[dict]
    dev: list[dict]


def _groups(rows: Sequence[dict]) -> dict[str, list[int]]:
    """Rows that must stay together: one story, and every story a contrast pair touches."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, row in enumerate(rows):
        story = row.get("story") or f"row-{i}"
        find(story)
        if row.get("pair"):
            parent[find(story)] = find("pair:" + row["pair"])
    groups: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        groups[find(row.get("story") or f"row-{i}")].append(i)
    return groups


def split_by_story(
    rows: Sequence[dict], dev_fraction: float, seed: int, dev_domains: Sequence[str] = ()
) -> Split:
    """Hold out whole domains (`dev_domains`) and whole stories of the others for dev.

    A held-out domain measures what users see on a beat the model never trained
    on; held-out stories measure new events on familiar beats.
    """
    rng = random.Random(seed)
    by_domain: dict[str, list[list[int]]] = defaultdict(list)
    for members in _groups(rows).values():
        by_domain[rows[members[0]]["domain"]].append(members)
    dev_idx: set[int] = set()
    for domain in sorted(by_domain):
        groups = sorted(by_domain[domain], key=lambda m: rows[m[0]].get("story", ""))
        rng.shuffle(groups)
        share = 1.0 if domain in dev_domains else dev_fraction
        target = share * sum(len(g) for g in groups)
        taken = 0
        for members in groups:
            if taken >= target:
                break
            dev_idx.update(members)
            taken += len(members)
    train = [r for i, r in enumerate(rows) if i not in dev_idx]
    dev = [r for i, r in enumerate(rows) if i in dev_idx]
    return Split(train=train, dev=dev)


def stats(rows: Sequence[dict]) -> dict:
    """Counts by label, domain and rule, the share of hard cases per label, and lengths.

    Lengths are in whitespace-separated words, as the data card quotes them against
    real wire copy (median about 24 words, a quarter over 30).
    """
    by_label = Counter(r["label"] for r in rows)
    hard = Counter(r["label"] for r in rows if r.get("hard"))
    lengths = sorted(len(r["text"].split()) for r in rows)
    return {
        "sentences": len(rows),
        "by_label": {k: by_label[k] for k in LABELS},
        "hard_share": {k: round(hard[k] / by_label[k], 3) if by_label[k] else 0 for k in LABELS},
        "by_domain": dict(sorted(Counter(r["domain"] for r in rows).items())),
        "by_rule": dict(sorted(Counter(r["rule"] for r in rows if r.get("rule")).items())),
        "stories": len({r.get("story") for r in rows}),
        "median_words": lengths[len(lengths) // 2] if lengths else 0,
        "over_30_words": round(sum(n > 30 for n in lengths) / len(lengths), 3) if rows else 0,
    }


def build_splits(
    sources: Sequence[Path],
    challenge_sources: Sequence[Path],
    dev_fraction: float,
    seed: int,
    dev_domains: Sequence[str] = (),
    dev_wire_sources: Sequence[Path] = (),
) -> dict[str, list[dict]]:
    """train/dev/challenge (and dev_wire) from the authored files, disjoint by story and wording.

    dev_wire is written apart, on beats of its own, and taken whole. Rows of train
    that nearly repeat an evaluation sentence are dropped from train (never the
    other way round), so evaluation sets keep every sentence.
    """
    rows = [r for path in sources for r in read_jsonl(path)]
    challenge = [r for path in challenge_sources for r in read_jsonl(path)]
    dev_wire = [r for path in dev_wire_sources for r in read_jsonl(path)]
    split = split_by_story(rows, dev_fraction, seed, dev_domains)
    held_out = [r["text"] for r in split.dev + challenge + dev_wire]
    leaking = {i for i, _, _ in near_duplicates([r["text"] for r in split.train], held_out)}
    train = [r for i, r in enumerate(split.train) if i not in leaking]
    dev_leaking = {
        i
        for i, _, _ in near_duplicates(
            [r["text"] for r in split.dev], [r["text"] for r in challenge]
        )
    }
    dev = [r for i, r in enumerate(split.dev) if i not in dev_leaking]
    splits = {"train": train, "dev": dev, "challenge": challenge}
    return splits | ({"dev_wire": dev_wire} if dev_wire else {})
