"""The notebook API: `claimtype.load()`, `Classifier.predict/classify_article`, `score_frame`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import claimtype
from claimtype.labels import LABELS

PUBLIC = {
    "ArticleSentence",
    "Classifier",
    "ModelDirError",
    "Prediction",
    "__version__",
    "load",
    "score_frame",
}


def test_public_names_are_exactly_all_and_all_resolve() -> None:
    assert set(claimtype.__all__) == PUBLIC  # a change here is a change of the public API
    for name in claimtype.__all__:
        assert getattr(claimtype, name) is not None
    assert set(dir(claimtype)) >= PUBLIC
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = claimtype.nope  # type: ignore[attr-defined]


def test_import_claimtype_loads_no_model_runtime() -> None:
    code = (
        "import sys, claimtype; "
        "print(sorted(m for m in ('onnxruntime', 'numpy', 'pydantic') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr


@pytest.fixture(scope="module")
def classifier(tiny_model_dir: Path) -> claimtype.Classifier:
    return claimtype.load(tiny_model_dir, threads=1)


def test_predict_gives_one_prediction_per_text_in_order(classifier: claimtype.Classifier) -> None:
    texts = ["the mayor offered to rebuild the bridge", "the union said the port would close"]
    predictions = classifier.predict(texts)
    assert len(predictions) == 2
    for p in predictions:
        assert isinstance(p, claimtype.Prediction)
        assert p.label.value in LABELS and p.truncated is False
        assert list(p.scores) == list(LABELS) and sum(p.scores.values()) == pytest.approx(1, 1e-4)
    (single,) = classifier.predict(texts[1])  # one string is one sentence, not characters
    assert single == predictions[1]  # static int8: the batch does not change a score


def test_predict_reports_truncation(classifier: claimtype.Classifier) -> None:
    (p,) = classifier.predict(["the mayor said " * 200])
    assert p.truncated is True


def test_classify_article_gives_sentences_with_offsets(classifier: claimtype.Classifier) -> None:
    text = "The union said the port would close.  The mayor offered to rebuild the bridge."
    sentences = classifier.classify_article(text)
    assert [s.index for s in sentences] == [0, 1]
    for s in sentences:
        assert text[s.start : s.end] == s.text and s.label.value in LABELS
    assert classifier.classify_article("   ") == []


def test_load_refuses_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(claimtype.ModelDirError, match="no such model directory"):
        claimtype.load(tmp_path / "nothing")


def test_score_frame_adds_columns_row_by_row(classifier: claimtype.Classifier) -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {"body": ["the union said the port would close. the mayor denied it.", "x"], "n": [1, 2]},
        index=["a", "b"],
    )
    out = claimtype.score_frame(df, text_col="body", classifier=classifier)
    assert list(out.columns) == ["body", "n", "claim_type", "scores", "truncated", "evidence"]
    assert list(out.index) == ["a", "b"] and list(df.columns) == ["body", "n"]  # df untouched
    assert set(out.claim_type) <= set(LABELS)
    expected = [p.label.value for p in classifier.predict(df.body.tolist())]
    assert out.claim_type.tolist() == expected


def test_score_frame_split_gives_a_row_per_sentence(classifier: claimtype.Classifier) -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"text": ["The port closed. The union said so.", "No."]}, index=[7, 9])
    out = claimtype.score_frame(df, split=True, classifier=classifier)
    assert out.doc_id.tolist() == [7, 7, 9]
    assert out.sentence_index.tolist() == [0, 1, 0]
    assert out.text.tolist() == ["The port closed.", "The union said so.", "No."]
    assert list(out.columns[-4:]) == ["claim_type", "scores", "truncated", "evidence"]


def test_score_frame_names_the_missing_column(classifier: claimtype.Classifier) -> None:
    pd = pytest.importorskip("pandas")
    with pytest.raises(KeyError, match="text_col"):
        claimtype.score_frame(pd.DataFrame({"body": ["x"]}), classifier=classifier)


def test_score_frame_without_pandas_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # what a missing package looks like
    with pytest.raises(ImportError, match=r"claimtype\[pandas\]"):
        claimtype.score_frame(object())  # type: ignore[arg-type]


@pytest.mark.model
def test_load_without_arguments_works_from_any_directory(tmp_path: Path) -> None:
    code = "import claimtype; print(claimtype.load().predict(['The ministry denied it.'])[0])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "label=" in out.stdout
