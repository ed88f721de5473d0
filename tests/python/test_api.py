"""The public API: names, defaults, facts, the metric lifecycle, inputs and errors."""

from __future__ import annotations

import copy
import inspect
import math
import pickle
import re

import numpy as np
import pytest

import ferrometrics
from conftest import FakeTensor, assert_close
from ferrometrics import clustering
from ferrometrics.functional import clustering as functional

EXTRINSIC_CLASSES = {
    "MutualInfoScore": {},
    "NormalizedMutualInfoScore": {"average_method": "arithmetic"},
    "AdjustedMutualInfoScore": {"average_method": "arithmetic"},
    "RandScore": {},
    "AdjustedRandScore": {},
    "FowlkesMallowsIndex": {},
    "HomogeneityScore": {},
    "CompletenessScore": {},
    "VMeasureScore": {"beta": 1.0},
    "ClusterAccuracy": {"num_classes": None},
}
INTRINSIC_CLASSES = {
    "CalinskiHarabaszScore": {},
    "DaviesBouldinScore": {},
    "DunnIndex": {"p": 2, "definition": "centroid"},
    "SilhouetteScore": {"sample_size": None, "seed": 0},
}
FUNCTIONS = {
    "mutual_info_score": ["preds", "target"],
    "normalized_mutual_info_score": ["preds", "target", "average_method"],
    "adjusted_mutual_info_score": ["preds", "target", "average_method"],
    "rand_score": ["preds", "target"],
    "adjusted_rand_score": ["preds", "target"],
    "fowlkes_mallows_index": ["preds", "target"],
    "homogeneity_score": ["preds", "target"],
    "completeness_score": ["preds", "target"],
    "v_measure_score": ["preds", "target", "beta"],
    "cluster_accuracy": ["preds", "target", "num_classes"],
    "contingency_matrix": ["labels_true", "labels_pred"],
    "pair_confusion_matrix": ["labels_true", "labels_pred"],
    "calinski_harabasz_score": ["data", "labels"],
    "davies_bouldin_score": ["data", "labels"],
    "dunn_index": ["data", "labels", "p", "definition"],
    "silhouette_score": ["data", "labels", "sample_size", "seed"],
}

PREDS = np.array([0, 0, 1, 1, 2, 2, 2, 0, 1, 2], dtype=np.int64)
TARGET = np.array([1, 1, 0, 0, 2, 2, 0, 1, 0, 2], dtype=np.int64)
DATA = np.array(
    [[0.0, 0.1], [0.2, 0.0], [5.0, 5.1], [5.2, 4.9], [9.8, 0.2],
     [10.1, 0.0], [9.9, -0.3], [0.1, -0.2], [4.8, 5.0], [10.3, 0.4]]
)
LABELS = np.array([0, 0, 1, 1, 2, 2, 2, 0, 1, 2], dtype=np.int64)


def default_parameters(function):
    return {
        name: parameter.default
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }


@pytest.mark.parametrize("name", [*EXTRINSIC_CLASSES, *INTRINSIC_CLASSES])
def test_class_exists_with_defaults(name):
    cls = getattr(clustering, name)
    expected = {**EXTRINSIC_CLASSES, **INTRINSIC_CLASSES}[name]
    assert default_parameters(cls.__init__) == expected
    assert issubclass(cls, ferrometrics.Metric)
    assert cls.full_state_update is False
    # TorchMetrics marks the intrinsic metrics differentiable in the data and the extrinsic
    # ones not, because labels are discrete.
    assert cls.is_differentiable is (name in INTRINSIC_CLASSES)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_exists_with_arguments(name):
    function = getattr(functional, name)
    assert list(inspect.signature(function).parameters) == FUNCTIONS[name]


def test_function_defaults():
    assert default_parameters(functional.normalized_mutual_info_score) == {
        "average_method": "arithmetic"
    }
    assert default_parameters(functional.v_measure_score) == {"beta": 1.0}
    assert default_parameters(functional.dunn_index) == {"p": 2, "definition": "centroid"}
    assert default_parameters(functional.silhouette_score) == {"sample_size": None, "seed": 0}


def test_facts_of_bounded_metrics():
    for cls in (clustering.RandScore, clustering.NormalizedMutualInfoScore,
                clustering.FowlkesMallowsIndex, clustering.HomogeneityScore):
        assert cls.higher_is_better is True
        assert cls.plot_lower_bound == 0.0
        assert cls.plot_upper_bound == 1.0
    assert clustering.SilhouetteScore.plot_lower_bound == -1.0
    assert clustering.SilhouetteScore.plot_upper_bound == 1.0
    assert clustering.MutualInfoScore.plot_lower_bound == 0.0


def test_davies_bouldin_is_lower_is_better():
    assert clustering.DaviesBouldinScore.higher_is_better is False
    assert clustering.DaviesBouldinScore().higher_is_better is False


def functional_value(metric, first, second):
    name = {
        "MutualInfoScore": "mutual_info_score",
        "NormalizedMutualInfoScore": "normalized_mutual_info_score",
        "AdjustedMutualInfoScore": "adjusted_mutual_info_score",
        "RandScore": "rand_score",
        "AdjustedRandScore": "adjusted_rand_score",
        "FowlkesMallowsIndex": "fowlkes_mallows_index",
        "HomogeneityScore": "homogeneity_score",
        "CompletenessScore": "completeness_score",
        "VMeasureScore": "v_measure_score",
        "ClusterAccuracy": "cluster_accuracy",
        "CalinskiHarabaszScore": "calinski_harabasz_score",
        "DaviesBouldinScore": "davies_bouldin_score",
        "DunnIndex": "dunn_index",
        "SilhouetteScore": "silhouette_score",
    }[type(metric).__name__]
    return getattr(functional, name)(first, second)


def batches_of(metric):
    if type(metric).__name__ in INTRINSIC_CLASSES:
        return DATA, LABELS
    return PREDS, TARGET


ALL_METRICS = [*EXTRINSIC_CLASSES, *INTRINSIC_CLASSES]


@pytest.mark.parametrize("name", ALL_METRICS)
def test_update_compute_equals_functional(name):
    metric = getattr(clustering, name)()
    first, second = batches_of(metric)
    metric.update(first[:4], second[:4])
    metric.update(first[4:], second[4:])
    assert_close(metric.compute(), functional_value(metric, first, second))
    assert metric.update_count == 2
    assert metric.update_called


@pytest.mark.parametrize("name", ALL_METRICS)
def test_compute_is_repeatable(name):
    metric = getattr(clustering, name)()
    metric.update(*batches_of(metric))
    assert metric.compute() == metric.compute()


@pytest.mark.parametrize("name", ALL_METRICS)
def test_forward_returns_batch_value_and_accumulates(name):
    metric = getattr(clustering, name)()
    first, second = batches_of(metric)
    batch_value = metric(first[4:], second[4:])
    assert_close(batch_value, functional_value(metric, first[4:], second[4:]))
    metric.forward(first[:4], second[:4])
    assert_close(metric.compute(), functional_value(metric, first, second))


@pytest.mark.parametrize("name", ALL_METRICS)
def test_reset_clears_state(name):
    metric = getattr(clustering, name)()
    first, second = batches_of(metric)
    metric.update(first[::-1], second)
    metric.reset()
    assert metric.update_count == 0
    metric.update(first, second)
    assert_close(metric.compute(), functional_value(metric, first, second))


@pytest.mark.parametrize("name", ALL_METRICS)
def test_compute_without_data_raises_value_error(name):
    with pytest.raises(ValueError):
        getattr(clustering, name)().compute()


@pytest.mark.parametrize("name", ALL_METRICS)
def test_merge_state_equals_one_update(name):
    first_half = getattr(clustering, name)()
    second_half = getattr(clustering, name)()
    first, second = batches_of(first_half)
    first_half.update(first[:5], second[:5])
    second_half.update(first[5:], second[5:])
    first_half.merge_state(second_half)
    assert_close(first_half.compute(), functional_value(first_half, first, second))


@pytest.mark.parametrize("name", ALL_METRICS)
def test_merge_state_from_state_dict(name):
    ours = getattr(clustering, name)()
    theirs = getattr(clustering, name)()
    first, second = batches_of(ours)
    ours.update(first[:5], second[:5])
    theirs.update(first[5:], second[5:])
    ours.merge_state(theirs.state_dict())
    assert_close(ours.compute(), functional_value(ours, first, second))


def test_merge_state_rejects_other_class():
    with pytest.raises(ValueError, match="RandScore"):
        clustering.MutualInfoScore().merge_state(clustering.RandScore())


def test_merge_state_rejects_other_configuration():
    ours = clustering.NormalizedMutualInfoScore("max")
    theirs = clustering.NormalizedMutualInfoScore("min")
    theirs.update(PREDS, TARGET)
    with pytest.raises(ValueError, match="average_method"):
        ours.merge_state(theirs)


def test_merge_state_with_itself_doubles_counts():
    metric = clustering.AdjustedRandScore()
    metric.update(PREDS, TARGET)
    metric.merge_state(metric)
    doubled = functional.adjusted_rand_score(np.tile(PREDS, 2), np.tile(TARGET, 2))
    assert_close(metric.compute(), doubled)


@pytest.mark.parametrize("name", ALL_METRICS)
def test_state_dict_round_trip(name):
    metric = getattr(clustering, name)()
    metric.update(*batches_of(metric))
    state = metric.state_dict()
    assert list(state) == ["state"]
    assert isinstance(state["state"], bytes)
    restored = getattr(clustering, name)()
    restored.load_state_dict(state)
    assert restored.compute() == metric.compute()


def test_state_dict_prefix_and_strict():
    metric = clustering.RandScore()
    metric.update(PREDS, TARGET)
    state = metric.state_dict(prefix="val.")
    assert list(state) == ["val.state"]
    restored = clustering.RandScore()
    with pytest.raises(ValueError, match="missing the entry"):
        restored.load_state_dict({})
    restored.load_state_dict({}, strict=False)


def test_load_state_dict_rejects_other_configuration():
    metric = clustering.VMeasureScore(beta=2.0)
    metric.update(PREDS, TARGET)
    with pytest.raises(ValueError, match="beta"):
        clustering.VMeasureScore(beta=1.0).load_state_dict(metric.state_dict())


def test_load_state_dict_rejects_other_class():
    metric = clustering.RandScore()
    metric.update(PREDS, TARGET)
    with pytest.raises(ValueError, match="RandScore"):
        clustering.MutualInfoScore().load_state_dict(metric.state_dict())


@pytest.mark.parametrize("name", ALL_METRICS)
def test_pickle_round_trip(name):
    metric = getattr(clustering, name)()
    metric.update(*batches_of(metric))
    restored = pickle.loads(pickle.dumps(metric))
    assert type(restored) is type(metric)
    assert restored.compute() == metric.compute()
    assert restored.update_count == 1
    restored.update(*batches_of(metric))
    assert restored.update_count == 2


def test_pickle_keeps_configuration():
    metric = clustering.AdjustedMutualInfoScore(average_method="min")
    metric.update(PREDS, TARGET)
    restored = pickle.loads(pickle.dumps(metric))
    assert repr(restored) == "AdjustedMutualInfoScore(average_method='min')"
    assert_close(
        restored.compute(), functional.adjusted_mutual_info_score(PREDS, TARGET, "min")
    )


def test_deepcopy_and_clone_are_independent():
    metric = clustering.RandScore()
    metric.update(PREDS, TARGET)
    for copied in (copy.deepcopy(metric), metric.clone()):
        copied.update(PREDS[::-1], TARGET)
        assert metric.compute() == functional.rand_score(PREDS, TARGET)


def test_repr_shows_arguments():
    assert repr(clustering.RandScore()) == "RandScore()"
    assert repr(clustering.VMeasureScore(beta=0.5)) == "VMeasureScore(beta=0.5)"
    assert repr(clustering.ClusterAccuracy(num_classes=3)) == "ClusterAccuracy(num_classes=3)"


# Inputs


@pytest.mark.parametrize(
    "dtype",
    [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64],
)
def test_labels_of_any_integer_dtype(dtype):
    expected = functional.rand_score(PREDS, TARGET)
    assert functional.rand_score(PREDS.astype(dtype), TARGET.astype(dtype)) == expected


def test_labels_as_sequences_and_booleans():
    expected = functional.rand_score(PREDS, TARGET)
    assert functional.rand_score(PREDS.tolist(), tuple(TARGET.tolist())) == expected
    boolean = np.array([True, False, True, True])
    assert functional.rand_score(boolean, boolean.astype(np.int64)) == 1.0


def test_labels_strided_and_big_endian():
    long_preds = np.repeat(PREDS, 2)
    assert functional.rand_score(long_preds[::2], TARGET) == functional.rand_score(PREDS, TARGET)
    swapped = PREDS.astype(">i8")
    assert functional.rand_score(swapped, TARGET) == functional.rand_score(PREDS, TARGET)


def test_uint64_labels_beyond_int64_raise():
    preds = np.array([0, 2**63 + 5], dtype=np.uint64)
    with pytest.raises(ValueError, match="preds"):
        functional.rand_score(preds, np.array([0, 1]))


def test_fake_tensor_is_read_through_numpy():
    expected = functional.rand_score(PREDS, TARGET)
    assert functional.rand_score(FakeTensor(PREDS), FakeTensor(TARGET)) == expected
    metric = clustering.CalinskiHarabaszScore()
    metric.update(FakeTensor(DATA), FakeTensor(LABELS))
    assert_close(metric.compute(), functional.calinski_harabasz_score(DATA, LABELS))


def test_torch_tensors():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    preds = torch.tensor(PREDS)
    target = torch.tensor(TARGET)
    assert functional.rand_score(preds, target) == functional.rand_score(PREDS, TARGET)
    data = torch.tensor(DATA, requires_grad=True)
    assert_close(
        functional.calinski_harabasz_score(data, torch.tensor(LABELS)),
        functional.calinski_harabasz_score(DATA, LABELS),
    )


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.int64])
def test_features_of_numeric_dtypes(dtype):
    data = (DATA * 10).astype(dtype)
    expected = functional.calinski_harabasz_score(data.astype(np.float64), LABELS)
    assert_close(functional.calinski_harabasz_score(data, LABELS), expected, rel=1e-3)


def test_float32_first_batch_sets_precision():
    metric = clustering.CalinskiHarabaszScore()
    assert metric._native.precision == "float64"
    metric.update(DATA[:5].astype(np.float32), LABELS[:5])
    assert metric._native.precision == "float32"
    metric.update(DATA[5:], LABELS[5:])
    assert metric._native.precision == "float32"
    assert_close(metric.compute(), functional.calinski_harabasz_score(DATA, LABELS), rel=1e-5)
    metric.reset()
    metric.update(DATA, LABELS)
    assert metric._native.precision == "float64"


def test_float64_first_batch_casts_later_float32():
    metric = clustering.DaviesBouldinScore()
    metric.update(DATA[:5], LABELS[:5])
    metric.update(DATA[5:].astype(np.float32), LABELS[5:])
    assert metric._native.precision == "float64"


def test_merge_float32_into_empty_float64_metric():
    single = clustering.CalinskiHarabaszScore()
    single.update(DATA.astype(np.float32), LABELS)
    empty = clustering.CalinskiHarabaszScore()
    empty.merge_state(single)
    assert empty._native.precision == "float32"
    assert empty.compute() == single.compute()


def test_merge_float32_into_float64_state_raises():
    single = clustering.CalinskiHarabaszScore()
    single.update(DATA.astype(np.float32), LABELS)
    double = clustering.CalinskiHarabaszScore()
    double.update(DATA, LABELS)
    with pytest.raises(ValueError, match="float32"):
        double.merge_state(single)


# Errors


@pytest.mark.parametrize("argument", ["preds", "target"])
def test_float_labels_raise_type_error(argument):
    inputs = {"preds": PREDS, "target": TARGET}
    inputs[argument] = inputs[argument].astype(np.float64)
    with pytest.raises(TypeError, match=f"`{argument}`.*float64"):
        functional.rand_score(**inputs)
    with pytest.raises(TypeError, match=f"`{argument}`"):
        clustering.RandScore().update(**inputs)


def test_float_labels_in_intrinsic_metric_raise_type_error():
    with pytest.raises(TypeError, match="`labels`"):
        clustering.DunnIndex().update(DATA, LABELS.astype(np.float32))


def test_non_numeric_inputs_raise_type_error():
    with pytest.raises(TypeError, match="`preds`"):
        functional.rand_score(["a", "b"], [0, 1])
    with pytest.raises(TypeError, match="`data`"):
        functional.calinski_harabasz_score(DATA.astype(np.complex128), LABELS)
    with pytest.raises(TypeError, match="`preds`"):
        functional.rand_score(object(), [0, 1])


def test_length_mismatch_raises_value_error():
    with pytest.raises(ValueError, match="preds.*target|target.*preds"):
        functional.rand_score(PREDS, TARGET[:-1])
    with pytest.raises(ValueError, match="data.*labels|labels.*data"):
        functional.silhouette_score(DATA, LABELS[:-1])


def test_wrong_dimensions_raise_value_error():
    with pytest.raises(ValueError, match="`preds`.*1-D"):
        functional.rand_score(PREDS.reshape(2, 5), PREDS.reshape(2, 5))
    with pytest.raises(ValueError, match="`data`.*2-D"):
        functional.davies_bouldin_score(DATA.ravel(), LABELS)


def test_non_finite_data_raises_value_error():
    data = DATA.copy()
    data[3, 1] = np.nan
    with pytest.raises(ValueError, match="data"):
        functional.calinski_harabasz_score(data, LABELS)


def test_rejected_batch_leaves_state_unchanged():
    metric = clustering.RandScore()
    metric.update(PREDS, TARGET)
    with pytest.raises(ValueError):
        metric.update(PREDS, TARGET[:-1])
    assert metric.compute() == functional.rand_score(PREDS, TARGET)


@pytest.mark.parametrize(
    ("factory", "argument"),
    [
        (lambda: clustering.NormalizedMutualInfoScore(average_method="median"), "average_method"),
        (lambda: clustering.AdjustedMutualInfoScore(average_method="median"), "average_method"),
        (lambda: clustering.VMeasureScore(beta=0.0), "beta"),
        (lambda: clustering.VMeasureScore(beta=-1.0), "beta"),
        (lambda: clustering.VMeasureScore(beta=math.inf), "beta"),
        (lambda: clustering.DunnIndex(p=0.5), "p"),
        (lambda: clustering.DunnIndex(definition="single"), "definition"),
        (lambda: clustering.SilhouetteScore(sample_size=0), "sample_size"),
        (lambda: clustering.SilhouetteScore(seed=-1), "seed"),
        (lambda: clustering.ClusterAccuracy(num_classes=0), "num_classes"),
        (lambda: clustering.RandScore(compute_on_cpu=True), "compute_on_cpu"),
    ],
)
def test_invalid_argument_raises_value_error(factory, argument):
    with pytest.raises(ValueError, match=argument):
        factory()


@pytest.mark.parametrize(
    ("factory", "argument"),
    [
        (lambda: clustering.VMeasureScore(beta="one"), "beta"),
        (lambda: clustering.NormalizedMutualInfoScore(average_method=1), "average_method"),
        (lambda: clustering.SilhouetteScore(sample_size=2.5), "sample_size"),
        (lambda: clustering.ClusterAccuracy(num_classes=2.0), "num_classes"),
    ],
)
def test_argument_of_wrong_type_raises_type_error(factory, argument):
    with pytest.raises(TypeError, match=argument):
        factory()


def test_functional_invalid_arguments():
    with pytest.raises(ValueError, match="average_method"):
        functional.normalized_mutual_info_score(PREDS, TARGET, average_method="median")
    with pytest.raises(ValueError, match="beta"):
        functional.v_measure_score(PREDS, TARGET, beta=0.0)
    with pytest.raises(ValueError, match="sample_size"):
        functional.silhouette_score(DATA, LABELS, sample_size=-3)


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: functional.dunn_index(DATA, LABELS, p="two"), "p"),
        (lambda: functional.v_measure_score(PREDS, TARGET, beta="one"), "beta"),
        (
            lambda: functional.adjusted_mutual_info_score(PREDS, TARGET, average_method=2),
            "average_method",
        ),
        (lambda: functional.silhouette_score(DATA, LABELS, seed=1.5), "seed"),
    ],
)
def test_functional_argument_type_names_argument(call, argument):
    with pytest.raises(TypeError, match=argument):
        call()


def test_cluster_accuracy_num_classes_bounds_labels():
    metric = clustering.ClusterAccuracy(num_classes=2)
    with pytest.raises(ValueError, match="`preds`"):
        metric.update(PREDS, TARGET)
    with pytest.raises(ValueError, match="`target`"):
        functional.cluster_accuracy([0, 1], [0, 5], num_classes=2)


def test_release_gil_allows_threads():
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(1)
    preds = rng.integers(0, 30, 200_000)
    target = rng.integers(0, 30, 200_000)
    expected = functional.adjusted_mutual_info_score(preds, target)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(
            lambda _: functional.adjusted_mutual_info_score(preds, target), range(8)
        ))
    assert results == [expected] * 8


def test_package_exports():
    assert ferrometrics.MetricCollection is not None
    assert isinstance(ferrometrics.__version__, str)
    for name in clustering.__all__:
        assert hasattr(clustering, name)
    for name in functional.__all__:
        assert hasattr(functional, name)


@pytest.mark.parametrize(
    ("make", "argument", "shown"),
    [
        (lambda: functional.v_measure_score(PREDS, TARGET, beta=None), "beta", "None"),
        (lambda: functional.v_measure_score(PREDS, TARGET, beta=True), "beta", "True"),
        (lambda: clustering.VMeasureScore(beta=None), "beta", "None"),
        (lambda: clustering.VMeasureScore(beta=True), "beta", "True"),
        (lambda: functional.dunn_index(DATA, PREDS, p=None), "p", "None"),
        (lambda: functional.dunn_index(DATA, PREDS, p=True), "p", "True"),
        (lambda: clustering.DunnIndex(p=None), "p", "None"),
    ],
)
def test_numeric_option_rejects_none_and_bool(make, argument, shown):
    with pytest.raises(TypeError, match=rf"`{argument}`: expected a number, got {shown}"):
        make()


@pytest.mark.parametrize(
    ("num_classes", "error"),
    [(1.5, TypeError), (0, ValueError), (True, TypeError), ("3", TypeError)],
)
def test_cluster_accuracy_function_checks_num_classes(num_classes, error):
    with pytest.raises(error, match="`num_classes`"):
        functional.cluster_accuracy(PREDS, TARGET, num_classes=num_classes)
    with pytest.raises(error, match="`num_classes`"):
        clustering.ClusterAccuracy(num_classes=num_classes)


def test_cluster_accuracy_merge_rejects_wide_labels():
    bounded = clustering.ClusterAccuracy(num_classes=2)
    unbounded = clustering.ClusterAccuracy()
    unbounded.update(np.array([0, 5]), np.array([0, 1]))

    with pytest.raises(ValueError, match="num_classes=None"):
        bounded.merge_state(unbounded)
    with pytest.raises(ValueError, match=r"label 5 .*\[0, 2\)"):
        bounded.merge_state(unbounded.state_dict())
    assert not bounded.update_called


def test_cluster_accuracy_merge_rejects_other_num_classes():
    bounded = clustering.ClusterAccuracy(num_classes=2)
    other = clustering.ClusterAccuracy(num_classes=3)
    other.update(np.array([0, 1]), np.array([1, 0]))
    with pytest.raises(ValueError, match="num_classes=3"):
        bounded.merge_state(other)


def test_cluster_accuracy_merge_in_range_state():
    bounded = clustering.ClusterAccuracy(num_classes=2)
    other = clustering.ClusterAccuracy(num_classes=2)
    other.update(np.array([0, 1, 1]), np.array([1, 0, 0]))
    bounded.merge_state(other)
    assert_close(bounded.compute(), 1.0)


@pytest.mark.parametrize("method", ["load_state_dict", "merge_state"])
def test_state_dict_missing_entry_raises(method):
    metric = clustering.RandScore()
    with pytest.raises(ValueError, match="missing the entry 'state'.*state_dict\\(\\)"):
        getattr(metric, method)({})


@pytest.mark.parametrize("value", ["abc", 10**12, 5, 1.5, None, [1, 2], np.zeros(3)])
@pytest.mark.parametrize("method", ["load_state_dict", "merge_state"])
def test_state_dict_non_bytes_raises(method, value):
    metric = clustering.RandScore()
    with pytest.raises(TypeError, match="entry 'state'.*expected bytes"):
        getattr(metric, method)({"state": value})


@pytest.mark.parametrize(
    "convert", [bytes, bytearray, memoryview, lambda data: np.frombuffer(data, dtype=np.uint8)]
)
def test_state_dict_accepts_bytes_like(convert):
    source = clustering.RandScore()
    source.update(PREDS, TARGET)
    state = source.state_dict()["state"]

    loaded = clustering.RandScore()
    loaded.load_state_dict({"state": convert(state)})
    assert_close(loaded.compute(), functional.rand_score(PREDS, TARGET))

    merged = clustering.RandScore()
    merged.merge_state({"state": convert(state)})
    assert_close(merged.compute(), functional.rand_score(PREDS, TARGET))


RELABEL = r"numpy\.unique\(labels, return_inverse=True\)"


@pytest.mark.parametrize(
    ("labels", "dtype", "fix"),
    [
        (np.array(["a", "b", "a", "c", "b", "c", "a", "b", "c", "a"]), "<U1", RELABEL),
        (["a", "b", "a", "c", "b", "c", "a", "b", "c", "a"], "<U1", RELABEL),
        (np.array([b"a"] * 10), "|S1", RELABEL),
        (np.array([1, "a"] * 5, dtype=object), "object", RELABEL),
        (PREDS.astype(complex), "complex128", r"\.real\.astype\(int\)"),
        (None, "object", "pass a sequence or array of integers, not a NoneType"),
        ({0: 1}, "object", "pass a sequence or array of integers, not a dict"),
        ({0, 1}, "object", "pass a sequence or array of integers, not a set"),
        ((label for label in PREDS), "object", "pass a sequence or array of integers"),
    ],
)
def test_non_integer_labels_name_dtype_and_fix(labels, dtype, fix):
    with pytest.raises(TypeError, match=rf"`preds`: .*got dtype {re.escape(dtype)}; .*{fix}"):
        functional.rand_score(labels, TARGET)


def test_masked_labels_raise():
    masked = np.ma.array(PREDS, mask=PREDS == 2)
    with pytest.raises(TypeError, match=r"`preds`: masked arrays .*\.compressed\(\)"):
        functional.rand_score(masked, TARGET)
    with pytest.raises(TypeError, match=r"`target`: masked arrays"):
        clustering.RandScore().update(PREDS, np.ma.array(TARGET))


def test_masked_features_raise():
    masked = np.ma.array(DATA, mask=np.zeros_like(DATA, dtype=bool))
    with pytest.raises(TypeError, match=r"`data`: masked arrays"):
        functional.silhouette_score(masked, LABELS)



@pytest.mark.parametrize(
    ("factory", "first", "second", "message"),
    [
        (
            "clustering.NormalizedMutualInfoScore",
            {"average_method": "max"},
            {"average_method": "arithmetic"},
            "`average_method`: max and arithmetic",
        ),
        (
            "aggregation.MeanMetric",
            {"nan_strategy": "warn"},
            {"nan_strategy": "ignore"},
            "`nan_strategy`: warn and ignore",
        ),
    ],
)
def test_merge_message_spells_options_as_python(factory, first, second, message):
    module, name = factory.split(".")
    cls = getattr(getattr(ferrometrics, module), name)

    with pytest.raises(ValueError) as raised:
        cls(**first).merge_state(cls(**second))

    assert message in str(raised.value)
