import json
from pathlib import Path

import pytest

from tests import tiny

pytest.importorskip("torch")


def test_run_directory_has_everything(tiny_run: Path) -> None:
    for name in ("train_config.json", "metrics.json", "training_log.jsonl", "curves.png",
                 "confusion_dev.png", "model/config.json", "model/tokenizer.json"):  # fmt: skip
        assert (tiny_run / name).is_file(), name
    info = json.loads((tiny_run / "metrics.json").read_text())
    assert info["dev_torch"]["macro_f1"] >= 0.9  # the templates are learnable in a few steps
    assert len(info["data_sha256"]) == 64 and info["wall_seconds"] > 0


def test_export_writes_a_self_describing_directory(exported_model_dir: Path) -> None:
    names = {p.name for p in exported_model_dir.iterdir()}
    assert {"config.json", "tokenizer.json", "model.onnx", "model_quantized.onnx",
            "manifest.json", "metrics.json", "README.md"} <= names  # fmt: skip
    config = json.loads((exported_model_dir / "config.json").read_text())
    assert config["id2label"] == {"0": "fact", "1": "claim", "2": "denial", "3": "offer"}
    metrics = json.loads((exported_model_dir / "metrics.json").read_text())
    parity = metrics["parity"]
    assert parity["fp32_vs_torch_max_abs_logit_diff"] < 1e-3
    assert parity["int8_vs_fp32_label_agreement"] >= 0.99
    assert metrics["dev"]["temperature"] > 0 and "ece" in metrics["dev"]
    assert metrics["sets"] == ["dev"] and metrics["calibration"]["set"] == "dev"
    assert set(metrics["baseline_cue_word"]) == set(metrics["baseline_bow"]) == {"dev"}
    assert (exported_model_dir / "reliability.png").stat().st_size > 1000
    tok = json.loads((exported_model_dir / "tokenizer.json").read_text())
    assert tok["truncation"]["max_length"] == 32 and tok["padding"]["pad_id"] == 0
    assert "macro-F1" in (exported_model_dir / "README.md").read_text()


def test_export_writes_one_graph_with_both_heads_and_span_figures(
    exported_model_dir: Path,
) -> None:
    from claimtype import load
    from claimtype.evidence import EVIDENCE_TAGS

    manifest = json.loads((exported_model_dir / "manifest.json").read_text())
    assert manifest["evidence_output"] == "evidence_logits"
    assert manifest["evidence_tags"] == list(EVIDENCE_TAGS)
    config = json.loads((exported_model_dir / "config.json").read_text())
    assert config["architectures"] == ["BertForSequenceClassification"]
    metrics = json.loads((exported_model_dir / "metrics.json").read_text())
    spans = metrics["evidence"]["dev"]
    assert spans["sentences"] == 48 and spans["cue"]["token"]["f1"] > 0.5
    agreement = metrics["parity"]["int8_vs_fp32_evidence_agreement"]["dev"]
    assert min(agreement.values()) >= 0.99
    assert "Evidence spans" in (exported_model_dir / "README.md").read_text()
    texts = ["the  union said the port in lima would close", "the army opened a new mine"]
    said, opened = load(exported_model_dir).predict(texts)
    assert opened.label.value == "fact" and opened.evidence is not None
    assert opened.evidence.source is None and opened.evidence.cue is None
    assert said.evidence is not None and said.evidence.cue is not None
    for span in (said.evidence.source, said.evidence.cue):
        assert span is None or texts[0][span.start : span.end] == span.text


def test_int8_evidence_is_gated_per_span_kind() -> None:
    from claimtype.schemas import Evidence, EvidenceSpan, Prediction
    from claimtype.training.export import ExportConfig, ParityError, _evidence_parity

    def p(label: str, cue: tuple[int, int] | None) -> Prediction:
        span = cue and EvidenceSpan(text="x" * (cue[1] - cue[0]), start=cue[0], end=cue[1])
        scores = dict.fromkeys(("fact", "claim", "denial", "offer"), 0.25)
        return Prediction(label=label, scores=scores, evidence=Evidence(cue=span))

    fp32 = [p("claim", (0, 4))] * 99 + [p("claim", (0, 4)), p("fact", None)]
    int8 = [p("claim", (0, 4))] * 99 + [p("claim", (0, 5)), p("claim", (0, 2))]
    cfg = ExportConfig(run=Path("run"), out=Path("out"))
    figures = _evidence_parity(cfg, {"dev": fp32}, {"dev": int8})
    # the label flip (fact -> claim) is the label gate's; 99 of 100 compared cues agree
    assert figures["int8_vs_fp32_evidence_agreement"]["dev"] == {"source": 1.0, "cue": 0.99}
    strict = ExportConfig(run=Path("run"), out=Path("out"), min_evidence_agreement=0.995)
    with pytest.raises(ParityError, match=r"dev: int8 vs fp32 cue span agreement 0\.99 "):
        _evidence_parity(strict, {"dev": fp32}, {"dev": int8})


def test_export_refuses_when_parity_fails(tiny_run: Path, tmp_path: Path) -> None:
    from claimtype.training.export import ExportConfig, ParityError, export

    out = tmp_path / "never"
    cfg = ExportConfig(run=tiny_run, out=out, eval_files={}, max_abs_logit_diff=0.0)
    with pytest.raises(ParityError, match="fp32 vs torch"):
        export(cfg)
    assert not out.exists() and not out.with_name("never.staging").exists()


def test_loads_in_transformers_config_and_tokenizer(exported_model_dir: Path) -> None:
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(exported_model_dir)
    assert config.id2label[2] == "denial"
    tok = AutoTokenizer.from_pretrained(exported_model_dir)
    assert tok("the union said")["input_ids"][0] == tok.cls_token_id


def test_training_refuses_other_base_weights(tiny_config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from claimtype.training.train import BaseModelError, train

    cfg = dataclasses.replace(tiny_config, base_sha256="0" * 64, out=tmp_path / "run")
    with pytest.raises(BaseModelError, match="pinned"):
        train(cfg)


def test_config_rejects_unknown_keys() -> None:
    from claimtype.training.config import TrainConfig

    with pytest.raises(ValueError, match="unknown"):
        TrainConfig.from_dict({"epochs": 1, "learning_rat": 1e-4})
    assert TrainConfig.from_dict({"epochs": 2}).epochs == 2


def test_export_reports_every_eval_set_and_calibrates_on_the_run_dev_set(
    tiny_run: Path, tiny_config, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from claimtype.training.export import ExportConfig, export

    other = tmp_path / "other.jsonl"
    other.write_text("".join(json.dumps(r) + "\n" for r in tiny.sentences(5, seed=7)))
    cfg = ExportConfig(
        run=tiny_run,
        out=tmp_path / "model",
        eval_files={"other": other, "missing": tmp_path / "absent.jsonl"},
    )
    metrics = json.loads((export(cfg) / "metrics.json").read_text())
    assert metrics["sets"] == ["dev", "other"]  # calibration set first, absent files skipped
    assert metrics["calibration"]["set"] == "dev"
    assert metrics["other"]["temperature"] == metrics["calibration"]["temperature"]
    assert metrics["parity"]["sentences"] == metrics["dev"]["n"] + metrics["other"]["n"]
    assert metrics["parity"]["gate_sets"] == ["dev"]  # no challenge here: the calibration set
    assert set(metrics["parity"]["int8_vs_fp32_by_set"]) == {"dev", "other"}
    assert (tmp_path / "model" / "confusion_other.png").is_file()


def test_int8_agreement_is_gated_on_the_gate_sets_and_reported_for_all() -> None:
    import numpy as np

    from claimtype.training.export import ExportConfig, ParityError, _parity

    rng = np.random.default_rng(0)
    fp32 = {name: rng.normal(size=(200, 4)) for name in ("dev", "dev_wire", "challenge")}
    flipped = fp32["dev_wire"].copy()
    flipped[:20] = flipped[:20][:, ::-1]  # 10% of dev_wire labels change under "int8"
    int8 = {**fp32, "dev_wire": flipped}
    gold = {name: list(logits.argmax(1)) for name, logits in fp32.items()}
    cfg = ExportConfig(run=Path("run"), out=Path("out"))
    parity = _parity(cfg, fp32, fp32, int8, gold)
    assert parity["gate_sets"] == ["dev", "challenge"]
    assert parity["int8_vs_fp32_label_agreement"] == 1.0
    assert parity["int8_vs_fp32_by_set"]["dev_wire"]["agreement"] < 0.95
    strict = ExportConfig(run=Path("run"), out=Path("out"), gate_sets=("dev_wire",))
    with pytest.raises(ParityError, match="dev_wire: int8 vs fp32 agreement"):
        _parity(strict, fp32, fp32, int8, gold)


def test_int8_macro_f1_loss_is_gated() -> None:
    import numpy as np

    from claimtype.training.export import ExportConfig, ParityError, _parity

    fp32 = {"dev": np.eye(4)[np.arange(400) % 4] * 5.0}
    gold = {"dev": list(np.arange(400) % 4)}
    int8 = {"dev": fp32["dev"].copy()}
    int8["dev"][:2] = int8["dev"][:2][:, ::-1]  # 2 of 400 wrong: 99.5% agreement, -0.5 point
    loose = ExportConfig(run=Path("run"), out=Path("out"), min_class_agreement=0.0)
    with pytest.raises(ParityError, match=r"dev: int8 loses 0\.00\d+ macro-F1"):
        _parity(loose, fp32, fp32, int8, gold)
    lenient = ExportConfig(
        run=Path("run"), out=Path("out"), min_class_agreement=0.0, max_macro_f1_loss=0.01
    )
    assert _parity(lenient, fp32, fp32, int8, gold)["int8_vs_fp32_by_set"]["dev"][
        "macro_f1_loss"
    ] == pytest.approx(0.005, abs=1e-3)


def test_int8_plans_try_every_alpha_before_keeping_ffn_outputs_in_fp32() -> None:
    from claimtype.training.export import _int8_plans

    assert list(_int8_plans([0.8, 0.5], ["layer0", "layer1"])) == [
        (0.8, []),
        (0.5, []),
        (0.8, ["layer0"]),
        (0.8, ["layer0", "layer1"]),
    ]


def test_the_first_int8_plan_that_passes_the_gates_is_kept() -> None:
    import numpy as np

    from claimtype.training.export import ExportConfig, ParityError, _gated_int8

    rng = np.random.default_rng(1)
    fp32 = {"dev": rng.normal(size=(100, 4))}
    gold = {"dev": list(fp32["dev"].argmax(1))}
    tried: list[tuple[float, list[str]]] = []

    def logits_of(precision: str, names: list[str]) -> dict:  # agrees once layer 0 is fp32
        assert names == ["dev"]
        noisy = fp32["dev"].copy()
        if not tried[-1][1]:
            noisy[:5] = noisy[:5][:, ::-1]
        return {"dev": noisy}

    def quantise(alpha: float, kept: list[str]) -> None:
        tried.append((alpha, kept))

    cfg = ExportConfig(run=Path("run"), out=Path("out"))
    plans = [(0.8, []), (0.5, []), (0.8, ["layer0"]), (0.8, ["layer0", "layer1"])]
    int8, parity = _gated_int8(cfg, plans, quantise, logits_of, fp32, fp32, gold)
    assert np.array_equal(int8["dev"], fp32["dev"])
    assert tried == plans[:3]
    assert parity["fp32_nodes"] == ["layer0"] and parity["smoothing_alpha"] == 0.8
    assert parity["int8_vs_fp32_label_agreement"] == 1.0
    tried.clear()
    with pytest.raises(ParityError, match="int8 vs fp32 agreement"):  # no plan passes
        _gated_int8(cfg, plans[:2], quantise, logits_of, fp32, fp32, gold)
    assert tried == plans[:2]


def test_ffn_output_nodes_of_an_exported_graph(exported_model_dir: Path) -> None:
    from claimtype.training.export import ffn_output_nodes

    nodes = ffn_output_nodes(exported_model_dir / "model.onnx")
    assert len(nodes) == 2 and "layer.0/" in nodes[0] and "layer.1/" in nodes[1]


def test_export_keeps_an_existing_out_unless_forced(
    tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from claimtype.cli import main

    out = tmp_path / "released"
    out.mkdir()
    (out / "keep.txt").write_text("a released model")
    with pytest.raises(SystemExit, match="--force"):
        main(["export", str(tiny_run), "--out", str(out), "--eval-set", "x=absent.jsonl"])
    assert (out / "keep.txt").read_text() == "a released model"
    code = main(["export", str(tiny_run), "--out", str(out), "--force", "--eval-set", "x=absent"])
    assert code == 0 and not (out / "keep.txt").exists() and (out / "manifest.json").is_file()


def test_the_committed_tiny_model_has_the_contract_export_writes_now(
    exported_model_dir: Path, tiny_model_dir: Path
) -> None:
    """When this fails, rebuild it: python -m tests.fixtures.build_tiny_model."""
    fresh = json.loads((exported_model_dir / "manifest.json").read_text())
    committed = json.loads((tiny_model_dir / "manifest.json").read_text())
    keys = ("format", "format_version", "labels", "max_length", "normalization_version")
    keys += ("evidence_output", "evidence_tags")
    assert {k: committed[k] for k in keys} == {k: fresh[k] for k in keys}
    assert (committed["inputs"], committed["output"], committed["onnx"]) == (
        fresh["inputs"],
        fresh["output"],
        fresh["onnx"],
    )
    assert set(committed["files"]) == set(fresh["files"])


def test_an_evidence_only_run_keeps_every_weight_but_the_new_head(
    tiny_run: Path, tiny_evidence_run: Path
) -> None:
    """Trained alone on a frozen run, the evidence head cannot move the run's labels."""
    from safetensors.torch import load_file

    before = load_file(tiny_run / "model" / "model.safetensors")
    after = load_file(tiny_evidence_run / "model" / "model.safetensors")
    head = {k for k in after if k.startswith("evidence")}
    assert {"evidence_window.weight", "evidence.weight"} <= head
    assert set(after) - head == set(before)
    assert all(after[k].equal(before[k]) for k in before)
    config = json.loads((tiny_evidence_run / "model" / "config.json").read_text())
    assert (config["evidence_layers"], config["evidence_kernel"]) == ([1, 2], 3)


def test_the_convolutional_head_ignores_how_much_padding_a_batch_adds() -> None:
    import torch
    from transformers import BertConfig

    from claimtype.training.evidence_model import BertWithEvidence

    config = BertConfig(
        vocab_size=30, hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=16, num_labels=4, evidence_layers=[1, 2], evidence_kernel=5,
    )  # fmt: skip
    model = BertWithEvidence(config).eval()
    ids = torch.tensor([[2, 5, 6, 7, 3]])
    alone = model(input_ids=ids, attention_mask=torch.ones_like(ids)).evidence_logits
    padded = torch.cat([ids, torch.zeros(1, 4, dtype=torch.long)], dim=1)
    mask = (padded != 0).long()
    batched = model(input_ids=padded, attention_mask=mask).evidence_logits[:, :5]
    assert torch.allclose(alone, batched, atol=1e-6)


def test_the_attention_head_ignores_padding_and_reads_beyond_its_window() -> None:
    import torch

    from claimtype.training.evidence_model import EvidenceHead

    torch.manual_seed(0)
    head = EvidenceHead(features=6, width=8, kernel=1, attention_heads=2).eval()
    states = torch.randn(1, 5, 6)
    alone = head(states, torch.ones(1, 5, dtype=torch.long))
    padded = torch.cat([states, torch.randn(1, 3, 6)], dim=1)
    mask = torch.tensor([[1] * 5 + [0] * 3])
    assert torch.allclose(alone, head(padded, mask)[:, :5], atol=1e-6)
    # with a window of one, only the attention block lets the last token change the first
    changed = states.clone()
    changed[0, 4] += 1.0
    assert not torch.allclose(alone[0, 0], head(changed, torch.ones(1, 5, dtype=torch.long))[0, 0])


def test_a_soup_averages_like_runs_and_refuses_unlike_ones(
    tiny_run: Path, tiny_evidence_run: Path, tmp_path: Path
) -> None:
    import shutil

    from safetensors.torch import load_file, save_file

    from claimtype.training.soup import SoupError, average_runs

    other = tmp_path / "other"
    shutil.copytree(tiny_run, other)
    weights = load_file(tiny_run / "model" / "model.safetensors")
    save_file({k: v * 3 for k, v in weights.items()}, str(other / "model" / "model.safetensors"))
    soup = average_runs([tiny_run, other], tmp_path / "soup")
    averaged = load_file(soup / "model" / "model.safetensors")
    assert all(averaged[k].allclose(weights[k] * 2) for k in weights)
    info = json.loads((soup / "metrics.json").read_text())
    assert info["soup_of"] == [str(tiny_run), str(other)] and "dev_torch" not in info
    with pytest.raises(SoupError, match="different layers"):
        average_runs([tiny_run, tiny_evidence_run], tmp_path / "mixed")
