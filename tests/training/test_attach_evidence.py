"""attach-evidence: a trained evidence head appended to an exported graph, labels unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from claimtype.artefact import load_model_dir
from claimtype.predictor import OnnxPredictor
from claimtype.training.data import read_jsonl

pytest.importorskip("torch")


@pytest.fixture(scope="session")
def label_only_dir(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from claimtype.training.export import ExportConfig, export

    out = tmp_path_factory.mktemp("models") / "tiny-labels"
    return export(
        ExportConfig(run=tiny_run, out=out, name="tiny-labels", version="0.0.1", eval_files={})
    )


@pytest.fixture(scope="session")
def attached_dir(
    label_only_dir: Path, tiny_corpus: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    from claimtype.training.attach_evidence import AttachConfig, attach_evidence

    train, dev = tiny_corpus
    cfg = AttachConfig(
        model=label_only_dir,
        out=tmp_path_factory.mktemp("models") / "tiny-attached",
        version="0.0.2",
        train_files=(train,),
        eval_files={"dev": dev},
        layers=(1, 2),
        width=32,
        epochs=12,
        batch_size=8,
        learning_rate=1e-2,
    )
    return attach_evidence(cfg)


def test_scores_are_bit_identical_and_spans_are_found(
    label_only_dir: Path, attached_dir: Path, tiny_corpus: tuple[Path, Path]
) -> None:
    rows = read_jsonl(tiny_corpus[1])
    texts = [r["text"] for r in rows]
    before = OnnxPredictor(load_model_dir(label_only_dir)).logits(texts)[0]
    model = load_model_dir(attached_dir)
    assert model.manifest.evidence_output == "evidence_logits"
    assert model.manifest.version == "0.0.2"
    after = OnnxPredictor(model).logits(texts)[0]
    assert np.array_equal(before, after)

    metrics = json.loads((attached_dir / "metrics.json").read_text())
    assert metrics["evidence_head"]["labels_identical_sentences"] == len(rows)
    assert metrics["evidence_head"]["attached_to"] == "tiny-labels@0.0.1"
    # the templates put every source and cue in the same places: a working head finds them
    assert metrics["evidence"]["dev"]["source"]["token"]["f1"] >= 0.8
    assert metrics["evidence"]["dev"]["cue"]["token"]["f1"] >= 0.8
    card = (attached_dir / "README.md").read_text()
    assert "# tiny-labels 0.0.2" in card and "## Evidence spans" in card
    assert "`evidence_logits`" in card


def test_predictions_carry_evidence(attached_dir: Path, tiny_corpus: tuple[Path, Path]) -> None:
    texts = [r["text"] for r in read_jsonl(tiny_corpus[1])]
    found = OnnxPredictor(load_model_dir(attached_dir)).predict(texts)
    for p in found:
        assert (p.evidence.cue is None) == (p.label == "fact")


def test_refuses_a_model_with_a_head_and_an_existing_out(
    attached_dir: Path, label_only_dir: Path, tmp_path: Path
) -> None:
    from claimtype.training.attach_evidence import AttachConfig, attach_evidence

    with pytest.raises(ValueError, match="already has an evidence head"):
        attach_evidence(AttachConfig(model=attached_dir, out=tmp_path / "x", version="1"))
    with pytest.raises(FileExistsError):
        attach_evidence(AttachConfig(model=label_only_dir, out=attached_dir, version="1"))


def test_replace_trains_a_new_head_on_a_model_that_has_one(
    label_only_dir: Path, attached_dir: Path, tiny_corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    from claimtype.training.attach_evidence import AttachConfig, attach_evidence

    train, dev = tiny_corpus
    cfg = AttachConfig(
        model=attached_dir,
        out=tmp_path / "replaced",
        version="0.0.4",
        train_files=(train,),
        eval_files={"dev": dev},
        layers=(2,),
        width=16,
        attention_heads=0,
        epochs=1,
        replace=True,
    )
    replaced = load_model_dir(attach_evidence(cfg))
    texts = [r["text"] for r in read_jsonl(dev)]
    before = OnnxPredictor(load_model_dir(label_only_dir)).logits(texts)[0]
    assert np.array_equal(OnnxPredictor(replaced).logits(texts)[0], before)
    config = json.loads((replaced.path / "config.json").read_text())
    assert config["evidence_head"] == {
        "layers": [2],
        "width": 16,
        "kernel": 5,
        "attention_heads": 0,
    }
    card = (replaced.path / "README.md").read_text()
    assert card.count("## Evidence spans") == 1 and card.count("`evidence_logits`") == 1
    assert "# tiny-labels 0.0.4" in card and "attached to tiny-labels 0.0.2" in card


def test_layer_outputs_names_a_missing_layer(label_only_dir: Path) -> None:
    import onnx

    from claimtype.training.attach_evidence import layer_outputs

    graph = onnx.load(str(label_only_dir / "model_quantized.onnx"))
    assert len(layer_outputs(graph, (1, 2))) == 2
    with pytest.raises(ValueError, match="no encoder layer"):
        layer_outputs(graph, (3,))


def test_the_head_learns_from_train_and_the_wire_sentences_held_aside() -> None:
    from claimtype.training.attach_evidence import span_training_files

    data = Path(__file__).resolve().parents[2] / "data"
    files = span_training_files(data)
    assert files[0] == data / "train.jsonl"
    assert len(files) > 1 and all(f.parent.name == "v4_sources" for f in files[1:])


def test_the_command_says_what_it_checked_and_what_it_found(
    label_only_dir: Path,
    tiny_corpus: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from claimtype.cli import main

    train, dev = tiny_corpus
    out = tmp_path / "attached"
    args = ["attach-evidence", str(label_only_dir), "--out", str(out), "--version", "0.0.3"]
    args += ["--train-file", str(train), "--eval-set", f"dev={dev}", "--layers", "1,2"]
    assert main([*args, "--epochs", "1", "--width", "8", "--kernel", "1"]) == 0
    printed = capsys.readouterr().out
    assert "scores bit-identical to tiny-labels@0.0.1" in printed
    assert "dev: evidence spans" in printed and "cue" in printed
    assert load_model_dir(out).manifest.version == "0.0.3"
    with pytest.raises(SystemExit, match="exists"):
        main(args)


def test_a_failed_gate_is_a_refusal_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from claimtype.cli import main
    from claimtype.training import attach_evidence as module
    from claimtype.training.export import ParityError

    def refuse(cfg: module.AttachConfig) -> Path:
        raise ParityError("the sentence logits changed with the head attached: {'dev': 1}")

    monkeypatch.setattr(module, "attach_evidence", refuse)
    with pytest.raises(SystemExit, match="refused, nothing written: the sentence logits"):
        main(["attach-evidence", str(tmp_path), "--out", str(tmp_path / "x"), "--version", "1"])
