"""Evidence spans: offsets that survive normalisation, tags that decode back to the spans."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from claimtype.evidence import EVIDENCE_TAGS, IGNORE_TAG, decode_evidence, token_tags
from claimtype.labels import Label
from claimtype.preprocess import Encoder, normalize, normalize_with_offsets
from claimtype.schemas import Evidence
from tests import tiny

_TEXT = st.text(
    alphabet=st.sampled_from(list("ab .,\u201c\u201d\u2019\t\n\u00a0\u200be\u0301\x00")),
    max_size=40,
)


@given(_TEXT)
def test_normalize_with_offsets_gives_normalize_and_maps_every_word_back(text: str) -> None:
    found = normalize_with_offsets(text)
    assert found.text == normalize(text)
    words = [(i, j) for i in range(len(found.text)) for j in range(i + 1, len(found.text) + 1)]
    for start, end in words:
        piece = found.text[start:end]
        after = found.text[end : end + 1]
        # spans are runs of whole words: no edge space, no edge inside a combining cluster
        if piece != piece.strip() or unicodedata.combining(piece[0]):
            continue
        if after and unicodedata.combining(after):
            continue
        a, b = found.original_span(start, end)
        assert normalize(text[a:b]) == piece
        back = found.normalized_span(a, b)  # wider only inside a combining cluster
        assert back is not None and back[0] <= start and back[1] >= end


def test_offsets_point_into_the_callers_text_after_folding() -> None:
    text = "\u201cNo,\u201d  the\n\nministry   said."
    found = normalize_with_offsets(text)
    assert found.text == '"No," the ministry said.'
    start = found.text.index("ministry")
    a, b = found.original_span(start, start + len("ministry"))
    assert text[a:b] == "ministry"


@pytest.fixture()
def encoder(tmp_path: Path) -> Encoder:
    tiny.build_tokenizer(tmp_path / "tokenizer.json")
    return Encoder.from_file(tmp_path / "tokenizer.json", max_length=64)


def _one_hot(tags: list[int]) -> np.ndarray:
    logits = np.full((len(tags), len(EVIDENCE_TAGS)), -4.0)
    for i, tag in enumerate(tags):
        logits[i, max(tag, 0)] = 4.0
    return logits


def test_gold_spans_survive_tagging_and_decoding(encoder: Encoder) -> None:
    rows = [r for r in tiny.sentences(10, seed=3) if r["evidence"]]
    for row in rows:
        # the caller's text has extra white space: spans come back in its offsets
        text = "  " + row["text"].replace(" ", "  ")

        def shift(i: int, row: dict = row) -> int:
            return 2 + i + row["text"][:i].count(" ")

        gold = {k: (shift(v[0]), shift(v[1])) if v else None for k, v in row["evidence"].items()}
        normalized = normalize_with_offsets(text)
        tokens = encoder.tokenize([text])[0]
        spans = {k: v and normalized.normalized_span(*v) for k, v in gold.items()}
        tags = token_tags(tokens.offsets, spans)
        assert tags[0] == IGNORE_TAG and tags[-1] == IGNORE_TAG  # [CLS], [SEP]
        found = decode_evidence(_one_hot(tags), tokens.offsets, normalized, row["label"])
        for kind, span in gold.items():
            got = getattr(found, kind)
            assert (got.start, got.end) == span if got else span is None
            assert got is None or text[got.start : got.end] == got.text


def test_a_fact_has_no_evidence_whatever_the_tags(encoder: Encoder) -> None:
    tokens = encoder.tokenize(["the union said the bridge would close"])[0]
    tags = [1] * len(tokens)
    found = decode_evidence(_one_hot(tags), tokens.offsets, normalize_with_offsets("x"), Label.FACT)
    assert found.source is None and found.cue is None


def test_one_span_of_each_kind_the_surest_run_and_whole_words(encoder: Encoder) -> None:
    text = "the union said the bank denied reports"
    tokens = encoder.tokenize([text])[0]
    words = text.split()
    assert len(tokens) == len(words) + 2  # every word is one piece here
    logits = np.full((len(tokens), len(EVIDENCE_TAGS)), -4.0)
    logits[:, 0] = 4.0
    source, cue = EVIDENCE_TAGS.index("B-SOURCE"), EVIDENCE_TAGS.index("B-CUE")
    # two source runs: "the union" (weak) and "the bank" (sure)
    logits[1, [0, source]] = (0.0, 0.5)
    logits[2, [0, source + 1]] = (0.0, 0.5)
    logits[4, [0, source]] = (-4.0, 6.0)
    logits[5, [0, source + 1]] = (-4.0, 6.0)
    logits[6, [0, cue]] = (-4.0, 6.0)
    found = decode_evidence(logits, tokens.offsets, normalize_with_offsets(text), Label.DENIAL)
    assert found.source is not None and found.source.text == "the bank"
    assert found.cue is not None and (found.cue.text, found.cue.start) == ("denied", 24)


def _tagging_log_prob(probs: np.ndarray, kind: int, span: tuple[int, int] | None) -> float:
    """log P of the tagging with only `span` of this kind (B at its first token, I after)."""
    begin = 1 + 2 * kind
    total = 0.0
    for t in range(len(probs)):
        if span is not None and t == span[0]:
            p = probs[t, begin]
        elif span is not None and span[0] < t <= span[1]:
            p = probs[t, begin + 1]
        else:
            p = 1.0 - probs[t, begin] - probs[t, begin + 1]
        total += float(np.log(max(p, 1e-9)))
    return total


def test_decoding_picks_the_likeliest_single_span_as_enumerating_them_would() -> None:
    from claimtype.evidence import EVIDENCE_KINDS, MAX_SPAN_TOKENS, REQUIRED_KINDS, _best_spans

    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 45))  # past MAX_SPAN_TOKENS: the length cap is exercised
        z = np.exp(rng.normal(size=(n, len(EVIDENCE_TAGS))) * rng.uniform(0.5, 5))
        probs = z / z.sum(axis=1, keepdims=True)
        found = _best_spans(probs)
        for k, kind in enumerate(EVIDENCE_KINDS):
            spans = [(a, e) for a in range(n) for e in range(a, min(n, a + MAX_SPAN_TOKENS))]
            best = max(spans, key=lambda s: _tagging_log_prob(probs, k, s))
            likelier = _tagging_log_prob(probs, k, best) > _tagging_log_prob(probs, k, None)
            assert found[k] == (best if kind in REQUIRED_KINDS or likelier else None)


def test_a_span_that_starts_inside_a_word_is_widened_to_the_word(encoder: Encoder) -> None:
    text = "the union said xyz"  # "xyz" is three pieces in the tiny vocabulary
    tokens = encoder.tokenize([text])[0]
    logits = np.full((len(tokens), len(EVIDENCE_TAGS)), -4.0)
    logits[:, 0] = 4.0
    last = len(tokens) - 2  # the final piece, "##z"
    logits[last, [0, EVIDENCE_TAGS.index("B-CUE")]] = (-4.0, 6.0)
    found = decode_evidence(logits, tokens.offsets, normalize_with_offsets(text), Label.CLAIM)
    assert found.cue is not None and found.cue.text == "xyz"


def _manifest(model_dir: Path) -> dict:
    import json

    return json.loads((model_dir / "manifest.json").read_text())


def _write_manifest(model_dir: Path, manifest: dict) -> None:
    import json

    (model_dir / "manifest.json").write_text(json.dumps(manifest))


def test_the_runtime_reads_both_outputs_of_one_graph(tiny_model_dir: Path) -> None:
    """Spans index the caller's text, curly quotes and doubled spaces included."""
    from claimtype import load

    texts = [
        "\u201cthe  union\u201d  said the port in lima would close",
        "the army opened a new mine",
    ]
    said, opened = load(tiny_model_dir).predict(texts)
    assert opened.label is Label.FACT and opened.evidence == Evidence()
    assert said.label is not Label.FACT and said.evidence is not None
    assert said.evidence.cue is not None and said.evidence.cue.text == "said"
    for span in (said.evidence.source, said.evidence.cue):
        assert span is None or texts[0][span.start : span.end] == span.text


def test_a_model_without_the_evidence_head_answers_evidence_null(fresh_model_dir: Path) -> None:
    from claimtype import load

    manifest = _manifest(fresh_model_dir)
    manifest["evidence_output"] = manifest["evidence_tags"] = None
    _write_manifest(fresh_model_dir, manifest)
    predictions = load(fresh_model_dir).predict(["the union said the port would close", "x"])
    assert [p.evidence for p in predictions] == [None, None]


def test_the_loader_refuses_other_evidence_tags_or_a_missing_output(fresh_model_dir: Path) -> None:
    from claimtype import ModelDirError, load

    manifest = _manifest(fresh_model_dir)
    _write_manifest(fresh_model_dir, manifest | {"evidence_tags": ["O", "B-WHO", "I-WHO"]})
    with pytest.raises(ModelDirError, match="evidence tags"):
        load(fresh_model_dir)
    _write_manifest(fresh_model_dir, manifest | {"evidence_output": "spans"})
    with pytest.raises(ModelDirError, match="'spans'"):
        load(fresh_model_dir)
