"""Every clustering metric on scikit-learn's bundled datasets clustered with k-means."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets
from sklearn import metrics as sk
from sklearn.cluster import KMeans

from conftest import assert_close
from ferrometrics import clustering
from ferrometrics.functional import clustering as functional

LOADERS = {
    "digits": datasets.load_digits,
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
}


@pytest.fixture(scope="module", params=sorted(LOADERS))
def clustered(request):
    bunch = LOADERS[request.param]()
    data = bunch.data.astype(np.float64)
    target = bunch.target.astype(np.int64)
    n_clusters = len(np.unique(target))
    preds = KMeans(n_clusters=n_clusters, random_state=0, n_init=10).fit_predict(data)
    return data, preds.astype(np.int64), target


EXTRINSIC = [
    ("mutual_info_score", clustering.MutualInfoScore, {}, sk.mutual_info_score),
    (
        "normalized_mutual_info_score",
        clustering.NormalizedMutualInfoScore,
        {"average_method": "geometric"},
        lambda t, p: sk.normalized_mutual_info_score(t, p, average_method="geometric"),
    ),
    (
        "adjusted_mutual_info_score",
        clustering.AdjustedMutualInfoScore,
        {},
        sk.adjusted_mutual_info_score,
    ),
    ("rand_score", clustering.RandScore, {}, sk.rand_score),
    ("adjusted_rand_score", clustering.AdjustedRandScore, {}, sk.adjusted_rand_score),
    ("fowlkes_mallows_index", clustering.FowlkesMallowsIndex, {}, sk.fowlkes_mallows_score),
    ("homogeneity_score", clustering.HomogeneityScore, {}, sk.homogeneity_score),
    ("completeness_score", clustering.CompletenessScore, {}, sk.completeness_score),
    ("v_measure_score", clustering.VMeasureScore, {"beta": 2.0},
     lambda t, p: sk.v_measure_score(t, p, beta=2.0)),
]

INTRINSIC = [
    ("calinski_harabasz_score", clustering.CalinskiHarabaszScore, sk.calinski_harabasz_score),
    ("davies_bouldin_score", clustering.DaviesBouldinScore, sk.davies_bouldin_score),
    ("silhouette_score", clustering.SilhouetteScore, sk.silhouette_score),
]


@pytest.mark.parametrize(("name", "cls", "kwargs", "reference"), EXTRINSIC,
                         ids=[case[0] for case in EXTRINSIC])
def test_extrinsic_on_real_data(clustered, name, cls, kwargs, reference):
    _, preds, target = clustered
    expected = float(reference(target, preds))
    assert_close(getattr(functional, name)(preds, target, **kwargs), expected)

    metric = cls(**kwargs)
    for chunk in np.array_split(np.arange(len(preds)), 7):
        metric.update(preds[chunk], target[chunk])
    assert_close(metric.compute(), expected)


@pytest.mark.parametrize(("name", "cls", "reference"), INTRINSIC,
                         ids=[case[0] for case in INTRINSIC])
def test_intrinsic_on_real_data(clustered, name, cls, reference):
    data, preds, _ = clustered
    expected = float(reference(data, preds))
    assert_close(getattr(functional, name)(data, preds), expected)

    metric = cls()
    for chunk in np.array_split(np.arange(len(preds)), 7):
        metric.update(data[chunk], preds[chunk])
    assert_close(metric.compute(), expected)


def test_contingency_matrices_on_real_data(clustered):
    _, preds, target = clustered
    np.testing.assert_array_equal(
        functional.contingency_matrix(target, preds), sk.cluster.contingency_matrix(target, preds)
    )
    np.testing.assert_array_equal(
        functional.pair_confusion_matrix(target, preds),
        sk.cluster.pair_confusion_matrix(target, preds),
    )
