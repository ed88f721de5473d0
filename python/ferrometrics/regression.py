"""Regression metrics with TorchMetrics' class names and arguments.

``update(preds, target)`` takes numpy arrays, Python sequences or CPU torch tensors of real
numbers (``update(p, q)`` for the divergences), converted to float64. Inputs of shape ``(N,)``
are one output, and inputs of shape ``(N, num_outputs)`` are ``num_outputs`` outputs, for which
``compute`` returns a float64 numpy array. NaN and infinite values raise ``ValueError`` naming
the input and the index, and a rejected batch leaves the state unchanged.

States are running sums and moments that merge within 1e-12 relative of one pass over the data.
``SpearmanCorrCoef`` and ``KendallRankCorrCoef`` instead keep every sample, because ranks depend
on all of them, and the ``reduction="none"`` modes keep one score per row.

``WeightedPearsonCorrCoef`` takes a third input, ``weights``, of shape ``(N,)``.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ferrometrics.functional.regression import kendall_result, shape_of
from ferrometrics.metric import Metric

__all__ = [
    "ConcordanceCorrCoef",
    "ContinuousRankedProbabilityScore",
    "CosineSimilarity",
    "CriticalSuccessIndex",
    "ExplainedVariance",
    "JensenShannonDivergence",
    "KLDivergence",
    "KendallRankCorrCoef",
    "LogCoshError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogError",
    "MinkowskiDistance",
    "NormalizedRootMeanSquaredError",
    "PearsonCorrCoef",
    "R2Score",
    "RelativeSquaredError",
    "SpearmanCorrCoef",
    "SymmetricMeanAbsolutePercentageError",
    "TweedieDevianceScore",
    "WeightedMeanAbsolutePercentageError",
    "WeightedPearsonCorrCoef",
]


class _RegressionMetric(Metric):
    """A metric over predicted values ``preds`` and true values ``target``."""

    def update(self, preds: Any, target: Any) -> None:
        """Add a batch of predicted values ``preds`` and true values ``target``."""
        self._update(preds, target)

    def forward(self, preds: Any, target: Any) -> Any:
        """Return the batch's own value and add the batch to the state."""
        return self._forward(preds, target)


class _DivergenceMetric(Metric):
    """A metric over rows of two distributions ``p`` and ``q``."""

    def update(self, p: Any, q: Any) -> None:
        """Add a batch of ``(N, d)`` distributions ``p`` and ``q``."""
        self._update(p, q)

    def forward(self, p: Any, q: Any) -> Any:
        """Return the batch's own value and add the batch to the state."""
        return self._forward(p, q)


class PearsonCorrCoef(_RegressionMetric):
    """Pearson's correlation coefficient per output, as ``scipy.stats.pearsonr``.

    The state is the count, means and co-moments per output, merged with the pairwise formulas
    of Chan, Golub and LeVeque, so batch splits and merge orders agree within 1e-12 relative.
    An output with constant ``preds`` or ``target`` gives NaN.
    """

    _native_name = "PearsonCorrCoef"

    def __init__(self, num_outputs: int = 1, **kwargs: Any) -> None:
        super().__init__({"num_outputs": num_outputs}, kwargs)


class WeightedPearsonCorrCoef(Metric):
    """Pearson's correlation coefficient per output with one weight per sample.

    The value is the correlation of ``numpy.cov(preds, target, aweights=weights)``. Weights must
    be finite and ``>= 0``. An output whose ``preds`` or ``target`` is constant over the samples
    of positive weight, or whose weights sum to 0, gives NaN. The state is the weighted moments
    per output, so batch splits and merge orders agree within 1e-12 relative.
    """

    _native_name = "WeightedPearsonCorrCoef"

    def __init__(self, num_outputs: int = 1, **kwargs: Any) -> None:
        super().__init__({"num_outputs": num_outputs}, kwargs)

    def update(self, preds: Any, target: Any, weights: Any) -> None:
        """Add a batch of ``preds`` and ``target`` with the ``(N,)`` sample ``weights``."""
        self._native.update(preds, target, weights)
        self._update_count += 1

    def forward(self, preds: Any, target: Any, weights: Any) -> Any:
        """Return the batch's own value and add the batch to the state."""
        value = self._native.forward(preds, target, weights)
        self._update_count += 1
        return value


class SpearmanCorrCoef(_RegressionMetric):
    """Spearman's rank correlation per output, ties sharing their mean rank, as scipy.

    The state keeps every sample, so memory grows with the number of samples.
    """

    _native_name = "SpearmanCorrCoef"

    def __init__(self, num_outputs: int = 1, **kwargs: Any) -> None:
        super().__init__({"num_outputs": num_outputs}, kwargs)


class KendallRankCorrCoef(_RegressionMetric):
    """Kendall's tau per output, as ``scipy.stats.kendalltau``.

    ``variant`` is ``"a"``, ``"b"`` or ``"c"``. With ``t_test=True``, ``compute`` and
    ``forward`` return ``(tau, p_value)``, the p-value of ``alternative`` (``"two-sided"``,
    ``"less"`` or ``"greater"``). The state keeps every sample.
    """

    _native_name = "KendallRankCorrCoef"

    def __init__(
        self,
        variant: str = "b",
        t_test: bool = False,
        alternative: Optional[str] = "two-sided",
        num_outputs: int = 1,
        **kwargs: Any,
    ) -> None:
        options = {
            "variant": variant,
            "t_test": t_test,
            "alternative": alternative,
            "num_outputs": num_outputs,
        }
        super().__init__(options, kwargs)

    def _finish_output(self, value: Any, native: Any) -> Any:
        return kendall_result(value)


class ConcordanceCorrCoef(_RegressionMetric):
    """Lin's concordance correlation coefficient per output, with population moments."""

    _native_name = "ConcordanceCorrCoef"

    def __init__(self, num_outputs: int = 1, **kwargs: Any) -> None:
        super().__init__({"num_outputs": num_outputs}, kwargs)


class R2Score(_RegressionMetric):
    """Coefficient of determination, as ``sklearn.metrics.r2_score``.

    ``num_outputs`` is the number of columns of ``(N, num_outputs)`` inputs (1 for ``(N,)``),
    ``adjusted`` the number of regressors of the adjusted R2 (0 for the plain score), and
    ``multioutput`` is ``"raw_values"``, ``"uniform_average"`` or ``"variance_weighted"``.
    """

    _native_name = "R2Score"

    def __init__(
        self,
        num_outputs: int = 1,
        adjusted: int = 0,
        multioutput: str = "uniform_average",
        **kwargs: Any,
    ) -> None:
        check_num_outputs(num_outputs)
        super().__init__({"adjusted": adjusted, "multioutput": multioutput}, kwargs)
        self.num_outputs = int(num_outputs)

    def _validate_batch(self, first: Any, second: Any) -> None:
        shape = shape_of(first)
        columns = shape[1] if len(shape) == 2 else 1
        if len(shape) in (1, 2) and columns != self.num_outputs:
            raise ValueError(
                f"invalid value for `num_outputs`: num_outputs is {self.num_outputs}, but "
                f"`preds` has shape {tuple(shape)}; pass num_outputs equal to the number of "
                "columns"
            )

    def __repr__(self) -> str:
        options = ", ".join(f"{name}={value!r}" for name, value in self._options.items())
        return f"R2Score(num_outputs={self.num_outputs}, {options})"


class ExplainedVariance(_RegressionMetric):
    """Explained variance score, as ``sklearn.metrics.explained_variance_score``."""

    _native_name = "ExplainedVariance"

    def __init__(self, multioutput: str = "uniform_average", **kwargs: Any) -> None:
        super().__init__({"multioutput": multioutput}, kwargs)


class MeanSquaredError(_RegressionMetric):
    """Mean squared error, or its root with ``squared=False``, per output."""

    _native_name = "MeanSquaredError"

    def __init__(self, squared: bool = True, num_outputs: int = 1, **kwargs: Any) -> None:
        super().__init__({"squared": squared, "num_outputs": num_outputs}, kwargs)


class NormalizedRootMeanSquaredError(_RegressionMetric):
    """Root mean squared error divided by ``"mean"``, ``"range"``, ``"std"`` or ``"l2"`` of the
    target, per output."""

    _native_name = "NormalizedRootMeanSquaredError"

    def __init__(self, normalization: str = "mean", num_outputs: int = 1, **kwargs: Any) -> None:
        super().__init__({"normalization": normalization, "num_outputs": num_outputs}, kwargs)


class MeanAbsoluteError(_RegressionMetric):
    """Mean absolute error, per output."""

    _native_name = "MeanAbsoluteError"

    def __init__(self, num_outputs: int = 1, **kwargs: Any) -> None:
        super().__init__({"num_outputs": num_outputs}, kwargs)


class MeanAbsolutePercentageError(_RegressionMetric):
    """Mean of ``|preds - target| / max(|target|, eps)``, as scikit-learn."""

    _native_name = "MeanAbsolutePercentageError"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__({}, kwargs)


class SymmetricMeanAbsolutePercentageError(_RegressionMetric):
    """Mean of ``2 |preds - target| / max(|preds| + |target|, eps)``."""

    _native_name = "SymmetricMeanAbsolutePercentageError"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__({}, kwargs)


class WeightedMeanAbsolutePercentageError(_RegressionMetric):
    """``sum(|preds - target|) / sum(|target|)`` over every batch."""

    _native_name = "WeightedMeanAbsolutePercentageError"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__({}, kwargs)


class MeanSquaredLogError(_RegressionMetric):
    """Mean squared error of ``log1p`` of the values, which must exceed -1."""

    _native_name = "MeanSquaredLogError"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__({}, kwargs)


class LogCoshError(_RegressionMetric):
    """Mean of ``log(cosh(preds - target))``, per output."""

    _native_name = "LogCoshError"

    def __init__(self, num_outputs: int = 1, **kwargs: Any) -> None:
        super().__init__({"num_outputs": num_outputs}, kwargs)


class MinkowskiDistance(_RegressionMetric):
    """Minkowski distance of order ``p`` (at least 1) over all elements."""

    _native_name = "MinkowskiDistance"

    def __init__(self, p: float, **kwargs: Any) -> None:
        super().__init__({"p": p}, kwargs)


class RelativeSquaredError(_RegressionMetric):
    """Residual sum of squares over total sum of squares, or its root with ``squared=False``.

    Several outputs are averaged.
    """

    _native_name = "RelativeSquaredError"

    def __init__(self, num_outputs: int = 1, squared: bool = True, **kwargs: Any) -> None:
        super().__init__({"num_outputs": num_outputs, "squared": squared}, kwargs)


class CosineSimilarity(_RegressionMetric):
    """Cosine similarity of each row of ``(N, d)`` inputs, reduced by ``"sum"``, ``"mean"`` or
    ``"none"``."""

    _native_name = "CosineSimilarity"

    def __init__(self, reduction: str = "sum", **kwargs: Any) -> None:
        super().__init__({"reduction": reduction}, kwargs)


class TweedieDevianceScore(_RegressionMetric):
    """Mean Tweedie deviance of ``power`` (0, 1, 2, ... or any value outside (0, 1))."""

    _native_name = "TweedieDevianceScore"

    def __init__(self, power: float = 0.0, **kwargs: Any) -> None:
        super().__init__({"power": power}, kwargs)

    def update(self, preds: Any, targets: Any) -> None:
        """Add a batch of predicted values ``preds`` and true values ``targets``."""
        self._update(preds, targets)

    def forward(self, preds: Any, targets: Any) -> Any:
        """Return the batch's own value and add the batch to the state."""
        return self._forward(preds, targets)


class KLDivergence(_DivergenceMetric):
    """Kullback-Leibler divergence ``D_KL(p || q)`` of each row, reduced over rows.

    Rows are normalized to sum to 1 unless ``log_prob``, in which case they are natural-log
    probabilities. ``reduction`` is ``"mean"``, ``"sum"`` or ``"none"``.
    """

    _native_name = "KLDivergence"

    def __init__(self, log_prob: bool = False, reduction: str = "mean", **kwargs: Any) -> None:
        super().__init__({"log_prob": log_prob, "reduction": reduction}, kwargs)


class JensenShannonDivergence(_DivergenceMetric):
    """Jensen-Shannon divergence of each row, reduced over rows, in nats."""

    _native_name = "JensenShannonDivergence"

    def __init__(self, log_prob: bool = False, reduction: str = "mean", **kwargs: Any) -> None:
        super().__init__({"log_prob": log_prob, "reduction": reduction}, kwargs)


class CriticalSuccessIndex(_RegressionMetric):
    """``hits / (hits + misses + false_alarms)`` of the events ``value >= threshold``.

    With ``keep_sequence_dim`` the index is computed per position along that axis. The state is
    integer counts, so merging is exact.
    """

    _native_name = "CriticalSuccessIndex"

    def __init__(
        self, threshold: float, keep_sequence_dim: Optional[int] = None, **kwargs: Any
    ) -> None:
        options = {"threshold": threshold, "keep_sequence_dim": keep_sequence_dim}
        super().__init__(options, kwargs)


class ContinuousRankedProbabilityScore(_RegressionMetric):
    """Continuous ranked probability score of ``(N, m)`` ensembles ``preds`` for ``(N,)``
    targets."""

    _native_name = "ContinuousRankedProbabilityScore"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__({}, kwargs)


def check_num_outputs(num_outputs: Any) -> None:
    """Raise unless ``num_outputs`` is a positive integer."""
    if isinstance(num_outputs, bool) or not isinstance(num_outputs, (int, np.integer)):
        raise TypeError(
            f"invalid type for `num_outputs`: expected a positive integer, got {num_outputs!r}"
        )
    if num_outputs < 1:
        raise ValueError(
            f"invalid value for `num_outputs`: expected a positive integer, got {num_outputs}"
        )
