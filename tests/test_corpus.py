"""The corpus in data/ passes its validator and meets the data card's promises."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.data import read_jsonl, stats, validate_splits

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def splits() -> dict[str, list[dict]]:
    return {name: read_jsonl(DATA / f"{name}.jsonl") for name in ("train", "dev", "challenge")}


def test_splits_validate(splits: dict[str, list[dict]]) -> None:
    assert validate_splits(splits) == []


def test_sizes_balance_and_hard_cases(splits: dict[str, list[dict]]) -> None:
    everything = stats(splits["train"] + splits["dev"])
    assert everything["sentences"] >= 2000
    assert min(everything["by_label"].values()) >= 400
    assert len(everything["by_domain"]) >= 10
    assert min(everything["hard_share"].values()) >= 0.30
    dev = stats(splits["dev"])
    assert dev["sentences"] >= 400 and min(dev["by_label"].values()) >= 80
    assert len(splits["challenge"]) >= 300
    assert all(r.get("pair") for r in splits["challenge"])


def test_guide_copy_is_identical() -> None:
    shared = DATA.parent.parent / "shared" / "LABELS.md"
    if not shared.is_file():
        pytest.skip("no ../shared checkout beside this one")
    assert (DATA / "LABELS.md").read_text() == shared.read_text()
