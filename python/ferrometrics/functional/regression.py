"""Regression metrics as functions over whole inputs, with TorchMetrics' names and arguments.

Every function takes ``preds`` and ``target`` (``p`` and ``q`` for the divergences) as numpy
arrays, Python sequences or CPU torch tensors of real numbers, and runs in the native library
with the GIL released. Inputs of shape ``(N,)`` are one output and give a Python float. Inputs
of shape ``(N, d)`` are ``d`` outputs: the correlations, ``log_cosh_error`` and ``r2_score`` with
``multioutput="raw_values"`` return a float64 numpy array of ``d`` values, and the mean errors do
so when ``num_outputs=d``. NaN and infinite values raise ``ValueError`` naming the input and the
index.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple, Union

import numpy as np

from ferrometrics import _native

__all__ = [
    "concordance_corrcoef",
    "continuous_ranked_probability_score",
    "cosine_similarity",
    "critical_success_index",
    "explained_variance",
    "jensen_shannon_divergence",
    "kendall_rank_corrcoef",
    "kl_divergence",
    "log_cosh_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_log_error",
    "minkowski_distance",
    "normalized_root_mean_squared_error",
    "pearson_corrcoef",
    "r2_score",
    "relative_squared_error",
    "spearman_corrcoef",
    "symmetric_mean_absolute_percentage_error",
    "tweedie_deviance_score",
    "weighted_mean_absolute_percentage_error",
    "weighted_pearson_corrcoef",
]

Scores = Union[float, np.ndarray]


def _run(name: str, first: Any, second: Any, **options: Any) -> Any:
    return _native.regression_function(name, first, second, options)


def shape_of(value: Any) -> Tuple[int, ...]:
    """Return the shape of an array, a tensor or a nested sequence, reading tensors as the
    native module does, through ``.detach().cpu().numpy()``."""
    shape = getattr(value, "shape", None)
    if shape is not None:
        return tuple(shape)
    if all(hasattr(value, name) for name in ("detach", "cpu", "numpy")):
        return tuple(value.detach().cpu().numpy().shape)
    return tuple(np.shape(value))


def kendall_result(value: Any) -> Any:
    """Return Kendall's ``{"tau", "p_value"}`` result as TorchMetrics' ``(tau, p_value)`` pair."""
    if isinstance(value, dict):
        return value["tau"], value["p_value"]
    return value


def pearson_corrcoef(preds: Any, target: Any) -> Scores:
    """Compute Pearson's correlation coefficient per output, as ``scipy.stats.pearsonr``.

    An output whose ``preds`` or ``target`` is constant gives NaN.
    """
    return _run("PearsonCorrCoef", preds, target)


def weighted_pearson_corrcoef(preds: Any, target: Any, weights: Any) -> Scores:
    """Compute Pearson's correlation coefficient per output with the ``(N,)`` sample ``weights``.

    The value is the correlation of ``numpy.cov(preds, target, aweights=weights)``. Weights must
    be finite and ``>= 0``, and an output that is constant over the samples of positive weight
    gives NaN.
    """
    return _native.weighted_pearson_function(preds, target, weights)


def spearman_corrcoef(preds: Any, target: Any) -> Scores:
    """Compute Spearman's rank correlation per output, ties sharing their mean rank."""
    return _run("SpearmanCorrCoef", preds, target)


def kendall_rank_corrcoef(
    preds: Any,
    target: Any,
    variant: str = "b",
    t_test: bool = False,
    alternative: Optional[str] = "two-sided",
) -> Union[Scores, Tuple[Scores, Scores]]:
    """Compute Kendall's tau per output, as ``scipy.stats.kendalltau``.

    ``variant`` is ``"a"``, ``"b"`` or ``"c"``. With ``t_test=True`` the result is the pair
    ``(tau, p_value)``, the p-value of ``alternative`` (``"two-sided"``, ``"less"`` or
    ``"greater"``) from the asymptotic normal approximation.
    """
    value = _run(
        "KendallRankCorrCoef",
        preds,
        target,
        variant=variant,
        t_test=t_test,
        alternative=alternative,
    )
    return kendall_result(value)


def concordance_corrcoef(preds: Any, target: Any) -> Scores:
    """Compute Lin's concordance correlation coefficient per output."""
    return _run("ConcordanceCorrCoef", preds, target)


def r2_score(
    preds: Any, target: Any, adjusted: int = 0, multioutput: str = "uniform_average"
) -> Scores:
    """Compute the coefficient of determination, as ``sklearn.metrics.r2_score``.

    ``adjusted`` is the number of regressors of the adjusted R2 (0 for the plain score), and
    ``multioutput`` is ``"raw_values"``, ``"uniform_average"`` or ``"variance_weighted"``.
    """
    return _run("R2Score", preds, target, adjusted=adjusted, multioutput=multioutput)


def explained_variance(preds: Any, target: Any, multioutput: str = "uniform_average") -> Scores:
    """Compute the explained variance score, as ``sklearn.metrics.explained_variance_score``."""
    return _run("ExplainedVariance", preds, target, multioutput=multioutput)


def mean_squared_error(
    preds: Any, target: Any, squared: bool = True, num_outputs: int = 1
) -> Scores:
    """Compute the mean squared error, or its root with ``squared=False``.

    With ``num_outputs=1`` inputs of any shape are flattened. With ``num_outputs=d`` they have
    shape ``(N, d)``, and the result contains one value per output.
    """
    return _run("MeanSquaredError", preds, target, squared=squared, num_outputs=num_outputs)


def normalized_root_mean_squared_error(
    preds: Any, target: Any, normalization: str = "mean", num_outputs: int = 1
) -> Scores:
    """Compute the root mean squared error divided by a statistic of the target.

    ``normalization`` is ``"mean"``, ``"range"``, ``"std"`` or ``"l2"``.
    """
    return _run(
        "NormalizedRootMeanSquaredError",
        preds,
        target,
        normalization=normalization,
        num_outputs=num_outputs,
    )


def mean_absolute_error(preds: Any, target: Any, num_outputs: int = 1) -> Scores:
    """Compute the mean absolute error, per output with ``num_outputs`` above 1."""
    return _run("MeanAbsoluteError", preds, target, num_outputs=num_outputs)


def mean_absolute_percentage_error(preds: Any, target: Any) -> float:
    """Compute the mean of ``|preds - target| / max(|target|, eps)``, as scikit-learn."""
    return _run("MeanAbsolutePercentageError", preds, target)


def symmetric_mean_absolute_percentage_error(preds: Any, target: Any) -> float:
    """Compute the mean of ``2 |preds - target| / max(|preds| + |target|, eps)``."""
    return _run("SymmetricMeanAbsolutePercentageError", preds, target)


def weighted_mean_absolute_percentage_error(preds: Any, target: Any) -> float:
    """Compute ``sum(|preds - target|) / sum(|target|)``."""
    return _run("WeightedMeanAbsolutePercentageError", preds, target)


def mean_squared_log_error(preds: Any, target: Any) -> float:
    """Compute the mean squared error of ``log1p`` of the values, which must exceed -1."""
    return _run("MeanSquaredLogError", preds, target)


def log_cosh_error(preds: Any, target: Any) -> Scores:
    """Compute the mean of ``log(cosh(preds - target))`` per output."""
    return _run("LogCoshError", preds, target)


def minkowski_distance(preds: Any, target: Any, p: float) -> float:
    """Compute the Minkowski distance of order ``p`` (at least 1) over all elements."""
    return _run("MinkowskiDistance", preds, target, p=p)


def relative_squared_error(preds: Any, target: Any, squared: bool = True) -> float:
    """Compute the residual sum of squares over the total sum of squares, ``1 - r2_score``.

    With ``squared=False`` the result is its square root. Several outputs are averaged.
    """
    shape = shape_of(preds)
    num_outputs = shape[1] if len(shape) == 2 else 1
    return _run(
        "RelativeSquaredError", preds, target, squared=squared, num_outputs=num_outputs
    )


def cosine_similarity(preds: Any, target: Any, reduction: str = "sum") -> Scores:
    """Compute the cosine similarity of each row of ``(N, d)`` inputs, reduced over rows.

    ``reduction`` is ``"sum"``, ``"mean"`` or ``"none"`` (one value per row).
    """
    return _run("CosineSimilarity", preds, target, reduction=reduction)


def tweedie_deviance_score(preds: Any, targets: Any, power: float = 0.0) -> float:
    """Compute the mean Tweedie deviance, as ``sklearn.metrics.mean_tweedie_deviance``.

    The true values are named ``targets`` here, as in TorchMetrics' signature.
    """
    return _run("TweedieDevianceScore", preds, targets, power=power)


def kl_divergence(p: Any, q: Any, log_prob: bool = False, reduction: str = "mean") -> Scores:
    """Compute ``D_KL(p || q)`` of each row of ``(N, d)`` distributions, reduced over rows.

    Rows are normalized to sum to 1 unless ``log_prob``, in which case they are natural-log
    probabilities.
    """
    return _run("KLDivergence", p, q, log_prob=log_prob, reduction=reduction)


def jensen_shannon_divergence(
    p: Any, q: Any, log_prob: bool = False, reduction: str = "mean"
) -> Scores:
    """Compute the Jensen-Shannon divergence of each row of ``(N, d)`` distributions."""
    return _run("JensenShannonDivergence", p, q, log_prob=log_prob, reduction=reduction)


def critical_success_index(
    preds: Any, target: Any, threshold: float, keep_sequence_dim: Optional[int] = None
) -> Scores:
    """Compute ``hits / (hits + misses + false_alarms)`` of the events ``value >= threshold``.

    With ``keep_sequence_dim`` the index is computed per position along that axis.
    """
    return _run(
        "CriticalSuccessIndex",
        preds,
        target,
        threshold=threshold,
        keep_sequence_dim=keep_sequence_dim,
    )


def continuous_ranked_probability_score(preds: Any, target: Any) -> float:
    """Compute the CRPS of ``(N, m)`` ensemble forecasts ``preds`` for ``(N,)`` targets."""
    return _run("ContinuousRankedProbabilityScore", preds, target)
