"""Batch-invariant int8: smoothed, statically quantised weight MatMuls.

Dynamic int8 took each activation's scale from the whole batch, so a sentence's
scores depended on which sentences shared its batch (and near a boundary, its
label did). Here every activation scale is fixed at export, calibrated on
training sentences run one at a time (no padding in the ranges), so a row's
result depends on that row alone: ONNX Runtime turns each QuantizeLinear ->
DequantizeLinear -> MatMul into an integer MatMul with a constant scale, and the
integer arithmetic is exact.

A fixed per-tensor scale is coarse where a few channels of an activation carry
values ten or a hundred times the rest (BERT's LayerNorm outputs and GELU
outputs do). Smoothing (SmoothQuant, Xiao et al. 2023) divides each input
channel j by s_j = max|x_j|^alpha / max|W_j|^(1 - alpha) and multiplies row j of
the weights by s_j, so x W is unchanged while the activation's range shrinks and
the weights, quantised per output channel, take up the slack. alpha is chosen
per model: ranked on training sentences by the int8 graph's distance from the
fp32 one, the first that passes the export gates is kept.
"""

from __future__ import annotations

import random
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..preprocess import Encoder

__all__ = [
    "CALIBRATION_METHOD",
    "Calibration",
    "calibration_feeds",
    "quantize",
    "rank_alphas",
    "weight_matmuls",
]

Feed = dict[str, np.ndarray]

#: how activation ranges are calibrated; with smoothing, MinMax over real tokens
#: kept int8 closest to fp32 (Entropy and Percentile clip the outlier channels
#: that BERT's answers depend on, and their histograms need equal-shape batches)
CALIBRATION_METHOD = "MinMax"


@dataclass
class Calibration:
    """Training sentences, one feed each: `fit` sets the ranges, `select` chooses alpha."""

    fit: list[Feed]
    select: list[Feed]
    alphas: Sequence[float] = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9)
    #: filled by rank_alphas: mean |delta logit| against fp32 on `select`, per alpha
    distances: dict[float, float] = field(default_factory=dict)
    #: per-channel max |x| of each weight MatMul input over `fit`, by input name: the
    #: fp32 graph's, which every alpha smooths from (measured once, by smooth)
    absmax: dict[str, np.ndarray] = field(default_factory=dict)


def weight_matmuls(model) -> dict[str, list]:  # type: ignore[no-untyped-def]
    """MatMul nodes with a constant weight, grouped by their activation input.

    Query, key and value share one input: one smoothing factor serves the three.
    """
    constants = {init.name for init in model.graph.initializer}
    groups: dict[str, list] = defaultdict(list)
    for node in model.graph.node:
        if node.op_type == "MatMul" and node.input[1] in constants:
            groups[node.input[0]].append(node)
    return dict(groups)


def embedding_gathers(model) -> list[str]:  # type: ignore[no-untyped-def]
    """Gather nodes that look rows up in a constant table: the embeddings.

    Their tables are most of the file (30,522 x 384 word vectors); stored as int8
    they shrink it 4x, and a weight-only quantisation depends on no activation.
    """
    constants = {init.name for init in model.graph.initializer}
    return [n.name for n in model.graph.node if n.op_type == "Gather" and n.input[0] in constants]


def _activation_absmax(model, tensors: Sequence[str], feeds: Sequence[Feed]) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    """Per-channel max |x| of each tensor over the feeds, by running the fp32 graph."""
    import onnx
    import onnxruntime as ort

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    float_tensor = onnx.helper.make_tensor_value_info
    probe.graph.output.extend(float_tensor(name, onnx.TensorProto.FLOAT, None) for name in tensors)
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    found = [np.zeros(0, np.float32) for _ in tensors]
    for feed in feeds:
        for i, value in enumerate(session.run(list(tensors), feed)):
            row = np.abs(value.reshape(-1, value.shape[-1])).max(axis=0)
            found[i] = row if not found[i].size else np.maximum(found[i], row)
    return found


def smooth(model, calibration: Calibration, alpha: float):  # type: ignore[no-untyped-def]
    """A copy of the fp32 graph with each weight MatMul group's input smoothed.

    Each group gets one Mul by 1/s in front of it (an element-wise op over the
    activation, small beside the MatMul it serves) and weights scaled by s;
    in exact arithmetic the graph computes the same function.
    """
    import onnx
    from onnx import numpy_helper

    out = onnx.ModelProto()
    out.CopyFrom(model)
    groups = weight_matmuls(out)
    weights = {init.name: init for init in out.graph.initializer}
    if not calibration.absmax:
        found = _activation_absmax(model, list(groups), calibration.fit)
        calibration.absmax.update(zip(groups, found, strict=True))
    inserted = {}
    for tensor, nodes in groups.items():
        x_max = calibration.absmax[tensor]
        arrays = [numpy_helper.to_array(weights[node.input[1]]) for node in nodes]
        w_max = np.max([np.abs(w).max(axis=1) for w in arrays], axis=0)
        scale = np.maximum(x_max, 1e-5) ** alpha / np.maximum(w_max, 1e-5) ** (1 - alpha)
        scale = np.clip(scale, 1e-2, 1e2).astype(np.float32)
        inverse = numpy_helper.from_array((1 / scale).astype(np.float32), f"{tensor}/smooth/inv")
        out.graph.initializer.append(inverse)
        smoothed = f"{tensor}/smoothed"
        inserted[nodes[0].name] = onnx.helper.make_node(
            "Mul", [tensor, inverse.name], [smoothed], name=f"{tensor}/smooth"
        )
        for node, w in zip(nodes, arrays, strict=True):
            node.input[0] = smoothed
            weights[node.input[1]].CopyFrom(
                numpy_helper.from_array((w * scale[:, None]).astype(np.float32), node.input[1])
            )
    ordered = []
    for node in out.graph.node:  # each Mul goes just before its group's first MatMul
        if node.name in inserted:
            ordered.append(inserted[node.name])
        ordered.append(node)
    del out.graph.node[:]
    out.graph.node.extend(ordered)
    return out


class _Reader:
    """onnxruntime's CalibrationDataReader over a list of feeds."""

    def __init__(self, feeds: Sequence[Feed]) -> None:
        self._feeds: Iterator[Feed] = iter(feeds)

    def get_next(self) -> Feed | None:
        return next(self._feeds, None)


def quantize(
    fp32: Path, int8: Path, calibration: Calibration, alpha: float, keep_fp32: Sequence[str] = ()
) -> None:
    """Write the smoothed, statically quantised int8 graph of `fp32` to `int8`.

    Weight MatMuls are quantised (QDQ, per-channel int8 weights, uint8
    activations) and their outputs stay float: ONNX Runtime fuses each into
    MatMulIntegerToFloat, the kernel dynamic int8 used, minus the per-batch
    range it had to compute. Embedding tables are stored as int8 (weight only).
    `keep_fp32` names MatMuls left in fp32.
    """
    import onnx
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    model = smooth(onnx.load(str(fp32)), calibration, alpha)
    nodes = [n.name for group in weight_matmuls(model).values() for n in group]
    nodes += embedding_gathers(model)
    with tempfile.TemporaryDirectory() as tmp:
        smoothed = Path(tmp) / "smoothed.onnx"
        onnx.save(model, str(smoothed))
        quantize_static(
            str(smoothed),
            str(int8),
            _Reader(calibration.fit),  # type: ignore[arg-type]
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=getattr(CalibrationMethod, CALIBRATION_METHOD),
            op_types_to_quantize=["MatMul", "Gather"],
            nodes_to_quantize=[n for n in nodes if n not in set(keep_fp32)],
            extra_options={"OpTypesToExcludeOutputQuantization": ["MatMul", "Gather"]},
        )


def _logits(path: Path, feeds: Sequence[Feed]) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.concatenate([session.run(None, feed)[0] for feed in feeds])


def rank_alphas(fp32: Path, calibration: Calibration) -> list[float]:
    """The smoothing alphas, closest int8 graph to fp32 on the selection sentences first.

    Distance is the mean |delta logit|: smoother than label flips on a few hundred
    sentences, and measured on training sentences, so the sets the export gates
    judge take no part in the ranking. Distances land in calibration.distances.
    """
    reference = _logits(fp32, calibration.select)
    with tempfile.TemporaryDirectory() as tmp:
        trial = Path(tmp) / "int8.onnx"
        for alpha in calibration.alphas:
            quantize(fp32, trial, calibration, alpha)
            distance = float(np.abs(_logits(trial, calibration.select) - reference).mean())
            calibration.distances[alpha] = round(distance, 5)
    return sorted(calibration.distances, key=calibration.distances.__getitem__)


def calibration_feeds(
    texts: Sequence[str], encoder: Encoder, inputs: Sequence[str], fit: int, select: int, seed: int
) -> Calibration:
    """Distinct training sentences, shuffled with `seed`, one unpadded feed each.

    A corpus smaller than fit + select is split between the two in the same ratio.
    """
    unique = sorted(set(texts))
    random.Random(seed).shuffle(unique)
    take = min(len(unique), fit + select)
    n_select = max(1, round(take * select / (fit + select)))
    feeds = [
        {name: array for name, array in encoder([text]).arrays.items() if name in inputs}
        for text in unique[:take]
    ]
    return Calibration(fit=feeds[: take - n_select], select=feeds[take - n_select :])
