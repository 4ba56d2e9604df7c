"""Predictors: the small interface the API and batch scoring program against.

`OnnxPredictor` runs the model directory's ONNX graph with ONNX Runtime; tests
use a deterministic fake with the same interface, so routes and batch code are
tested without a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from .artefact import ModelDirectory, ModelDirError
from .cpus import cores
from .evidence import decode_evidence
from .labels import LABELS, Label
from .preprocess import Encoder, Tokens, normalize_with_offsets
from .schemas import Evidence, Prediction

if TYPE_CHECKING:
    from onnxruntime import InferenceSession

__all__ = [
    "UNFUSED",
    "OnnxPredictor",
    "Outputs",
    "Predictor",
    "length_batches",
    "open_session",
    "softmax",
    "to_predictions",
]

#: ONNX Runtime fusions left off. Fusing each residual Add into its LayerNorm
#: (SkipLayerNormalization) makes the int8 model about 10% slower on one thread:
#: the fused kernel ran at 1.3 ms a call where Add + LayerNormalization took 0.2
#: (onnxruntime 1.32, AVX-512, batch 32; docs/batch-scoring.md). fp32 logits are
#: identical either way; int8 ones can move by a rounding step.
#: ONNX Runtime ignores names it does not know, so a test checks the fused op is absent.
UNFUSED = ("SkipLayerNormFusion",)


def length_batches(rows: Sequence[Tokens], size: int) -> list[list[int]]:
    """Row indices in batches of `size`, shortest rows first: neighbours in length share a
    batch, so batches carry almost no padding."""
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
    return [order[i : i + size] for i in range(0, len(order), size)]


class Predictor(Protocol):
    """Anything that turns sentences into predictions, in input order."""

    name: str

    def predict(self, texts: Sequence[str]) -> list[Prediction]: ...


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = logits.astype(np.float64) / temperature
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    probs: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return probs


def to_predictions(
    probs: np.ndarray,
    truncated: Sequence[bool],
    evidence: Sequence[Evidence | None] | None = None,
) -> list[Prediction]:
    """Rows of probabilities (in LABELS order), and their evidence if any -> Predictions."""
    best = probs.argmax(axis=-1)
    spans = evidence if evidence is not None else [None] * len(probs)
    return [
        Prediction(
            label=Label(LABELS[int(b)]),
            scores={name: round(float(p), 6) for name, p in zip(LABELS, row, strict=True)},
            truncated=t,
            evidence=e,
        )
        for b, row, t, e in zip(best, probs, truncated, spans, strict=True)
    ]


@dataclass(frozen=True)
class Outputs:
    """What one call's sentences got from the graph, in input order.

    `tags` holds each sentence's evidence-tag logits over its own tokens (no
    padding), or None for a model without an evidence head.
    """

    logits: np.ndarray
    rows: list[Tokens]
    tags: list[np.ndarray] | None

    @property
    def truncated(self) -> list[bool]:
        return [r.truncated for r in self.rows]

    def predictions(self, texts: Sequence[str], temperature: float = 1.0) -> list[Prediction]:
        """Each sentence's label, scores (softmax at `temperature`) and evidence."""
        probs = softmax(self.logits, temperature)
        labels = [Label(LABELS[int(b)]) for b in probs.argmax(axis=-1)]
        return to_predictions(probs, self.truncated, self.evidence(texts, labels))

    def evidence(self, texts: Sequence[str], labels: Sequence[Label]) -> list[Evidence | None]:
        """Each sentence's decoded spans (none for a fact), or None without an evidence head."""
        if self.tags is None:
            return [None] * len(texts)
        return [
            Evidence()
            if label is Label.FACT
            else decode_evidence(tags, row.offsets, normalize_with_offsets(text), label)
            for text, label, tags, row in zip(texts, labels, self.tags, self.rows, strict=True)
        ]


def open_session(
    path: Path, threads: int, spin: bool = True, save_optimized: Path | None = None
) -> InferenceSession:
    """An ONNX Runtime CPU session with the runtime's settings; `save_optimized` keeps its graph."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    if not spin:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if save_optimized is not None:
        options.optimized_model_filepath = str(save_optimized)
    return ort.InferenceSession(
        str(path), options, providers=["CPUExecutionProvider"], disabled_optimizers=list(UNFUSED)
    )


class OnnxPredictor:
    """ONNX Runtime session over a verified model directory.

    Threads are set explicitly: ONNX Runtime's default pool takes every core,
    which fights the web server's own threads and other worker processes.
    `concurrency` > 1 runs that many batches of one call at once on the same
    session (ONNX Runtime's `run` is thread-safe): several one-thread runs keep
    the cores busier on small batches than one run split across threads, and
    the batches of one large call spread over all cores to its last batch.
    """

    def __init__(
        self,
        model_dir: ModelDirectory,
        threads: int | None = None,
        batch_size: int = 32,
        spin: bool = True,
        concurrency: int = 1,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self.model_dir = model_dir
        self.manifest = model_dir.manifest
        self.name = f"{self.manifest.name}@{self.manifest.version}"
        self.batch_size = batch_size
        self.encoder = Encoder.from_file(model_dir.tokenizer_path, self.manifest.max_length)
        try:
            self.session = open_session(model_dir.onnx_path, threads or cores(), spin)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelDirError(
                f"{model_dir.onnx_path}: ONNX Runtime cannot load it: {exc}"
            ) from exc
        found = sorted(i.name for i in self.session.get_inputs())
        if found != sorted(self.manifest.inputs):
            raise ModelDirError(
                f"{model_dir.path}: ONNX inputs {found} differ from the manifest's "
                f"{sorted(self.manifest.inputs)}"
            )
        self.inputs = found
        found_outputs = [o.name for o in self.session.get_outputs()]
        #: the graph outputs read: the sentence logits, then the evidence tags if any
        self.outputs = [self.manifest.output]
        if self.manifest.evidence_output is not None:
            self.outputs.append(self.manifest.evidence_output)
        missing = [name for name in self.outputs if name not in found_outputs]
        if missing:
            raise ModelDirError(
                f"{model_dir.path}: the manifest's outputs {missing} are not among "
                f"the ONNX outputs {found_outputs}"
            )
        self.pool = ThreadPoolExecutor(concurrency) if concurrency > 1 else None

    def close(self) -> None:
        """Stop the batch threads now rather than when the predictor is collected."""
        if self.pool is not None:
            self.pool.shutdown()

    def run(self, rows: Sequence[Tokens]) -> list[np.ndarray]:
        """The graph's outputs (sentence logits, then evidence tags if any) for one batch."""
        batch = self.encoder.collate(rows)
        feed = {name: batch.arrays[name] for name in self.inputs}
        result: list[np.ndarray] = self.session.run(self.outputs, feed)
        return result

    def outputs_of(self, texts: Sequence[str]) -> Outputs:
        """Logits (uncalibrated) and evidence tags in input order, batched by token length."""
        rows = self.encoder.tokenize(texts)
        out = np.zeros((len(rows), len(LABELS)), dtype=np.float32)
        has_tags = len(self.outputs) > 1
        tags_of: dict[int, np.ndarray] = {}  # row -> its tag logits, without padding
        batches = length_batches(rows, self.batch_size)

        def run(idx: list[int]) -> list[np.ndarray]:
            return self.run([rows[i] for i in idx])

        results = self.pool.map(run, batches) if self.pool else map(run, batches)
        for idx, outputs in zip(batches, results, strict=True):
            out[idx] = outputs[0]
            if has_tags:
                tags_of.update((i, outputs[1][j, : len(rows[i])]) for j, i in enumerate(idx))
        tags = [tags_of[i] for i in range(len(rows))] if has_tags else None
        return Outputs(logits=out, rows=rows, tags=tags)

    def logits(self, texts: Sequence[str]) -> tuple[np.ndarray, list[bool]]:
        """Uncalibrated logits in input order, and which texts were truncated."""
        outputs = self.outputs_of(texts)
        return outputs.logits, outputs.truncated

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        return self.outputs_of(texts).predictions(texts, self.manifest.temperature)
