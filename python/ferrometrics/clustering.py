"""Clustering metrics with TorchMetrics' class names and arguments.

Extrinsic metrics compare predicted cluster labels ``preds`` with true labels ``target`` and
keep a contingency table as their state, so their memory does not grow with the number of
samples. Intrinsic metrics judge a clustering of feature rows ``data`` by its ``labels`` alone.

Labels are integers of any dtype (float labels raise ``TypeError``). Features are float32 or
float64, and other numeric dtypes are converted to float64. An intrinsic metric keeps the
precision of the first batch after a reset and casts later batches to it, so a float64 value
beyond the float32 range after a float32 first batch raises ``ValueError``.
"""

from __future__ import annotations

from typing import Any, Optional

from ferrometrics.functional.clustering import check_label_range, check_num_classes
from ferrometrics.metric import Metric

__all__ = [
    "AdjustedMutualInfoScore",
    "AdjustedRandScore",
    "CalinskiHarabaszScore",
    "ClusterAccuracy",
    "CompletenessScore",
    "DaviesBouldinScore",
    "DunnIndex",
    "FowlkesMallowsIndex",
    "HomogeneityScore",
    "MutualInfoScore",
    "NormalizedMutualInfoScore",
    "RandScore",
    "SilhouetteScore",
    "VMeasureScore",
]


class _ExtrinsicMetric(Metric):
    """A metric over predicted and true cluster labels of the same samples."""

    def update(self, preds: Any, target: Any) -> None:
        """Add a batch of predicted labels ``preds`` and true labels ``target``."""
        self._update(preds, target)

    def forward(self, preds: Any, target: Any) -> float:
        """Return the batch's own value and add the batch to the state."""
        return self._forward(preds, target)


class _IntrinsicMetric(Metric):
    """A metric over feature rows and the cluster label of each row.

    The first batch after a reset sets the precision: float16 and float32 data give float32,
    and any other numeric dtype gives float64. Later batches are cast to that precision, and a value
    that float32 cannot represent raises ``ValueError``.
    """

    def update(self, data: Any, labels: Any) -> None:
        """Add a batch of feature rows ``data`` (samples x features) and their ``labels``."""
        self._update(data, labels)

    def forward(self, data: Any, labels: Any) -> float:
        """Return the batch's own value and add the batch to the state."""
        return self._forward(data, labels)


class MutualInfoScore(_ExtrinsicMetric):
    """Mutual information between predicted and true labels, in nats."""

    _native_name = "MutualInfoScore"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__({}, kwargs)


class NormalizedMutualInfoScore(_ExtrinsicMetric):
    """Mutual information divided by a mean of the two label entropies.

    ``average_method`` is ``"min"``, ``"geometric"``, ``"arithmetic"`` or ``"max"``.
    """

    _native_name = "NormalizedMutualInfoScore"

    def __init__(self, average_method: str = "arithmetic", **kwargs: Any) -> None:
        super().__init__({"average_method": average_method}, kwargs)


class AdjustedMutualInfoScore(_ExtrinsicMetric):
    """Mutual information adjusted for chance, normalized by a mean of the two entropies.

    ``average_method`` is ``"min"``, ``"geometric"``, ``"arithmetic"`` or ``"max"``.
    """

    _native_name = "AdjustedMutualInfoScore"

    def __init__(self, average_method: str = "arithmetic", **kwargs: Any) -> None:
        super().__init__({"average_method": average_method}, kwargs)


class RandScore(_ExtrinsicMetric):
    """Rand index: the fraction of sample pairs on which both labelings agree."""

    _native_name = "RandScore"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__({}, kwargs)


class AdjustedRandScore(_ExtrinsicMetric):
    """Rand index adjusted for chance: 0 for random labelings, 1 for identical ones."""

    _native_name = "AdjustedRandScore"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__({}, kwargs)


class FowlkesMallowsIndex(_ExtrinsicMetric):
    """Geometric mean of the pairwise precision and recall of the predicted clustering."""

    _native_name = "FowlkesMallowsIndex"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__({}, kwargs)


class HomogeneityScore(_ExtrinsicMetric):
    """Homogeneity: 1 when each predicted cluster contains members of a single class."""

    _native_name = "HomogeneityScore"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__({}, kwargs)


class CompletenessScore(_ExtrinsicMetric):
    """Completeness: 1 when all members of each class fall in one predicted cluster."""

    _native_name = "CompletenessScore"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__({}, kwargs)


class VMeasureScore(_ExtrinsicMetric):
    """Weighted harmonic mean of homogeneity and completeness.

    ``beta`` weighs completeness against homogeneity and must be positive and finite.
    """

    _native_name = "VMeasureScore"

    def __init__(self, beta: float = 1.0, **kwargs: Any) -> None:
        super().__init__({"beta": beta}, kwargs)


class ClusterAccuracy(_ExtrinsicMetric):
    """Accuracy under the one-to-one matching of predicted clusters to classes that maximizes it.

    ``num_classes`` is optional because the state is a sparse contingency table. When it is
    given, every label must lie in ``[0, num_classes)``, as TorchMetrics requires.
    """

    _native_name = "ClusterAccuracy"

    def __init__(self, num_classes: Optional[int] = None, **kwargs: Any) -> None:
        check_num_classes(num_classes)
        super().__init__({}, kwargs)
        self.num_classes = None if num_classes is None else int(num_classes)

    def _validate_batch(self, first: Any, second: Any) -> None:
        check_label_range("preds", first, self.num_classes)
        check_label_range("target", second, self.num_classes)

    def _check_incoming(self, incoming_state: Any, other_native: Any) -> None:
        if self.num_classes is None:
            return
        if isinstance(incoming_state, ClusterAccuracy) and (
            incoming_state.num_classes != self.num_classes
        ):
            raise ValueError(
                f"cannot merge a ClusterAccuracy(num_classes={incoming_state.num_classes!r}) "
                f"state into a ClusterAccuracy(num_classes={self.num_classes}) state; "
                "create both with the same num_classes"
            )
        label_range = other_native.label_range()
        if label_range is None:
            return
        low, high = label_range
        if low < 0 or high >= self.num_classes:
            bad = low if low < 0 else high
            raise ValueError(
                f"cannot merge a state with label {bad} into ClusterAccuracy(num_classes="
                f"{self.num_classes}), whose labels lie in [0, {self.num_classes})"
            )

    def __repr__(self) -> str:
        if self.num_classes is None:
            return "ClusterAccuracy()"
        return f"ClusterAccuracy(num_classes={self.num_classes!r})"


class CalinskiHarabaszScore(_IntrinsicMetric):
    """Ratio of between-cluster to within-cluster dispersion (variance ratio criterion).

    The first batch sets the precision (float32 for float16 and float32 data, else float64), and
    later batches are cast to it.
    """

    _native_name = "CalinskiHarabaszScore"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__({}, kwargs)


class DaviesBouldinScore(_IntrinsicMetric):
    """Mean over clusters of the worst ratio of within-cluster scatter to centroid distance.

    Lower is better, so ``higher_is_better`` is ``False``. The first batch sets the precision
    (float32 for float16 and float32 data, else float64), and later batches are cast to it.
    """

    _native_name = "DaviesBouldinScore"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__({}, kwargs)


class DunnIndex(_IntrinsicMetric):
    """Smallest distance between clusters divided by the largest cluster diameter.

    ``p`` is the order of the Minkowski distance (``float("inf")`` for the maximum norm).
    ``definition`` is ``"centroid"`` (TorchMetrics' distances between and within clusters,
    measured to centroids) or ``"pairwise"`` (Dunn's definition over pairs of samples).
    The first batch sets the precision (float32 for float16 and float32 data, else float64), and
    later batches are cast to it.
    """

    _native_name = "DunnIndex"

    def __init__(self, p: float = 2, definition: str = "centroid", **kwargs: Any) -> None:
        super().__init__({"p": p, "definition": definition}, kwargs)


class SilhouetteScore(_IntrinsicMetric):
    """Mean silhouette coefficient over the samples, as scikit-learn's ``silhouette_score``.

    With ``sample_size`` the mean runs over that many samples drawn without replacement by a
    generator seeded with ``seed``, so repeated computations agree. The first batch sets the
    precision (float32 for float16 and float32 data, else float64), and later batches are cast
    to it.
    """

    _native_name = "SilhouetteScore"

    def __init__(self, sample_size: Optional[int] = None, seed: int = 0, **kwargs: Any) -> None:
        super().__init__({"sample_size": sample_size, "seed": seed}, kwargs)
