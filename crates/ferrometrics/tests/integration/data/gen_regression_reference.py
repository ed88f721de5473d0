"""Writes regression_reference.json: regression scores from scikit-learn, scipy and numpy.

Run with a Python that has numpy, scipy and scikit-learn:
    python gen_regression_reference.py > regression_reference.json

Every case contains `preds` and `target` of shape (N,) or (N, d), and per-output lists of expected
values. A metric missing from a case does not apply to its data. Numbers are written as the
shortest decimal strings that round-trip (Python's repr), because JSON number parsers may round
differently and an ulp matters for data with a large offset.
"""

import json
from fractions import Fraction

import numpy as np
from scipy import stats
from scipy.spatial.distance import minkowski
from sklearn import metrics


def columns(values):
    values = np.asarray(values, dtype=np.float64)
    return values.reshape(len(values), -1)


def per_output(function, preds, target):
    p, t = columns(preds), columns(target)
    return [float(function(p[:, j], t[:, j])) for j in range(p.shape[1])]


def concordance(p, t):
    # Exact rational arithmetic: the float formula loses digits to the mean difference of data
    # with a large offset.
    p = [Fraction(float(v)) for v in p]
    t = [Fraction(float(v)) for v in t]
    n = len(p)
    mean_p, mean_t = sum(p) / n, sum(t) / n
    covariance = sum((a - mean_p) * (b - mean_t) for a, b in zip(p, t))
    variance_p = sum((a - mean_p) ** 2 for a in p)
    variance_t = sum((b - mean_t) ** 2 for b in t)
    return float(2 * covariance / (variance_p + variance_t + n * (mean_p - mean_t) ** 2))


def kendall_p_value(p, t):
    return stats.kendalltau(p, t, method="asymptotic").pvalue


def nrmse(normalization):
    def score(p, t):
        rmse = np.sqrt(np.mean((t - p) ** 2))
        denominator = {
            "mean": t.mean(),
            "range": t.max() - t.min(),
            "std": t.std(),
            "l2": np.linalg.norm(t),
        }[normalization]
        return rmse / denominator

    return score


def scores(name, preds, target, positive=False):
    p, t = columns(preds), columns(target)
    flat_p, flat_t = p.ravel(), t.ravel()
    case = {
        "name": name,
        "preds": np.asarray(preds).tolist(),
        "target": np.asarray(target).tolist(),
        "pearson": per_output(lambda a, b: stats.pearsonr(a, b).statistic, p, t),
        "spearman": per_output(lambda a, b: stats.spearmanr(a, b).statistic, p, t),
        "kendall_b": per_output(lambda a, b: stats.kendalltau(a, b).statistic, p, t),
        "kendall_c": per_output(
            lambda a, b: stats.kendalltau(a, b, variant="c").statistic, p, t
        ),
        "kendall_p_value": per_output(kendall_p_value, p, t),
        "concordance": per_output(concordance, p, t),
        "mean_squared_error": metrics.mean_squared_error(t, p, multioutput="raw_values").tolist(),
        "mean_absolute_error": metrics.mean_absolute_error(
            t, p, multioutput="raw_values"
        ).tolist(),
        "log_cosh_error": per_output(lambda a, b: np.mean(np.log(np.cosh(a - b))), p, t),
        "r2_raw_values": metrics.r2_score(t, p, multioutput="raw_values").tolist(),
        "r2_uniform_average": [metrics.r2_score(t, p)],
        "r2_variance_weighted": [metrics.r2_score(t, p, multioutput="variance_weighted")],
        "explained_variance_raw_values": metrics.explained_variance_score(
            t, p, multioutput="raw_values"
        ).tolist(),
        "explained_variance_variance_weighted": [
            metrics.explained_variance_score(t, p, multioutput="variance_weighted")
        ],
        "nrmse_mean": per_output(nrmse("mean"), p, t),
        "nrmse_range": per_output(nrmse("range"), p, t),
        "nrmse_std": per_output(nrmse("std"), p, t),
        "nrmse_l2": per_output(nrmse("l2"), p, t),
        "minkowski_3": [minkowski(flat_p, flat_t, 3)],
        "mean_absolute_percentage_error": [metrics.mean_absolute_percentage_error(flat_t, flat_p)],
        "critical_success_index_0": [metrics.jaccard_score(flat_t >= 0, flat_p >= 0)],
    }
    if positive:
        case["mean_squared_log_error"] = [metrics.mean_squared_log_error(flat_t, flat_p)]
        for power in [0.0, 1.0, 1.5, 2.0, 3.0]:
            case[f"tweedie_{power}"] = [
                metrics.mean_tweedie_deviance(flat_t, flat_p, power=power)
            ]
    return {key: as_strings(value) for key, value in case.items()}


def as_strings(value):
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return [as_strings(item) for item in value]
    return repr(float(value))


def main():
    rng = np.random.default_rng(20261204)
    x = rng.normal(size=200)
    y = 0.7 * x + rng.normal(scale=0.5, size=200)
    small = rng.normal(size=(150, 3))
    small_target = small @ np.array([[1.0, 0.2, 0.0], [0.0, 1.0, -0.3], [0.5, 0.0, 1.0]])
    small_target += rng.normal(scale=0.4, size=(150, 3))
    offset = 1e6 + 1e-3 * rng.normal(size=120)
    offset_target = 1e6 + 1e-3 * (rng.normal(size=120) + 0.5 * (offset - 1e6) / 1e-3)
    ties = rng.integers(0, 5, size=100).astype(np.float64)
    ties_target = np.clip(ties + rng.integers(-1, 2, size=100), 0, 4).astype(np.float64)
    lognormal = np.exp(rng.normal(size=180))
    lognormal_target = lognormal * np.exp(rng.normal(scale=0.3, size=180))
    heavy = rng.standard_t(2, size=160)
    heavy_target = heavy + rng.standard_t(3, size=160)

    cases = [
        scores("gaussian_200", x, y),
        scores("three_outputs_150", small, small_target),
        scores("offset_1e6_tiny_spread", offset, offset_target),
        scores("integer_ties_100", ties, ties_target),
        scores("lognormal_180", lognormal, lognormal_target, positive=True),
        scores("student_t_160", heavy, heavy_target),
    ]
    print(json.dumps(cases, indent=1))


if __name__ == "__main__":
    main()
