"""Clustering metrics as functions over whole inputs, with TorchMetrics' names and arguments.

Extrinsic functions take predicted labels ``preds`` first and true labels ``target`` second, as
TorchMetrics does. ``contingency_matrix`` and ``pair_confusion_matrix`` take scikit-learn's
``labels_true, labels_pred`` order and return int64 arrays as scikit-learn does. Every function
runs in the native library with the GIL released.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ferrometrics import _native

__all__ = [
    "adjusted_mutual_info_score",
    "adjusted_rand_score",
    "calinski_harabasz_score",
    "cluster_accuracy",
    "completeness_score",
    "contingency_matrix",
    "davies_bouldin_score",
    "dunn_index",
    "fowlkes_mallows_index",
    "homogeneity_score",
    "mutual_info_score",
    "normalized_mutual_info_score",
    "pair_confusion_matrix",
    "rand_score",
    "silhouette_score",
    "v_measure_score",
]


def mutual_info_score(preds: Any, target: Any) -> float:
    """Compute the mutual information between predicted and true labels, in nats."""
    return _native.mutual_info_score(preds, target)


def normalized_mutual_info_score(
    preds: Any, target: Any, average_method: str = "arithmetic"
) -> float:
    """Compute the mutual information divided by a mean of the two entropies.

    ``average_method`` is ``"min"``, ``"geometric"``, ``"arithmetic"`` or ``"max"``.
    """
    return _native.normalized_mutual_info_score(preds, target, average_method)


def adjusted_mutual_info_score(
    preds: Any, target: Any, average_method: str = "arithmetic"
) -> float:
    """Compute the mutual information adjusted for chance.

    ``average_method`` is ``"min"``, ``"geometric"``, ``"arithmetic"`` or ``"max"``.
    """
    return _native.adjusted_mutual_info_score(preds, target, average_method)


def rand_score(preds: Any, target: Any) -> float:
    """Compute the Rand index: the fraction of sample pairs on which both labelings agree."""
    return _native.rand_score(preds, target)


def adjusted_rand_score(preds: Any, target: Any) -> float:
    """Compute the Rand index adjusted for chance."""
    return _native.adjusted_rand_score(preds, target)


def fowlkes_mallows_index(preds: Any, target: Any) -> float:
    """Compute the geometric mean of pairwise precision and recall of the predicted clustering."""
    return _native.fowlkes_mallows_index(preds, target)


def homogeneity_score(preds: Any, target: Any) -> float:
    """Compute homogeneity: 1 when each predicted cluster contains members of one class."""
    return _native.homogeneity_score(preds, target)


def completeness_score(preds: Any, target: Any) -> float:
    """Compute completeness: 1 when all members of each class fall in one predicted cluster."""
    return _native.completeness_score(preds, target)


def v_measure_score(preds: Any, target: Any, beta: float = 1.0) -> float:
    """Compute the weighted harmonic mean of homogeneity and completeness."""
    return _native.v_measure_score(preds, target, beta)


def cluster_accuracy(preds: Any, target: Any, num_classes: Optional[int] = None) -> float:
    """Compute accuracy under the one-to-one matching of clusters to classes that maximizes it.

    ``num_classes``, when given, bounds the labels to ``[0, num_classes)`` as TorchMetrics
    requires. The value does not depend on it.
    """
    check_num_classes(num_classes)
    check_label_range("preds", preds, num_classes)
    check_label_range("target", target, num_classes)
    return _native.cluster_accuracy(preds, target)


def check_num_classes(num_classes: Any) -> None:
    """Raise if ``num_classes`` is neither None nor a positive integer (bools are rejected)."""
    if num_classes is None:
        return
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(
            f"invalid type for `num_classes`: expected a positive integer or None, "
            f"got {num_classes!r}"
        )
    if num_classes < 1:
        raise ValueError(
            f"invalid value for `num_classes`: expected a positive integer, got {num_classes}"
        )


def check_label_range(argument: str, labels: Any, num_classes: Optional[int]) -> None:
    """Raise ``ValueError`` if an integer label of ``labels`` lies outside ``[0, num_classes)``.

    Non-integer inputs pass, so that the native conversion reports their type.
    """
    if num_classes is None:
        return
    array = np.asarray(labels)
    if array.size == 0 or array.dtype.kind not in "iub":
        return
    low, high = array.min(), array.max()
    if low < 0 or high >= num_classes:
        bad = low if low < 0 else high
        raise ValueError(
            f"invalid input `{argument}`: label {bad} is outside [0, {num_classes}); "
            "raise num_classes or pass num_classes=None"
        )


def contingency_matrix(labels_true: Any, labels_pred: Any) -> np.ndarray:
    """Count the samples per (true label, predicted label), rows and columns in sorted order."""
    return _native.contingency_matrix(labels_true, labels_pred)


def pair_confusion_matrix(labels_true: Any, labels_pred: Any) -> np.ndarray:
    """Compute scikit-learn's 2x2 pair confusion matrix over ordered pairs of distinct samples."""
    return _native.pair_confusion_matrix(labels_true, labels_pred)


def calinski_harabasz_score(data: Any, labels: Any) -> float:
    """Compute the ratio of between-cluster to within-cluster dispersion (Calinski-Harabasz)."""
    return _native.calinski_harabasz_score(data, labels)


def davies_bouldin_score(data: Any, labels: Any) -> float:
    """Compute the Davies-Bouldin score: the mean worst ratio of scatter to centroid distance."""
    return _native.davies_bouldin_score(data, labels)


def dunn_index(data: Any, labels: Any, p: float = 2, definition: str = "centroid") -> float:
    """Compute the smallest distance between clusters divided by the largest cluster diameter.

    ``p`` is the order of the Minkowski distance. ``definition`` is ``"centroid"`` or
    ``"pairwise"``.
    """
    return _native.dunn_index(data, labels, p, definition)


def silhouette_score(
    data: Any, labels: Any, sample_size: Optional[int] = None, seed: int = 0
) -> float:
    """Compute the mean silhouette coefficient, over ``sample_size`` seeded samples if given."""
    return _native.silhouette_score(data, labels, sample_size, seed)
