"""The corpus in data/ passes its validator and meets the data card's promises."""

from __future__ import annotations

from pathlib import Path

import pytest

from claimtype.training.data import HELD_OUT_BEATS, RULES, read_jsonl, stats, validate_splits

DATA = Path(__file__).resolve().parent.parent / "data"
SPLITS = ("train", "dev", "dev_wire", "challenge")


@pytest.fixture(scope="module")
def splits() -> dict[str, list[dict]]:
    return {name: read_jsonl(DATA / f"{name}.jsonl") for name in SPLITS}


def test_splits_validate(splits: dict[str, list[dict]]) -> None:
    assert validate_splits(splits, HELD_OUT_BEATS) == []


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


def test_wire_part_looks_like_real_copy(splits: dict[str, list[dict]]) -> None:
    """Corpus v3: written in the shape of wire copy, on beats beyond v2's, every rule covered."""
    wire = [r for r in splits["train"] if r.get("style") == "wire"]
    tidy = [r for r in splits["train"] if r.get("style") != "wire"]
    s = stats(wire)
    assert s["sentences"] >= 6000 and min(s["by_label"].values()) >= 1200
    assert s["median_words"] >= 22 and s["over_30_words"] >= 0.25
    assert len(set(s["by_domain"]) - {r["domain"] for r in tidy}) >= 8
    headlines = sum(not r["text"].rstrip().endswith((".", "?", "!", '"', "”", "'", "’", ")"))
                    for r in wire)  # fmt: skip
    assert headlines / len(wire) <= 0.05
    covered = stats(wire + splits["dev_wire"])["by_rule"]
    assert {rule: covered.get(rule, 0) for rule in RULES if covered.get(rule, 0) < 40} == {}


def test_dev_wire_is_realistic_and_not_solvable_by_cue_words(
    splits: dict[str, list[dict]],
) -> None:
    s = stats(splits["dev_wire"])
    assert s["sentences"] >= 800 and min(s["by_label"].values()) >= 150
    assert s["median_words"] >= 22
    writers = {r["story"].split("-")[0] for r in splits["dev_wire"]}
    train_writers = {r["story"].split("-")[0] for r in splits["train"] if r.get("style") == "wire"}
    assert writers and not writers & train_writers
    pytest.importorskip("sklearn")
    from claimtype.training.bow import bow_metrics, fit_bow

    assert bow_metrics(fit_bow(splits["train"]), splits["dev_wire"])["macro_f1"] <= 0.75


@pytest.mark.parametrize("guide", ["LABELS.md", "EVIDENCE.md"])
def test_guide_copy_is_identical(guide: str) -> None:
    shared = DATA.parent.parent / "shared" / guide
    if not shared.is_file():
        pytest.skip("no ../shared checkout beside this one")
    assert (DATA / guide).read_text() == shared.read_text()


def test_every_claim_denial_and_offer_has_evidence(splits: dict[str, list[dict]]) -> None:
    for name, rows in splits.items():
        unmarked = [r["text"] for r in rows if r["label"] != "fact" and r.get("evidence") is None]
        assert not unmarked, f"{name}: {len(unmarked)} sentences without evidence"
        with_cue = [r for r in rows if r["label"] != "fact" and r["evidence"]["cue"] is not None]
        assert len(with_cue) >= 0.99 * sum(r["label"] != "fact" for r in rows)


def test_the_v4_round_held_aside_is_valid_and_leaks_into_no_evaluation_set(
    splits: dict[str, list[dict]],
) -> None:
    """data/v4_sources: read twice like the rest, kept out of train (data card, section v4)."""
    v4 = [r for path in sorted((DATA / "v4_sources").glob("*.jsonl")) for r in read_jsonl(path)]
    assert len(v4) >= 4000
    held_out = {k: v for k, v in splits.items() if k != "train"}
    assert validate_splits({"train": v4, **held_out}, HELD_OUT_BEATS) == []
    assert all(r["review"] in ("agreed", "adjudicated") for r in v4)
    assert not {r["story"] for r in v4} & {r["story"] for r in splits["train"]}
