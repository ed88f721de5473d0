"""Extrinsic clustering metrics against scikit-learn on seeded random labelings."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from sklearn import metrics as sk

from conftest import assert_close
from ferrometrics import clustering
from ferrometrics.functional import clustering as functional

AVERAGE_METHODS = ["min", "geometric", "arithmetic", "max"]


def sklearn_cluster_accuracy(target: np.ndarray, preds: np.ndarray) -> float:
    """Accuracy under the best one-to-one matching, from scipy's assignment solver."""
    table = sk.cluster.contingency_matrix(target, preds)
    rows, columns = linear_sum_assignment(table, maximize=True)
    return float(table[rows, columns].sum() / len(target))


# (ferrometrics function, its keyword arguments, scikit-learn reference over (target, preds)).
CASES = [
    ("mutual_info_score", {}, sk.mutual_info_score),
    *[
        (
            "normalized_mutual_info_score",
            {"average_method": method},
            lambda t, p, method=method: sk.normalized_mutual_info_score(
                t, p, average_method=method
            ),
        )
        for method in AVERAGE_METHODS
    ],
    *[
        (
            "adjusted_mutual_info_score",
            {"average_method": method},
            lambda t, p, method=method: sk.adjusted_mutual_info_score(t, p, average_method=method),
        )
        for method in AVERAGE_METHODS
    ],
    ("rand_score", {}, sk.rand_score),
    ("adjusted_rand_score", {}, sk.adjusted_rand_score),
    ("fowlkes_mallows_index", {}, sk.fowlkes_mallows_score),
    ("homogeneity_score", {}, sk.homogeneity_score),
    ("completeness_score", {}, sk.completeness_score),
    ("v_measure_score", {}, sk.v_measure_score),
    ("v_measure_score", {"beta": 0.25}, lambda t, p: sk.v_measure_score(t, p, beta=0.25)),
    ("v_measure_score", {"beta": 3.0}, lambda t, p: sk.v_measure_score(t, p, beta=3.0)),
    ("cluster_accuracy", {}, sklearn_cluster_accuracy),
]

CLASS_OF = {
    "mutual_info_score": clustering.MutualInfoScore,
    "normalized_mutual_info_score": clustering.NormalizedMutualInfoScore,
    "adjusted_mutual_info_score": clustering.AdjustedMutualInfoScore,
    "rand_score": clustering.RandScore,
    "adjusted_rand_score": clustering.AdjustedRandScore,
    "fowlkes_mallows_index": clustering.FowlkesMallowsIndex,
    "homogeneity_score": clustering.HomogeneityScore,
    "completeness_score": clustering.CompletenessScore,
    "v_measure_score": clustering.VMeasureScore,
    "cluster_accuracy": clustering.ClusterAccuracy,
}

CASE_IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kwargs.items()) or 'default'}"
            for name, kwargs, _ in CASES]

# (samples, predicted clusters, true clusters, label offset, seed)
LABELINGS = [
    (2, 1, 1, 0, 0),
    (2, 2, 2, 0, 1),
    (5, 3, 2, 0, 2),
    (37, 4, 4, -1000, 3),
    (100, 1, 5, 0, 4),
    (100, 5, 1, 0, 5),
    (257, 10, 3, 2**40, 6),
    (1000, 2, 2, -(2**62), 7),
    (1000, 50, 40, 7, 8),
    (5000, 200, 12, -3, 9),
    (3000, 3000, 5, 0, 10),
]


def random_labeling(samples, preds_clusters, target_clusters, offset, seed):
    rng = np.random.default_rng(seed)
    preds = rng.integers(0, preds_clusters, size=samples) + offset
    target = rng.integers(0, target_clusters, size=samples) - offset // 2
    return preds.astype(np.int64), target.astype(np.int64)


@pytest.mark.parametrize("labeling", LABELINGS, ids=[str(case[:4]) for case in LABELINGS])
@pytest.mark.parametrize(("name", "kwargs", "reference"), CASES, ids=CASE_IDS)
def test_functional_matches_sklearn(name, kwargs, reference, labeling):
    preds, target = random_labeling(*labeling)
    actual = getattr(functional, name)(preds, target, **kwargs)
    assert_close(actual, float(reference(target, preds)))


@pytest.mark.parametrize("labeling", LABELINGS[2:9], ids=[str(c[:4]) for c in LABELINGS[2:9]])
@pytest.mark.parametrize(("name", "kwargs", "reference"), CASES, ids=CASE_IDS)
def test_batched_metric_matches_sklearn(name, kwargs, reference, labeling):
    preds, target = random_labeling(*labeling)
    metric = CLASS_OF[name](**kwargs)
    for chunk in np.array_split(np.arange(len(preds)), 4):
        metric.update(preds[chunk], target[chunk])
    assert_close(metric.compute(), float(reference(target, preds)))


@pytest.mark.parametrize(("name", "kwargs", "reference"), CASES, ids=CASE_IDS)
def test_metric_with_perfect_labeling(name, kwargs, reference):
    target = np.repeat(np.arange(6), 5)
    preds = (target * 7 + 3) % 11
    actual = getattr(functional, name)(preds, target, **kwargs)
    assert_close(actual, float(reference(target, preds)))


@pytest.mark.parametrize("labeling", LABELINGS, ids=[str(case[:4]) for case in LABELINGS])
def test_contingency_matrix_matches_sklearn(labeling):
    preds, target = random_labeling(*labeling)
    actual = functional.contingency_matrix(target, preds)
    expected = sk.cluster.contingency_matrix(target, preds)
    assert actual.dtype == np.int64
    np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize("labeling", LABELINGS, ids=[str(case[:4]) for case in LABELINGS])
def test_pair_confusion_matrix_matches_sklearn(labeling):
    preds, target = random_labeling(*labeling)
    actual = functional.pair_confusion_matrix(target, preds)
    expected = sk.cluster.pair_confusion_matrix(target, preds)
    assert actual.dtype == np.int64
    np.testing.assert_array_equal(actual, expected)


def test_huge_label_values_match_small_ones():
    preds, target = random_labeling(500, 6, 4, 0, 11)
    shifted_preds = preds * (2**50) - 2**62
    shifted_target = target * -(2**55) + 2**61
    for name, kwargs, _ in CASES:
        function = getattr(functional, name)
        assert_close(
            function(shifted_preds, shifted_target, **kwargs),
            function(preds, target, **kwargs),
        )
