import numpy as np
import pytest

from claimtype.training.baseline import cue_word_label
from claimtype.training.metrics import (
    classification_metrics,
    expected_calibration_error,
    fit_temperature,
)


def test_classification_metrics_by_hand() -> None:
    gold = [0, 0, 1, 1, 2, 3]
    pred = [0, 1, 1, 1, 2, 0]
    m = classification_metrics(gold, pred)
    assert m["accuracy"] == pytest.approx(4 / 6, abs=1e-4)
    assert m["confusion"][0] == [1, 1, 0, 0]
    assert m["per_label"]["claim"]["precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["per_label"]["offer"]["f1"] == 0
    f1 = [0.5, 0.8, 1.0, 0.0]
    assert m["macro_f1"] == pytest.approx(np.mean(f1), abs=1e-4)


def test_temperature_recovers_a_known_scale_and_lowers_ece() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    gold = rng.integers(0, 4, n)
    true_logits = rng.normal(0, 1, (n, 4))
    true_logits[np.arange(n), gold] += 1.5
    # sample labels from the true distribution so that T=1 is calibrated for true_logits
    p = np.exp(true_logits) / np.exp(true_logits).sum(1, keepdims=True)
    sampled = np.array([rng.choice(4, p=row) for row in p])
    overconfident = true_logits * 3.0
    t = fit_temperature(overconfident, sampled)
    assert t == pytest.approx(3.0, rel=0.15)
    from claimtype.predictor import softmax

    before = expected_calibration_error(softmax(overconfident), sampled)
    after = expected_calibration_error(softmax(overconfident, t), sampled)
    assert after < before / 2


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("The union offered to end the strike.", "offer"),
        ("The ministry denied the report.", "denial"),
        ("Officials said the road was closed.", "claim"),
        ("The road was closed.", "fact"),
    ],
)
def test_cue_word_baseline(text: str, label: str) -> None:
    assert cue_word_label(text) == label


def test_reliability_bins_are_what_ece_sums() -> None:
    from claimtype.training.metrics import reliability_bins

    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(4), size=200)
    gold = rng.integers(0, 4, size=200)
    bins = reliability_bins(probs, gold)
    assert sum(share for share, _, _ in bins) == pytest.approx(1.0)
    ece = sum(share * abs(acc - conf) for share, conf, acc in bins)
    assert expected_calibration_error(probs, gold) == pytest.approx(ece, abs=1e-4)
