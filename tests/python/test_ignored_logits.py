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


BINARY_DROPPING_FIRST = {
    "auroc exact": lambda p, t, **kw: functional.binary_auroc(p, t, **kw),
    "auroc binned": lambda p, t, **kw: functional.binary_auroc(p, t, thresholds=20, **kw),
    "average precision": lambda p, t, **kw: functional.binary_average_precision(p, t, **kw),
    "roc": lambda p, t, **kw: functional.binary_roc(p, t, **kw),
    "precision-recall curve": lambda p, t, **kw: functional.binary_precision_recall_curve(
        p, t, **kw
    ),
    "roc float32": lambda p, t, **kw: functional.binary_roc(p.astype(np.float32), t, **kw),
    "calibration error": lambda p, t, **kw: functional.binary_calibration_error(p, t, **kw),
    "confusion matrix": lambda p, t, **kw: functional.binary_confusion_matrix(p, t, **kw),
    "cohen kappa": lambda p, t, **kw: functional.binary_cohen_kappa(p, t, **kw),
    "matthews": lambda p, t, **kw: functional.binary_matthews_corrcoef(p, t, **kw),
}


@pytest.mark.parametrize("name", sorted(BINARY_DROPPING_FIRST))
def test_binary_ignored_logit_left_out(name):
    scores, target = binary_batch()
    kept = target != IGNORE
    metric = BINARY_DROPPING_FIRST[name]
    assert_same(metric(scores, target, ignore_index=IGNORE), metric(scores[kept], target[kept]))


MULTICLASS_DROPPING_FIRST = {
    "auroc exact": lambda p, t, **kw: functional.multiclass_auroc(p, t, 3, **kw),
    "auroc binned": lambda p, t, **kw: functional.multiclass_auroc(p, t, 3, thresholds=20, **kw),
    "average precision": lambda p, t, **kw: functional.multiclass_average_precision(p, t, 3, **kw),
    "calibration error": lambda p, t, **kw: functional.multiclass_calibration_error(
        p, t, 3, **kw
    ),
}


@pytest.mark.parametrize("name", sorted(MULTICLASS_DROPPING_FIRST))
def test_multiclass_ignored_logit_left_out(name):
    scores, target = multiclass_batch()
    kept = target != IGNORE
    metric = MULTICLASS_DROPPING_FIRST[name]
    assert_same(metric(scores, target, ignore_index=IGNORE), metric(scores[kept], target[kept]))


def test_stat_scores_ignored_logit_decides():
    scores, target = binary_batch()
    kept = target != IGNORE
    # Every score goes through the sigmoid, so 0.4 becomes 0.599 and counts as positive.
    expected = functional.binary_stat_scores(expit(scores[kept]), target[kept])
    actual = functional.binary_stat_scores(scores, target, ignore_index=IGNORE)
    np.testing.assert_array_equal(actual, expected)
