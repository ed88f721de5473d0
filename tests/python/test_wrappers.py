"""Tests of ferrometrics.wrappers over the aggregation, clustering and detection metrics."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, rand_score

from conftest import FakeTensor, assert_close
from ferrometrics import MetricCollection
from ferrometrics.aggregation import CatMetric, MeanMetric, RunningMean, SumMetric
from ferrometrics.clustering import AdjustedRandScore, RandScore
from ferrometrics.detection import MeanAveragePrecision
from ferrometrics.regression import MeanSquaredError
from ferrometrics.wrappers import (
    BootStrapper,
    ClasswiseWrapper,
    MetricTracker,
    MinMaxMetric,
    MultioutputWrapper,
    MultitaskWrapper,
    Running,
)


def _data(seed: int, n: int) -> np.ndarray:
    return np.random.default_rng(seed).random(n)


# --- BootStrapper -----------------------------------------------------------------------------


def test_bootstrap_same_seed_same_result():
    data = _data(0, 400)
    first = BootStrapper(MeanMetric(), num_bootstraps=15, raw=True, seed=3)
    second = BootStrapper(MeanMetric(), num_bootstraps=15, raw=True, seed=3)
    first.update(data)
    second.update(data)
    np.testing.assert_array_equal(first.compute()["raw"], second.compute()["raw"])


def test_bootstrap_other_seed_other_result():
    data = _data(0, 400)
    first = BootStrapper(MeanMetric(), num_bootstraps=15, raw=True, seed=3)
    second = BootStrapper(MeanMetric(), num_bootstraps=15, raw=True, seed=4)
    first.update(data)
    second.update(data)
    assert not np.array_equal(first.compute()["raw"], second.compute()["raw"])


def test_bootstrap_default_seed_recorded():
    metric = BootStrapper(MeanMetric())
    assert isinstance(metric.seed, int)
    again = BootStrapper(MeanMetric(), seed=metric.seed)
    data = _data(1, 50)
    metric.update(data)
    again.update(data)
    assert metric.compute() == again.compute()


def test_bootstrap_mean_converges_to_full_data():
    n, bootstraps = 20_000, 300
    data = _data(2, n) ** 2 * 10
    metric = BootStrapper(MeanMetric(), num_bootstraps=bootstraps, seed=5)
    for chunk in np.array_split(data, 7):
        metric.update(chunk)
    output = metric.compute()

    standard_error = data.std(ddof=1) / math.sqrt(n)
    assert abs(output["mean"] - data.mean()) < 4 * standard_error / math.sqrt(bootstraps)
    assert abs(output["std"] / standard_error - 1) < 0.15


def test_bootstrap_std_has_one_delta_degree():
    metric = BootStrapper(MeanMetric(), num_bootstraps=12, raw=True, seed=1)
    metric.update(_data(3, 60))
    output = metric.compute()
    assert_close(output["std"], float(np.std(output["raw"], ddof=1)), rel=1e-12)
    assert_close(output["mean"], float(np.mean(output["raw"])), rel=1e-12)


@pytest.mark.parametrize("quantile", [0.5, [0.025, 0.975], (0.0, 0.3, 1.0)])
def test_bootstrap_quantiles_match_numpy(quantile):
    metric = BootStrapper(MeanMetric(), num_bootstraps=17, quantile=quantile, raw=True, seed=2)
    metric.update(_data(4, 80))
    output = metric.compute()
    expected = np.quantile(output["raw"], quantile, axis=0)
    np.testing.assert_allclose(output["quantile"], expected, rtol=1e-15)


@pytest.mark.parametrize("quantile", ["0.5", ["0.1", "0.9"], True, [0.5, None], b"0.5", [], 1.5])
def test_bootstrap_quantile_must_be_real_levels(quantile):
    with pytest.raises(ValueError, match="`quantile`"):
        BootStrapper(MeanMetric(), quantile=quantile)


def test_bootstrap_array_output_per_element():
    metric = BootStrapper(CatMetric(), num_bootstraps=5, quantile=[0.5], raw=True, seed=1,
                          sampling_strategy="multinomial")
    metric.update(np.array([1.0, 2.0, 3.0]))
    output = metric.compute()
    assert output["raw"].shape == (5, 3)
    np.testing.assert_allclose(output["mean"], output["raw"].mean(axis=0))
    assert output["quantile"].shape == (1, 3)


@pytest.mark.parametrize("samples", [1, 2, 3])
def test_bootstrap_tiny_inputs_unbiased(samples):
    metric = BootStrapper(MeanMetric(), num_bootstraps=40, seed=7)
    metric.update(np.full(samples, 5.0))
    output = metric.compute()
    assert output["mean"] == 5.0
    assert output["std"] == 0.0


def test_bootstrap_empty_replicates_skipped():
    metric = BootStrapper(SumMetric(), num_bootstraps=50, raw=True, seed=1)
    metric.update([2.0])
    raw = metric.compute()["raw"]
    assert 0 < len(raw) < 50
    assert (raw >= 2.0).all()
    assert (raw % 2.0 == 0).all()


def test_bootstrap_no_samples_raises():
    metric = BootStrapper(MeanMetric(), num_bootstraps=3, seed=0)
    with pytest.raises(ValueError, match="no replicate has drawn a sample"):
        metric.compute()


def test_bootstrap_one_replicate_std_nan():
    metric = BootStrapper(MeanMetric(), num_bootstraps=1, seed=0)
    metric.update(_data(5, 100))
    assert math.isnan(metric.compute()["std"])


def test_bootstrap_multinomial_keeps_batch_size():
    metric = BootStrapper(SumMetric(), num_bootstraps=6, raw=True, seed=0,
                          sampling_strategy="multinomial")
    metric.update(np.ones(7))
    metric.update(np.ones(3))
    np.testing.assert_array_equal(metric.compute()["raw"], np.full(6, 10.0))


def test_bootstrap_shards_merge_to_one_pass():
    batches = [_data(10 + i, 50) for i in range(4)]
    one_pass = BootStrapper(MeanMetric(), num_bootstraps=8, raw=True, seed=9)
    for batch in batches:
        one_pass.update(batch)

    first = BootStrapper(MeanMetric(), num_bootstraps=8, raw=True, seed=9)
    second = BootStrapper(MeanMetric(), num_bootstraps=8, raw=True, seed=9)
    second.set_first_batch(2)
    for batch in batches[:2]:
        first.update(batch)
    for batch in batches[2:]:
        second.update(batch)
    first.merge_state(second)

    np.testing.assert_allclose(first.compute()["raw"], one_pass.compute()["raw"], rtol=1e-12)


def test_bootstrap_merge_other_seed_accepted():
    first = BootStrapper(SumMetric(), num_bootstraps=4, raw=True, seed=1)
    second = BootStrapper(SumMetric(), num_bootstraps=4, raw=True, seed=2)
    first.update(np.ones(30))
    second.update(np.ones(30))
    expected = first.compute()["raw"] + second.compute()["raw"]
    first.merge_state(second)
    np.testing.assert_array_equal(first.compute()["raw"], expected)


def test_bootstrap_merge_other_config_rejected():
    first = BootStrapper(SumMetric(), num_bootstraps=4)
    with pytest.raises(ValueError, match="different configurations"):
        first.merge_state(BootStrapper(SumMetric(), num_bootstraps=5))


def test_bootstrap_state_round_trip():
    metric = BootStrapper(MeanMetric(), num_bootstraps=6, raw=True, seed=4)
    metric.update(_data(6, 40))
    restored = BootStrapper(MeanMetric(), num_bootstraps=6, raw=True, seed=4)
    restored.load_state_dict(metric.state_dict())
    np.testing.assert_array_equal(restored.compute()["raw"], metric.compute()["raw"])

    unpickled = pickle.loads(pickle.dumps(metric))
    np.testing.assert_array_equal(unpickled.compute()["raw"], metric.compute()["raw"])
    unpickled.update(_data(7, 10))
    metric.update(_data(7, 10))
    np.testing.assert_array_equal(unpickled.compute()["raw"], metric.compute()["raw"])


def test_bootstrap_merge_state_dict():
    first = BootStrapper(SumMetric(), num_bootstraps=3, raw=True, seed=1)
    second = BootStrapper(SumMetric(), num_bootstraps=3, raw=True, seed=1)
    second.set_first_batch(1)
    first.update(np.ones(20))
    second.update(np.ones(30))
    expected = first.compute()["raw"] + second.compute()["raw"]
    first.merge_state(second.state_dict())
    np.testing.assert_array_equal(first.compute()["raw"], expected)


def test_bootstrap_state_of_other_config_rejected():
    metric = BootStrapper(MeanMetric(), num_bootstraps=6)
    other = BootStrapper(MeanMetric(), num_bootstraps=7)
    with pytest.raises(ValueError, match="configuration"):
        metric.load_state_dict(other.state_dict())
    with pytest.raises(ValueError, match="marker"):
        metric.load_state_dict({"state": b"garbage"})


def test_bootstrap_forward_keeps_history():
    first, second = _data(20, 30), _data(21, 30)
    forwarded = BootStrapper(MeanMetric(), num_bootstraps=8, raw=True, seed=3)
    updated = BootStrapper(MeanMetric(), num_bootstraps=8, raw=True, seed=3)
    batch_value = forwarded(first)
    forwarded(second)
    updated.update(first)
    alone = BootStrapper(MeanMetric(), num_bootstraps=8, raw=True, seed=3)
    alone.update(first)
    updated.update(second)

    np.testing.assert_array_equal(batch_value["raw"], alone.compute()["raw"])
    np.testing.assert_array_equal(forwarded.compute()["raw"], updated.compute()["raw"])
    assert forwarded.update_count == 2


def test_bootstrap_reset_restarts_draws():
    metric = BootStrapper(MeanMetric(), num_bootstraps=5, raw=True, seed=8)
    data = _data(22, 30)
    metric.update(data)
    before = metric.compute()["raw"]
    metric.reset()
    with pytest.raises(ValueError):
        metric.compute()
    metric.update(data)
    np.testing.assert_array_equal(metric.compute()["raw"], before)


def test_bootstrap_rejected_batch_changes_nothing():
    metric = BootStrapper(RandScore(), num_bootstraps=5, raw=True, seed=1)
    metric.update([0, 1, 1, 0], [0, 1, 0, 0])
    before = metric.compute()["raw"]
    with pytest.raises(ValueError):
        metric.update([0, 1], [0, 1, 1])
    with pytest.raises(TypeError):
        metric.update([0.5, 1.0], [0, 1])
    np.testing.assert_array_equal(metric.compute()["raw"], before)


def test_bootstrap_clustering_near_full_value():
    rng = np.random.default_rng(30)
    target = rng.integers(0, 4, 400)
    preds = np.where(rng.random(400) < 0.2, (target + 1) % 4, target)
    metric = BootStrapper(AdjustedRandScore(), num_bootstraps=100, seed=2)
    metric.update(FakeTensor(preds), FakeTensor(target))
    output = metric.compute()
    assert output["std"] > 0
    assert abs(output["mean"] - adjusted_rand_score(target, preds)) < 3 * output["std"]


def test_bootstrap_intrinsic_resamples_labels_with_rows():
    from sklearn.metrics import calinski_harabasz_score

    from ferrometrics.clustering import CalinskiHarabaszScore

    rng = np.random.default_rng(32)
    labels = rng.integers(0, 3, 600)
    data = rng.normal(size=(600, 2)) + labels[:, None] * 2.0
    metric = BootStrapper(CalinskiHarabaszScore(), num_bootstraps=40, seed=3)
    metric.update(data, labels)
    output = metric.compute()

    full = calinski_harabasz_score(data, labels)
    assert output["std"] > 0
    assert abs(output["mean"] - full) < 4 * output["std"]


def test_bootstrap_detection_resamples_images():
    rng = np.random.default_rng(31)
    preds, target = [], []
    for _ in range(6):
        boxes = rng.random((3, 2)) * 50
        boxes = np.hstack([boxes, boxes + 10 + rng.random((3, 2)) * 20])
        labels = rng.integers(0, 2, 3)
        target.append({"boxes": boxes, "labels": labels})
        jitter = boxes + rng.normal(0, 2, boxes.shape)
        preds.append({"boxes": jitter, "scores": rng.random(3), "labels": labels})
    metric = BootStrapper(MeanAveragePrecision(), num_bootstraps=4, raw=True, seed=1)
    metric.update(preds, target)

    # Each replicate drew whole images: its value is the mAP of those images alone.
    replicate = metric.metrics[0]
    assert replicate.compute()["map"] >= 0
    # A dict value has no mean or std, so compute names the keys it got.
    with pytest.raises(ValueError, match="dict with keys"):
        metric.compute()


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"num_bootstraps": 0}, "num_bootstraps"),
        ({"num_bootstraps": -3}, "num_bootstraps"),
        ({"num_bootstraps": 2.5}, "num_bootstraps"),
        ({"quantile": 1.5}, "quantile"),
        ({"quantile": -0.1}, "quantile"),
        ({"quantile": [0.5, 2.0]}, "quantile"),
        ({"quantile": []}, "quantile"),
        ({"sampling_strategy": "uniform"}, "sampling_strategy"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**64}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"mean": "yes"}, "mean"),
    ],
)
def test_bootstrap_bad_arguments_rejected(kwargs, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        BootStrapper(MeanMetric(), **kwargs)


def test_bootstrap_unexpected_kwargs_rejected():
    with pytest.raises(ValueError, match="dist_sync_on_step"):
        BootStrapper(MeanMetric(), dist_sync_on_step=True)


def test_bootstrap_non_metric_rejected():
    with pytest.raises(ValueError, match="`base_metric`"):
        BootStrapper(lambda x: x)


def test_bootstrap_native_draws():
    from ferrometrics._native import bootstrap_sample_indices

    poisson = bootstrap_sample_indices(5, 0, 100_000, 3, "poisson")
    assert len(poisson) == 3
    for indices in poisson:
        assert indices.dtype == np.int64
        assert (np.diff(indices) >= 0).all()
        assert abs(len(indices) / 100_000 - 1) < 0.02
        counts = np.bincount(indices, minlength=100_000)
        assert abs((counts == 0).mean() - math.exp(-1)) < 0.01
    multinomial = bootstrap_sample_indices(5, 0, 1_000, 2, "multinomial")
    assert all(len(indices) == 1_000 and indices.max() < 1_000 for indices in multinomial)
    again = bootstrap_sample_indices(5, 0, 100_000, 3, "poisson")
    assert all(np.array_equal(a, b) for a, b in zip(poisson, again))
    other_batch = bootstrap_sample_indices(5, 1, 100_000, 1, "poisson")
    assert not np.array_equal(poisson[0], other_batch[0])
    with pytest.raises(ValueError, match="sampling_strategy"):
        bootstrap_sample_indices(5, 0, 10, 1, "uniform")


def test_bootstrap_sum_of_ones_counts_draws():
    metric = BootStrapper(SumMetric(), num_bootstraps=4, raw=True, seed=11)
    metric.update(np.ones(1_000))
    from ferrometrics._native import bootstrap_sample_indices

    expected = [len(indices) for indices in bootstrap_sample_indices(11, 0, 1_000, 4, "poisson")]
    np.testing.assert_array_equal(metric.compute()["raw"], expected)


# --- MinMaxMetric -----------------------------------------------------------------------------


def test_minmax_tracks_computed_values():
    metric = MinMaxMetric(MeanMetric())
    metric.update([2.0])
    assert metric.compute() == {"raw": 2.0, "max": 2.0, "min": 2.0}
    metric.update([8.0, 8.0])
    assert metric.compute() == {"raw": 6.0, "max": 6.0, "min": 2.0}
    metric.update([-30.0])
    assert metric.compute() == {"raw": -3.0, "max": 6.0, "min": -3.0}


def test_minmax_forward_keeps_history():
    forwarded, updated = MinMaxMetric(SumMetric()), MinMaxMetric(SumMetric())
    assert forwarded([1.0, 2.0]) == {"raw": 3.0, "max": 3.0, "min": 3.0}
    forwarded([4.0])
    updated.update([1.0, 2.0])
    updated.update([4.0])
    assert forwarded.compute()["raw"] == updated.compute()["raw"] == 7.0


def test_minmax_reset_clears_range():
    metric = MinMaxMetric(SumMetric())
    metric.update([5.0])
    metric.compute()
    metric.reset()
    assert metric.max_val == -math.inf
    assert metric.min_val == math.inf
    assert metric.compute() == {"raw": 0.0, "max": 0.0, "min": 0.0}


def test_minmax_merge_and_pickle():
    left, right = MinMaxMetric(SumMetric()), MinMaxMetric(SumMetric())
    left.update([1.0])
    left.compute()
    right.update([10.0])
    right.compute()
    left.merge_state(right)
    assert (left.max_val, left.min_val) == (10.0, 1.0)
    restored = pickle.loads(pickle.dumps(left))
    assert restored.compute() == {"raw": 11.0, "max": 11.0, "min": 1.0}


def test_minmax_array_base_rejected():
    metric = MinMaxMetric(CatMetric())
    metric.update([1.0, 2.0])
    with pytest.raises(ValueError, match="one number"):
        metric.compute()


def test_collection_two_minmax_members_prefixed():
    collection = MetricCollection(
        {"sum": MinMaxMetric(SumMetric()), "mean": MinMaxMetric(MeanMetric())}
    )
    collection.update([1.0, 3.0])
    assert collection.compute() == {
        "mean_raw": 2.0, "mean_max": 2.0, "mean_min": 2.0,
        "sum_raw": 4.0, "sum_max": 4.0, "sum_min": 4.0,
    }


def test_collection_one_minmax_member_keeps_keys():
    collection = MetricCollection({"sum": MinMaxMetric(SumMetric()), "mean": MeanMetric()})
    collection.update([1.0, 3.0])
    assert list(collection.compute()) == ["mean", "raw", "max", "min"]


def test_collection_bootstrap_members_forward():
    collection = MetricCollection(
        {"a": BootStrapper(MeanMetric(), num_bootstraps=4, seed=1),
         "b": BootStrapper(SumMetric(), num_bootstraps=4, seed=1)}
    )
    batch = collection(_data(40, 20))
    assert list(batch) == ["a_mean", "a_std", "b_mean", "b_std"]
    collection.update(_data(41, 20))
    assert collection["a"].update_count == 2


# --- Running ----------------------------------------------------------------------------------


def test_running_matches_running_mean():
    wrapped, native = Running(MeanMetric(), window=3), RunningMean(window=3)
    for batch in ([1.0], [2.0, 4.0], [6.0], [8.0], [10.0, 12.0]):
        assert wrapped(batch) == native(batch)
        assert wrapped.compute() == native.compute()


def test_running_merge_and_state_dict():
    left, right = Running(SumMetric(), window=2), Running(SumMetric(), window=2)
    left.update([1.0])
    left.update([2.0])
    right.update([4.0])
    left.merge_state(right)
    assert left.compute() == 6.0
    restored = Running(SumMetric(), window=2)
    restored.load_state_dict(left.state_dict())
    assert restored.compute() == 6.0
    left.reset()
    assert left.compute() == 0.0


@pytest.mark.parametrize("window", [0, -1, 1.5, None])
def test_running_bad_window_rejected(window):
    with pytest.raises(ValueError, match="`window`"):
        Running(SumMetric(), window=window)


def test_running_keeps_base_facts():
    metric = Running(RandScore(), window=2)
    assert metric.higher_is_better is True
    assert metric.plot_upper_bound == RandScore.plot_upper_bound


# --- ClasswiseWrapper ------------------------------------------------------------------------


def test_classwise_default_keys():
    metric = ClasswiseWrapper(CatMetric())
    metric.update([0.5, 0.25, 1.0])
    assert metric.compute() == {"catmetric_0": 0.5, "catmetric_1": 0.25, "catmetric_2": 1.0}


@pytest.mark.parametrize(
    ("prefix", "postfix", "key"),
    [
        ("acc-", None, "acc-1"),
        (None, "-acc", "1-acc"),
        ("p_", "_q", "p_1_q"),
        ("", "", "catmetric_1"),
    ],
)
def test_classwise_prefix_postfix(prefix, postfix, key):
    metric = ClasswiseWrapper(CatMetric(), prefix=prefix, postfix=postfix)
    metric.update([0.0, 1.0])
    assert list(metric.compute())[1] == key


def test_classwise_labels_and_mismatch():
    metric = ClasswiseWrapper(CatMetric(), labels=["horse", "fish"])
    metric.update([0.0, 1.0])
    assert metric.compute() == {"catmetric_horse": 0.0, "catmetric_fish": 1.0}
    metric.update([2.0])
    with pytest.raises(ValueError, match="`labels`"):
        metric.compute()
    with pytest.raises(ValueError, match="`labels`"):
        ClasswiseWrapper(CatMetric(), labels="horse")


def test_classwise_repeated_labels_rejected():
    with pytest.raises(ValueError, match="`labels`: 'a' is given twice"):
        ClasswiseWrapper(MeanSquaredError(num_outputs=2), labels=["a", "a"])
    with pytest.raises(ValueError, match="`labels`: 'b' is given twice"):
        ClasswiseWrapper(CatMetric(), labels=["a", "b", "c", "b"])


def test_classwise_forward_history_and_collection():
    collection = MetricCollection(
        {"first": ClasswiseWrapper(CatMetric(), labels=["a"]),
         "second": ClasswiseWrapper(CatMetric(), labels=["a"])}
    )
    assert collection([3.0]) == {"first_catmetric_a": 3.0, "second_catmetric_a": 3.0}
    metric = ClasswiseWrapper(CatMetric())
    metric([1.0])
    metric([2.0])
    assert metric.compute() == {"catmetric_0": 1.0, "catmetric_1": 2.0}


# --- MultioutputWrapper ----------------------------------------------------------------------


def test_multioutput_removes_nan_rows_per_output():
    metric = MultioutputWrapper(MeanMetric(), num_outputs=2)
    metric.update(np.array([[1.0, 10.0], [np.nan, 20.0], [3.0, np.nan]]))
    np.testing.assert_array_equal(metric.compute(), [2.0, 15.0])


def test_multioutput_clustering_per_column():
    rng = np.random.default_rng(50)
    preds, target = rng.integers(0, 3, (40, 2)), rng.integers(0, 3, (40, 2))
    metric = MultioutputWrapper(RandScore(), num_outputs=2)
    metric.update(preds[:25], target[:25])
    metric.update(preds[25:], target[25:])
    expected = [rand_score(target[:, i], preds[:, i]) for i in range(2)]
    np.testing.assert_allclose(metric.compute(), expected, rtol=1e-12)


def test_multioutput_output_dim_zero_unsqueezed():
    metric = MultioutputWrapper(SumMetric(), num_outputs=3, output_dim=0, squeeze_outputs=False)
    metric.update(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    np.testing.assert_array_equal(metric.compute(), [3.0, 7.0, 11.0])


def test_multioutput_forward_keeps_history():
    metric = MultioutputWrapper(SumMetric(), num_outputs=2)
    np.testing.assert_array_equal(metric([[1.0, 2.0]]), [1.0, 2.0])
    metric([[10.0, 20.0]])
    np.testing.assert_array_equal(metric.compute(), [11.0, 22.0])


def test_multioutput_bad_arguments_rejected():
    with pytest.raises(ValueError, match="`num_outputs`"):
        MultioutputWrapper(SumMetric(), num_outputs=0)
    metric = MultioutputWrapper(SumMetric(), num_outputs=3)
    with pytest.raises(ValueError, match="num_outputs=3"):
        metric.update([[1.0, 2.0]])
    with pytest.raises(ValueError, match="`output_dim`"):
        MultioutputWrapper(SumMetric(), num_outputs=2, output_dim=4).update([[1.0, 2.0]])
    np.testing.assert_array_equal(metric.compute(), [0.0, 0.0, 0.0])


# --- MultitaskWrapper ------------------------------------------------------------------------


def test_multitask_dict_in_dict_out():
    metric = MultitaskWrapper({"cluster": RandScore(), "loss": MeanMetric()}, postfix="_val")
    batch = metric({"cluster": [0, 1, 1], "loss": [1.0, 3.0]}, {"cluster": [0, 1, 1], "loss": None})
    assert batch == {"cluster_val": 1.0, "loss_val": 2.0}
    metric.update({"cluster": [0, 0], "loss": [5.0]}, {"cluster": [0, 1], "loss": None})
    output = metric.compute()
    assert_close(output["cluster_val"], rand_score([0, 1, 1, 0, 1], [0, 1, 1, 0, 0]))
    assert output["loss_val"] == 3.0


def test_multitask_missing_task_changes_nothing():
    metric = MultitaskWrapper({"a": SumMetric(), "b": SumMetric()})
    metric.update({"a": [1.0], "b": [2.0]}, {"a": None, "b": None})
    with pytest.raises(ValueError, match="task_preds"):
        metric.update({"a": [1.0]}, {"a": None})
    with pytest.raises(ValueError, match="task_targets"):
        metric.update({"a": [1.0], "b": [1.0]}, {"a": None, "c": None})
    assert metric.compute() == {"a": 1.0, "b": 2.0}


def test_multitask_collection_task_and_state():
    collection = MetricCollection([SumMetric(), MeanMetric()])
    metric = MultitaskWrapper({"values": collection, "sum": SumMetric()}, prefix="val_")
    metric.update({"values": [1.0, 3.0], "sum": [5.0]}, {"values": None, "sum": None})
    expected = {"val_values": {"MeanMetric": 2.0, "SumMetric": 4.0}, "val_sum": 5.0}
    assert metric.compute() == expected
    restored = MultitaskWrapper({"values": collection, "sum": SumMetric()}, prefix="val_")
    restored.load_state_dict(metric.state_dict())
    assert restored.compute() == expected
    assert pickle.loads(pickle.dumps(metric)).compute() == expected


def test_multitask_in_collection():
    collection = MetricCollection(
        {
            "first": MultitaskWrapper({"a": SumMetric()}),
            "second": MultitaskWrapper({"a": SumMetric()}),
        }
    )
    collection.update(task_preds={"a": [1.0, 2.0]}, task_targets={"a": None})
    assert collection.compute() == {"first_a": 3.0, "second_a": 3.0}


def test_multitask_bad_arguments_rejected():
    with pytest.raises(ValueError, match="`task_metrics`"):
        MultitaskWrapper({})
    with pytest.raises(ValueError, match="task_metrics"):
        MultitaskWrapper({"a": "not a metric"})


# --- MetricTracker ---------------------------------------------------------------------------


def test_tracker_best_step_from_higher_is_better():
    tracker = MetricTracker(RandScore())
    target = [0, 0, 1, 1]
    for preds in ([0, 1, 0, 1], [0, 0, 1, 1], [0, 0, 1, 0]):
        tracker.increment()
        tracker.update(preds, target)
    assert tracker.n_steps == 3
    assert tracker.best_metric() == 1.0
    assert tracker.best_metric(return_step=True) == (1.0, 1)
    assert tracker.compute_all().shape == (3,)


def test_tracker_minimize_and_nan_steps():
    tracker = MetricTracker(MeanMetric(), maximize=False)
    tracker.increment()
    for loss in (0.5, 0.25, 0.4):
        tracker.increment()
        tracker.update([loss])
    assert tracker.best_metric(return_step=True) == (0.25, 2)


def test_tracker_collection_per_key():
    collection = MetricCollection({"sum": SumMetric(), "mean": MeanMetric()})
    tracker = MetricTracker(collection, maximize=[False, True])
    for batch in ([1.0, 5.0], [2.0, 2.0, 2.0], [9.0]):
        tracker.increment()
        tracker.forward(batch)
    best, steps = tracker.best_metric(return_step=True)
    assert best == {"mean": 2.0, "sum": 9.0}
    assert steps == {"mean": 1, "sum": 2}


def test_tracker_collection_default_directions():
    collection = MetricCollection({"rand": RandScore(), "wrapped": Running(RandScore())})
    tracker = MetricTracker(collection)
    assert tracker.maximize == [True, True]
    for preds in ([0, 1, 0, 1], [0, 0, 1, 1]):
        tracker.increment()
        tracker.update(preds, [0, 0, 1, 1])
    best, steps = tracker.best_metric(return_step=True)
    assert best == {"rand": 1.0, "wrapped": 1.0}
    assert steps == {"rand": 1, "wrapped": 1}


def test_tracker_without_direction_rejected():
    with pytest.raises(ValueError, match="`maximize`"):
        MetricTracker(SumMetric())
    with pytest.raises(ValueError, match="`maximize`"):
        MetricTracker(SumMetric(), maximize=[])
    with pytest.raises(ValueError, match="`metric`"):
        MetricTracker("metric")


def test_tracker_before_increment_rejected():
    tracker = MetricTracker(SumMetric(), maximize=True)
    with pytest.raises(ValueError, match="increment"):
        tracker.update([1.0])
    with pytest.raises(ValueError, match="increment"):
        tracker.compute_all()


def test_tracker_minmax_dict_outputs():
    tracker = MetricTracker(MinMaxMetric(SumMetric()), maximize=True)
    for batch in ([1.0], [3.0]):
        tracker.increment()
        tracker.update(batch)
    assert tracker.best_metric() == {"raw": 3.0, "max": 3.0, "min": 3.0}


# --- Facts -----------------------------------------------------------------------------------


def test_wrapper_facts():
    assert BootStrapper(RandScore()).higher_is_better is None
    assert MinMaxMetric(RandScore()).higher_is_better is None
    assert ClasswiseWrapper(RandScore()).higher_is_better is True
    assert MultioutputWrapper(RandScore(), 2).higher_is_better is True
    assert Running(RandScore()).is_differentiable is RandScore.is_differentiable


def test_reset_clears_every_wrapper():
    wrappers = [
        (ClasswiseWrapper(CatMetric()), ([1.0, 2.0],), {}),
        (MultioutputWrapper(SumMetric(), num_outputs=2), ([[1.0, 2.0]],), np.zeros(2)),
        (Running(SumMetric(), window=2), ([1.0],), 0.0),
        (MinMaxMetric(SumMetric()), ([1.0],), {"raw": 0.0, "max": 0.0, "min": 0.0}),
    ]
    for metric, batch, empty in wrappers:
        metric.update(*batch)
        metric.reset()
        assert metric.update_count == 0
        np.testing.assert_equal(metric.compute(), empty)

    multitask = MultitaskWrapper({"a": SumMetric()})
    multitask.update({"a": [4.0]}, {"a": None})
    multitask.reset()
    assert multitask.compute() == {"a": 0.0}

    tracker = MetricTracker(SumMetric(), maximize=True)
    tracker.increment()
    tracker.update([3.0])
    tracker.reset()
    assert tracker.compute() == 0.0
    tracker.reset_all()
    assert tracker.n_steps == 0


def test_collection_of_wrappers_merges_and_restores():
    def make() -> MetricCollection:
        return MetricCollection(
            {
                "extremes": MinMaxMetric(SumMetric()),
                "window": Running(SumMetric(), window=2),
            }
        )

    first, second = make(), make()
    first.update([1.0, 2.0])
    second.update([5.0])
    first.merge_state(second)
    expected = {"raw": 8.0, "max": 8.0, "min": 8.0, "window": 8.0}
    assert first.compute() == expected

    restored = make()
    restored.load_state_dict(first.state_dict())
    assert restored.compute() == expected
    assert pickle.loads(pickle.dumps(first)).compute() == expected


def test_tracker_state_dict_round_trip():
    tracker = MetricTracker(MeanMetric(), maximize=True)
    for step in range(3):
        tracker.increment()
        tracker.update(_data(step, 10))
    state = tracker.state_dict()
    assert sorted(state) == ["0.state", "1.state", "2.state"]
    restored = MetricTracker(MeanMetric(), maximize=True)
    restored.load_state_dict(state)
    assert restored.n_steps == 3
    np.testing.assert_array_equal(restored.compute_all(), tracker.compute_all())
    restored.update(_data(9, 4))
    tracker.update(_data(9, 4))
    assert restored.compute() == tracker.compute()

    collection = MetricTracker(MetricCollection([RandScore(), AdjustedRandScore()]))
    collection.increment()
    collection.update(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]))
    copy = MetricTracker(MetricCollection([RandScore(), AdjustedRandScore()]))
    copy.load_state_dict(collection.state_dict(prefix="tracker."), strict=False)
    assert copy.n_steps == 0
    copy.load_state_dict(collection.state_dict())
    assert copy.compute() == collection.compute()


def test_tracker_load_state_dict_rejects_bad_keys_and_keeps_steps():
    tracker = MetricTracker(MeanMetric(), maximize=True)
    tracker.increment()
    tracker.update(np.array([1.0, 3.0]))
    state = tracker.state_dict()
    for bad in ({"x.state": state["0.state"]}, {"1.state": state["0.state"]},
                {"0.state": b"garbage"}):
        with pytest.raises(ValueError):
            tracker.load_state_dict(bad)
        assert tracker.n_steps == 1
        assert tracker.compute() == 2.0
