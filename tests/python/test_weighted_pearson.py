"""WeightedPearsonCorrCoef and weighted_pearson_corrcoef against numpy's weighted covariance,
with batch splits, merges, serialization, collections and every input error."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from ferrometrics import MetricCollection, regression
from ferrometrics.functional import regression as functional

from conftest import FakeTensor


def numpy_weighted_pearson(preds, target, weights):
    """Correlation of ``numpy.cov(preds, target, aweights=weights)`` per output column."""
    preds = np.asarray(preds, dtype=float)
    target = np.asarray(target, dtype=float)
    if preds.ndim == 1:
        cov = np.cov(preds, target, aweights=weights)
        return cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])
    return np.array(
        [numpy_weighted_pearson(preds[:, j], target[:, j], weights) for j in range(preds.shape[1])]
    )


def data(n=500, outputs=None, seed=3):
    rng = np.random.default_rng(seed)
    shape = (n,) if outputs is None else (n, outputs)
    target = rng.normal(2.0, 3.0, shape)
    preds = target + rng.normal(0.0, 2.0, shape)
    weights = rng.uniform(0.0, 4.0, n)
    return preds, target, weights


def test_functional_matches_numpy():
    preds, target, weights = data()
    value = functional.weighted_pearson_corrcoef(preds, target, weights)
    assert isinstance(value, float)
    np.testing.assert_allclose(value, numpy_weighted_pearson(preds, target, weights), rtol=1e-12)


def test_functional_multi_output_matches_numpy():
    preds, target, weights = data(outputs=3)
    value = functional.weighted_pearson_corrcoef(preds, target, weights)
    assert value.shape == (3,)
    np.testing.assert_allclose(value, numpy_weighted_pearson(preds, target, weights), rtol=1e-12)


def test_class_batches_match_one_pass():
    preds, target, weights = data(outputs=2)
    metric = regression.WeightedPearsonCorrCoef(num_outputs=2)
    for part in np.array_split(np.arange(len(weights)), 7):
        metric.update(preds[part], target[part], weights[part])
    expected = numpy_weighted_pearson(preds, target, weights)
    np.testing.assert_allclose(metric.compute(), expected, rtol=1e-12)
    assert metric.update_count == 7


def test_class_forward_returns_batch_value():
    preds, target, weights = data()
    metric = regression.WeightedPearsonCorrCoef()
    first = metric(preds[:100], target[:100], weights[:100])
    expected_first = numpy_weighted_pearson(preds[:100], target[:100], weights[:100])
    np.testing.assert_allclose(first, expected_first, rtol=1e-12)
    metric.forward(preds[100:], target[100:], weights[100:])
    expected = numpy_weighted_pearson(preds, target, weights)
    np.testing.assert_allclose(metric.compute(), expected, rtol=1e-12)


def test_class_facts():
    assert regression.WeightedPearsonCorrCoef.higher_is_better is None
    assert regression.WeightedPearsonCorrCoef.is_differentiable is True
    assert regression.WeightedPearsonCorrCoef.plot_lower_bound == -1.0
    assert regression.WeightedPearsonCorrCoef.plot_upper_bound == 1.0


def test_merge_pickle_and_deepcopy():
    preds, target, weights = data()
    left = regression.WeightedPearsonCorrCoef()
    right = regression.WeightedPearsonCorrCoef()
    left.update(preds[:200], target[:200], weights[:200])
    right.update(preds[200:], target[200:], weights[200:])

    restored = pickle.loads(pickle.dumps(right))
    copied = copy.deepcopy(left)
    copied.merge_state(restored)
    expected = numpy_weighted_pearson(preds, target, weights)
    np.testing.assert_allclose(copied.compute(), expected, rtol=1e-12)

    from_dict = regression.WeightedPearsonCorrCoef()
    from_dict.load_state_dict(left.state_dict())
    from_dict.merge_state(right.state_dict())
    np.testing.assert_allclose(from_dict.compute(), expected, rtol=1e-12)


def test_merge_other_num_outputs_rejected():
    one = regression.WeightedPearsonCorrCoef()
    two = regression.WeightedPearsonCorrCoef(num_outputs=2)
    with pytest.raises(ValueError, match="`num_outputs`: 1 and 2"):
        one.merge_state(two)


def test_tensor_like_inputs():
    preds, target, weights = data(n=50)
    value = functional.weighted_pearson_corrcoef(
        FakeTensor(preds), FakeTensor(target), FakeTensor(weights)
    )
    np.testing.assert_allclose(value, numpy_weighted_pearson(preds, target, weights), rtol=1e-12)


def test_zero_weights_is_nan():
    preds, target, _ = data(n=10)
    value = functional.weighted_pearson_corrcoef(preds, target, np.zeros(10))
    assert np.isnan(value)


@pytest.mark.parametrize(
    "weights, match",
    [
        (np.array([1.0, -1.0, 1.0]), "weight -1 at index 1 is negative"),
        (np.array([1.0, np.nan, 1.0]), "weights"),
        (np.array([1.0, 1.0]), "weights"),
        (np.ones((3, 1)), "not \\(N,\\)"),
    ],
)
def test_invalid_weights_rejected(weights, match):
    preds = np.array([1.0, 2.0, 4.0])
    target = np.array([1.0, 3.0, 2.0])
    with pytest.raises(ValueError, match=match):
        functional.weighted_pearson_corrcoef(preds, target, weights)

    metric = regression.WeightedPearsonCorrCoef()
    with pytest.raises(ValueError, match="weights"):
        metric.update(preds, target, weights)
    with pytest.raises(ValueError, match="at least 2 samples"):
        metric.compute()


def test_string_weights_rejected():
    with pytest.raises(TypeError, match="weights"):
        functional.weighted_pearson_corrcoef([1.0, 2.0], [1.0, 3.0], ["a", "b"])


def test_missing_weights_rejected():
    metric = regression.WeightedPearsonCorrCoef()
    with pytest.raises(TypeError):
        metric.update(np.ones(3), np.ones(3))


def test_collection_passes_weights():
    preds, target, weights = data()
    collection = MetricCollection(
        {"weighted": regression.WeightedPearsonCorrCoef()}, compute_groups=False
    )
    collection.update(preds[:100], target[:100], weights=weights[:100])
    collection.update(preds[100:], target[100:], weights[100:])
    expected = numpy_weighted_pearson(preds, target, weights)
    np.testing.assert_allclose(collection.compute()["weighted"], expected, rtol=1e-12)
