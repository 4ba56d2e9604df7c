from training.data import (
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
