"""Aggregation metrics against NumPy, with every NaN strategy."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

from conftest import FakeTensor, assert_close
from ferrometrics import aggregation
from ferrometrics.wrappers import BootStrapper

VALUES = np.array([[1.5, -2.0, 3.25], [4.0, 0.5, -6.0]])


@pytest.mark.parametrize(
    ("cls", "reference"),
    [
        (aggregation.SumMetric, np.sum),
        (aggregation.MeanMetric, np.mean),
        (aggregation.MaxMetric, np.max),
        (aggregation.MinMetric, np.min),
    ],
)
def test_scalar_aggregates_match_numpy(cls, reference):
    metric = cls()
    metric.update(VALUES[0])
    metric.update(VALUES[1].tolist())
    metric.update(7.5)
    expected = float(reference(np.append(VALUES.ravel(), 7.5)))
    assert_close(metric.compute(), expected)


def test_cat_metric_concatenates_flattened_values():
    metric = aggregation.CatMetric()
    metric.update(VALUES)
    metric.update(FakeTensor([9.0]))
    result = metric.compute()
    assert isinstance(result, np.ndarray)
    np.testing.assert_array_equal(result, np.append(VALUES.ravel(), 9.0))


def test_mean_metric_weights():
    metric = aggregation.MeanMetric()
    metric.update(np.array([1.0, 2.0, 3.0]), weight=np.array([3.0, 1.0, 0.0]))
    metric.update(10.0, weight=2.0)
    expected = (1.0 * 3 + 2.0 * 1 + 10.0 * 2) / (3 + 1 + 0 + 2)
    assert_close(metric.compute(), expected)


def test_mean_metric_scalar_weight_broadcasts():
    metric = aggregation.MeanMetric()
    metric.update(VALUES, weight=0.5)
    assert_close(metric.compute(), float(VALUES.mean()))


def test_forward_returns_batch_aggregate():
    metric = aggregation.SumMetric()
    assert_close(metric(VALUES[0]), float(VALUES[0].sum()))
    assert_close(metric(VALUES[1]), float(VALUES[1].sum()))
    assert_close(metric.compute(), float(VALUES.sum()))


@pytest.mark.parametrize("cls", [aggregation.RunningMean, aggregation.RunningSum])
def test_running_metrics_keep_last_window(cls):
    metric = cls(window=2)
    for batch in ([1.0, 2.0], [3.0], [10.0, 20.0]):
        metric.update(np.array(batch))
    window = np.array([3.0, 10.0, 20.0])
    expected = window.mean() if cls is aggregation.RunningMean else window.sum()
    assert_close(metric.compute(), float(expected))


def test_default_nan_strategy_warns_and_drops():
    metric = aggregation.SumMetric()
    with pytest.warns(UserWarning, match="2 NaN"):
        metric.update(np.array([1.0, np.nan, 2.0, np.nan]))
    assert_close(metric.compute(), 3.0)


@pytest.mark.parametrize(
    "call",
    [
        lambda metric, batch: metric.update(batch),
        lambda metric, batch: metric(batch),
        lambda metric, batch: metric.forward(batch),
        lambda metric, batch: BootStrapper(metric, num_bootstraps=3).update(batch),
        lambda metric, batch: BootStrapper(metric, num_bootstraps=3)(batch),
    ],
    ids=["update", "call", "forward", "bootstrap-update", "bootstrap-call"],
)
def test_nan_warning_points_at_caller(call):
    with pytest.warns(UserWarning, match="1 NaN") as record:
        call(aggregation.MeanMetric(), np.array([1.0, np.nan]))
    assert record[0].filename == __file__


def test_ignore_strategy_is_silent():
    metric = aggregation.MeanMetric(nan_strategy="ignore")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metric.update(np.array([1.0, np.nan, 3.0]))
    assert_close(metric.compute(), 2.0)


def test_error_strategy_raises_and_keeps_state():
    metric = aggregation.MaxMetric(nan_strategy="error")
    metric.update(np.array([1.0, 4.0]))
    with pytest.raises(ValueError, match="value"):
        metric.update(np.array([5.0, np.nan]))
    assert_close(metric.compute(), 4.0)


def test_replacement_strategy():
    metric = aggregation.SumMetric(nan_strategy=10.0)
    metric.update(np.array([1.0, np.nan]))
    assert_close(metric.compute(), 11.0)


def test_invalid_nan_strategy_raises():
    with pytest.raises(ValueError, match="nan_strategy"):
        aggregation.SumMetric(nan_strategy="drop")
    with pytest.raises(TypeError, match="nan_strategy"):
        aggregation.SumMetric(nan_strategy=[1.0])


def test_invalid_window_raises():
    with pytest.raises(ValueError, match="window"):
        aggregation.RunningMean(window=0)


def test_non_numeric_value_raises_type_error():
    with pytest.raises(TypeError, match="`value`"):
        aggregation.SumMetric().update(np.array(["a"]))


def test_aggregation_pickle_and_merge():
    first = aggregation.MeanMetric()
    second = aggregation.MeanMetric()
    first.update(VALUES[0])
    second.update(VALUES[1])
    restored = pickle.loads(pickle.dumps(second))
    first.merge_state(restored)
    assert_close(first.compute(), float(VALUES.mean()))


def test_aggregation_defaults():
    assert aggregation.SumMetric().nan_strategy == "warn"
    assert aggregation.RunningMean().window == 5
    assert repr(aggregation.RunningSum(window=3)) == "RunningSum(window=3, nan_strategy='warn')"


@pytest.mark.parametrize(
    "cls",
    [
        aggregation.SumMetric,
        aggregation.MeanMetric,
        aggregation.MaxMetric,
        aggregation.MinMetric,
        aggregation.CatMetric,
        aggregation.RunningMean,
        aggregation.RunningSum,
    ],
)
def test_nan_strategy_none_raises(cls):
    with pytest.raises(TypeError, match=r"`nan_strategy`.*got None"):
        cls(nan_strategy=None)


@pytest.mark.parametrize("cls", [aggregation.RunningMean, aggregation.RunningSum])
def test_window_none_raises(cls):
    with pytest.raises(TypeError, match=r"`window`.*positive integer, got None"):
        cls(window=None)
