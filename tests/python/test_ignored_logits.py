"""An ignored position whose score lies outside [0, 1].

TorchMetrics drops ignored positions before it decides between probabilities and logits for
the curves, the calibration error and the binary confusion matrix, so there the position must
leave the other scores as probabilities. The binary stat scores decide on every position."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from ferrometrics.functional import classification as functional

IGNORE = -100


def binary_batch():
    rng = np.random.default_rng(11)
    scores = rng.random(300)
    target = rng.integers(0, 2, 300)
    scores[-1] = 5.0
    target[-1] = IGNORE
    return scores, target


def multiclass_batch():
    rng = np.random.default_rng(12)
    scores = rng.dirichlet([1.0, 1.0, 1.0], 300)
    target = rng.integers(0, 3, 300)
    scores[-1] = -1.0
    target[-1] = IGNORE
    return scores, target


def assert_same(actual, expected):
    if isinstance(actual, tuple):
        for column, reference in zip(actual, expected):
            np.testing.assert_array_equal(column, reference)
    else:
        np.testing.assert_array_equal(actual, expected)


# (batch, metric) of the metrics that drop ignored positions first.
DROPPING_FIRST = {
    "binary auroc exact": (binary_batch, functional.binary_auroc),
    "binary auroc binned": (
        binary_batch,
        lambda p, t, **kw: functional.binary_auroc(p, t, thresholds=20, **kw),
    ),
    "binary average precision": (binary_batch, functional.binary_average_precision),
    "binary roc": (binary_batch, functional.binary_roc),
    "binary precision-recall curve": (binary_batch, functional.binary_precision_recall_curve),
    "binary roc float32": (
        binary_batch,
        lambda p, t, **kw: functional.binary_roc(p.astype(np.float32), t, **kw),
    ),
    "binary calibration error": (binary_batch, functional.binary_calibration_error),
    "binary confusion matrix": (binary_batch, functional.binary_confusion_matrix),
    "binary cohen kappa": (binary_batch, functional.binary_cohen_kappa),
    "binary matthews": (binary_batch, functional.binary_matthews_corrcoef),
    "multiclass auroc exact": (
        multiclass_batch,
        lambda p, t, **kw: functional.multiclass_auroc(p, t, 3, **kw),
    ),
    "multiclass auroc binned": (
        multiclass_batch,
        lambda p, t, **kw: functional.multiclass_auroc(p, t, 3, thresholds=20, **kw),
    ),
    "multiclass average precision": (
        multiclass_batch,
        lambda p, t, **kw: functional.multiclass_average_precision(p, t, 3, **kw),
    ),
    "multiclass calibration error": (
        multiclass_batch,
        lambda p, t, **kw: functional.multiclass_calibration_error(p, t, 3, **kw),
    ),
}


@pytest.mark.parametrize("name", sorted(DROPPING_FIRST))
def test_ignored_logit_left_out(name):
    batch, metric = DROPPING_FIRST[name]
    scores, target = batch()
    kept = target != IGNORE
    assert_same(metric(scores, target, ignore_index=IGNORE), metric(scores[kept], target[kept]))


def test_stat_scores_ignored_logit_decides():
    scores, target = binary_batch()
    kept = target != IGNORE
    # Every score goes through the sigmoid, so 0.4 becomes 0.599 and counts as positive.
    expected = functional.binary_stat_scores(expit(scores[kept]), target[kept])
    actual = functional.binary_stat_scores(scores, target, ignore_index=IGNORE)
    np.testing.assert_array_equal(actual, expected)
