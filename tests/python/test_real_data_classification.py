"""Every classification metric that scikit-learn has, on its bundled breast_cancer (binary) and
digits (multiclass) datasets scored by a logistic regression, and binned curves against the
exact curve."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets
from sklearn import metrics as sk
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from conftest import assert_close
from ferrometrics import classification
from ferrometrics.functional import classification as functional


def fitted_scores(loader):
    """Return held-out class probabilities of a logistic regression and the true labels.

    Every other sample trains the model and the rest is scored, so the predictions contain
    errors.
    """
    bunch = loader()
    data = StandardScaler().fit_transform(bunch.data)
    target = bunch.target.astype(np.int64)
    train, test = slice(0, None, 2), slice(1, None, 2)
    model = LogisticRegression(max_iter=10_000).fit(data[train], target[train])
    return model.predict_proba(data[test]), target[test]


@pytest.fixture(scope="module", name="cancer")
def fixture_cancer():
    probabilities, target = fitted_scores(datasets.load_breast_cancer)
    return probabilities[:, 1], target


@pytest.fixture(scope="module", name="digits")
def fixture_digits():
    return fitted_scores(datasets.load_digits)


def specificity(target, preds, labels, average):
    """Return the recall of the negatives of each class, reduced as TorchMetrics does."""
    matrices = sk.multilabel_confusion_matrix(target, preds, labels=labels)
    tn, fp, fn, tp = (matrices[:, i, j] for i, j in ((0, 0), (0, 1), (1, 0), (1, 1)))
    if average == "micro":
        return tn.sum() / (tn.sum() + fp.sum())
    values = tn / (tn + fp)
    if average == "weighted":
        return np.average(values, weights=tp + fn)
    return values.mean()


BINARY_LABEL_CASES = [
    ("binary_accuracy", {}, sk.accuracy_score),
    ("binary_precision", {}, sk.precision_score),
    ("binary_recall", {}, sk.recall_score),
    ("binary_f1_score", {}, sk.f1_score),
    ("binary_fbeta_score", {"beta": 0.5}, lambda t, p: sk.fbeta_score(t, p, beta=0.5)),
    ("binary_specificity", {}, lambda t, p: sk.recall_score(t, p, pos_label=0)),
    ("binary_negative_predictive_value", {}, lambda t, p: sk.precision_score(t, p, pos_label=0)),
    ("binary_hamming_distance", {}, sk.hamming_loss),
    ("binary_jaccard_index", {}, sk.jaccard_score),
    ("binary_cohen_kappa", {}, sk.cohen_kappa_score),
    ("binary_matthews_corrcoef", {}, sk.matthews_corrcoef),
]


@pytest.mark.parametrize("name, kwargs, reference", BINARY_LABEL_CASES)
def test_breast_cancer_label_metrics(cancer, name, kwargs, reference):
    probabilities, target = cancer
    preds = (probabilities > 0.5).astype(np.int64)
    value = getattr(functional, name)(probabilities, target, **kwargs)
    assert_close(float(value), float(reference(target, preds)))


def test_breast_cancer_confusion_matrix(cancer):
    probabilities, target = cancer
    preds = (probabilities > 0.5).astype(np.int64)
    for normalize in (None, "true", "pred", "all"):
        value = functional.binary_confusion_matrix(probabilities, target, normalize=normalize)
        expected = sk.confusion_matrix(target, preds, normalize=normalize)
        np.testing.assert_allclose(np.asarray(value), expected, rtol=1e-12)


def test_breast_cancer_score_metrics(cancer):
    probabilities, target = cancer
    assert_close(
        float(functional.binary_auroc(probabilities, target)),
        sk.roc_auc_score(target, probabilities),
    )
    assert_close(
        float(functional.binary_auroc(probabilities, target, max_fpr=0.1)),
        sk.roc_auc_score(target, probabilities, max_fpr=0.1),
    )
    assert_close(
        float(functional.binary_average_precision(probabilities, target)),
        sk.average_precision_score(target, probabilities),
    )
    # TorchMetrics' binary hinge loss maps the targets to -1/+1, as scikit-learn's.
    decision = probabilities * 2 - 1
    assert_close(
        float(functional.binary_hinge_loss(decision, target)),
        sk.hinge_loss(target * 2 - 1, decision),
    )


def test_breast_cancer_curves(cancer):
    probabilities, target = cancer
    fpr, tpr, thresholds = functional.binary_roc(probabilities, target)
    sk_fpr, sk_tpr, sk_thresholds = sk.roc_curve(target, probabilities, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr, rtol=1e-12)
    np.testing.assert_allclose(tpr, sk_tpr, rtol=1e-12)
    np.testing.assert_allclose(thresholds[1:], sk_thresholds[1:], rtol=1e-12)

    precision, recall, thresholds = functional.binary_precision_recall_curve(
        probabilities, target
    )
    sk_precision, sk_recall, sk_thresholds = sk.precision_recall_curve(target, probabilities)
    np.testing.assert_allclose(precision, sk_precision, rtol=1e-12)
    np.testing.assert_allclose(recall, sk_recall, rtol=1e-12)
    np.testing.assert_allclose(thresholds, sk_thresholds, rtol=1e-12)


MULTICLASS_LABEL_CASES = [
    ("multiclass_precision", {}, sk.precision_score),
    ("multiclass_recall", {}, sk.recall_score),
    ("multiclass_f1_score", {}, sk.f1_score),
    (
        "multiclass_fbeta_score",
        {"beta": 2.0},
        lambda t, p, **kw: sk.fbeta_score(t, p, beta=2.0, **kw),
    ),
    ("multiclass_jaccard_index", {}, sk.jaccard_score),
    ("multiclass_specificity", {}, None),
]


@pytest.mark.parametrize("name, kwargs, reference", MULTICLASS_LABEL_CASES)
@pytest.mark.parametrize("average", ["micro", "macro", "weighted"])
def test_digits_averaged_metrics(digits, name, kwargs, reference, average):
    probabilities, target = digits
    preds = probabilities.argmax(axis=1)
    labels = list(range(10))
    value = getattr(functional, name)(
        probabilities, target, num_classes=10, average=average, **kwargs
    )
    if reference is None:
        expected = specificity(target, preds, labels, average)
    else:
        expected = reference(target, preds, labels=labels, average=average, zero_division=0)
    assert_close(float(value), float(expected))


def test_digits_agreement_metrics(digits):
    probabilities, target = digits
    preds = probabilities.argmax(axis=1)
    assert_close(
        float(functional.multiclass_accuracy(probabilities, target, 10, average="micro")),
        sk.accuracy_score(target, preds),
    )
    assert_close(
        float(functional.multiclass_accuracy(probabilities, target, 10, average="macro")),
        sk.balanced_accuracy_score(target, preds),
    )
    assert_close(
        float(functional.multiclass_hamming_distance(probabilities, target, 10, average="micro")),
        sk.hamming_loss(target, preds),
    )
    assert_close(
        float(functional.multiclass_matthews_corrcoef(probabilities, target, 10)),
        sk.matthews_corrcoef(target, preds),
    )
    assert_close(
        float(functional.multiclass_exact_match(probabilities.argmax(axis=1), target, 10)),
        sk.accuracy_score(target, preds),
    )
    for weights in (None, "linear", "quadratic"):
        value = functional.multiclass_cohen_kappa(probabilities, target, 10, weights=weights)
        assert_close(float(value), sk.cohen_kappa_score(target, preds, weights=weights))


def test_digits_top_k_accuracy(digits):
    probabilities, target = digits
    for k in (2, 3):
        value = functional.multiclass_accuracy(
            probabilities, target, 10, top_k=k, average="micro"
        )
        expected = sk.top_k_accuracy_score(target, probabilities, k=k, labels=list(range(10)))
        assert_close(float(value), expected)


def test_digits_confusion_matrix(digits):
    probabilities, target = digits
    preds = probabilities.argmax(axis=1)
    for normalize in (None, "true", "pred", "all"):
        value = functional.multiclass_confusion_matrix(
            probabilities, target, 10, normalize=normalize
        )
        expected = sk.confusion_matrix(target, preds, normalize=normalize)
        np.testing.assert_allclose(np.asarray(value), expected, rtol=1e-12)


def test_digits_per_class_values(digits):
    probabilities, target = digits
    preds = probabilities.argmax(axis=1)
    precision, recall, f1, _ = sk.precision_recall_fscore_support(target, preds, zero_division=0)
    for name, expected in (
        ("multiclass_precision", precision),
        ("multiclass_recall", recall),
        ("multiclass_f1_score", f1),
    ):
        value = getattr(functional, name)(probabilities, target, 10, average=None)
        np.testing.assert_allclose(np.asarray(value), expected, rtol=1e-12)


@pytest.mark.parametrize("average", ["macro", "weighted"])
def test_digits_score_metrics(digits, average):
    probabilities, target = digits
    onehot = np.eye(10, dtype=np.int64)[target]
    assert_close(
        float(functional.multiclass_auroc(probabilities, target, 10, average=average)),
        sk.roc_auc_score(onehot, probabilities, average=average),
    )
    assert_close(
        float(functional.multiclass_average_precision(probabilities, target, 10, average=average)),
        sk.average_precision_score(onehot, probabilities, average=average),
    )


def test_digits_ranking_metrics(digits):
    probabilities, target = digits
    onehot = np.eye(10, dtype=np.int64)[target]
    assert_close(
        float(functional.multilabel_coverage_error(probabilities, onehot, 10)),
        sk.coverage_error(onehot, probabilities),
    )
    assert_close(
        float(functional.multilabel_ranking_average_precision(probabilities, onehot, 10)),
        sk.label_ranking_average_precision_score(onehot, probabilities),
    )
    assert_close(
        float(functional.multilabel_ranking_loss(probabilities, onehot, 10)),
        sk.label_ranking_loss(onehot, probabilities),
    )


def test_digits_hinge_loss(digits):
    probabilities, target = digits
    value = functional.multiclass_hinge_loss(probabilities, target, 10)
    assert_close(float(value), sk.hinge_loss(target, probabilities, labels=list(range(10))))


@pytest.mark.parametrize("name", ["binary_auroc", "binary_average_precision"])
def test_binned_curve_converges_to_exact(cancer, name):
    """Binned areas approach the exact area as the number of bins grows.

    With n evenly spaced thresholds, each score is rounded by less than 1 / (n - 1) to a
    threshold, and a binned curve differs from the exact one only where a bin contains scores of
    both classes. On this data the error shrinks with every tenfold increase and vanishes at
    100001 bins, where no bin mixes classes.
    """
    probabilities, target = cancer
    metric = getattr(functional, name)
    exact = float(metric(probabilities, target))
    bin_counts = (11, 101, 1_001, 10_001, 100_001)
    errors = [
        abs(float(metric(probabilities, target, thresholds=bins)) - exact) for bins in bin_counts
    ]
    for coarse, fine in zip(errors, errors[1:]):
        assert fine <= coarse, errors
    assert errors[0] > 0, errors
    assert errors[-2] < 1e-4, errors
    assert errors[-1] < 1e-12, errors


def test_binned_roc_points_lie_on_exact_curve(cancer):
    """Every binned ROC point is a point of the exact ROC curve, or between two of its points."""
    probabilities, target = cancer
    fpr, tpr, _ = functional.binary_roc(probabilities, target, thresholds=257)
    exact_fpr, exact_tpr, _ = functional.binary_roc(probabilities, target)
    exact_points = set(zip(np.round(exact_fpr, 12), np.round(exact_tpr, 12)))
    for point in zip(np.round(fpr, 12), np.round(tpr, 12)):
        assert point in exact_points, point


def test_dispatchers_match_task_functions(cancer, digits):
    probabilities, target = cancer
    assert_close(
        float(functional.auroc(probabilities, target, task="binary")),
        float(functional.binary_auroc(probabilities, target)),
    )
    scores, labels = digits
    metric = classification.Accuracy(task="multiclass", num_classes=10)
    metric.update(scores, labels)
    assert_close(float(metric.compute()), sk.accuracy_score(labels, scores.argmax(axis=1)))


def mixed_bin_bound(scores, target, bins):
    """Return sum over bins of (fraction of negatives in the bin) * (fraction of positives).

    Binned thresholds cut the exact ROC curve only at bin edges, so inside each bin the binned
    curve is a chord across a box of that width and height, while the exact curve stays inside
    the box. The area between them is therefore at most this sum.
    """
    thresholds = np.linspace(0, 1, bins)
    bin_index = np.searchsorted(thresholds, scores, side="right") - 1
    negatives = np.bincount(bin_index[target == 0], minlength=bins) / np.sum(target == 0)
    positives = np.bincount(bin_index[target == 1], minlength=bins) / np.sum(target == 1)
    return float(np.sum(negatives * positives))


@pytest.mark.parametrize("seed", range(20))
def test_binned_auroc_error_within_bound(seed):
    """For random scores, the binned AUROC is within the mixed-bin bound of the exact AUROC,
    and the bound, so the error, shrinks toward zero as the number of bins grows.

    Each bin count's thresholds contain the previous one's, so the bins are refined and the
    bound cannot grow.
    """
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 300))
    target = rng.integers(0, 2, n)
    target[:2] = [0, 1]
    # Continuous scores in (0, 1), so that no two scores of different classes tie.
    scores = 1 / (1 + np.exp(-rng.normal(target - 0.5, 1.0)))
    exact = float(functional.binary_auroc(scores, target))
    bounds = []
    for bins in (3, 11, 101, 1_001, 10_001, 100_001):
        binned = float(functional.binary_auroc(scores, target, thresholds=bins))
        bound = mixed_bin_bound(scores, target, bins)
        assert abs(binned - exact) <= bound + 1e-12, (bins, binned, exact, bound)
        bounds.append(bound)
    for coarse, fine in zip(bounds, bounds[1:]):
        assert fine <= coarse + 1e-15, bounds
    assert bounds[-1] < 1e-3, bounds
