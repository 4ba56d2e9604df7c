"""claimtype: label a news sentence as fact, claim, denial or offer.

`load()` gives a Classifier for the shipped model (or a directory named), whose
`predict` labels sentences and `classify_article` an article sentence by
sentence; `score_frame` labels a pandas DataFrame. The README's "from Python"
section shows them with real output, and a test runs it.

This package is the runtime and owns the contract (labels, normalisation,
tokenisation, model-directory format). It needs ONNX Runtime and tokenizers
only; it never imports torch, transformers or `claimtype.training`.

The notebook API is loaded on first use, so that `import claimtype` (and
`claimtype --help`) stays instant.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .artefact import ModelDirError
    from .classifier import Classifier, load, score_frame
    from .schemas import ArticleSentence, Prediction

try:
    __version__ = version("claimtype")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"

__all__ = [
    "ArticleSentence",
    "Classifier",
    "ModelDirError",
    "Prediction",
    "__version__",
    "load",
    "score_frame",
]

#: public name -> the module that defines it
_LAZY = {
    "ArticleSentence": "schemas",
    "Classifier": "classifier",
    "ModelDirError": "artefact",
    "Prediction": "schemas",
    "load": "classifier",
    "score_frame": "classifier",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'claimtype' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{_LAZY[name]}", __name__), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
