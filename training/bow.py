"""The bag-of-words baseline: TF-IDF word 1-2-grams and a logistic regression, fitted on train.

It is the yardstick for evaluation sets, not a model to ship: a set that a bag
of words solves rewards cue words, and a model tuned on it learns them. On real
news this baseline scores about 0.65 macro-F1, so an evaluation set meant to
stand in for real text (dev_wire) must keep it low too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..extras import install_hint
from ..labels import label2id
from ..preprocess import normalize
from .metrics import classification_metrics

__all__ = ["bow_metrics", "fit_bow"]


def fit_bow(rows: Sequence[dict], seed: int = 0) -> Any:
    """A fitted scikit-learn pipeline (the `train` extra installs scikit-learn)."""
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
    except ImportError as exc:
        raise ImportError(
            f"the bag-of-words baseline needs scikit-learn: {install_hint('train')}"
        ) from exc
    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
        LogisticRegression(max_iter=2000, C=10.0, random_state=seed),
    )
    model.fit([normalize(r["text"]) for r in rows], [r["label"] for r in rows])
    return model


def bow_metrics(model: Any, rows: Sequence[dict]) -> dict:
    """The fitted baseline's figures on rows, in the same shape as the model's."""
    ids = label2id()
    predicted = model.predict([normalize(r["text"]) for r in rows])
    return classification_metrics([ids[r["label"]] for r in rows], [ids[p] for p in predicted])
