"""The examples of TorchMetrics' clustering documentation (v1.8), as golden values.

TorchMetrics prints four decimals, so the values are compared to 5e-5.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ferrometrics import clustering
from ferrometrics.functional import clustering as functional

PREDS = [2, 1, 0, 1, 0]
TARGET = [0, 2, 1, 1, 0]

EXAMPLES = [
    (clustering.MutualInfoScore(), PREDS, TARGET, 0.5004),
    (clustering.NormalizedMutualInfoScore("arithmetic"), PREDS, TARGET, 0.4744),
    (clustering.AdjustedMutualInfoScore("arithmetic"), PREDS, TARGET, -0.2500),
    (clustering.RandScore(), PREDS, TARGET, 0.6000),
    (clustering.AdjustedRandScore(), [0, 0, 1, 1], [0, 0, 1, 1], 1.0),
    (clustering.AdjustedRandScore(), [0, 0, 1, 2], [0, 0, 1, 1], 0.5714),
    (clustering.FowlkesMallowsIndex(), [2, 2, 0, 1, 0], [2, 2, 1, 1, 0], 0.5000),
    (clustering.HomogeneityScore(), PREDS, TARGET, 0.4744),
    (clustering.CompletenessScore(), PREDS, TARGET, 0.4744),
    (clustering.VMeasureScore(beta=1.0), PREDS, TARGET, 0.4744),
    (clustering.ClusterAccuracy(num_classes=2), [0, 0, 1, 1], [1, 1, 0, 0], 1.0),
]


@pytest.mark.parametrize(
    ("metric", "preds", "target", "expected"),
    EXAMPLES,
    ids=[f"{type(example[0]).__name__}-{index}" for index, example in enumerate(EXAMPLES)],
)
def test_torchmetrics_example(metric, preds, target, expected):
    value = metric(np.array(preds), np.array(target))
    assert math.isclose(value, expected, abs_tol=5e-5)


def test_dunn_index_example():
    data = np.array([[0, 0], [0.5, 0], [1, 0], [0.5, 1]], dtype=np.float32)
    labels = np.array([0, 0, 0, 1])
    assert math.isclose(clustering.DunnIndex(p=2)(data, labels), 2.0, rel_tol=1e-6)
    assert math.isclose(functional.dunn_index(data, labels, p=2), 2.0, rel_tol=1e-6)


def test_functional_examples():
    assert math.isclose(functional.mutual_info_score(PREDS, TARGET), 0.5004, abs_tol=5e-5)
    assert math.isclose(functional.rand_score(PREDS, TARGET), 0.6, abs_tol=5e-5)
    assert math.isclose(
        functional.normalized_mutual_info_score(PREDS, TARGET), 0.4744, abs_tol=5e-5
    )
