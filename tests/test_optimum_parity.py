"""The shipped model directory in optimum gives claimtype's logits (marked `model`).

`claimtype bench score` times optimum's ORT pipeline as the alternative to
claimtype; the comparison is fair only if optimum runs the same model on the
same inputs. One sentence at a time, so the check holds for a model directory
exported before 3.1.0 too (their dynamic int8 scaled activations by each batch's
range, so batches padded differently differed by rounding alone). optimum's
session leaves out the fusions claimtype's does (UNFUSED): with them on, int8
logits move by rounding too (0.011 on the first sentence here).
"""

from __future__ import annotations

import numpy as np
import pytest

from claimtype.artefact import load_model_dir
from claimtype.extras import install_hint
from claimtype.predictor import UNFUSED, OnnxPredictor
from claimtype.settings import default_model_dir

pytestmark = pytest.mark.model

SENTENCES = [
    "The ministry denied reports that it had paid the ransom.",
    'Officials said the deal would be signed within weeks, "whatever happens," a diplomat said.',
    "The company opened a new factory on the outskirts of the capital on Monday.",
    "The mayor offered to rebuild the bridge at the city's own cost.",
]


def test_optimum_logits_equal_claimtype() -> None:
    optimum = pytest.importorskip(
        "optimum.onnxruntime",
        reason=f"optimum's ORT model is not installed: {install_hint('bench')}",
        exc_type=ImportError,
    )
    import onnxruntime as ort
    from transformers import AutoTokenizer

    options = ort.SessionOptions()
    options.add_session_config_entry("optimization.disable_specified_optimizers", ",".join(UNFUSED))
    model_dir = default_model_dir()
    theirs = optimum.ORTModelForSequenceClassification.from_pretrained(
        str(model_dir),
        file_name="model_quantized.onnx",
        provider="CPUExecutionProvider",
        session_options=options,
    )
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    ours = OnnxPredictor(load_model_dir(model_dir), threads=1)
    for text in SENTENCES:
        (expected,), _ = ours.logits([text])
        inputs = tokenizer([text], return_tensors="np", truncation=True, max_length=128)
        (got,) = np.asarray(theirs(**inputs).logits)
        np.testing.assert_allclose(got, expected, atol=1e-4, err_msg=text)
