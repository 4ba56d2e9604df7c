from claimtype.labels import DEFINITIONS, LABELS, PRECEDENCE, Label, id2label, label2id


def test_schema_is_consistent() -> None:
    assert LABELS == ("fact", "claim", "denial", "offer")
    assert [p.value for p in PRECEDENCE] == ["offer", "denial", "claim", "fact"]
    assert set(DEFINITIONS) == set(Label)
    assert {v: k for k, v in id2label().items()} == label2id()


def test_definitions_are_the_guides_words() -> None:
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "data" / "LABELS.md").read_text()
    for definition in DEFINITIONS.values():
        assert definition in guide
