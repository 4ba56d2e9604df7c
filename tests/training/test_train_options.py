"""Training options that shape what the model sees: wire oversampling and cue masking."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from claimtype.training.train import EncoderCollator, mask_cue, training_rows


def test_mask_cue_replaces_whole_words_in_any_case() -> None:
    text = "Offers poured in; the offer, the park said, offers views. Offering nothing."
    assert mask_cue(text, "offer") == (
        "Offers poured in; the [MASK], the park said, offers views. Offering nothing."
    )
    assert mask_cue("The Results OFFER hope.", "offer") == "The Results [MASK] hope."


def test_training_rows_repeat_only_wire_rows() -> None:
    rows = [{"text": "a", "style": "wire"}, {"text": "b"}, {"text": "c", "style": None}]
    assert [r["text"] for r in training_rows(rows, 3)] == ["a", "a", "a", "b", "c"]
    assert training_rows(rows, 1) == rows


class _Recorder:
    """Stands in for the Encoder: records the texts a batch was built from."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def tokenize(self, texts):  # type: ignore[no-untyped-def]
        self.seen.extend(texts)
        return list(texts)

    def collate(self, rows):  # type: ignore[no-untyped-def]
        from types import SimpleNamespace

        import numpy as np

        return SimpleNamespace(arrays={"input_ids": np.zeros((len(rows), 4), dtype=np.int64)})


def test_collator_masks_cues_at_the_given_rate_and_never_without_a_cue() -> None:
    encoder = _Recorder()
    collator = EncoderCollator(encoder, cue_mask_prob=0.5, seed=1)  # type: ignore[arg-type]
    hard = {"text": "The results offer hope.", "label": 0, "cue": "offer"}
    plain = {"text": "The union offered a deal.", "label": 3, "cue": ""}
    for _ in range(200):
        collator([hard, plain])
    masked = encoder.seen[0::2].count("The results [MASK] hope.")
    assert 70 <= masked <= 130
    assert set(encoder.seen[1::2]) == {"The union offered a deal."}
    off = _Recorder()
    EncoderCollator(off)([hard])  # type: ignore[arg-type]
    assert off.seen == ["The results offer hope."]


def test_every_train_flag_reaches_the_config(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A flag the parser accepts but train_run drops would train something else silently."""
    import argparse
    import dataclasses

    from claimtype.training import cli
    from claimtype.training.config import TrainConfig

    parser = argparse.ArgumentParser()
    cli.train_arguments(parser)
    dests = {a.dest for a in parser._actions if a.dest not in ("help", "config")}
    assert dests <= set(cli.TRAIN_FLAGS) <= {f.name for f in dataclasses.fields(TrainConfig)}
    seen = {}
    (tmp_path / "metrics.json").write_text('{"dev_torch": {"macro_f1": 0.5}}')
    monkeypatch.setattr(cli, "require_training", lambda: None)
    monkeypatch.setattr(
        "claimtype.training.train.train", lambda c: seen.setdefault("c", c) and tmp_path
    )
    args = parser.parse_args(
        ["--init-from", "runs/x", "--evidence-weight", "0.5", "--wire-repeat", "2"]
    )
    cli.train_run(args)
    config = seen["c"]
    assert (str(config.init_from), config.evidence_weight, config.wire_repeat) == ("runs/x", 0.5, 2)


def test_the_evidence_head_can_learn_at_its_own_rate() -> None:
    import torch
    from transformers import BertConfig

    from claimtype.training.config import TrainConfig
    from claimtype.training.evidence_model import BertWithEvidence
    from claimtype.training.train import _optimizer

    config = BertConfig(
        vocab_size=30, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=16, num_labels=4,
    )  # fmt: skip
    model = BertWithEvidence(config)
    assert _optimizer(model, TrainConfig()) is None  # the Trainer's own AdamW
    optimizer = _optimizer(model, TrainConfig(learning_rate=1e-5, head_learning_rate=1e-3))
    assert isinstance(optimizer, torch.optim.AdamW)
    rest, head = optimizer.param_groups
    assert (rest["lr"], head["lr"]) == (1e-5, 1e-3)
    assert {id(p) for p in head["params"]} == {id(p) for p in model.evidence.parameters()}
    assert len(rest["params"]) + len(head["params"]) == len(list(model.parameters()))
