"""Arguments whose states would not fit in memory raise ValueError naming the argument, instead
of aborting the interpreter on a failed allocation."""

from __future__ import annotations

import numpy as np
import pytest

from ferrometrics import classification, regression, wrappers
from ferrometrics.functional import classification as functional


@pytest.mark.parametrize(
    "build, argument",
    [
        (lambda: classification.MulticlassPrecision(num_classes=2**40), "num_classes"),
        (lambda: classification.MultilabelF1Score(num_labels=2**40), "num_labels"),
        (lambda: classification.MulticlassConfusionMatrix(num_classes=20_000), "num_classes"),
        (lambda: classification.MulticlassCohenKappa(num_classes=20_000), "num_classes"),
        (lambda: classification.BinaryAUROC(thresholds=2**40), "thresholds"),
        (
            lambda: classification.MulticlassAUROC(num_classes=2**10, thresholds=2**20),
            "thresholds",
        ),
        (lambda: classification.BinaryCalibrationError(n_bins=2**40), "n_bins"),
        (
            lambda: wrappers.BootStrapper(regression.MeanSquaredError(), num_bootstraps=10**12),
            "num_bootstraps",
        ),
    ],
)
def test_oversized_state_rejected(build, argument):
    with pytest.raises(ValueError, match=f"`{argument}`.*supported"):
        build()


def test_functional_huge_num_classes_rejected():
    preds = np.array([0, 1])
    with pytest.raises(ValueError, match="`num_classes`"):
        functional.multiclass_accuracy(preds, preds, num_classes=2**40)


def test_confusion_matrix_below_limit():
    metric = classification.MulticlassConfusionMatrix(num_classes=3)
    metric.update(np.array([0, 2]), np.array([0, 1]))
    assert metric.compute().shape == (3, 3)
