"""Classification metrics against scikit-learn on seeded inputs with ties, ignored targets and
undefined cases."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from sklearn import metrics as sk

from conftest import assert_close
from ferrometrics import MetricCollection, classification
from ferrometrics.functional import classification as functional

SEED = 20261204


@pytest.fixture(name="rng")
def fixture_rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


def binary_data(rng: np.random.Generator, n: int = 200):
    # Scores rounded to 0.05 so that many tie, some at the threshold.
    probs = np.round(rng.random(n) * 20) / 20
    target = rng.integers(0, 2, n)
    return probs, target


def multiclass_data(rng: np.random.Generator, n: int = 300, c: int = 5):
    logits = np.round(rng.normal(0, 2, (n, c)), 1)
    target = rng.integers(0, c, n)
    return logits, target


def softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


BINARY_CASES = [
    ("binary_accuracy", {}, sk.accuracy_score),
    ("binary_precision", {}, sk.precision_score),
    ("binary_recall", {}, sk.recall_score),
    ("binary_f1_score", {}, sk.f1_score),
    ("binary_fbeta_score", {"beta": 2.0}, lambda t, p: sk.fbeta_score(t, p, beta=2.0)),
    ("binary_specificity", {}, lambda t, p: sk.recall_score(t, p, pos_label=0)),
    ("binary_negative_predictive_value", {}, lambda t, p: sk.precision_score(t, p, pos_label=0)),
    ("binary_hamming_distance", {}, sk.hamming_loss),
    ("binary_jaccard_index", {}, sk.jaccard_score),
    ("binary_cohen_kappa", {}, sk.cohen_kappa_score),
    ("binary_matthews_corrcoef", {}, sk.matthews_corrcoef),
]


@pytest.mark.parametrize("name, kwargs, reference", BINARY_CASES)
@pytest.mark.parametrize("threshold", [0.5, 0.3])
def test_binary_matches_sklearn(rng, name, kwargs, reference, threshold):
    probs, target = binary_data(rng)
    value = getattr(functional, name)(probs, target, threshold=threshold, **kwargs)
    assert_close(value, float(reference(target, (probs > threshold).astype(int))))


@pytest.mark.parametrize("name, kwargs, reference", BINARY_CASES)
def test_binary_logits_ignore_index(rng, name, kwargs, reference):
    logits = np.round(rng.normal(0, 2, 150), 2)
    target = rng.integers(0, 2, 150)
    target[rng.random(150) < 0.2] = -100
    keep = target != -100
    value = getattr(functional, name)(logits, target, ignore_index=-100, **kwargs)
    expected = reference(target[keep], (logits[keep] > 0).astype(int))
    assert_close(value, float(expected))


MULTICLASS_CASES = [
    ("multiclass_precision", {}, sk.precision_score),
    ("multiclass_recall", {}, sk.recall_score),
    ("multiclass_f1_score", {}, sk.f1_score),
    (
        "multiclass_fbeta_score",
        {"beta": 0.5},
        lambda t, p, **kw: sk.fbeta_score(t, p, beta=0.5, **kw),
    ),
    ("multiclass_jaccard_index", {}, sk.jaccard_score),
]


@pytest.mark.parametrize("name, kwargs, reference", MULTICLASS_CASES)
@pytest.mark.parametrize("average", ["micro", "macro", "weighted"])
def test_multiclass_averages_match_sklearn(rng, name, kwargs, reference, average):
    logits, target = multiclass_data(rng)
    value = getattr(functional, name)(logits, target, num_classes=5, average=average, **kwargs)
    assert_close(value, float(reference(target, logits.argmax(axis=1), average=average)))


@pytest.mark.parametrize("name, kwargs, reference", MULTICLASS_CASES)
@pytest.mark.parametrize("average", ["micro", "macro", "weighted"])
def test_multiclass_ignore_index_drops_class(rng, name, kwargs, reference, average):
    logits, target = multiclass_data(rng)
    keep = target != 1
    preds = logits.argmax(axis=1)
    labels = sorted((set(target[keep]) | set(preds[keep])) - {1})
    value = getattr(functional, name)(
        logits, target, num_classes=5, average=average, ignore_index=1, **kwargs
    )
    expected = reference(target[keep], preds[keep], average=average, labels=labels)
    assert_close(value, float(expected))


def test_multiclass_per_class_and_accuracy(rng):
    logits, target = multiclass_data(rng)
    preds = logits.argmax(axis=1)
    recall = functional.multiclass_recall(logits, target, 5, average=None)
    np.testing.assert_allclose(recall, sk.recall_score(target, preds, average=None), rtol=1e-12)
    assert_close(
        functional.multiclass_accuracy(logits, target, 5, average="micro"),
        sk.accuracy_score(target, preds),
    )
    assert_close(
        functional.multiclass_accuracy(logits, target, 5, average="micro", top_k=3),
        sk.top_k_accuracy_score(target, logits, k=3, labels=range(5)),
    )


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_multiclass_kappa_and_confusion(rng, weights):
    logits, target = multiclass_data(rng)
    preds = logits.argmax(axis=1)
    assert_close(
        functional.multiclass_cohen_kappa(logits, target, 5, weights=weights),
        sk.cohen_kappa_score(target, preds, weights=weights, labels=range(5)),
    )
    for normalize in [None, "true", "pred", "all"]:
        np.testing.assert_allclose(
            functional.multiclass_confusion_matrix(logits, target, 5, normalize=normalize),
            sk.confusion_matrix(target, preds, labels=range(5), normalize=normalize),
            rtol=1e-12,
        )
    assert_close(
        functional.multiclass_matthews_corrcoef(logits, target, 5),
        sk.matthews_corrcoef(target, preds),
    )


@pytest.mark.parametrize("average", ["micro", "macro", "weighted"])
def test_multilabel_matches_sklearn(rng, average):
    probs = np.round(rng.random((120, 4)), 2)
    target = rng.integers(0, 2, (120, 4))
    preds = (probs > 0.5).astype(int)
    for name, reference in [
        ("multilabel_precision", sk.precision_score),
        ("multilabel_recall", sk.recall_score),
        ("multilabel_f1_score", sk.f1_score),
        ("multilabel_jaccard_index", sk.jaccard_score),
    ]:
        value = getattr(functional, name)(probs, target, 4, average=average)
        assert_close(value, float(reference(target, preds, average=average, zero_division=0)))
    assert_close(
        functional.multilabel_exact_match(probs, target, 4), sk.accuracy_score(target, preds)
    )
    assert_close(
        functional.multilabel_hamming_distance(probs, target, 4, average="micro"),
        sk.hamming_loss(target, preds),
    )


def test_undefined_precision_zero_division(rng):
    preds = np.zeros(10, dtype=int)
    target = rng.integers(0, 2, 10)
    for zero_division in [0.0, 1.0]:
        expected = sk.precision_score(target, preds, zero_division=zero_division)
        assert_close(
            functional.binary_precision(preds, target, zero_division=zero_division), expected
        )
    value = functional.binary_precision(preds, target, zero_division=float("nan"))
    assert np.isnan(value)


def test_single_class_agreement():
    labels = np.ones(5, dtype=int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected_mcc = sk.matthews_corrcoef(labels, labels)
        expected = sk.cohen_kappa_score(labels, labels)
    assert_close(functional.binary_matthews_corrcoef(labels, labels), expected_mcc)
    assert np.isnan(expected)
    assert np.isnan(functional.binary_cohen_kappa(labels, labels))


def test_binary_curves_match_sklearn(rng):
    probs, target = binary_data(rng)
    precision, recall, thresholds = functional.binary_precision_recall_curve(probs, target)
    sk_precision, sk_recall, sk_thresholds = sk.precision_recall_curve(target, probs)
    np.testing.assert_allclose(precision, sk_precision, rtol=1e-12)
    np.testing.assert_allclose(recall, sk_recall, rtol=1e-12)
    np.testing.assert_array_equal(thresholds, sk_thresholds)

    fpr, tpr, roc_thresholds = functional.binary_roc(probs, target)
    sk_fpr, sk_tpr, sk_roc_thresholds = sk.roc_curve(target, probs, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr, rtol=1e-12)
    np.testing.assert_allclose(tpr, sk_tpr, rtol=1e-12)
    np.testing.assert_array_equal(roc_thresholds, sk_roc_thresholds)

    assert_close(functional.binary_auroc(probs, target), sk.roc_auc_score(target, probs))
    for max_fpr in [0.1, 0.5]:
        assert_close(
            functional.binary_auroc(probs, target, max_fpr=max_fpr),
            sk.roc_auc_score(target, probs, max_fpr=max_fpr),
        )
    assert_close(
        functional.binary_average_precision(probs, target),
        sk.average_precision_score(target, probs),
    )


def float32_edge_case(name: str, rng: np.random.Generator):
    """Return float32 scores and int targets for one edge case of the float32 curve path."""
    tiny = np.float32(np.finfo(np.float32).smallest_subnormal)
    if name == "all_equal":
        return np.full(1000, 0.5, dtype=np.float32), rng.integers(0, 2, 1000)
    if name == "two_samples":
        return np.array([0.25, 0.75], dtype=np.float32), np.array([0, 1])
    if name == "signed_zeros_and_subnormals":
        values = np.array([0.0, -0.0, tiny, 2 * tiny, 1.0, 0.5], dtype=np.float32)
        return rng.choice(values, 5000), rng.integers(0, 2, 5000)
    if name == "two_values_far_apart":
        scores = np.where(rng.random(20_000) < 0.5, 1e-30, 0.75).astype(np.float32)
        return scores, rng.integers(0, 2, 20_000)
    # Longer than two chunks of the parallel passes and not a multiple of them, with ties.
    n = 2 * 2**18 + 12_345
    scores = (np.round(rng.random(n) * 5000) / 5000).astype(np.float32)
    return scores, rng.integers(0, 2, n)


@pytest.mark.parametrize(
    "case",
    ["all_equal", "two_samples", "signed_zeros_and_subnormals", "two_values_far_apart", "long"],
)
def test_binary_float32_edge_cases_match_sklearn(rng, case):
    probs, target = float32_edge_case(case, rng)
    sk_probs = probs.astype(np.float64)
    assert_close(functional.binary_auroc(probs, target), sk.roc_auc_score(target, sk_probs))
    assert_close(
        functional.binary_average_precision(probs, target),
        sk.average_precision_score(target, sk_probs),
    )
    fpr, tpr, thresholds = functional.binary_roc(probs, target)
    sk_fpr, sk_tpr, sk_thresholds = sk.roc_curve(target, sk_probs, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr, rtol=1e-12)
    np.testing.assert_allclose(tpr, sk_tpr, rtol=1e-12)
    np.testing.assert_array_equal(thresholds, sk_thresholds)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_average_precision_no_positives_is_positive_zero(dtype):
    probs = np.array([0.1, 0.4, 0.4, 0.9], dtype=dtype)
    target = np.zeros(4, dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = sk.average_precision_score(target, probs.astype(np.float64))

    value = functional.binary_average_precision(probs, target)

    assert value == expected == 0.0
    assert np.copysign(1.0, value) == np.copysign(1.0, expected) == 1.0


def test_binary_float32_matches_float64_input(rng):
    # The float32 path and the float64 path agree bit for bit on the same values.
    probs, target = float32_edge_case("long", rng)
    wide = probs.astype(np.float64) + 0.0
    narrow_auroc = functional.binary_auroc(probs, target)
    wide_auroc = functional.binary_auroc(wide, target)
    assert narrow_auroc == wide_auroc
    narrow_ap = functional.binary_average_precision(probs, target)
    wide_ap = functional.binary_average_precision(wide, target)
    assert narrow_ap == wide_ap
    narrow_roc = functional.binary_roc(probs, target)
    wide_roc = functional.binary_roc(wide, target)
    for narrow_part, wide_part in zip(narrow_roc, wide_roc):
        np.testing.assert_array_equal(narrow_part, wide_part)


def test_binary_float32_curves_match_sklearn(rng):
    # float32 scores take the bucketed radix sort. Rounding to 1/64 gives long ties and both
    # zeros, and two batches with ignored targets exercise the appended state.
    n = 100_000
    probs = (np.round(rng.random(n) * 64) / 64).astype(np.float32)
    probs[::97] = -0.0
    target = rng.integers(0, 2, n)
    target[::13] = -1
    kept = target != -1
    metrics = [
        classification.BinaryAUROC(ignore_index=-1),
        classification.BinaryAveragePrecision(ignore_index=-1),
        classification.BinaryROC(ignore_index=-1),
        classification.BinaryPrecisionRecallCurve(ignore_index=-1),
    ]
    for metric in metrics:
        metric.update(probs[: n // 3], target[: n // 3])
        metric.update(probs[n // 3 :], target[n // 3 :])
    auroc, average_precision, roc, pr_curve = (metric.compute() for metric in metrics)

    sk_target, sk_probs = target[kept], probs[kept].astype(np.float64)
    assert_close(auroc, sk.roc_auc_score(sk_target, sk_probs))
    assert_close(average_precision, sk.average_precision_score(sk_target, sk_probs))
    sk_fpr, sk_tpr, sk_roc_thresholds = sk.roc_curve(sk_target, sk_probs, drop_intermediate=False)
    np.testing.assert_allclose(roc[0], sk_fpr, rtol=1e-12)
    np.testing.assert_allclose(roc[1], sk_tpr, rtol=1e-12)
    np.testing.assert_array_equal(roc[2], sk_roc_thresholds)
    sk_precision, sk_recall, sk_thresholds = sk.precision_recall_curve(sk_target, sk_probs)
    np.testing.assert_allclose(pr_curve[0], sk_precision, rtol=1e-12)
    np.testing.assert_allclose(pr_curve[1], sk_recall, rtol=1e-12)
    np.testing.assert_array_equal(pr_curve[2], sk_thresholds)


@pytest.mark.parametrize("average", ["macro", "weighted", "micro"])
def test_multiclass_areas_match_sklearn(rng, average):
    logits, target = multiclass_data(rng)
    onehot = np.eye(5, dtype=int)[target]
    probs = softmax(logits)
    assert_close(
        functional.multiclass_auroc(logits, target, 5, average=average),
        sk.roc_auc_score(onehot, probs, average=average),
    )
    assert_close(
        functional.multiclass_average_precision(logits, target, 5, average=average),
        sk.average_precision_score(onehot, probs, average=average),
    )


def test_binned_curve_state_is_bounded(rng):
    probs, target = binary_data(rng)
    metric = classification.BinaryAUROC(thresholds=5)
    metric.update(probs, target)
    small = len(metric.state_dict()["state"])
    metric.update(np.tile(probs, 20), np.tile(target, 20))
    # Counts grow by a few bytes of varint encoding; 4000 kept scores would add 36000 bytes.
    assert len(metric.state_dict()["state"]) < small + 64


def test_ranking_matches_sklearn(rng):
    scores = np.round(rng.random((80, 6)), 1)
    target = rng.integers(0, 2, (80, 6))
    target[:3] = 0
    assert_close(
        functional.multilabel_coverage_error(scores, target, 6), sk.coverage_error(target, scores)
    )
    assert_close(
        functional.multilabel_ranking_average_precision(scores, target, 6),
        sk.label_ranking_average_precision_score(target, scores),
    )
    assert_close(
        functional.multilabel_ranking_loss(scores, target, 6), sk.label_ranking_loss(target, scores)
    )


def test_hinge_matches_sklearn(rng):
    decision = np.round(rng.normal(0, 2, 100), 3)
    target = rng.integers(0, 2, 100)
    assert_close(functional.binary_hinge_loss(decision, target), sk.hinge_loss(target, decision))
    logits, mc_target = multiclass_data(rng)
    assert_close(
        functional.multiclass_hinge_loss(logits, mc_target, 5),
        sk.hinge_loss(mc_target, logits, labels=range(5)),
    )


def test_dispatcher_returns_task_class():
    metric = classification.Accuracy(task="multiclass", num_classes=3)
    assert type(metric) is classification.MulticlassAccuracy
    assert metric._options["average"] == "micro"
    binary = classification.F1Score(task="binary", num_classes=None, threshold=0.3)
    assert type(binary) is classification.BinaryF1Score
    with pytest.raises(ValueError, match="task"):
        classification.Accuracy(task="regression")


def test_batches_merge_pickle(rng):
    logits, target = multiclass_data(rng)
    whole = classification.MulticlassF1Score(5)
    whole.update(logits, target)
    left, right = classification.MulticlassF1Score(5), classification.MulticlassF1Score(5)
    left.update(logits[:100], target[:100])
    right.update(logits[100:], target[100:])
    left.merge_state(pickle.loads(pickle.dumps(right)))
    assert left.compute() == whole.compute()


def test_rejected_batch_keeps_state(rng):
    logits, target = multiclass_data(rng)
    metric = classification.MulticlassRecall(5)
    metric.update(logits, target)
    before = metric.compute()
    with pytest.raises(ValueError, match="class index 9 at index"):
        metric.update(np.array([0, 1]), np.array([9, 1]))
    with pytest.raises(ValueError, match="5 entries along dimension 1|num_classes"):
        metric.update(np.zeros((2, 4)), np.array([0, 1]))
    with pytest.raises(TypeError, match="integer labels"):
        metric.update(np.array([0, 1]), np.array([0.0, 1.0]))
    assert metric.compute() == before


def test_collection_shares_counts(rng):
    logits, target = multiclass_data(rng)
    collection = MetricCollection(
        {
            "precision": classification.MulticlassPrecision(5),
            "recall": classification.MulticlassRecall(5),
        }
    )
    collection.update(logits, target)
    values = collection.compute()
    preds = logits.argmax(axis=1)
    assert_close(values["precision"], sk.precision_score(target, preds, average="macro"))
    assert_close(values["recall"], sk.recall_score(target, preds, average="macro"))


def test_fairness_rates_by_group(rng):
    preds = rng.integers(0, 2, 60)
    target = rng.integers(0, 2, 60)
    groups = rng.integers(0, 3, 60)
    rates = functional.binary_groups_stat_rates(preds, target, groups, 3)
    for group in range(3):
        inside = groups == group
        tn, fp, fn, tp = sk.confusion_matrix(target[inside], preds[inside], labels=[0, 1]).ravel()
        expected = np.array([tp, fp, tn, fn]) / inside.sum()
        np.testing.assert_allclose(rates[f"group_{group}"], expected, rtol=1e-12)

    result = functional.binary_fairness(preds, target, groups, 3, task="demographic_parity")
    positive_rates = [preds[groups == g].mean() for g in range(3)]
    low, high = int(np.argmin(positive_rates)), int(np.argmax(positive_rates))
    assert list(result) == [f"DP_{low}_{high}"]
    assert_close(result[f"DP_{low}_{high}"], positive_rates[low] / positive_rates[high])


def test_fairness_rejects_bad_group():
    metric = classification.BinaryFairness(2)
    with pytest.raises(ValueError, match="group 2 at index"):
        metric.update(np.array([0, 1]), np.array([0, 1]), np.array([0, 2]))
    with pytest.raises(TypeError, match="groups"):
        metric._native.update(np.array([0, 1]), np.array([0, 1]))


def test_thresholds_forms_agree(rng):
    probs, target = binary_data(rng)
    # i / 10 rounded once, as the native bins; np.linspace rounds 0.3 up to 0.30000000000000004.
    grid = np.arange(11) / 10
    from_int = functional.binary_average_precision(probs, target, thresholds=11)
    from_numpy_int = functional.binary_average_precision(probs, target, thresholds=np.int64(11))
    from_array = functional.binary_average_precision(probs, target, thresholds=grid)
    from_list = functional.binary_average_precision(probs, target, thresholds=list(grid))
    assert from_int == from_numpy_int
    assert from_array == from_int
    assert from_array == from_list


@pytest.mark.parametrize("ignore_index", [None, -1, 3])
def test_functional_float32_curves_equal_update(rng, ignore_index):
    scores = (rng.integers(0, 500, 30_000) / 499).astype(np.float32)
    target = rng.integers(0, 2, 30_000)
    if ignore_index is not None:
        target[::7] = ignore_index
    kept = target != ignore_index
    pairs = [
        (classification.BinaryAUROC, functional.binary_auroc),
        (classification.BinaryAveragePrecision, functional.binary_average_precision),
        (classification.BinaryROC, functional.binary_roc),
    ]
    for metric_class, function in pairs:
        metric = metric_class(ignore_index=ignore_index)
        metric.update(scores, target)
        expected = metric.compute()
        got = function(scores, target, ignore_index=ignore_index)
        if metric_class is classification.BinaryROC:
            assert len(got) == len(expected)
            for got_part, expected_part in zip(got, expected):
                np.testing.assert_array_equal(np.asarray(got_part), np.asarray(expected_part))
        else:
            assert got == expected
    assert functional.binary_auroc(scores, target, ignore_index=ignore_index) == (
        sk.roc_auc_score(target[kept], scores[kept])
    )


@pytest.mark.parametrize(
    "scores, target, message",
    [
        ([0.5, np.nan, 0.25], [1, 0, 1], "preds"),
        ([0.5, 0.75, 0.25], [1, 2, 0], "target"),
        ([0.5, 0.75, 0.25], [1, -1, 0], "target"),
    ],
)
def test_functional_float32_curves_reject_invalid(scores, target, message):
    scores = np.asarray(scores, dtype=np.float32)
    target = np.asarray(target)
    with pytest.raises(ValueError, match=message) as functional_error:
        functional.binary_auroc(scores, target)
    metric = classification.BinaryAUROC()
    with pytest.raises(ValueError) as update_error:
        metric.update(scores, target)
    assert str(functional_error.value) == str(update_error.value)
