"""Intrinsic clustering metrics against scikit-learn (and a NumPy Dunn index)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from sklearn import metrics as sk

from conftest import assert_close
from ferrometrics import clustering
from ferrometrics.functional import clustering as functional


def blobs(samples, clusters, features, seed):
    """Gaussian blobs around random centers, with every cluster present."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=4.0, size=(clusters, features))
    labels = np.concatenate([np.arange(clusters), rng.integers(0, clusters, samples - clusters)])
    rng.shuffle(labels)
    data = centers[labels] + rng.normal(size=(samples, features))
    return data, labels.astype(np.int64)


def numpy_dunn_index(data, labels, p):
    """Dunn index with TorchMetrics' definition: centroid distances between clusters over the
    largest distance from a sample to its own centroid."""
    clusters = np.unique(labels)
    centroids = np.stack([data[labels == c].mean(axis=0) for c in clusters])
    between = min(
        np.linalg.norm(centroids[i] - centroids[j], ord=p)
        for i, j in itertools.combinations(range(len(clusters)), 2)
    )
    within = max(
        np.linalg.norm(data[labels == c] - centroids[k], ord=p, axis=1).max()
        for k, c in enumerate(clusters)
    )
    return between / within


def numpy_pairwise_dunn_index(data, labels, p):
    """Dunn's definition: the closest pair of rows in different clusters over the largest
    cluster diameter."""
    differences = data[:, None, :] - data[None, :, :]
    distances = np.linalg.norm(differences, ord=p, axis=2)
    same = labels[:, None] == labels[None, :]
    return distances[~same].min() / distances[same].max()


SHAPES = [
    (10, 2, 1, 0),
    (50, 3, 2, 1),
    (200, 7, 5, 2),
    (1000, 4, 10, 3),
    (300, 20, 3, 4),
]
SHAPE_IDS = [f"n{n}-k{k}-d{d}" for n, k, d, _ in SHAPES]

REFERENCES = [
    ("calinski_harabasz_score", clustering.CalinskiHarabaszScore, sk.calinski_harabasz_score),
    ("davies_bouldin_score", clustering.DaviesBouldinScore, sk.davies_bouldin_score),
    ("silhouette_score", clustering.SilhouetteScore, sk.silhouette_score),
]


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize(("name", "cls", "reference"), REFERENCES, ids=[r[0] for r in REFERENCES])
def test_functional_matches_sklearn(name, cls, reference, shape):
    data, labels = blobs(*shape)
    assert_close(getattr(functional, name)(data, labels), float(reference(data, labels)))


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize(("name", "cls", "reference"), REFERENCES, ids=[r[0] for r in REFERENCES])
def test_batched_metric_matches_sklearn(name, cls, reference, shape):
    data, labels = blobs(*shape)
    metric = cls()
    for chunk in np.array_split(np.arange(len(labels)), 3):
        metric.update(data[chunk], labels[chunk])
    assert_close(metric.compute(), float(reference(data, labels)))


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize(("name", "cls", "reference"), REFERENCES, ids=[r[0] for r in REFERENCES])
def test_float32_data_close_to_float64(name, cls, reference, shape):
    data, labels = blobs(*shape)
    single = data.astype(np.float32)
    expected = float(reference(single.astype(np.float64), labels))
    assert_close(getattr(functional, name)(single, labels), expected, rel=1e-4)


@pytest.mark.parametrize("p", [1, 2, 3, float("inf")])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_dunn_index_matches_numpy(shape, p):
    data, labels = blobs(*shape)
    expected = numpy_dunn_index(data, labels, p)
    assert_close(functional.dunn_index(data, labels, p=p), float(expected))
    metric = clustering.DunnIndex(p=p)
    for chunk in np.array_split(np.arange(len(labels)), 3):
        metric.update(data[chunk], labels[chunk])
    assert_close(metric.compute(), float(expected))


def test_silhouette_sample_size_is_seeded():
    data, labels = blobs(500, 4, 3, 5)
    first = functional.silhouette_score(data, labels, sample_size=100, seed=7)
    second = functional.silhouette_score(data, labels, sample_size=100, seed=7)
    assert first == second
    assert -1.0 <= first <= 1.0


def test_silhouette_sample_size_above_samples_uses_all():
    data, labels = blobs(60, 3, 2, 6)
    expected = float(sk.silhouette_score(data, labels))
    assert_close(functional.silhouette_score(data, labels, sample_size=60), expected)


def test_intrinsic_labels_with_huge_values():
    data, labels = blobs(120, 3, 2, 7)
    shifted = labels * (2**45) - 2**62
    for name, _, reference in REFERENCES:
        assert_close(getattr(functional, name)(data, shifted), float(reference(data, labels)))


@pytest.mark.parametrize("p", [1, 2, float("inf")])
@pytest.mark.parametrize("shape", SHAPES[:4], ids=SHAPE_IDS[:4])
def test_pairwise_dunn_index_matches_numpy(shape, p):
    data, labels = blobs(*shape)
    expected = numpy_pairwise_dunn_index(data, labels, p)
    actual = functional.dunn_index(data, labels, p=p, definition="pairwise")
    assert_close(actual, float(expected))


@pytest.mark.parametrize(
    "cls",
    [
        clustering.CalinskiHarabaszScore,
        clustering.DaviesBouldinScore,
        clustering.DunnIndex,
        clustering.SilhouetteScore,
    ],
)
def test_float64_overflow_after_float32_batch(cls):
    metric = cls()
    first = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]], dtype=np.float32)
    labels = np.array([0, 0, 1, 1])
    metric.update(first, labels)

    wide = np.array([[1e300, 0.0], [0.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="does not fit the float32 precision.*float64"):
            metric.update(wide, np.array([0, 1]))
    assert metric.update_count == 1


@pytest.mark.parametrize("scale", [2.0**1000, 1e200, 1e-200, 2.0**-1000])
def test_silhouette_at_extreme_magnitudes(scale):
    data, labels = blobs(40, 3, 2, 5)
    expected = sk.silhouette_score(data, labels)
    assert_close(functional.silhouette_score(data * scale, labels), expected, rel=1e-12)
    # Values of +-1e308: their difference overflows, yet the clusters are well defined.
    huge = np.array([[1e308], [-1e308], [1e308], [-1e308]])
    assert functional.silhouette_score(huge, np.array([0, 1, 0, 1])) == 1.0
    assert_close(functional.silhouette_score(huge, np.array([0, 1, 1, 0])), -0.5, rel=1e-15)


@pytest.mark.parametrize("exponent", [-990, -600, 600, 1000])
def test_calinski_harabasz_extreme_scale_matches_sklearn(exponent):
    # Scaling by a power of two is exact, and the score does not depend on the scale, so the
    # value on scaled data equals scikit-learn's on the unscaled data, where scikit-learn's own
    # squares would overflow or underflow.
    rng = np.random.default_rng(11)
    data = rng.normal(size=(60, 3)) + np.repeat(np.eye(3) * 4, 20, axis=0)
    labels = np.repeat([0, 1, 2], 20)
    expected = sk.calinski_harabasz_score(data, labels)
    scaled = np.ldexp(data, exponent)
    assert_close(functional.calinski_harabasz_score(scaled, labels), expected, rel=1e-9)

    metric = clustering.CalinskiHarabaszScore()
    metric.update(scaled[:25], labels[:25])
    metric.update(scaled[25:], labels[25:])
    assert_close(metric.compute(), expected, rel=1e-9)
