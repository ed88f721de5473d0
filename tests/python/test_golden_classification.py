"""The examples of TorchMetrics' classification documentation (v1.x), as golden values.

TorchMetrics prints four decimals, so the values are compared to 5e-5.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ferrometrics.functional import classification as functional

BINARY = ([0, 0, 1, 1, 0, 1], [0, 1, 0, 1, 0, 1])
BINARY_SCORES = ([0.11, 0.22, 0.84, 0.73, 0.33, 0.92], [0, 1, 0, 1, 0, 1])
MULTICLASS = ([2, 1, 0, 1], [2, 1, 0, 0])
MULTICLASS_SCORES = (
    [[0.16, 0.26, 0.58], [0.22, 0.61, 0.17], [0.71, 0.09, 0.20], [0.05, 0.82, 0.13]],
    [2, 1, 0, 0],
)
MULTILABEL = ([[0, 0, 1], [1, 0, 1]], [[0, 1, 0], [1, 0, 1]])
FIVE_CLASS_SCORES = (
    [
        [0.75, 0.05, 0.05, 0.05, 0.05],
        [0.05, 0.75, 0.05, 0.05, 0.05],
        [0.05, 0.05, 0.75, 0.05, 0.05],
        [0.05, 0.05, 0.05, 0.75, 0.05],
    ],
    [0, 1, 3, 2],
)

# (function, (preds, target), keyword arguments, documented value)
EXAMPLES = [
    ("binary_accuracy", BINARY, {}, 0.6667),
    ("binary_accuracy", BINARY_SCORES, {}, 0.6667),
    ("binary_precision", BINARY, {}, 0.6667),
    ("binary_recall", BINARY, {}, 0.6667),
    ("binary_f1_score", BINARY, {}, 0.6667),
    ("binary_specificity", BINARY, {}, 0.6667),
    ("binary_hamming_distance", BINARY, {}, 0.3333),
    ("binary_hamming_distance", BINARY_SCORES, {}, 0.3333),
    ("multiclass_accuracy", MULTICLASS, {"num_classes": 3}, 0.8333),
    ("multiclass_accuracy", MULTICLASS, {"num_classes": 3, "average": None}, [0.5, 1.0, 1.0]),
    ("multiclass_accuracy", MULTICLASS_SCORES, {"num_classes": 3}, 0.8333),
    ("multiclass_precision", MULTICLASS, {"num_classes": 3}, 0.8333),
    ("multiclass_precision", MULTICLASS, {"num_classes": 3, "average": None}, [1.0, 0.5, 1.0]),
    ("multiclass_recall", MULTICLASS, {"num_classes": 3}, 0.8333),
    ("multiclass_recall", MULTICLASS, {"num_classes": 3, "average": None}, [0.5, 1.0, 1.0]),
    ("multiclass_f1_score", MULTICLASS, {"num_classes": 3}, 0.7778),
    (
        "multiclass_f1_score",
        MULTICLASS,
        {"num_classes": 3, "average": None},
        [0.6667, 0.6667, 1.0],
    ),
    ("multiclass_hamming_distance", MULTICLASS, {"num_classes": 3}, 0.1667),
    (
        "multiclass_hamming_distance",
        MULTICLASS,
        {"num_classes": 3, "average": None},
        [0.5, 0.0, 0.0],
    ),
    ("multiclass_hamming_distance", MULTICLASS_SCORES, {"num_classes": 3}, 0.1667),
    ("multilabel_accuracy", MULTILABEL, {"num_labels": 3}, 0.6667),
    ("multilabel_accuracy", MULTILABEL, {"num_labels": 3, "average": None}, [1.0, 0.5, 0.5]),
    ("multilabel_precision", MULTILABEL, {"num_labels": 3}, 0.5),
    ("multilabel_precision", MULTILABEL, {"num_labels": 3, "average": None}, [1.0, 0.0, 0.5]),
    ("multilabel_recall", MULTILABEL, {"num_labels": 3}, 0.6667),
    ("multilabel_recall", MULTILABEL, {"num_labels": 3, "average": None}, [1.0, 0.0, 1.0]),
    ("multilabel_f1_score", MULTILABEL, {"num_labels": 3}, 0.5556),
    (
        "multilabel_f1_score",
        MULTILABEL,
        {"num_labels": 3, "average": None},
        [1.0, 0.0, 0.6667],
    ),
    ("multilabel_hamming_distance", MULTILABEL, {"num_labels": 3}, 0.3333),
    (
        "multilabel_hamming_distance",
        MULTILABEL,
        {"num_labels": 3, "average": None},
        [0.0, 0.5, 0.5],
    ),
    ("binary_auroc", ([0.0, 0.5, 0.7, 0.8], [0, 1, 1, 0]), {}, 0.5),
    ("binary_average_precision", ([0.0, 0.5, 0.7, 0.8], [0, 1, 1, 0]), {}, 0.5833),
    ("binary_cohen_kappa", ([0, 1, 0, 0], [1, 1, 0, 0]), {}, 0.5),
    ("binary_matthews_corrcoef", ([0, 1, 0, 0], [1, 1, 0, 0]), {}, 0.5774),
    ("binary_jaccard_index", ([0, 1, 0, 0], [1, 1, 0, 0]), {}, 0.5),
    ("multiclass_jaccard_index", MULTICLASS, {"num_classes": 3}, 0.6667),
]


@pytest.mark.parametrize(
    ("name", "inputs", "kwargs", "expected"),
    EXAMPLES,
    ids=[f"{example[0]}-{index}" for index, example in enumerate(EXAMPLES)],
)
def test_torchmetrics_example(name, inputs, kwargs, expected):
    preds, target = (np.array(values) for values in inputs)
    value = getattr(functional, name)(preds, target, **kwargs)
    if isinstance(expected, list):
        np.testing.assert_allclose(np.asarray(value, dtype=float), expected, atol=5e-5)
    else:
        assert math.isclose(float(value), expected, abs_tol=5e-5), value


@pytest.mark.parametrize("thresholds", [None, 5])
def test_multiclass_auroc_example(thresholds):
    """TorchMetrics documents [1, 1, 0.3333, 0.3333, 0] and a macro value of 0.5333.

    Class 4 has no positive target. TorchMetrics scores it 0, and ferrometrics returns NaN for
    it and for the macro mean, as scikit-learn (see docs/differences-from-torchmetrics.md). The
    four defined classes keep the documented values.
    """
    preds, target = (np.array(values) for values in FIVE_CLASS_SCORES)
    per_class = functional.multiclass_auroc(
        preds, target, num_classes=5, average=None, thresholds=thresholds
    )
    np.testing.assert_allclose(per_class[:4], [1.0, 1.0, 0.3333, 0.3333], atol=5e-5)
    assert math.isnan(per_class[4])
    macro = functional.multiclass_auroc(preds, target, num_classes=5, thresholds=thresholds)
    assert math.isnan(float(macro))


def test_confusion_matrix_examples():
    binary = functional.binary_confusion_matrix(np.array([0, 1, 0, 0]), np.array([1, 1, 0, 0]))
    assert np.asarray(binary).tolist() == [[2, 0], [1, 1]]
    multiclass = functional.multiclass_confusion_matrix(
        np.array(MULTICLASS[0]), np.array(MULTICLASS[1]), num_classes=3
    )
    assert np.asarray(multiclass).tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
