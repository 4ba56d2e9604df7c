"""Static int8: smoothing keeps the function, and the int8 graph does not depend on the batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests import tiny

pytestmark = pytest.mark.usefixtures("exported_model_dir")


def _setup(exported_model_dir: Path):  # type: ignore[no-untyped-def]
    from claimtype.artefact import load_model_dir
    from claimtype.predictor import OnnxPredictor
    from claimtype.training.quantize import calibration_feeds

    predictor = OnnxPredictor(load_model_dir(exported_model_dir, "fp32"))
    texts = [r["text"] for r in tiny.sentences(120, seed=3)]
    calibration = calibration_feeds(texts, predictor.encoder, predictor.inputs, 60, 20, seed=0)
    return predictor, texts, calibration


def test_smoothing_keeps_the_fp32_function(exported_model_dir: Path) -> None:
    import onnx
    import onnxruntime as ort

    from claimtype.training.quantize import smooth, weight_matmuls

    predictor, texts, calibration = _setup(exported_model_dir)
    model = onnx.load(str(exported_model_dir / "model.onnx"))
    smoothed = smooth(model, calibration, alpha=0.75)
    assert sum(n.op_type == "Mul" for n in smoothed.graph.node) - sum(
        n.op_type == "Mul" for n in model.graph.node
    ) == len(weight_matmuls(model))
    session = ort.InferenceSession(smoothed.SerializeToString(), providers=["CPUExecutionProvider"])
    batch = predictor.encoder(texts[:16]).arrays
    feed = {name: batch[name] for name in predictor.inputs}
    expected = predictor.session.run(None, feed)[0]
    assert np.abs(session.run(None, feed)[0] - expected).max() < 1e-4


def _with_int8(src: Path, dst: Path, write_int8) -> Path:  # type: ignore[no-untyped-def]
    """A copy of the model directory whose int8 graph write_int8(fp32, int8) wrote."""
    import json
    import shutil

    from claimtype.artefact import sha256_file

    shutil.copytree(src, dst)
    write_int8(dst / "model.onnx", dst / "model_quantized.onnx")
    manifest = json.loads((dst / "manifest.json").read_text())
    manifest["files"]["model_quantized.onnx"] = sha256_file(dst / "model_quantized.onnx")
    (dst / "manifest.json").write_text(json.dumps(manifest))
    return dst


def test_static_int8_is_batch_invariant_where_dynamic_is_not(
    exported_model_dir: Path, tmp_path: Path
) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from claimtype.artefact import load_model_dir
    from claimtype.predictor import OnnxPredictor
    from claimtype.training.export import ParityError, check_batch_invariance
    from claimtype.training.quantize import quantize, rank_alphas

    _, texts, calibration = _setup(exported_model_dir)
    alphas = rank_alphas(exported_model_dir / "model.onnx", calibration)
    assert sorted(alphas) == sorted(calibration.alphas)
    assert [calibration.distances[a] for a in alphas] == sorted(calibration.distances.values())
    alpha = alphas[0]

    static = _with_int8(
        exported_model_dir,
        tmp_path / "static",
        lambda fp32, int8: quantize(fp32, int8, calibration, alpha),
    )
    graph = onnx.load(str(static / "model_quantized.onnx")).graph
    assert {"QuantizeLinear", "MatMul"} <= {n.op_type for n in graph.node}
    assert "DynamicQuantizeLinear" not in {n.op_type for n in graph.node}
    dequantised = {n.output[0] for n in graph.node if n.op_type == "DequantizeLinear"}
    tables = [n.input[0] for n in graph.node if n.op_type == "Gather" and "_embeddings/" in n.name]
    assert tables and all(t in dequantised for t in tables)  # embedding tables stored as int8
    predictor = OnnxPredictor(load_model_dir(static))
    assert check_batch_invariance(predictor, texts[:64], seed=0) == 64

    dynamic = _with_int8(
        exported_model_dir,
        tmp_path / "dynamic",
        lambda fp32, int8: quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8),
    )
    with pytest.raises(ParityError, match="depend on the batch"):
        check_batch_invariance(OnnxPredictor(load_model_dir(dynamic)), texts[:64], seed=0)
