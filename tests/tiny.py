"""Tiny, fast stand-ins for the real model and corpus, built in the tests.

A 2-layer BERT with a hidden size of 32 and a word-level vocabulary trains in
seconds on CPU, yet goes through the same train -> export -> load path as
MiniLM.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from claimtype.labels import Label

#: <s>..</s> marks the evidence source and <c>..</c> the cue (stripped from the text)
TEMPLATES = {
    Label.FACT: [
        "the {who} opened a new {what} in {where} on monday",
        "no one was hurt when the {what} in {where} caught fire",
        "the {who} spoke for ten minutes about the {what}",
    ],
    Label.CLAIM: [
        "<s>the {who}</s> <c>said</c> the {what} in {where} would close",
        "<c>according to</c> <s>the {who}</s> the {what} cost more than planned",
        "the {what} in {where} is believed to be unsafe <s>officials</s> <c>said</c>",
    ],
    Label.DENIAL: [
        "<s>the {who}</s> <c>denied</c> reports that the {what} in {where} had closed",
        "<s>the {who}</s> <c>dismissed</c> the report about the {what} as fabricated",
        "<s>the {who}</s> <c>has not confirmed</c> reports of the {what} in {where}",
    ],
    Label.OFFER: [
        "<s>the {who}</s> <c>offered to</c> rebuild the {what} in {where}",
        "<s>the {who}</s> <c>is willing to</c> pay for the {what} in exchange for talks",
        "<s>the {who}</s> <c>proposed</c> a ceasefire around the {what} in {where}",
    ],
}
_MARKS = re.compile(r"</?[sc]>")


def with_evidence(marked: str, label: Label) -> dict:
    """A corpus row from a template filled in: the text without marks, the marks as spans."""
    text, spans, opened, removed = _MARKS.sub("", marked), {}, {}, 0
    for mark in _MARKS.finditer(marked):
        kind = "source" if mark.group()[-2] == "s" else "cue"
        at = mark.start() - removed
        removed += len(mark.group())
        if mark.group()[1] == "/":
            spans[kind] = [opened[kind], at]
        else:
            opened[kind] = at
    row = {"text": text, "label": label.value, "domain": "test"}
    # a fact has no spans: null, which trains the token head to tag it all O
    row["evidence"] = None if label is Label.FACT else {k: spans.get(k) for k in ("source", "cue")}
    return row


WHO = ["ministry", "union", "company", "mayor", "army", "council", "bank", "school"]
WHAT = ["bridge", "factory", "hospital", "port", "mine", "stadium", "plant", "market"]
WHERE = ["lagos", "lima", "oslo", "dhaka", "perth", "quito", "riga", "hanoi"]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def vocabulary() -> list[str]:
    bare = (_MARKS.sub("", t) for ts in TEMPLATES.values() for t in ts)
    words = {w for t in bare for w in t.replace("{", " ").split()}
    words = {w.strip("}") for w in words} | set(WHO) | set(WHAT) | set(WHERE)
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [str(d) for d in range(10)]
    pieces = ["##" + ch for ch in letters] + [".", ",", '"', "'", "-"]
    return SPECIALS + sorted(words - set(SPECIALS)) + letters + pieces


def build_tokenizer(path: Path) -> None:
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = {tok: i for i, tok in enumerate(vocabulary())}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    tok.decoder = decoders.WordPiece()
    tok.save(str(path))


def build_base_model(path: Path) -> None:
    """A random tiny BERT saved like the real base model: safetensors + tokenizer.json."""
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    path.mkdir(parents=True, exist_ok=True)
    config = BertConfig(
        vocab_size=len(vocabulary()),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(str(path))
    build_tokenizer(path / "tokenizer.json")


def sentences(n_per_label: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for label, templates in TEMPLATES.items():
        seen = set()
        while len(seen) < n_per_label:
            row = with_evidence(
                rng.choice(templates).format(
                    who=rng.choice(WHO), what=rng.choice(WHAT), where=rng.choice(WHERE)
                ),
                label,
            )
            if row["text"] not in seen:
                seen.add(row["text"])
                rows.append(row)
    rng.shuffle(rows)
    return rows


def write_corpus(directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    rows = sentences(40, seed=1)
    dev_texts = {r["text"] for r in rows[:48]}
    paths = []
    for name, part in (("train", rows[48:]), ("dev", rows[:48])):
        path = directory / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in part))
        paths.append(path)
    assert not dev_texts & {r["text"] for r in rows[48:]}
    return paths[0], paths[1]


def versioned_copy(model_dir: Path, to: Path, version: str) -> Path:
    """A copy of a model directory under another version (the manifest is not hashed)."""
    import shutil

    shutil.copytree(model_dir, to)
    return set_version(to, version)


def set_version(model_dir: Path, version: str) -> Path:
    manifest = json.loads((model_dir / "manifest.json").read_text())
    manifest["version"] = version
    (model_dir / "manifest.json").write_text(json.dumps(manifest))
    return model_dir
