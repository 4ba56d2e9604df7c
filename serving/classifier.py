"""The notebook API: `claimtype.load()` and what it returns.

A thin layer over the same OnnxPredictor, sentence splitter and Prediction shape
that the API and `claimtype score` use, so a notebook sees the labels and scores
the server would give. pandas is imported only by `score_frame`, and only there
is it needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .artefact import Precision, load_model_dir
from .cpus import cores
from .extras import install_hint
from .predictor import OnnxPredictor
from .schemas import ArticleSentence, Prediction
from .sentences import split_sentences
from .settings import default_model_dir

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Classifier", "load", "score_frame"]


class Classifier:
    """A loaded model: label sentences, or an article sentence by sentence."""

    def __init__(self, predictor: OnnxPredictor) -> None:
        self.predictor = predictor

    @property
    def name(self) -> str:
        """`name@version` of the model, as the API reports it."""
        return self.predictor.name

    def __repr__(self) -> str:
        return f"<claimtype.Classifier {self.name} from {self.predictor.model_dir.path}>"

    def predict(self, texts: str | Sequence[str]) -> list[Prediction]:
        """One Prediction (label, scores, truncated) per sentence, in order.

        A single string is one sentence, not a sequence of characters.
        """
        return self.predictor.predict([texts] if isinstance(texts, str) else list(texts))

    def classify_article(self, text: str) -> list[ArticleSentence]:
        """The article's sentences, each with its character offsets and prediction."""
        sentences = split_sentences(text)
        return ArticleSentence.rows(sentences, self.predictor.predict([s.text for s in sentences]))

    def close(self) -> None:
        self.predictor.close()


def load(
    model: str | Path | None = None, precision: Precision = "int8", threads: int | None = None
) -> Classifier:
    """Load and verify a model directory (default: the shipped model) for this process.

    `threads` defaults to the cores this process may use. A directory that fails
    verification raises ModelDirError naming what is wrong.
    """
    path = Path(model) if model is not None else default_model_dir()
    predictor = OnnxPredictor(load_model_dir(path, precision), threads=threads or cores())
    return Classifier(predictor)


def score_frame(
    df: pd.DataFrame,
    text_col: str = "text",
    split: bool = False,
    classifier: Classifier | None = None,
) -> pd.DataFrame:
    """Label a DataFrame's texts, like `claimtype score` does a file.

    `split=False`: the frame with `claim_type`, `scores`, `truncated` and `evidence`
    added, one row per row. `split=True`: one row per sentence, with `doc_id` (the
    frame's index label), `sentence_index`, `start`, `end`, `text` and the same four
    columns.
    """
    pandas = _pandas()
    if text_col not in df.columns:
        raise KeyError(f"no column {text_col!r}; columns are {list(df.columns)}: pass text_col=")
    classifier = classifier or load()
    texts = [str(t) for t in df[text_col].tolist()]
    if not split:
        out = df.copy()
        predictions = classifier.predict(texts)
        for column, values in _prediction_columns(predictions).items():
            out[column] = values
        return out
    rows: list[dict[str, Any]] = []
    for doc_id, text in zip(df.index, texts, strict=True):
        rows += [
            {"doc_id": doc_id, "sentence_index": s.index, "start": s.start, "end": s.end}
            | {"text": s.text, **s.as_row()}
            for s in classifier.classify_article(text)
        ]
    columns = ["doc_id", "sentence_index", "start", "end", "text", *PREDICTION_COLUMNS]
    return pandas.DataFrame(rows, columns=columns)


#: what a Prediction adds to a frame's row
PREDICTION_COLUMNS = ("claim_type", "scores", "truncated", "evidence")


def _prediction_columns(predictions: list[Prediction]) -> dict[str, list[Any]]:
    rows = [p.as_row() for p in predictions]
    return {column: [r[column] for r in rows] for column in PREDICTION_COLUMNS}


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise ImportError(f"score_frame needs pandas: {install_hint('pandas')}") from None
    return pandas
