"""MetricCollection: naming, compute groups, flattening and the state lifecycle."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from conftest import assert_close
from ferrometrics import MetricCollection, aggregation, classification, clustering
from ferrometrics.functional import clustering as functional

PREDS = np.array([0, 0, 1, 1, 2, 2, 2, 0, 1, 2])
TARGET = np.array([1, 1, 0, 0, 2, 2, 0, 1, 0, 2])


def extrinsic_collection(**kwargs):
    return MetricCollection(
        [clustering.RandScore(), clustering.MutualInfoScore(), clustering.AdjustedRandScore()],
        **kwargs,
    )


def test_list_members_are_named_by_class():
    collection = extrinsic_collection()
    assert collection.keys() == ["RandScore", "MutualInfoScore", "AdjustedRandScore"]
    assert len(collection) == 3
    assert "RandScore" in collection


def test_dict_members_are_sorted():
    collection = MetricCollection({"b": clustering.RandScore(), "a": clustering.RandScore()})
    assert collection.keys() == ["a", "b"]


def test_duplicate_class_names_raise():
    with pytest.raises(ValueError, match="RandScore"):
        MetricCollection([clustering.RandScore(), clustering.RandScore()])


def test_rejected_add_metrics_adds_nothing():
    collection = MetricCollection([clustering.RandScore()])
    with pytest.raises(ValueError, match="'RandScore'"):
        collection.add_metrics([clustering.MutualInfoScore(), clustering.RandScore()])
    assert collection.keys() == ["RandScore"]
    with pytest.raises(ValueError, match="'MutualInfoScore'"):
        collection.add_metrics([clustering.MutualInfoScore(), clustering.MutualInfoScore()])
    with pytest.raises(ValueError, match="metrics"):
        collection.add_metrics({"a": clustering.MutualInfoScore(), "b": "accuracy"})
    assert collection.keys() == ["RandScore"]
    collection.add_metrics([clustering.MutualInfoScore()])
    assert collection.keys() == ["RandScore", "MutualInfoScore"]


def test_non_metric_member_raises():
    with pytest.raises(ValueError, match="metrics"):
        MetricCollection([clustering.RandScore(), "accuracy"])


def test_extrinsic_metrics_form_one_compute_group():
    collection = extrinsic_collection()
    assert collection.compute_groups == {
        0: ["RandScore", "MutualInfoScore", "AdjustedRandScore"]
    }
    ungrouped = extrinsic_collection(compute_groups=False)
    assert len(ungrouped.compute_groups) == 3


@pytest.mark.parametrize("compute_groups", [True, False])
def test_compute_matches_members(compute_groups):
    collection = extrinsic_collection(prefix="val_", postfix="/epoch",
                                      compute_groups=compute_groups)
    collection.update(PREDS[:6], TARGET[:6])
    collection.update(preds=PREDS[6:], target=TARGET[6:])
    result = collection.compute()
    assert list(result) == ["val_RandScore/epoch", "val_MutualInfoScore/epoch",
                            "val_AdjustedRandScore/epoch"]
    assert_close(result["val_RandScore/epoch"], functional.rand_score(PREDS, TARGET))
    assert_close(result["val_MutualInfoScore/epoch"], functional.mutual_info_score(PREDS, TARGET))
    assert_close(result["val_AdjustedRandScore/epoch"],
                 functional.adjusted_rand_score(PREDS, TARGET))


def test_members_read_group_state():
    collection = extrinsic_collection()
    collection.update(PREDS, TARGET)
    assert_close(collection["MutualInfoScore"].compute(),
                 functional.mutual_info_score(PREDS, TARGET))
    for name, metric in collection.items():
        assert metric.update_count == 1, name


def test_forward_returns_batch_values():
    collection = extrinsic_collection()
    first = collection(PREDS[:6], TARGET[:6])
    assert_close(first["MutualInfoScore"], functional.mutual_info_score(PREDS[:6], TARGET[:6]))
    collection.forward(PREDS[6:], TARGET[6:])
    assert_close(collection.compute()["RandScore"], functional.rand_score(PREDS, TARGET))


def test_rejected_batch_changes_no_member():
    collection = MetricCollection([clustering.RandScore(),
                                   clustering.ClusterAccuracy(num_classes=3)])
    collection.update(PREDS, TARGET)
    with pytest.raises(ValueError):
        collection.update(np.array([0, 7]), np.array([0, 1]))
    assert_close(collection.compute()["RandScore"], functional.rand_score(PREDS, TARGET))


def test_reset_clears_every_member():
    collection = extrinsic_collection()
    collection.update(PREDS[::-1], TARGET)
    collection.reset()
    collection.update(PREDS, TARGET)
    assert_close(collection.compute()["RandScore"], functional.rand_score(PREDS, TARGET))


def test_merge_state_of_collections():
    ours = extrinsic_collection()
    theirs = extrinsic_collection()
    ours.update(PREDS[:5], TARGET[:5])
    theirs.update(PREDS[5:], TARGET[5:])
    ours.merge_state(theirs)
    assert_close(ours.compute()["AdjustedRandScore"],
                 functional.adjusted_rand_score(PREDS, TARGET))


def test_state_dict_and_pickle_round_trip():
    collection = extrinsic_collection()
    collection.update(PREDS, TARGET)
    state = collection.state_dict()
    assert sorted(state) == ["AdjustedRandScore.state", "MutualInfoScore.state",
                             "RandScore.state"]
    restored = extrinsic_collection()
    restored.load_state_dict(state)
    assert restored.compute() == collection.compute()
    unpickled = pickle.loads(pickle.dumps(collection))
    assert unpickled.compute() == collection.compute()


def test_mixed_input_kinds_in_separate_groups():
    collection = MetricCollection({"sum": aggregation.SumMetric(),
                                   "max": aggregation.MaxMetric()})
    collection.update(np.array([1.0, 5.0, 3.0]))
    assert collection.compute() == {"max": 5.0, "sum": 9.0}
    assert len(collection.compute_groups) == 2


def test_nan_warning_inside_collection():
    collection = MetricCollection([aggregation.SumMetric()])
    with pytest.warns(UserWarning, match="NaN"):
        collection.update(np.array([1.0, np.nan]))


def test_explicit_compute_groups_are_checked():
    with pytest.raises(ValueError, match="compute_groups"):
        MetricCollection([clustering.RandScore(), aggregation.SumMetric()],
                         compute_groups=[["RandScore", "SumMetric"]])
    collection = MetricCollection([clustering.RandScore(), clustering.MutualInfoScore()],
                                  compute_groups=[["MutualInfoScore", "RandScore"]])
    assert collection.compute_groups == {0: ["MutualInfoScore", "RandScore"]}


def test_keys_with_prefix_and_items():
    collection = extrinsic_collection(prefix="train_")
    assert collection.keys(keep_base=True)[0] == "RandScore"
    assert collection.keys()[0] == "train_RandScore"
    assert isinstance(collection["train_RandScore"], clustering.RandScore)
    assert [name for name, _ in collection.items()][0] == "train_RandScore"


def test_invalid_prefix_raises():
    with pytest.raises(ValueError, match="prefix"):
        extrinsic_collection(prefix=3)


def test_flatten_prefixes_colliding_keys():
    collection = MetricCollection({"a": clustering.RandScore(), "b": clustering.RandScore()},
                                  prefix="p_")
    flat = collection._flatten([("a", {"x": 1.0, "y": 2.0}), ("b", {"x": 3.0})])
    assert flat == {"p_a_x": 1.0, "p_a_y": 2.0, "p_b_x": 3.0}
    distinct = collection._flatten([("a", {"x": 1.0}), ("b", {"y": 3.0})])
    assert distinct == {"p_x": 1.0, "p_y": 3.0}


@pytest.mark.parametrize("compute_groups", [True, False])
def test_getitem_copy_is_detached(compute_groups):
    collection = extrinsic_collection(compute_groups=compute_groups)
    collection.update(PREDS[:6], TARGET[:6])
    before = collection.compute()

    member = collection["RandScore"]
    assert_close(member.compute(), functional.rand_score(PREDS[:6], TARGET[:6]))
    member.update(PREDS[6:], TARGET[6:])
    assert_close(member.compute(), functional.rand_score(PREDS, TARGET))
    assert collection.compute() == before

    collection["AdjustedRandScore"].reset()
    assert collection.compute() == before


@pytest.mark.parametrize("compute_groups", [True, False])
def test_getitem_copy_keeps_merges(compute_groups):
    collection = extrinsic_collection(compute_groups=compute_groups)
    collection.update(PREDS[:6], TARGET[:6])
    before = collection.compute()
    other = extrinsic_collection(compute_groups=compute_groups)
    other.update(PREDS[6:], TARGET[6:])

    member = collection["RandScore"]
    member.merge_state(other["RandScore"])
    assert_close(member.compute(), functional.rand_score(PREDS, TARGET))
    assert member.update_count == 2
    assert collection.compute() == before


def test_values_copy_state_false_returns_members():
    collection = extrinsic_collection()
    members = collection.values(copy_state=False)
    members[0].update(PREDS, TARGET)
    assert_close(collection.compute()["RandScore"], functional.rand_score(PREDS, TARGET))
    assert all(metric.update_count == 0 for metric in collection.values()[1:])


def test_merge_state_adds_update_counts():
    ours = extrinsic_collection()
    theirs = extrinsic_collection()
    ours.update(PREDS[:5], TARGET[:5])
    theirs.update(PREDS[5:7], TARGET[5:7])
    theirs.update(PREDS[7:], TARGET[7:])
    ours.merge_state(theirs)
    for name, metric in ours.items():
        assert metric.update_count == 3, name


def test_merge_state_ungrouped_into_grouped():
    ours = extrinsic_collection(compute_groups=True)
    theirs = extrinsic_collection(compute_groups=False)
    ours.update(PREDS[:5], TARGET[:5])
    theirs.update(PREDS[5:], TARGET[5:])
    ours.merge_state(theirs)
    result = ours.compute()
    assert_close(result["RandScore"], functional.rand_score(PREDS, TARGET))
    assert_close(result["MutualInfoScore"], functional.mutual_info_score(PREDS, TARGET))
    assert_close(result["AdjustedRandScore"], functional.adjusted_rand_score(PREDS, TARGET))


def test_merge_state_grouped_into_ungrouped():
    ours = extrinsic_collection(compute_groups=False)
    theirs = extrinsic_collection(compute_groups=True)
    ours.update(PREDS[:4], TARGET[:4])
    theirs.update(PREDS[4:], TARGET[4:])
    ours.merge_state(theirs)
    result = ours.compute()
    assert_close(result["RandScore"], functional.rand_score(PREDS, TARGET))
    assert_close(result["MutualInfoScore"], functional.mutual_info_score(PREDS, TARGET))
    assert_close(result["AdjustedRandScore"], functional.adjusted_rand_score(PREDS, TARGET))
    for name, metric in ours.items():
        assert metric.update_count == 2, name


def test_merge_state_grouped_classification_into_ungrouped():
    from sklearn import metrics

    preds = np.array([0, 1, 1, 0, 1, 1, 0, 0, 1, 0])
    target = np.array([0, 1, 0, 0, 1, 1, 1, 0, 1, 1])

    def build(compute_groups):
        return MetricCollection(
            [classification.BinaryPrecision(), classification.BinaryRecall()],
            compute_groups=compute_groups,
        )

    ours = build(False)
    theirs = build(True)
    assert theirs.compute_groups == {0: ["BinaryPrecision", "BinaryRecall"]}
    ours.update(preds[:3], target[:3])
    theirs.update(preds[3:], target[3:])
    ours.merge_state(theirs)
    result = ours.compute()
    assert_close(result["BinaryPrecision"], metrics.precision_score(target, preds))
    assert_close(result["BinaryRecall"], metrics.recall_score(target, preds))


def test_merge_state_grouped_other_config_raises():
    # BinaryPrecision merges, then BinaryRecall rejects the shared state of another threshold,
    # and the collection keeps its state.
    ours = MetricCollection(
        [classification.BinaryPrecision(threshold=0.3), classification.BinaryRecall()],
        compute_groups=False,
    )
    theirs = MetricCollection(
        [classification.BinaryPrecision(threshold=0.3), classification.BinaryRecall(threshold=0.3)],
        compute_groups=True,
    )
    ours.update(np.array([0.2, 0.9]), np.array([0, 1]))
    theirs.update(np.array([0.4, 0.6]), np.array([1, 1]))
    before = ours.compute()
    with pytest.raises(ValueError, match="member 'BinaryRecall'.*BinaryPrecision"):
        ours.merge_state(theirs)
    assert ours.compute() == before


def test_float64_batch_after_float32_batch():
    collection = MetricCollection([clustering.SilhouetteScore(), clustering.DaviesBouldinScore()])
    data = np.array([[0.0, 0.1], [0.2, 0.0], [5.0, 5.1], [5.2, 4.9], [0.1, -0.2], [4.8, 5.0]])
    labels = np.array([0, 0, 1, 1, 0, 1])
    collection.update(data[:3].astype(np.float32), labels[:3])
    collection.update(data[3:], labels[3:])

    result = collection.compute()
    expected = functional.silhouette_score(data.astype(np.float32), labels)
    assert_close(result["SilhouetteScore"], expected)
    with pytest.raises(ValueError, match="does not fit the float32 precision"):
        collection.update(np.array([[1e300, 0.0], [0.0, 1.0]]), np.array([0, 1]))


def test_load_state_dict_across_compute_groups():
    grouped = extrinsic_collection(compute_groups=True)
    grouped.update(PREDS, TARGET)
    ungrouped = extrinsic_collection(compute_groups=False)
    ungrouped.update(PREDS, TARGET)
    expected = ungrouped.compute()

    # An ungrouped dict holds every member's own state, so it loads into groups.
    target = extrinsic_collection(compute_groups=True)
    target.load_state_dict(ungrouped.state_dict())
    assert target.compute() == expected
    target = extrinsic_collection(compute_groups=True)
    target.load_state_dict(grouped.state_dict())
    assert target.compute() == expected

    # A grouped dict holds the leader's state under every member.
    target = extrinsic_collection(compute_groups=False)
    target.update(PREDS[:4], TARGET[:4])
    before = target.compute()
    with pytest.raises(ValueError, match="'MutualInfoScore'.*compute_groups"):
        target.load_state_dict(grouped.state_dict())
    assert target.compute() == before
