"""claimtype runtime: label a news sentence as fact, claim, denial or offer.

This package is the runtime and owns the contract (labels, normalisation,
tokenisation, model-directory format). It needs ONNX Runtime and tokenizers
only; it never imports torch, transformers or the training package.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("claimtype")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
