"""Differential tests of the regression metrics against scipy and scikit-learn.

Most values are compared to 1e-12 relative. A looser tolerance is justified where it is used.
"""

from __future__ import annotations

import itertools
import math
import pickle
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance
from sklearn import metrics
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression

import ferrometrics
from ferrometrics import regression
from ferrometrics.functional import regression as functional

from conftest import FakeTensor

TIGHT = 1e-12


def close(actual, expected, rel=TIGHT, abs_tol=1e-15):
    """Assert that scalars or arrays agree to ``rel`` relative, NaN matching NaN."""
    actual_array = np.asarray(actual, dtype=float)
    expected_array = np.asarray(expected, dtype=float)
    assert actual_array.shape == expected_array.shape, (actual_array.shape, expected_array.shape)
    np.testing.assert_allclose(actual_array, expected_array, rtol=rel, atol=abs_tol)


# Data sets: (name, preds, target), each of shape (N,).
def single_output_cases():
    rng = np.random.default_rng(7)
    n = 2_000
    target = rng.normal(3.0, 2.0, n)
    preds = target + rng.normal(0.0, 1.0, n)

    tied_target = rng.integers(0, 6, n).astype(float)
    tied_preds = np.round(tied_target + rng.normal(0.0, 1.5, n))

    outlier_preds = preds.copy()
    outlier_preds[::97] += 1e4

    # Values near 1e6 differing by about 1e-3, where naive sums of squares lose every digit.
    offset_target = 1e6 + rng.normal(0.0, 1e-3, n)
    offset_preds = offset_target + rng.normal(0.0, 5e-4, n)
    return [
        ("gaussian", preds, target),
        ("ties", tied_preds, tied_target),
        ("outliers", outlier_preds, target),
        ("large_offset", offset_preds, offset_target),
    ]


CASES = single_output_cases()
CASE_IDS = [case[0] for case in CASES]


@pytest.fixture(params=CASES, ids=CASE_IDS)
def case(request):
    return request.param


def multi_output_data(outputs=3, n=500, seed=11):
    rng = np.random.default_rng(seed)
    target = rng.normal(0.0, 1.0, (n, outputs)) * np.arange(1, outputs + 1)
    preds = target + rng.normal(0.0, 0.5, (n, outputs))
    return preds, target


def kendall_tau_a(preds, target):
    """Kendall's tau-a, (C - D) / (n (n - 1) / 2), by counting every pair."""
    n = len(preds)
    score = 0
    for i, j in itertools.combinations(range(n), 2):
        score += np.sign(preds[i] - preds[j]) * np.sign(target[i] - target[j])
    return score / (n * (n - 1) / 2)


def concordance(preds, target):
    """Lin's concordance correlation with population (1/n) moments, in exact rational arithmetic.

    numpy's float moments lose about 1e-9 relative on the large-offset data, more than the
    library does, so the reference is computed exactly and rounded once.
    """
    x = [Fraction(value) for value in preds]
    y = [Fraction(value) for value in target]
    n = len(x)
    mean_x, mean_y = sum(x) / n, sum(y) / n
    var_x = sum((value - mean_x) ** 2 for value in x) / n
    var_y = sum((value - mean_y) ** 2 for value in y) / n
    covariance = sum((a - mean_x) * (b - mean_y) for a, b in zip(x, y)) / n
    return float(2 * covariance / (var_x + var_y + (mean_x - mean_y) ** 2))


# Correlations.


def test_pearson_matches_scipy(case):
    _, preds, target = case
    expected = stats.pearsonr(preds, target).statistic

    close(functional.pearson_corrcoef(preds, target), expected)


def test_pearson_class_matches_scipy(case):
    _, preds, target = case
    metric = regression.PearsonCorrCoef()
    metric.update(preds, target)

    close(metric.compute(), stats.pearsonr(preds, target).statistic)


def test_spearman_matches_scipy(case):
    _, preds, target = case
    expected = stats.spearmanr(preds, target).statistic

    close(functional.spearman_corrcoef(preds, target), expected)


@pytest.mark.parametrize("variant", ["b", "c"])
def test_kendall_matches_scipy(case, variant):
    _, preds, target = case
    expected = stats.kendalltau(preds, target, variant=variant).statistic

    close(functional.kendall_rank_corrcoef(preds, target, variant=variant), expected)


@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
def test_kendall_p_value_matches_scipy(alternative):
    _, preds, target = CASES[1]
    preds, target = preds[:300], target[:300]
    expected = stats.kendalltau(preds, target, method="asymptotic", alternative=alternative)

    tau, p_value = functional.kendall_rank_corrcoef(
        preds, target, t_test=True, alternative=alternative
    )

    close(tau, expected.statistic)
    # The p-value is a normal tail probability evaluated by two implementations of erfc.
    close(p_value, expected.pvalue, rel=1e-10, abs_tol=1e-300)


def test_kendall_tau_a_with_ties():
    rng = np.random.default_rng(3)
    preds = rng.integers(0, 4, 80).astype(float)
    target = rng.integers(0, 5, 80).astype(float)

    close(functional.kendall_rank_corrcoef(preds, target, variant="a"), kendall_tau_a(preds, target))


def test_kendall_class_returns_tau_and_p_value():
    _, preds, target = CASES[0]
    metric = regression.KendallRankCorrCoef(t_test=True)
    metric.update(preds[:400], target[:400])
    metric.update(preds[400:800], target[400:800])
    expected = stats.kendalltau(preds[:800], target[:800], method="asymptotic")

    tau, p_value = metric.compute()

    close(tau, expected.statistic)
    assert isinstance(p_value, float)


def test_concordance_matches_definition(case):
    _, preds, target = case

    close(functional.concordance_corrcoef(preds, target), concordance(preds, target))


def test_correlations_multi_output():
    preds, target = multi_output_data()
    pearson = [stats.pearsonr(preds[:, k], target[:, k]).statistic for k in range(3)]
    spearman = [stats.spearmanr(preds[:, k], target[:, k]).statistic for k in range(3)]
    kendall = [stats.kendalltau(preds[:, k], target[:, k]).statistic for k in range(3)]

    metric = regression.PearsonCorrCoef(num_outputs=3)
    metric.update(preds, target)

    close(functional.pearson_corrcoef(preds, target), pearson)
    close(metric.compute(), pearson)
    close(functional.spearman_corrcoef(preds, target), spearman)
    close(functional.kendall_rank_corrcoef(preds, target), kendall)


# Pearson's state: batch splits, merges, repeated computes, zero variance.


def one_pass_pearson(preds, target):
    metric = regression.PearsonCorrCoef()
    metric.update(preds, target)
    return metric.compute()


@pytest.mark.parametrize("name", CASE_IDS)
@pytest.mark.parametrize("batches", [1, 2, 3, 7, 64])
def test_pearson_batch_split_matches_one_pass(name, batches):
    _, preds, target = CASES[CASE_IDS.index(name)]
    rng = np.random.default_rng(batches)
    cuts = np.sort(rng.choice(np.arange(1, len(preds)), batches - 1, replace=False))
    metric = regression.PearsonCorrCoef()
    for batch_preds, batch_target in zip(np.split(preds, cuts), np.split(target, cuts)):
        metric.update(batch_preds, batch_target)

    close(metric.compute(), one_pass_pearson(preds, target))


@pytest.mark.parametrize("name", CASE_IDS)
@pytest.mark.parametrize("shards", [2, 3, 5, 8])
def test_pearson_merge_orders_match_one_pass(name, shards):
    _, preds, target = CASES[CASE_IDS.index(name)]
    expected = one_pass_pearson(preds, target)
    parts = []
    for shard_preds, shard_target in zip(
        np.array_split(preds, shards), np.array_split(target, shards)
    ):
        part = regression.PearsonCorrCoef()
        part.update(shard_preds, shard_target)
        parts.append(part)

    rng = np.random.default_rng(shards)
    for _ in range(4):
        order = rng.permutation(shards)
        merged = regression.PearsonCorrCoef()
        for index in order:
            merged.merge_state(parts[index])
        close(merged.compute(), expected)

    # A tree of merges: pairs first, then the pairs into one.
    left, right = regression.PearsonCorrCoef(), regression.PearsonCorrCoef()
    for index, part in enumerate(parts):
        (left if index % 2 == 0 else right).merge_state(part)
    right.merge_state(left)
    close(right.compute(), expected)


def test_pearson_merge_through_state_dict_and_pickle():
    _, preds, target = CASES[0]
    first, second = regression.PearsonCorrCoef(), regression.PearsonCorrCoef()
    first.update(preds[:700], target[:700])
    second.update(preds[700:], target[700:])

    restored = pickle.loads(pickle.dumps(first))
    restored.merge_state(second.state_dict())

    close(restored.compute(), one_pass_pearson(preds, target))


def test_pearson_compute_twice_gives_same_value():
    _, preds, target = CASES[3]
    metric = regression.PearsonCorrCoef()
    metric.update(preds, target)

    assert metric.compute() == metric.compute()


@pytest.mark.filterwarnings("ignore::scipy.stats.ConstantInputWarning")
@pytest.mark.parametrize("constant", ["preds", "target", "both"])
def test_pearson_zero_variance_is_nan(constant):
    values = np.array([1.0, 2.0, 4.0, 8.0])
    flat = np.full(4, 3.0)
    preds = flat if constant in ("preds", "both") else values
    target = flat if constant in ("target", "both") else values

    assert math.isnan(functional.pearson_corrcoef(preds, target))
    assert math.isnan(stats.pearsonr(preds, target).statistic)


def test_pearson_forward_returns_batch_value():
    _, preds, target = CASES[0]
    metric = regression.PearsonCorrCoef()
    metric(preds[:1000], target[:1000])
    batch_value = metric(preds[1000:], target[1000:])

    close(batch_value, stats.pearsonr(preds[1000:], target[1000:]).statistic)
    close(metric.compute(), one_pass_pearson(preds, target))


# Errors.


def test_r2_mse_mae_match_sklearn(case):
    _, preds, target = case

    close(functional.r2_score(preds, target), metrics.r2_score(target, preds))
    close(functional.mean_squared_error(preds, target), metrics.mean_squared_error(target, preds))
    close(
        functional.mean_squared_error(preds, target, squared=False),
        metrics.root_mean_squared_error(target, preds),
    )
    close(functional.mean_absolute_error(preds, target), metrics.mean_absolute_error(target, preds))
    close(
        functional.explained_variance(preds, target),
        metrics.explained_variance_score(target, preds),
        # scikit-learn subtracts the mean residual after summing squares of uncentered values,
        # which loses digits on the large-offset data that the centered moments keep.
        rel=1e-9,
    )


def test_percentage_errors_match_definitions(case):
    _, preds, target = case
    eps = np.finfo(np.float64).eps
    absolute = np.abs(preds - target)

    close(
        functional.mean_absolute_percentage_error(preds, target),
        metrics.mean_absolute_percentage_error(target, preds),
    )
    close(
        functional.symmetric_mean_absolute_percentage_error(preds, target),
        np.mean(2 * absolute / np.maximum(np.abs(preds) + np.abs(target), eps)),
    )
    close(
        functional.weighted_mean_absolute_percentage_error(preds, target),
        absolute.sum() / np.abs(target).sum(),
    )


def test_log_errors_match_sklearn(case):
    _, preds, target = case
    shift = 1.0 - min(preds.min(), target.min())
    positive_preds, positive_target = preds + shift, target + shift

    close(
        functional.mean_squared_log_error(positive_preds, positive_target),
        metrics.mean_squared_log_error(positive_target, positive_preds),
        # log1p of values near 1e6 amplifies the last-bit differences of the inputs' sums.
        rel=1e-10,
    )
    close(
        functional.log_cosh_error(preds, target),
        np.mean(np.log(np.cosh(preds - target))) if np.abs(preds - target).max() < 700 else
        np.mean(np.abs(preds - target) + np.log1p(np.exp(-2 * np.abs(preds - target))) - np.log(2)),
    )


@pytest.mark.parametrize("power", [0.0, 1.0, 1.5, 2.0, 3.0])
def test_tweedie_matches_sklearn(power):
    rng = np.random.default_rng(int(power * 10))
    target = rng.gamma(2.0, 1.5, 800)
    preds = target * rng.uniform(0.5, 1.5, 800)

    close(
        functional.tweedie_deviance_score(preds, target, power=power),
        metrics.mean_tweedie_deviance(target, preds, power=power),
    )


def test_tweedie_takes_targets_keyword():
    preds, targets = [2.0, 0.5, 1.0, 4.0], [0.5, 1.0, 2.0, 4.0]
    metric = regression.TweedieDevianceScore(power=2.0)
    metric.update(preds=preds, targets=targets)
    expected = metrics.mean_tweedie_deviance(targets, preds, power=2.0)

    close(functional.tweedie_deviance_score(preds=preds, targets=targets, power=2.0), expected)
    close(metric.compute(), expected)


def test_tweedie_negative_power_matches_sklearn():
    rng = np.random.default_rng(5)
    target = rng.normal(0.0, 1.0, 300)
    preds = rng.uniform(0.5, 2.0, 300)

    close(
        functional.tweedie_deviance_score(preds, target, power=-1.0),
        metrics.mean_tweedie_deviance(target, preds, power=-1.0),
    )


@pytest.mark.parametrize("p", [1.0, 2.0, 3.5])
def test_minkowski_matches_scipy(case, p):
    _, preds, target = case

    close(functional.minkowski_distance(preds, target, p=p), distance.minkowski(preds, target, p))


@pytest.mark.parametrize("normalization", ["mean", "range", "std", "l2"])
def test_nrmse_matches_definition(normalization):
    _, preds, target = CASES[0]
    rmse = metrics.root_mean_squared_error(target, preds)
    denominator = {
        "mean": target.mean(),
        "range": target.max() - target.min(),
        "std": target.std(),
        "l2": np.linalg.norm(target),
    }[normalization]

    close(
        functional.normalized_root_mean_squared_error(preds, target, normalization=normalization),
        rmse / denominator,
    )


def test_relative_squared_error_is_one_minus_r2(case):
    _, preds, target = case
    expected = 1.0 - metrics.r2_score(target, preds)

    # 1 - r2 and the direct ratio round differently when r2 is close to 1.
    close(functional.relative_squared_error(preds, target), expected, rel=1e-10)
    close(functional.relative_squared_error(preds, target, squared=False), math.sqrt(expected), rel=1e-10)


def test_multi_output_errors_match_sklearn():
    preds, target = multi_output_data()

    for multioutput in ["raw_values", "uniform_average", "variance_weighted"]:
        close(
            functional.r2_score(preds, target, multioutput=multioutput),
            metrics.r2_score(target, preds, multioutput=multioutput),
        )
        close(
            functional.explained_variance(preds, target, multioutput=multioutput),
            metrics.explained_variance_score(target, preds, multioutput=multioutput),
        )
    raw_mse = metrics.mean_squared_error(target, preds, multioutput="raw_values")
    close(functional.mean_squared_error(preds, target, num_outputs=3), raw_mse)
    close(
        functional.mean_absolute_error(preds, target, num_outputs=3),
        metrics.mean_absolute_error(target, preds, multioutput="raw_values"),
    )
    close(
        functional.relative_squared_error(preds, target),
        np.mean(1.0 - metrics.r2_score(target, preds, multioutput="raw_values")),
    )
    metric = regression.MeanSquaredError(num_outputs=3)
    metric.update(preds[:200], target[:200])
    metric.update(preds[200:], target[200:])
    close(metric.compute(), raw_mse)


def test_adjusted_r2_matches_formula():
    _, preds, target = CASES[0]
    n, regressors = len(preds), 5
    r2 = metrics.r2_score(target, preds)

    close(
        functional.r2_score(preds, target, adjusted=regressors),
        1 - (1 - r2) * (n - 1) / (n - regressors - 1),
    )


# Row scores and distributions.


def test_cosine_similarity_matches_scipy():
    preds, target = multi_output_data(outputs=4, n=50)
    rows = np.array([1 - distance.cosine(p, t) for p, t in zip(preds, target)])

    close(functional.cosine_similarity(preds, target), rows.sum())
    close(functional.cosine_similarity(preds, target, reduction="mean"), rows.mean())
    close(functional.cosine_similarity(preds, target, reduction="none"), rows)


def test_divergences_match_scipy():
    rng = np.random.default_rng(9)
    p = rng.dirichlet(np.ones(5), 40)
    q = rng.dirichlet(np.ones(5), 40)
    kl_rows = stats.entropy(p, q, axis=1)
    js_rows = distance.jensenshannon(p, q, axis=1) ** 2

    close(functional.kl_divergence(p, q), kl_rows.mean())
    close(functional.kl_divergence(np.log(p), np.log(q), log_prob=True), kl_rows.mean())
    close(functional.kl_divergence(p, q, reduction="none"), kl_rows)
    # jensenshannon takes a square root that the square here undoes, with one rounding each.
    close(functional.jensen_shannon_divergence(p, q, reduction="sum"), js_rows.sum(), rel=1e-11)

    metric = regression.KLDivergence(reduction="sum")
    metric.update(p=p[:10], q=q[:10])
    metric.update(p[10:], q[10:])
    close(metric.compute(), kl_rows.sum())


def test_critical_success_index_matches_jaccard():
    _, preds, target = CASES[0]
    threshold = 3.5

    close(
        functional.critical_success_index(preds, target, threshold),
        metrics.jaccard_score(target >= threshold, preds >= threshold),
    )


def test_crps_matches_definition():
    rng = np.random.default_rng(13)
    ensemble = rng.normal(0.0, 1.0, (60, 7))
    target = rng.normal(0.0, 1.0, 60)
    spread = np.abs(ensemble[:, :, None] - ensemble[:, None, :]).mean(axis=(1, 2))
    expected = np.mean(np.abs(ensemble - target[:, None]).mean(axis=1) - 0.5 * spread)

    close(functional.continuous_ranked_probability_score(ensemble, target), expected)


# Real data: a linear regression of scikit-learn's diabetes dataset.


def test_diabetes_linear_regression_matches_sklearn():
    features, target = load_diabetes(return_X_y=True)
    preds = LinearRegression().fit(features, target).predict(features)

    close(functional.r2_score(preds, target), metrics.r2_score(target, preds))
    close(
        functional.r2_score(preds, target, adjusted=features.shape[1]),
        1 - (1 - metrics.r2_score(target, preds)) * (len(target) - 1)
        / (len(target) - features.shape[1] - 1),
    )
    close(
        functional.explained_variance(preds, target),
        metrics.explained_variance_score(target, preds),
    )
    close(functional.mean_squared_error(preds, target), metrics.mean_squared_error(target, preds))
    close(functional.mean_absolute_error(preds, target), metrics.mean_absolute_error(target, preds))
    close(
        functional.mean_absolute_percentage_error(preds, target),
        metrics.mean_absolute_percentage_error(target, preds),
    )
    close(
        functional.mean_squared_log_error(preds, target),
        metrics.mean_squared_log_error(target, preds),
    )
    close(
        functional.tweedie_deviance_score(preds, target, power=2.0),
        metrics.mean_tweedie_deviance(target, preds, power=2.0),
    )
    close(functional.pearson_corrcoef(preds, target), stats.pearsonr(preds, target).statistic)
    close(functional.spearman_corrcoef(preds, target), stats.spearmanr(preds, target).statistic)
    close(functional.kendall_rank_corrcoef(preds, target), stats.kendalltau(preds, target).statistic)


# Inputs, outputs and metric facts.


def test_inputs_from_lists_and_tensors():
    preds, target = [2.5, 0.0, 2.0, 8.0], [3.0, -0.5, 2.0, 7.0]
    expected = stats.pearsonr(preds, target).statistic

    close(functional.pearson_corrcoef(preds, target), expected)
    close(functional.pearson_corrcoef(FakeTensor(preds), FakeTensor(target)), expected)
    close(functional.pearson_corrcoef(np.float32(preds), np.float32(target)), expected, rel=1e-6)


def test_r2_score_class_reads_tensors():
    preds, target = multi_output_data()
    metric = regression.R2Score(num_outputs=3, multioutput="raw_values")

    metric.update(FakeTensor(preds), FakeTensor(target))

    close(metric.compute(), metrics.r2_score(target, preds, multioutput="raw_values"))


def test_outputs_are_float_or_array():
    preds, target = multi_output_data()

    assert isinstance(functional.mean_squared_error(preds[:, 0], target[:, 0]), float)
    raw = functional.r2_score(preds, target, multioutput="raw_values")
    assert isinstance(raw, np.ndarray)
    assert raw.dtype == np.float64


def test_facts_come_from_native_metric():
    assert regression.R2Score.higher_is_better is True
    assert regression.MeanSquaredError.higher_is_better is False
    assert regression.PearsonCorrCoef.plot_lower_bound == -1.0
    assert regression.PearsonCorrCoef.plot_upper_bound == 1.0
    assert regression.MeanAbsoluteError.plot_lower_bound == 0.0


def test_metric_collection_of_regression_metrics():
    _, preds, target = CASES[0]
    collection = ferrometrics.MetricCollection(
        [regression.MeanSquaredError(), regression.R2Score(), regression.PearsonCorrCoef()]
    )
    collection.update(preds, target)
    values = collection.compute()

    close(values["MeanSquaredError"], metrics.mean_squared_error(target, preds))
    close(values["R2Score"], metrics.r2_score(target, preds))
    close(values["PearsonCorrCoef"], stats.pearsonr(preds, target).statistic)


# Bad input.


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("argument", ["preds", "target"])
def test_non_finite_input_raises(bad, argument):
    values = {"preds": [1.0, 2.0, 3.0], "target": [1.0, 2.0, 4.0]}
    values[argument][1] = bad
    metric = regression.PearsonCorrCoef()
    metric.update([0.0, 1.0, 2.0], [0.0, 2.0, 1.0])
    before = metric.compute()

    with pytest.raises(ValueError, match=argument):
        functional.pearson_corrcoef(values["preds"], values["target"])
    with pytest.raises(ValueError, match=argument):
        metric.update(values["preds"], values["target"])
    # The rejected batch left the state unchanged.
    assert metric.compute() == before


def test_length_mismatch_raises():
    with pytest.raises(ValueError, match="target"):
        functional.mean_squared_error([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="target"):
        regression.PearsonCorrCoef().update([1.0, 2.0, 3.0], [1.0, 2.0])


def test_num_outputs_disagreeing_with_shape_raises():
    preds, target = multi_output_data()

    with pytest.raises(ValueError, match="num_outputs"):
        regression.PearsonCorrCoef(num_outputs=2).update(preds, target)
    with pytest.raises(ValueError, match="num_outputs"):
        regression.R2Score(num_outputs=2).update(preds, target)
    with pytest.raises(ValueError, match="num_outputs"):
        functional.mean_squared_error(preds, target, num_outputs=2)


@pytest.mark.parametrize(
    ("factory", "argument"),
    [
        (lambda: regression.KendallRankCorrCoef(variant="d"), "variant"),
        (lambda: regression.KendallRankCorrCoef(alternative="both"), "alternative"),
        (lambda: regression.R2Score(multioutput="mean"), "multioutput"),
        (lambda: regression.R2Score(adjusted=-1), "adjusted"),
        (lambda: regression.CosineSimilarity(reduction="max"), "reduction"),
        (lambda: regression.TweedieDevianceScore(power=0.5), "power"),
        (lambda: regression.NormalizedRootMeanSquaredError(normalization="median"), "normalization"),
        (lambda: regression.PearsonCorrCoef(num_outputs=0), "num_outputs"),
    ],
)
def test_invalid_option_raises(factory, argument):
    with pytest.raises(ValueError, match=argument):
        factory()


def test_non_bool_flag_raises_type_error():
    with pytest.raises(TypeError, match="squared"):
        regression.MeanSquaredError(squared=1)


def test_numpy_bool_flag_accepted():
    preds, target = [1.0, 2.0, 4.0], [1.0, 2.0, 2.0]

    root = functional.mean_squared_error(preds, target, squared=np.False_)

    close(root, math.sqrt(4.0 / 3.0))


def test_msle_negative_input_raises():
    with pytest.raises(ValueError, match="preds"):
        functional.mean_squared_log_error([-2.0, 1.0], [1.0, 1.0])


def test_kendall_t_test_in_collection_is_pair():
    _, preds, target = CASES[1]
    preds, target = preds[:300], target[:300]
    collection = ferrometrics.MetricCollection(
        [regression.KendallRankCorrCoef(t_test=True), regression.MeanAbsoluteError()]
    )

    batch_values = collection(preds, target)
    values = collection.compute()

    expected = stats.kendalltau(preds, target, method="asymptotic")
    assert batch_values["KendallRankCorrCoef"] == values["KendallRankCorrCoef"]
    tau, p_value = values["KendallRankCorrCoef"]
    close(tau, expected.statistic)
    close(p_value, expected.pvalue, rel=1e-10, abs_tol=1e-300)


def test_kendall_forward_returns_pair():
    _, preds, target = CASES[0]
    metric = regression.KendallRankCorrCoef(t_test=True, variant="c")

    tau, p_value = metric(preds[:500], target[:500])

    close(tau, stats.kendalltau(preds[:500], target[:500], variant="c").statistic)
    assert 0.0 <= p_value <= 1.0


def class_cases():
    """Return (metric factory, first input, second input) for every regression class."""
    rng = np.random.default_rng(21)
    target = rng.gamma(2.0, 1.0, 120)
    preds = target * rng.uniform(0.6, 1.4, 120)
    rows_preds, rows_target = multi_output_data(outputs=4, n=120)
    p = rng.dirichlet(np.ones(4), 120)
    q = rng.dirichlet(np.ones(4), 120)
    ensemble = target[:, None] + rng.normal(0.0, 0.5, (120, 5))
    pair = (preds, target)
    return [
        (lambda: regression.PearsonCorrCoef(), *pair),
        (lambda: regression.SpearmanCorrCoef(), *pair),
        (lambda: regression.KendallRankCorrCoef(t_test=True), *pair),
        (lambda: regression.ConcordanceCorrCoef(), *pair),
        (lambda: regression.R2Score(adjusted=2), *pair),
        (lambda: regression.ExplainedVariance(), *pair),
        (lambda: regression.MeanSquaredError(squared=False), *pair),
        (lambda: regression.NormalizedRootMeanSquaredError(normalization="std"), *pair),
        (lambda: regression.MeanAbsoluteError(), *pair),
        (lambda: regression.MeanAbsolutePercentageError(), *pair),
        (lambda: regression.SymmetricMeanAbsolutePercentageError(), *pair),
        (lambda: regression.WeightedMeanAbsolutePercentageError(), *pair),
        (lambda: regression.MeanSquaredLogError(), *pair),
        (lambda: regression.LogCoshError(), *pair),
        (lambda: regression.MinkowskiDistance(p=3), *pair),
        (lambda: regression.RelativeSquaredError(), *pair),
        (lambda: regression.CosineSimilarity(reduction="mean"), rows_preds, rows_target),
        (lambda: regression.TweedieDevianceScore(power=1.5), *pair),
        (lambda: regression.KLDivergence(), p, q),
        (lambda: regression.JensenShannonDivergence(reduction="sum"), p, q),
        (lambda: regression.CriticalSuccessIndex(threshold=2.0), *pair),
        (lambda: regression.ContinuousRankedProbabilityScore(), ensemble, target),
    ]


CLASS_CASES = class_cases()
CLASS_IDS = [type(case[0]()).__name__ for case in CLASS_CASES]


@pytest.mark.parametrize(("factory", "first", "second"), CLASS_CASES, ids=CLASS_IDS)
def test_class_merge_pickle_state_dict(factory, first, second):
    whole = factory()
    whole.update(first, second)
    expected = whole.compute()
    left, right = factory(), factory()
    left.update(first[:50], second[:50])
    right.update(first[50:], second[50:])

    merged = pickle.loads(pickle.dumps(left))
    merged.merge_state(right.state_dict())
    restored = factory()
    restored.load_state_dict(merged.state_dict())

    # The correlations' merged co-moments round differently from one pass, within 1e-12.
    close(merged.compute(), expected)
    close(restored.compute(), expected)
    assert merged.update_count == 1


@pytest.mark.parametrize(("factory", "first", "second"), CLASS_CASES, ids=CLASS_IDS)
def test_class_facts_match_native(factory, first, second):
    metric = factory()
    native = ferrometrics._native.NativeMetric(type(metric).__name__)

    assert type(metric).higher_is_better == native.higher_is_better
    assert type(metric).is_differentiable == native.is_differentiable


def test_crps_wrong_shape_names_preds():
    with pytest.raises(ValueError, match="preds"):
        functional.continuous_ranked_probability_score([0.0, 2.0], [1.0, 3.0])


@pytest.mark.parametrize(
    "make",
    [
        lambda n: regression.MeanSquaredError(num_outputs=n),
        lambda n: regression.MeanAbsoluteError(num_outputs=n),
        lambda n: regression.PearsonCorrCoef(num_outputs=n),
        lambda n: regression.SpearmanCorrCoef(num_outputs=n),
        lambda n: regression.LogCoshError(num_outputs=n),
        lambda n: functional.mean_squared_error(np.ones((2, 2)), np.ones((2, 2)), num_outputs=n),
    ],
)
@pytest.mark.parametrize("num_outputs", [2**24 + 1, 10**9, 2**62])
def test_huge_num_outputs_raises_instead_of_allocating(make, num_outputs):
    with pytest.raises(ValueError, match=f"num_outputs.*{num_outputs}"):
        make(num_outputs)


def test_spearman_equals_scipy_bit_for_bit():
    rng = np.random.default_rng(11)
    cases = [
        (np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.5, 2.0, 2.5, 5.0])),
        (np.arange(5.0), np.arange(5.0)[::-1].copy()),
    ]
    cases += [(np.arange(5.0), np.array(perm, dtype=float))
              for perm in itertools.permutations(range(5))]
    for n in (7, 50, 333):
        cases.append((rng.integers(0, 5, n).astype(float), rng.integers(0, 9, n).astype(float)))
        cases.append((rng.normal(size=n), rng.normal(size=n)))
    for preds, target in cases:
        assert functional.spearman_corrcoef(preds, target) == stats.spearmanr(preds, target)[0]


def test_reduction_none_means_one_value_per_row():
    rng = np.random.default_rng(5)
    preds, target = rng.random((4, 3)), rng.random((4, 3))
    per_row = functional.cosine_similarity(preds, target, reduction="none")
    assert np.asarray(per_row).shape == (4,)
    close(functional.cosine_similarity(preds, target, reduction=None), per_row)
    metric = regression.CosineSimilarity(reduction=None)
    metric.update(preds, target)
    close(metric.compute(), per_row)
    for name in ("kl_divergence", "jensen_shannon_divergence"):
        divergence = getattr(functional, name)
        close(divergence(preds, target, reduction=None),
              divergence(preds, target, reduction="none"))


def test_explicit_none_for_a_string_option_raises():
    preds, target = np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 2.0])
    with pytest.raises(TypeError, match="`multioutput`.*None"):
        functional.r2_score(preds, target, multioutput=None)
    with pytest.raises(TypeError, match="`multioutput`.*None"):
        regression.ExplainedVariance(multioutput=None)
    with pytest.raises(TypeError, match="`alternative`.*None"):
        functional.kendall_rank_corrcoef(preds, target, t_test=True, alternative=None)
    # Without the test the alternative is unused, and TorchMetrics accepts None there.
    close(functional.kendall_rank_corrcoef(preds, target, alternative=None),
          stats.kendalltau(preds, target)[0])


@pytest.mark.parametrize("scale", [1e300, 1e200, 1e155, 1e-155, 1e-160, 1e-170, 1e-300])
def test_pearson_at_extreme_magnitudes(scale):
    rng = np.random.default_rng(3)
    preds = rng.normal(size=40)
    target = preds + rng.normal(size=40)
    expected = stats.pearsonr(preds, target)[0]
    close(functional.pearson_corrcoef(preds * scale, target), expected)
    close(functional.pearson_corrcoef(preds, target * scale), expected)
    close(functional.pearson_corrcoef(np.array([1.0, 2.0, 3.0]) * scale, np.array([1.0, 2.0, 4.0])),
          stats.pearsonr([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])[0])
    # Batches of moderate and extreme magnitude merge to the one-pass value.
    mixed = np.concatenate([preds[:20], preds[20:] * scale])
    one_pass = functional.pearson_corrcoef(mixed, target)
    metric = regression.PearsonCorrCoef()
    for start in range(0, 40, 7):
        metric.update(mixed[start:start + 7], target[start:start + 7])
    close(metric.compute(), one_pass)
    close(one_pass, stats.pearsonr(mixed, target)[0])


@pytest.mark.parametrize("scale", [1e200, 1e155, 1e-160, 1e-300])
def test_r2_and_explained_variance_at_extreme_magnitudes(scale):
    rng = np.random.default_rng(4)
    target = rng.normal(size=30)
    preds = target + 0.3 * rng.normal(size=30)
    close(functional.r2_score(preds * scale, target * scale), metrics.r2_score(target, preds))
    close(functional.explained_variance(preds * scale, target * scale),
          metrics.explained_variance_score(target, preds))
    close(functional.relative_squared_error(preds * scale, target * scale),
          1 - metrics.r2_score(target, preds))
    metric = regression.R2Score()
    for start in range(0, 30, 8):
        metric.update(preds[start:start + 8] * scale, target[start:start + 8] * scale)
    close(metric.compute(), metrics.r2_score(target, preds))


def test_merge_error_uses_python_spelling():
    squared = regression.MeanSquaredError(squared=True)
    with pytest.raises(ValueError, match="`squared`: True and False$") as raised:
        squared.merge_state(regression.MeanSquaredError(squared=False))
    assert "true" not in str(raised.value)

    index = regression.CriticalSuccessIndex(0.5)
    with pytest.raises(ValueError, match="`keep_sequence_dim`: None and 1$") as raised:
        index.merge_state(regression.CriticalSuccessIndex(0.5, keep_sequence_dim=1))
    assert "Some(" not in str(raised.value)


def test_merge_error_names_differing_field():
    from ferrometrics import classification

    precision = classification.BinaryPrecision(threshold=0.5)
    with pytest.raises(ValueError, match=r"`config` \(threshold 0.5 and 0.3\)") as raised:
        precision.merge_state(classification.BinaryPrecision(threshold=0.3))
    assert "TaskConfig" not in str(raised.value)


def test_log_domain_error_prints_short_value():
    with pytest.raises(ValueError, match=r"value -1e308 at row 1, column 0 is <= -1"):
        functional.mean_squared_log_error(np.array([1e308, -1e308]), np.array([1.0, 2.0]))


def test_load_state_of_other_config_names_load():
    saved = regression.MeanSquaredError(squared=False)
    saved.update(np.array([1.0, 2.0]), np.array([1.0, 3.0]))
    target = regression.MeanSquaredError()
    with pytest.raises(ValueError, match="cannot load a state .* into MeanSquaredError.*`squared`"):
        target.load_state_dict(saved.state_dict())
    with pytest.raises(ValueError, match="no samples"):
        target.compute()
