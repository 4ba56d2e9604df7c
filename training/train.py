"""Fine-tune MiniLM-L6-H384 on the corpus and write a run directory.

The Hugging Face Trainer does the loop (it brings evaluation per epoch, best
model selection on dev macro-F1, length-grouped batches and the TensorBoard and
MLflow integrations); what is ours is the collator, which tokenises through
serving's Encoder so training sees exactly the ids the runtime will produce.

A run is reproducible: the seed is set before the classification head is
initialised (the Trainer seeds only when it is built, after the model), and the
run directory records what a rerun needs to match it: the config, the sha256 of
each data file and of the base weights, and the code version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import json
import os
import platform
import random
import re
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from ..artefact import sha256_file
from ..cpus import cores
from ..evidence import EVIDENCE_KINDS, IGNORE_TAG, token_tags
from ..extras import install_hint
from ..labels import LABELS, id2label, label2id
from ..preprocess import Encoder, normalize_with_offsets
from .config import BASE_MODEL_SHA256, TrainConfig, base_model_dir
from .data import CorpusError, read_jsonl, validate_rows
from .metrics import classification_metrics

__all__ = [
    "BaseModelError",
    "check_base_model",
    "code_version",
    "data_sha256",
    "evidence_columns",
    "gold_tags",
    "mask_cue",
    "train",
    "training_rows",
]


class BaseModelError(RuntimeError):
    """The base weights are missing or are not the pinned ones."""


def check_base_model(path: Path, expected: str) -> None:
    weights = path / "model.safetensors"
    if not weights.is_file():
        raise BaseModelError(f"{path}: no model.safetensors")
    found = sha256_file(weights)
    if found != expected:
        raise BaseModelError(
            f"{weights}: sha256 {found} is not the pinned {expected}; refusing to train on "
            "unknown base weights"
        )


def code_version() -> str:
    """git describe of the checkout, or 'unknown' outside one."""
    try:
        return subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def data_sha256(paths: Sequence[Path]) -> str:
    """One hash over the data files in order: the data identity a registry entry records."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def _tracking(config: TrainConfig, out: Path) -> tuple[list[str], list]:
    """report_to for the Trainer, plus our own TensorBoard callback writing to out/tensorboard.

    The Trainer's default TensorBoard directory sits under the checkpoints with a
    date-and-host name; a fixed one beside the run's other files is easier to find.
    Missing packages are reported with the command that installs them.
    """
    missing = [n for n in config.report_to if importlib.util.find_spec(n) is None]
    if missing:
        raise ImportError(
            f"report_to {missing} needs the package installed: {install_hint('track')} "
            "(tensorboard) or pip install mlflow"
        )
    callbacks = []
    if "tensorboard" in config.report_to:
        from torch.utils.tensorboard import SummaryWriter
        from transformers.integrations import TensorBoardCallback

        callbacks.append(TensorBoardCallback(SummaryWriter(log_dir=str(out / "tensorboard"))))
    return [r for r in config.report_to if r != "tensorboard"], callbacks


def _load_split(path: Path) -> list[dict]:
    rows = read_jsonl(path)
    problems = validate_rows(rows, str(path))
    if problems:
        raise CorpusError("\n".join(problems[:20]))
    return rows


def mask_cue(text: str, cue: str, mask: str = "[MASK]") -> str:
    """text with every whole-word occurrence of cue (any case) replaced by the mask token."""
    return re.sub(rf"(?<!\w){re.escape(cue)}(?!\w)", mask, text, flags=re.IGNORECASE)


def evidence_columns(row: dict) -> dict:
    """A corpus row's spans as a feature carries them: whether it is marked, and each
    kind's [start, end] ([0, 0] for none)."""
    spans = row.get("evidence") or {}
    return {
        "has_evidence": "evidence" in row,
        **{kind: list(spans.get(kind) or (0, 0)) for kind in EVIDENCE_KINDS},
    }


def gold_tags(text: str, feature: dict, tokens_offsets) -> list[int]:  # type: ignore[no-untyped-def]
    """Gold evidence tags of one feature's tokens; all ignored when it has no spans."""
    if not feature.get("has_evidence"):
        return [IGNORE_TAG] * len(tokens_offsets)
    normalized = normalize_with_offsets(text)
    spans = {
        kind: normalized.normalized_span(*feature[kind]) if feature[kind][1] > 0 else None
        for kind in EVIDENCE_KINDS
    }
    return token_tags(tokens_offsets, spans)


class EncoderCollator:
    """Batches raw texts through serving's Encoder into torch tensors.

    With cue_mask_prob > 0, a training feature that carries its misleading cue word
    has it masked with that chance, drawn afresh each time the batch is built (its
    evidence tags are then left out: the masked text no longer has the gold offsets).
    With evidence, each batch carries the BIO tag of every token ("evidence_tags").
    """

    def __init__(
        self, encoder: Encoder, cue_mask_prob: float = 0.0, seed: int = 0, evidence: bool = False
    ) -> None:
        self.encoder = encoder
        self.cue_mask_prob = cue_mask_prob
        self.rng = random.Random(seed)
        self.evidence = evidence

    def _text(self, feature: dict) -> str:
        cue = feature.get("cue")
        if cue and self.cue_mask_prob and self.rng.random() < self.cue_mask_prob:
            return mask_cue(feature["text"], cue)
        return feature["text"]

    def __call__(self, features: list[dict]) -> dict:
        import torch

        texts = [self._text(f) for f in features]
        rows = self.encoder.tokenize(texts)
        batch = self.encoder.collate(rows)
        out = {k: torch.from_numpy(v) for k, v in batch.arrays.items()}
        out["labels"] = torch.tensor([f["label"] for f in features], dtype=torch.long)
        if not self.evidence:
            return out
        tags = torch.full(batch.arrays["input_ids"].shape, IGNORE_TAG, dtype=torch.long)
        for i, (text, feature, row) in enumerate(zip(texts, features, rows, strict=True)):
            if text == feature["text"]:
                tags[i, : len(row)] = torch.tensor(gold_tags(text, feature, row.offsets))
        out["evidence_tags"] = tags
        return out


def _starting_weights(config: TrainConfig, base: Path) -> Path:
    """The base weights, or with init_from a run's model, checked to descend from them."""
    if config.init_from is None:
        return base
    run = Path(config.init_from)
    info = json.loads((run / "metrics.json").read_text())
    if info.get("base_sha256") != config.base_sha256:
        raise BaseModelError(
            f"{run}: trained from base {info.get('base_sha256')}, not the pinned "
            f"{config.base_sha256}; refusing to start from it"
        )
    return run / "model"


def _init_info(config: TrainConfig) -> dict:
    if config.init_from is None:
        return {}
    weights = Path(config.init_from) / "model" / "model.safetensors"
    return {"init_from": str(config.init_from), "init_sha256": sha256_file(weights)}


def _optimizer(model, config: TrainConfig):  # type: ignore[no-untyped-def]
    """AdamW, with the evidence head at its own learning rate when one is set.

    A new head at the encoder's small rate learns slowly, and a high rate for the
    whole network moves the encoder (and its labels) far from where a run
    started; two rates let the head catch up while the encoder barely moves.
    None: the Trainer's own AdamW.
    """
    if config.head_learning_rate is None:
        return None
    from torch.optim import AdamW

    named = list(model.named_parameters())
    head = [p for n, p in named if n.startswith("evidence")]
    rest = [p for n, p in named if not n.startswith("evidence")]
    groups = [
        {"params": rest, "lr": config.learning_rate},
        {"params": head, "lr": config.head_learning_rate},
    ]
    return AdamW(groups, weight_decay=config.weight_decay)


def training_rows(rows: list[dict], wire_repeat: int) -> list[dict]:
    """The rows one epoch goes through: each wire-style row wire_repeat times."""
    return [r for r in rows for _ in range(wire_repeat if r.get("style") == "wire" else 1)]


def _dataset(rows: list[dict], encoder: Encoder, with_cues: bool = False):  # type: ignore[no-untyped-def]
    from datasets import Dataset

    ids = label2id()
    texts = [r["text"] for r in rows]
    lengths = [len(t) for t in encoder.tokenize(texts)]
    columns = {"text": texts, "label": [ids[r["label"]] for r in rows], "length": lengths}
    marked = [evidence_columns(r) for r in rows]
    for key in ("has_evidence", *EVIDENCE_KINDS):
        columns[key] = [m[key] for m in marked]
    if with_cues:
        columns["cue"] = [(r.get("cue") or "") if r.get("hard") else "" for r in rows]
    return Dataset.from_dict(columns)


def _sentence_logits(predictions):  # type: ignore[no-untyped-def]
    """The sentence head's logits among what the Trainer gathered (both heads, with evidence)."""
    return predictions[0] if isinstance(predictions, tuple) else predictions


def _compute_metrics(prediction) -> dict:  # type: ignore[no-untyped-def]
    logits, gold = _sentence_logits(prediction.predictions), prediction.label_ids
    m = classification_metrics(gold.tolist(), logits.argmax(-1).tolist())
    return {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"]}


def train(config: TrainConfig) -> Path:
    """Run one fine-tuning; return the run directory (config, metrics, log, PNGs, model/)."""
    import torch
    import transformers
    from transformers import (
        AutoConfig,
        AutoModelForSequenceClassification,
        Trainer,
        TrainingArguments,
        set_seed,
    )
    from transformers.utils import logging as hf_logging

    from .plots import plot_confusion, plot_curves
    from .report import write_run_report

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    started = time.time()
    started_at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    base = config.base_model or base_model_dir()
    check_base_model(base, config.base_sha256)
    torch.set_num_threads(config.threads or cores())
    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    config.save(out / "train_config.json")

    train_rows, dev_rows = _load_split(config.train_file), _load_split(config.dev_file)
    encoder = Encoder.from_file(base / "tokenizer.json", config.max_length)
    evidence = config.evidence_weight > 0
    collator = EncoderCollator(encoder, config.cue_mask_prob, config.seed, evidence)
    report_to, callbacks = _tracking(config, out)
    # the new heads are drawn from the global RNG: seed it first
    set_seed(config.seed)
    model_class = AutoModelForSequenceClassification
    if evidence:
        from .evidence_model import BertWithEvidence

        model_class = BertWithEvidence
    start = _starting_weights(config, base)
    model_config = AutoConfig.from_pretrained(
        start, num_labels=len(LABELS), id2label=id2label(), label2id=label2id()
    )
    if evidence:  # the token head's shape travels in config.json, for export to rebuild it
        model_config.evidence_layers = list(config.evidence_layers)
        model_config.evidence_kernel = config.evidence_kernel
    model = model_class.from_pretrained(start, config=model_config)
    if evidence:
        model.label_smoothing, model.evidence_weight = (
            config.label_smoothing,
            config.evidence_weight,
        )
    if config.evidence_only:
        for name, parameter in model.named_parameters():
            parameter.requires_grad_(name.startswith("evidence"))
    if config.freeze_embeddings:
        model.base_model.embeddings.word_embeddings.weight.requires_grad_(False)
    hf_logging.set_verbosity_error()
    args = TrainingArguments(
        output_dir=str(out / "checkpoints"),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=64,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        warmup_steps=config.warmup_ratio,
        # the evidence model smooths its own label loss: the Trainer's smoother would drop the tags
        label_smoothing_factor=0.0 if evidence else config.label_smoothing,
        eval_strategy="epoch" if config.max_steps < 0 else "steps",
        save_strategy="epoch" if config.max_steps < 0 else "steps",
        eval_steps=max(config.max_steps, 1) if config.max_steps > 0 else None,
        save_steps=max(config.max_steps, 1) if config.max_steps > 0 else None,
        logging_steps=10,
        save_total_limit=1,
        save_only_model=True,
        # the labels of a frozen sentence model cannot choose an epoch: keep the last
        load_best_model_at_end=not config.evidence_only,
        metric_for_best_model="macro_f1",
        greater_is_better=True,
        train_sampling_strategy="group_by_length",
        remove_unused_columns=False,
        report_to=report_to or "none",
        use_cpu=True,
        seed=config.seed,
        data_seed=config.seed,
        dataloader_num_workers=0,
        disable_tqdm=False,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=_dataset(
            training_rows(train_rows, config.wire_repeat), encoder, config.cue_mask_prob > 0
        ),
        eval_dataset=_dataset(dev_rows, encoder),
        data_collator=collator,
        compute_metrics=_compute_metrics,
        callbacks=callbacks,
        optimizers=(_optimizer(model, config), None),
    )
    trainer.train()

    model_dir = out / "model"
    trainer.save_model(str(model_dir))
    encoder.tokenizer.save(str(model_dir / "tokenizer.json"))
    # the Trainer may reorder evaluation batches by length: take gold from its output
    final = trainer.predict(trainer.eval_dataset)
    dev = classification_metrics(
        final.label_ids.tolist(), _sentence_logits(final.predictions).argmax(-1).tolist()
    )
    wall = round(time.time() - started, 1)
    history = trainer.state.log_history
    with (out / "training_log.jsonl").open("w") as fh:
        for entry in history:
            fh.write(json.dumps(entry) + "\n")
    info = {
        "dev_torch": dev,
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "wall_seconds": wall,
        "train_sentences": len(train_rows),
        "dev_sentences": len(dev_rows),
        "data_sha256": data_sha256([config.train_file, config.dev_file]),
        "data_files": {
            str(path): sha256_file(Path(path)) for path in (config.train_file, config.dev_file)
        },
        "seed": config.seed,
        "started": started_at,
        "base_model": str(base),
        "base_sha256": config.base_sha256,
        "base_sha256_is_pinned": config.base_sha256 == BASE_MODEL_SHA256,
        **_init_info(config),
        "code_version": code_version(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "threads": torch.get_num_threads(),
    }
    (out / "metrics.json").write_text(json.dumps(info, indent=2) + "\n")
    plot_confusion(dev, out / "confusion_dev.png", "dev (PyTorch, best epoch)")
    plot_curves(history, out / "curves.png")
    write_run_report(out)
    return out
