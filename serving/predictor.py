"""Predictors: the small interface the API and batch scoring program against.

`OnnxPredictor` runs the model directory's ONNX graph with ONNX Runtime; tests
use a deterministic fake with the same interface, so routes and batch code are
tested without a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from .artefact import ModelDirectory, ModelDirError
from .cpus import cores
from .labels import LABELS, Label
from .preprocess import Encoder, Tokens
from .schemas import Prediction

if TYPE_CHECKING:
    from onnxruntime import InferenceSession

__all__ = ["UNFUSED", "OnnxPredictor", "Predictor", "open_session", "softmax", "to_predictions"]

#: ONNX Runtime fusions left off. Fusing each residual Add into its LayerNorm
#: (SkipLayerNormalization) makes the int8 model about 10% slower on one thread:
#: the fused kernel ran at 1.3 ms a call where Add + LayerNormalization took 0.2
#: (onnxruntime 1.32, AVX-512, batch 32; docs/batch-scoring.md). fp32 logits are
#: identical either way; int8 ones can move by a rounding step.
#: ONNX Runtime ignores names it does not know, so a test checks the fused op is absent.
UNFUSED = ("SkipLayerNormFusion",)


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


def to_predictions(probs: np.ndarray, truncated: Sequence[bool]) -> list[Prediction]:
    """Rows of probabilities (in LABELS order) -> Prediction objects."""
    best = probs.argmax(axis=-1)
    return [
        Prediction(
            label=Label(LABELS[int(b)]),
            scores={name: round(float(p), 6) for name, p in zip(LABELS, row, strict=True)},
            truncated=t,
        )
        for b, row, t in zip(best, probs, truncated, strict=True)
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
        outputs = [o.name for o in self.session.get_outputs()]
        if self.manifest.output not in outputs:
            raise ModelDirError(
                f"{model_dir.path}: the manifest's output {self.manifest.output!r} is not among "
                f"the ONNX outputs {outputs}"
            )
        self.pool = ThreadPoolExecutor(concurrency) if concurrency > 1 else None

    def close(self) -> None:
        """Stop the batch threads now rather than when the predictor is collected."""
        if self.pool is not None:
            self.pool.shutdown()

    def run(self, rows: Sequence[Tokens]) -> np.ndarray:
        """Logits for one already-tokenised batch."""
        batch = self.encoder.collate(rows)
        feed = {name: batch.arrays[name] for name in self.inputs}
        (logits,) = self.session.run([self.manifest.output], feed)
        result: np.ndarray = logits
        return result

    def logits(self, texts: Sequence[str]) -> tuple[np.ndarray, list[bool]]:
        """Uncalibrated logits in input order, batched by token length."""
        rows = self.encoder.tokenize(texts)
        out = np.zeros((len(rows), len(LABELS)), dtype=np.float32)
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]

        def run(idx: list[int]) -> np.ndarray:
            return self.run([rows[i] for i in idx])

        results = self.pool.map(run, batches) if self.pool else map(run, batches)
        for idx, logits in zip(batches, results, strict=True):
            out[idx] = logits
        return out, [r.truncated for r in rows]

    def probabilities(self, texts: Sequence[str]) -> tuple[np.ndarray, list[bool]]:
        """Calibrated probabilities (the manifest's temperature) in input order."""
        logits, truncated = self.logits(texts)
        return softmax(logits, self.manifest.temperature), truncated

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        probs, truncated = self.probabilities(texts)
        return to_predictions(probs, truncated)
