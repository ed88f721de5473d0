"""Tests of BootStrapper's native count-weighted path over regression metrics with per-sample
terms, against numpy resamples drawn with the same indices."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import ferrometrics.wrappers.bootstrapping as bootstrapping
from ferrometrics._native import bootstrap_sample_indices
from ferrometrics.aggregation import MeanMetric, SumMetric
from ferrometrics.regression import MeanAbsoluteError, MeanSquaredError, R2Score
from ferrometrics.wrappers import BootStrapper


def _batches(n: int, count: int, columns: int = 0, dtype=np.float64):
    generator = np.random.default_rng(n + count + columns)
    shape = (n, columns) if columns else (n,)
    return [
        (generator.random(shape).astype(dtype), generator.random(shape).astype(dtype))
        for _ in range(count)
    ]


def _numpy_replicates(batches, seed, num_bootstraps, error):
    """Return each replicate's mean error over the samples that the Rust draws pick, gathered
    with numpy, and None for a replicate that drew nothing."""
    terms = [[] for _ in range(num_bootstraps)]
    for batch, (preds, target) in enumerate(batches):
        draws = bootstrap_sample_indices(seed, batch, len(preds), num_bootstraps, "poisson")
        for replicate, indices in enumerate(draws):
            terms[replicate].append(error(preds[indices].astype(np.float64) - target[indices]))
    values = []
    for parts in terms:
        joined = np.concatenate(parts, axis=0)
        values.append(joined.mean(axis=0) if len(joined) else None)
    return values


def _bootstrap(base, batches, num_bootstraps, seed=3):
    metric = BootStrapper(base, num_bootstraps=num_bootstraps, raw=True, seed=seed)
    for preds, target in batches:
        metric.update(preds, target)
    return metric


@pytest.mark.parametrize(
    "base, error",
    [
        (lambda: MeanSquaredError(), np.square),
        (lambda: MeanAbsoluteError(), np.abs),
    ],
)
def test_counts_path_matches_numpy_resample(base, error):
    batches = _batches(5_000, 2)
    metric = _bootstrap(base(), batches, 16)

    expected = [value for value in _numpy_replicates(batches, 3, 16, error) if value is not None]
    np.testing.assert_allclose(metric.compute()["raw"], expected, rtol=1e-12)


def test_counts_path_several_outputs():
    batches = _batches(3_000, 2, columns=3)
    metric = _bootstrap(MeanSquaredError(num_outputs=3), batches, 8)

    expected = _numpy_replicates(batches, 3, 8, np.square)
    np.testing.assert_allclose(metric.compute()["raw"], np.stack(expected), rtol=1e-12)


def test_counts_path_float32_inputs():
    batches = _batches(4_000, 1, dtype=np.float32)
    metric = _bootstrap(MeanSquaredError(squared=False), batches, 8)

    expected = np.sqrt(_numpy_replicates(batches, 3, 8, np.square))
    np.testing.assert_allclose(metric.compute()["raw"], expected, rtol=1e-12)


def test_counts_path_gathers_nothing_in_python(monkeypatch):
    def fail(*args):
        raise AssertionError("the native path must not gather in Python")

    monkeypatch.setattr(bootstrapping, "_take", fail)
    monkeypatch.setattr(bootstrapping, "bootstrap_sample_indices", fail)
    metric = _bootstrap(MeanSquaredError(), _batches(1_000, 2), 50)

    assert len(metric.compute()["raw"]) == 50
    assert all(replicate.update_count == 2 for replicate in metric.metrics)


def test_counts_path_metric_without_terms_gathers():
    batches = _batches(500, 1)
    metric = _bootstrap(R2Score(), batches, 4)

    assert len(metric.compute()["raw"]) == 4


def test_counts_path_same_seed_same_result():
    batches = _batches(2_000, 2)
    first = _bootstrap(MeanSquaredError(), batches, 20, seed=5).compute()["raw"]
    again = _bootstrap(MeanSquaredError(), batches, 20, seed=5).compute()["raw"]
    other = _bootstrap(MeanSquaredError(), batches, 20, seed=6).compute()["raw"]

    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("samples", [1, 2, 3])
def test_counts_path_tiny_inputs(samples):
    batches = _batches(samples, 3)
    metric = _bootstrap(MeanSquaredError(), batches, 40)

    expected = [value for value in _numpy_replicates(batches, 3, 40, np.square) if value is not None]
    raw = metric.compute()["raw"]
    assert len(raw) == len(expected)
    np.testing.assert_allclose(raw, expected, rtol=1e-12)


def test_counts_path_empty_batch_raises_on_compute():
    metric = BootStrapper(MeanSquaredError(), num_bootstraps=4, seed=1)
    metric.update(np.zeros(0), np.zeros(0))

    with pytest.raises(ValueError, match="no replicate has drawn a sample"):
        metric.compute()


def test_counts_path_rejected_batch_changes_nothing():
    metric = _bootstrap(MeanSquaredError(), _batches(100, 1), 5)
    before = metric.compute()["raw"]
    preds, target = _batches(100, 1)[0]
    preds[7] = np.nan

    with pytest.raises(ValueError, match="preds"):
        metric.update(preds, target)
    with pytest.raises(ValueError, match="target"):
        metric.update(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="no sample axis"):
        metric.update(np.float64(1.0), np.float64(2.0))
    np.testing.assert_array_equal(metric.compute()["raw"], before)


_THREADS_SCRIPT = """
import numpy as np
from ferrometrics.regression import MeanSquaredError
from ferrometrics.wrappers import BootStrapper
generator = np.random.default_rng(0)
metric = BootStrapper(MeanSquaredError(), num_bootstraps=37, raw=True, seed=9)
metric.update(generator.random(20_000), generator.random(20_000))
print(metric.compute()["raw"].tobytes().hex())
"""


def test_counts_path_thread_count_irrelevant():
    outputs = []
    for threads in ("1", "2", "3"):
        environment = {**os.environ, "RAYON_NUM_THREADS": threads}
        completed = subprocess.run(
            [sys.executable, "-c", _THREADS_SCRIPT],
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.append(completed.stdout)

    assert outputs[0] == outputs[1]
    assert outputs[0] == outputs[2]


def _numpy_aggregation_replicates(batches, seed, num_bootstraps):
    """Return each replicate's weighted mean and unweighted sum over the rows that the Rust
    draws pick, gathered with numpy, or None for a replicate that drew nothing."""
    weighted_sums = np.zeros(num_bootstraps)
    weight_sums = np.zeros(num_bootstraps)
    sums = np.zeros(num_bootstraps)
    drawn = np.zeros(num_bootstraps, dtype=np.int64)
    for batch, (value, weight) in enumerate(batches):
        draws = bootstrap_sample_indices(seed, batch, len(value), num_bootstraps, "poisson")
        for replicate, indices in enumerate(draws):
            rows = value[indices]
            weights = np.broadcast_to(weight[indices] if weight is not None else 1.0, rows.shape)
            weighted_sums[replicate] += (rows * weights).sum()
            weight_sums[replicate] += weights.sum()
            sums[replicate] += rows.sum()
            drawn[replicate] += len(indices)
    return [
        (weighted_sum / weight_sum, total) if count else None
        for weighted_sum, weight_sum, total, count in zip(weighted_sums, weight_sums, sums, drawn)
    ]


def test_counts_path_mean_and_sum_metrics(monkeypatch):
    def fail(*args):
        raise AssertionError("the native path must not gather in Python")

    generator = np.random.default_rng(4)
    batches = [
        (generator.random(3_000), generator.random(3_000)),
        (generator.random(2_000), None),
    ]
    expected = [entry for entry in _numpy_aggregation_replicates(batches, 3, 12) if entry]

    monkeypatch.setattr(bootstrapping, "_take", fail)
    mean = _bootstrap(MeanMetric(), batches, 12)
    total = BootStrapper(SumMetric(), num_bootstraps=12, raw=True, seed=3)
    for value, _ in batches:
        total.update(value)

    expected_means = [mean_value for mean_value, _ in expected]
    expected_sums = [sum_value for _, sum_value in expected]
    np.testing.assert_allclose(mean.compute()["raw"], expected_means, rtol=1e-12)
    np.testing.assert_allclose(total.compute()["raw"], expected_sums, rtol=1e-12)


def test_counts_path_mean_metric_rejects_scalar():
    metric = BootStrapper(MeanMetric(), num_bootstraps=3, seed=1)

    with pytest.raises(ValueError, match="no sample axis"):
        metric.update(2.0)
    with pytest.raises(ValueError, match="weight"):
        metric.update(np.ones(4), np.ones(3))


@pytest.mark.parametrize("strategy", ["poisson", "multinomial"])
def test_bootstrap_warns_when_base_drops_nan(strategy):
    bootstrap = BootStrapper(
        MeanMetric(nan_strategy="warn"), num_bootstraps=3, seed=1, sampling_strategy=strategy
    )

    with pytest.warns(UserWarning, match="MeanMetric dropped 2 NaN values"):
        bootstrap.update(np.array([np.nan, 1.0, np.nan, 2.0]))


def test_bootstrap_silent_when_base_ignores_nan():
    bootstrap = BootStrapper(MeanMetric(nan_strategy="ignore"), num_bootstraps=3, seed=1)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bootstrap.update(np.array([np.nan, 1.0, 2.0]))

    assert bootstrap.update_count == 1
