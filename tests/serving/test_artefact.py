import json
from pathlib import Path

import numpy as np
import pytest

from claimtype.artefact import ModelDirError, load_model_dir
from claimtype.batch.engines import PredictorSpec
from claimtype.predictor import OnnxPredictor, open_session


def test_loads_and_lists_precisions(tiny_model_dir: Path) -> None:
    model = load_model_dir(tiny_model_dir)
    assert model.precision == "int8"
    assert model.precisions == ["int8", "fp32"]
    assert model.manifest.labels == ["fact", "claim", "denial", "offer"]
    assert "model_quantized.onnx" in model.manifest.files
    assert "model.onnx" in model.manifest.optional_files


def test_refuses_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelDirError, match="no such model directory"):
        load_model_dir(tmp_path / "nope")


def test_refuses_a_changed_file(fresh_model_dir: Path) -> None:
    onnx = fresh_model_dir / "model_quantized.onnx"
    onnx.write_bytes(onnx.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ModelDirError, match="sha256"):
        load_model_dir(fresh_model_dir)


def test_refuses_a_missing_file(fresh_model_dir: Path) -> None:
    (fresh_model_dir / "tokenizer.json").unlink()
    with pytest.raises(ModelDirError, match="missing"):
        load_model_dir(fresh_model_dir)


def test_refuses_other_labels(fresh_model_dir: Path) -> None:
    path = fresh_model_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["labels"] = ["fact", "claim", "offer", "denial"]
    path.write_text(json.dumps(manifest))
    with pytest.raises(ModelDirError, match="labels"):
        load_model_dir(fresh_model_dir)


def test_refuses_unknown_manifest_keys(fresh_model_dir: Path) -> None:
    path = fresh_model_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["surprise"] = 1
    path.write_text(json.dumps(manifest))
    with pytest.raises(ModelDirError, match="invalid manifest"):
        load_model_dir(fresh_model_dir)


def test_fp32_absent_is_fine_for_int8_but_not_for_fp32(fresh_model_dir: Path) -> None:
    (fresh_model_dir / "model.onnx").unlink()
    assert load_model_dir(fresh_model_dir).precisions == ["int8"]
    with pytest.raises(ModelDirError, match="fp32"):
        load_model_dir(fresh_model_dir, "fp32")


def test_predictor_refuses_input_name_mismatch(fresh_model_dir: Path) -> None:
    path = fresh_model_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["inputs"] = ["input_ids", "attention_mask"]
    path.write_text(json.dumps(manifest))
    with pytest.raises(ModelDirError, match="inputs"):
        OnnxPredictor(load_model_dir(fresh_model_dir))


@pytest.mark.parametrize(("precision", "tolerance"), [("fp32", 1e-4), ("int8", 2e-2)])
def test_predictor_is_order_preserving_and_calibrated(
    tiny_model_dir: Path, precision: str, tolerance: float
) -> None:
    # int8 quantises activations per batch, so a text's scores move a little with its batch-mates
    model = load_model_dir(tiny_model_dir, precision)
    predictor = OnnxPredictor(model, threads=1, batch_size=2)
    texts = [
        "the union said the port in lima would close",
        "the mayor offered to rebuild the bridge in oslo",
        "the bank denied reports that the mine in riga had closed",
        "the army opened a new plant in perth on monday",
        "the council",
    ]
    one_by_one = [predictor.predict([t])[0] for t in texts]
    together = predictor.predict(texts)
    for a, b in zip(one_by_one, together, strict=True):
        assert a.label == b.label
        assert a.scores == pytest.approx(b.scores, abs=tolerance)
        assert sum(b.scores.values()) == pytest.approx(1.0, abs=1e-4)
    assert [p.label.value for p in together[:4]] == ["claim", "offer", "denial", "fact"]
    assert predictor.predict([]) == []


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_concurrent_batches_give_the_same_logits(tiny_model_dir: Path, precision: str) -> None:
    # batches are the same whichever thread runs them, so logits match exactly, in input order
    model = load_model_dir(tiny_model_dir, precision)
    texts = [f"the mayor of town {i} said the {'old ' * (i % 7)}bridge was shut" for i in range(50)]
    serial, _ = OnnxPredictor(model, threads=1, batch_size=4).logits(texts)
    shared = OnnxPredictor(model, threads=1, batch_size=4, concurrency=3)
    together, _ = shared.logits(texts)
    assert shared.pool is not None
    np.testing.assert_array_equal(serial, together)
    shared.close()
    with pytest.raises(ValueError, match="concurrency"):
        OnnxPredictor(model, concurrency=0)


def test_sessions_run_without_the_slow_skip_layer_norm_fusion(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    # onnxruntime ignores unknown names in disabled_optimizers: a renamed fusion would come back
    onnx = pytest.importorskip("onnx", reason="reading the graph needs the train extra's onnx")

    saved = tmp_path / "optimized.onnx"
    open_session(tiny_model_dir / "model_quantized.onnx", threads=1, save_optimized=saved)
    ops = {node.op_type for node in onnx.load(str(saved)).graph.node}
    assert "LayerNormalization" in ops
    assert "SkipLayerNormalization" not in ops


def test_a_shared_predictor_gives_each_run_its_threads(tiny_model_dir: Path) -> None:
    # 3 runs at once, 2 threads each: 3 caller threads + a pool of 3 = 6 computing threads
    predictor = PredictorSpec(tiny_model_dir, threads=2)(concurrency=3)
    assert predictor.session.get_session_options().intra_op_num_threads == 4
    assert (
        PredictorSpec(tiny_model_dir, threads=2)()
        .session.get_session_options()
        .intra_op_num_threads
        == 2
    )
    predictor.close()
