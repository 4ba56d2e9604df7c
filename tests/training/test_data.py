from claimtype.training.data import (
    dedupe_key,
    near_duplicates,
    split_by_story,
    stats,
    validate_rows,
    validate_splits,
)


def row(text: str, label: str = "fact", story: str | None = None, **extra) -> dict:
    return {"text": text, "label": label, "domain": "d", "story": story, **extra}


def test_validator_flags_labels_empty_and_duplicates() -> None:
    rows = [
        row("The bridge opened."),
        row("The bridge  opened!"),
        row("  "),
        row("Rain fell.", label="rumour"),
        {"text": "no label", "domain": "d"},
    ]
    problems = validate_rows(rows, "t")
    assert any("duplicate of line 1" in p for p in problems)
    assert any("empty text" in p for p in problems)
    assert any("unknown label 'rumour'" in p for p in problems)
    assert any("missing" in p for p in problems)
    assert validate_rows(rows[:1], "t") == []


def test_dedupe_key_ignores_case_quotes_and_punctuation() -> None:
    assert dedupe_key("“Yes,” she SAID.") == dedupe_key('"yes" she said')


def test_near_duplicates_across_splits_fail_validation() -> None:
    train = [row("The ministry said the new bridge over the river would open in May.", story="a")]
    dev = [
        row("The ministry said the new bridge over the river would open in June.", story="b"),
        row("Farmers in the north harvested a record crop of sorghum this year.", story="c"),
    ]
    assert [
        (i, j) for i, j, _ in near_duplicates([r["text"] for r in train], [r["text"] for r in dev])
    ] == [(0, 0)]
    problems = validate_splits({"train": train, "dev": dev})
    assert len(problems) == 1 and "near-duplicate" in problems[0]


def test_shared_story_fails_validation() -> None:
    problems = validate_splits(
        {"train": [row("One thing happened.", story="s")], "dev": [row("Other.", story="s")]}
    )
    assert problems == ["story s is in both train and dev"]


def test_split_keeps_stories_and_pairs_together() -> None:
    rows = []
    for s in range(40):
        for k in range(5):
            rows.append(
                row(f"story {s} sentence {k}", story=f"s{s}", pair=f"p{s // 2}" if k == 0 else None)
            )
    split = split_by_story(rows, dev_fraction=0.2, seed=3)
    dev_stories = {r["story"] for r in split.dev}
    train_stories = {r["story"] for r in split.train}
    assert not dev_stories & train_stories
    assert len(split.dev) + len(split.train) == len(rows)
    assert 0.15 <= len(split.dev) / len(rows) <= 0.3
    for p in range(20):  # stories joined by a pair land on the same side
        sides = {
            r["story"] in dev_stories for r in rows if r["story"] in (f"s{2 * p}", f"s{2 * p + 1}")
        }
        assert len(sides) == 1
    assert split_by_story(rows, 0.2, seed=3).dev == split.dev


def test_stats_counts() -> None:
    s = stats([row("a b", "fact", hard=True), row("c d", "claim"), row("e f", "claim", hard=True)])
    assert s["by_label"] == {"fact": 1, "claim": 2, "denial": 0, "offer": 0}
    assert s["hard_share"]["claim"] == 0.5


def test_split_holds_out_whole_domains() -> None:
    rows = [
        {"text": f"{d} story {s} sentence {k}", "label": "fact", "domain": d, "story": f"{d}{s}"}
        for d in ("a", "b", "c")
        for s in range(6)
        for k in range(3)
    ]
    split = split_by_story(rows, dev_fraction=0.0, seed=1, dev_domains=["b"])
    assert {r["domain"] for r in split.dev} == {"b"}
    assert {r["domain"] for r in split.train} == {"a", "c"}
    assert len(split.dev) == 18


def test_stats_measure_lengths_and_rules() -> None:
    rows = [
        row("one two three", rule="no-comment"),
        row(" ".join(["word"] * 31), "claim", rule="no-comment"),
        row("a b c d e", "denial", rule="unverified"),
    ]
    s = stats(rows)
    assert s["median_words"] == 5 and s["over_30_words"] == round(1 / 3, 3)
    assert s["by_rule"] == {"no-comment": 2, "unverified": 1}


def test_unknown_rule_is_a_problem() -> None:
    problems = validate_rows([row("The bridge opened.", rule="made-up-rule")], "t")
    assert problems == ["t:1: unknown rule 'made-up-rule'"]


def test_held_out_beats_must_not_be_in_train() -> None:
    splits = {
        "train": [{**row("A fire broke out.", story="a"), "domain": "health"}],
        "dev_wire": [{**row("Exports fell sharply.", story="b"), "domain": "health"}],
    }
    assert validate_splits(splits) == []  # only checked when asked
    assert validate_splits(splits, ("dev", "dev_wire")) == [
        "beat health of dev_wire is also in train"
    ]


def test_build_takes_dev_wire_whole_and_drops_train_rows_that_repeat_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from claimtype.training.data import build_splits, write_jsonl

    sentence = "The port authority said on Monday that the new crane would arrive in May."
    write_jsonl(tmp_path / "train.jsonl", [
        {**row(sentence, story="t1"), "domain": "shipping"},
        {**row("Rain flooded the lower town overnight.", story="t2"), "domain": "weather"},
    ])  # fmt: skip
    write_jsonl(tmp_path / "wire.jsonl", [
        {**row(sentence.upper(), "claim", story="w1"), "domain": "ports"},
    ])  # fmt: skip
    splits = build_splits(
        [tmp_path / "train.jsonl"], [], 0.0, 1, dev_wire_sources=[tmp_path / "wire.jsonl"]
    )
    assert [r["story"] for r in splits["dev_wire"]] == ["w1"]
    assert [r["story"] for r in splits["train"]] == ["t2"]
    assert "dev_wire" not in build_splits([tmp_path / "train.jsonl"], [], 0.0, 1)


def test_validator_checks_evidence_spans() -> None:
    from claimtype.training.data import evidence_problems

    text = "The ministry denied the report."
    claim = {"text": text, "label": "denial", "domain": "x"}
    assert evidence_problems(claim) == []  # not marked yet: nothing to check
    assert evidence_problems({**claim, "evidence": {"source": [0, 12], "cue": [13, 19]}}) == []
    assert evidence_problems({**claim, "evidence": {"source": None, "cue": [13, 19]}}) == []
    assert (
        "not [start, end)"
        in evidence_problems({**claim, "evidence": {"source": [0, 99], "cue": None}})[0]
    )
    assert (
        "not trimmed"
        in evidence_problems({**claim, "evidence": {"source": [0, 13], "cue": None}})[0]
    )
    assert (
        "overlap"
        in evidence_problems({**claim, "evidence": {"source": [0, 19], "cue": [13, 19]}})[0]
    )
    assert "must be" in evidence_problems({**claim, "evidence": {"source": [0, 12]}})[0]
    malformed = {"source": "The ministry", "cue": [13, 19]}  # reported, not a crash
    assert evidence_problems({**claim, "evidence": malformed}) == [
        "source span 'The ministry' is not [start, end) inside the text"
    ]
    fact = {"text": text, "label": "fact", "domain": "x"}
    assert evidence_problems({**fact, "evidence": None}) == []
    assert evidence_problems({**fact, "evidence": {"source": None, "cue": [13, 19]}}) == [
        "a fact sentence has evidence"
    ]
