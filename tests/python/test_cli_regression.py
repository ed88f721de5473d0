"""Compare `ferrometrics regression --format json` with scikit-learn and scipy.

The binary is $FERROMETRICS_CLI when set, else target/release/ferrometrics, else
target/debug/ferrometrics. The tests are skipped when that file does not exist (build it with
`cargo build -p ferrometrics-cli`).
"""

import json
import math
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance
from sklearn import metrics
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression

REPO = Path(__file__).resolve().parents[2]
REL_TOL = 1e-12


def find_cli():
    if os.environ.get("FERROMETRICS_CLI"):
        candidates = [Path(os.environ["FERROMETRICS_CLI"])]
    else:
        candidates = [
            REPO / "target" / "release" / "ferrometrics",
            REPO / "target" / "debug" / "ferrometrics",
        ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


CLI = find_cli()
pytestmark = pytest.mark.skipif(
    CLI is None,
    reason="ferrometrics binary not found: set FERROMETRICS_CLI or run "
    "`cargo build -p ferrometrics-cli`",
)


def run(*args):
    return subprocess.run(
        [str(CLI), "regression", *map(str, args)], capture_output=True, text=True, check=False
    )


def run_json(*args):
    completed = run(*args, "--format", "json")
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


@pytest.fixture(scope="module")
def diabetes_csv(tmp_path_factory):
    """Write a linear regression of the diabetes dataset: its predictions and the targets."""
    features, target = load_diabetes(return_X_y=True)
    preds = LinearRegression().fit(features, target).predict(features)
    path = tmp_path_factory.mktemp("regression") / "diabetes.csv"
    rows = "".join(f"{p!r},{t!r}\n" for p, t in zip(preds.tolist(), target.tolist()))
    path.write_text("prediction,progression\n" + rows)
    return path, preds, target


def test_diabetes_values_match_references(diabetes_csv):
    path, preds, target = diabetes_csv
    report = run_json(path, "--preds", "prediction", "--target", "progression", "--adjusted", 10)
    n = len(target)
    r2 = metrics.r2_score(target, preds)
    expected = {
        "pearson_corrcoef": stats.pearsonr(preds, target).statistic,
        "spearman_corrcoef": stats.spearmanr(preds, target).statistic,
        "kendall_rank_corrcoef": stats.kendalltau(preds, target).statistic,
        "r2_score": 1 - (1 - r2) * (n - 1) / (n - 10 - 1),
        "explained_variance": metrics.explained_variance_score(target, preds),
        "relative_squared_error": 1 - r2,
        "mean_squared_error": metrics.mean_squared_error(target, preds),
        "mean_absolute_error": metrics.mean_absolute_error(target, preds),
        "mean_absolute_percentage_error": metrics.mean_absolute_percentage_error(target, preds),
        "mean_squared_log_error": metrics.mean_squared_log_error(target, preds),
        "minkowski_distance": distance.minkowski(preds, target, 2),
        "tweedie_deviance_score": metrics.mean_tweedie_deviance(target, preds, power=0),
    }

    for name, value in expected.items():
        assert math.isclose(report[name], value, rel_tol=REL_TOL), (name, report[name], value)


@pytest.mark.parametrize("power", [1.0, 2.0, 3.0])
def test_tweedie_power_matches_sklearn(diabetes_csv, power):
    path, preds, target = diabetes_csv

    report = run_json(
        path, "--preds", "prediction", "--target", "progression", "--tweedie-power", power
    )

    expected = metrics.mean_tweedie_deviance(target, preds, power=power)
    assert math.isclose(report["tweedie_deviance_score"], expected, rel_tol=REL_TOL)


@pytest.mark.parametrize("variant", ["b", "c"])
def test_kendall_variant_matches_scipy(diabetes_csv, variant):
    path, preds, target = diabetes_csv

    report = run_json(
        path, "--preds", "prediction", "--target", "progression", "--kendall-variant", variant
    )

    expected = stats.kendalltau(preds, target, variant=variant).statistic
    assert math.isclose(report["kendall_rank_corrcoef"], expected, rel_tol=REL_TOL)


def test_npy_inputs_match_sklearn(tmp_path):
    rng = np.random.default_rng(4)
    target = rng.normal(1e6, 1e-3, 5_000)
    preds = target + rng.normal(0.0, 5e-4, 5_000)
    np.save(tmp_path / "preds.npy", preds)
    np.save(tmp_path / "target.npy", target)

    report = run_json(
        "--preds-npy", tmp_path / "preds.npy", "--target-npy", tmp_path / "target.npy"
    )

    assert math.isclose(
        report["pearson_corrcoef"], stats.pearsonr(preds, target).statistic, rel_tol=REL_TOL
    )
    assert math.isclose(
        report["mean_squared_error"], metrics.mean_squared_error(target, preds), rel_tol=REL_TOL
    )


def test_bad_cell_exits_2_with_one_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("p,t\n1.5,2\n2.5,abc\n")

    completed = run(path, "--preds", "p", "--target", "t")

    assert completed.returncode == 2
    assert completed.stdout == ""
    assert len(completed.stderr.splitlines()) == 1
    assert "bad.csv: line 3, column \"t\"" in completed.stderr


def write_values(path, preds, target):
    rows = "".join(f"{p!r},{t!r}\n" for p, t in zip(preds.tolist(), target.tolist()))
    path.write_text("preds,target\n" + rows)


@pytest.mark.parametrize("strategy", ["poisson", "multinomial"])
@pytest.mark.parametrize(
    "name, metric_class",
    [
        ("mean_absolute_error", "MeanAbsoluteError"),
        ("mean_squared_error", "MeanSquaredError"),
        ("pearson_corrcoef", "PearsonCorrCoef"),
        ("spearman_corrcoef", "SpearmanCorrCoef"),
    ],
)
def test_bootstrap_matches_python_bootstrapper(tmp_path, strategy, name, metric_class):
    pytest.importorskip("ferrometrics")
    from ferrometrics import regression
    from ferrometrics.wrappers import BootStrapper

    rng = np.random.default_rng(11)
    target = rng.normal(3.0, 1.0, 300)
    preds = target + rng.normal(0.0, 0.4, 300)
    path = tmp_path / "values.csv"
    write_values(path, preds, target)
    levels = [0.1, 0.5, 0.9]

    report = run_json(
        path, "--preds", "preds", "--target", "target", "--bootstrap", 64, "--seed", 5,
        "--quantiles", ",".join(map(str, levels)), "--sampling-strategy", strategy,
    )
    wrapper = BootStrapper(
        getattr(regression, metric_class)(), num_bootstraps=64, quantile=levels, raw=True,
        sampling_strategy=strategy, seed=5,
    )
    wrapper.update(preds, target)
    expected = wrapper.compute()
    entry = report[name]

    assert entry["replicates"] == len(expected["raw"])
    assert math.isclose(entry["mean"], float(expected["mean"]), rel_tol=1e-12)
    assert math.isclose(entry["std"], float(expected["std"]), rel_tol=1e-12)
    np.testing.assert_allclose(entry["quantiles"], np.asarray(expected["quantile"]), rtol=1e-12)
    np.testing.assert_allclose(
        entry["quantiles"], np.quantile(np.asarray(expected["raw"]), levels), rtol=1e-12
    )


def test_bootstrap_mean_near_value_for_large_n(tmp_path):
    rng = np.random.default_rng(12)
    target = rng.normal(0.0, 1.0, 20_000)
    preds = target + rng.normal(0.0, 0.5, 20_000)
    np.save(tmp_path / "preds.npy", preds)
    np.save(tmp_path / "target.npy", target)

    report = run_json(
        "--preds-npy", tmp_path / "preds.npy", "--target-npy", tmp_path / "target.npy",
        "--bootstrap", 40,
    )

    for name in ["mean_squared_error", "mean_absolute_error", "pearson_corrcoef", "r2_score"]:
        entry = report[name]
        # The bootstrap mean of a smooth statistic differs from the full-data value by
        # O(1/n), far below its standard error.
        assert abs(entry["mean"] - entry["value"]) < entry["std"], (name, entry)
        assert entry["quantiles"][0] <= entry["value"] <= entry["quantiles"][1], (name, entry)


def test_float16_npy_widened(tmp_path):
    preds = np.array([1.5, 2.25, 3.0, 4.75], dtype=np.float16)
    target = np.array([1.0, 2.0, 3.5, 4.0])
    np.save(tmp_path / "preds.npy", preds)
    np.save(tmp_path / "target.npy", target)

    report = run_json(
        "--preds-npy", tmp_path / "preds.npy", "--target-npy", tmp_path / "target.npy"
    )

    expected = metrics.mean_squared_error(target, preds.astype(np.float64))
    assert report["mean_squared_error"] == expected


def test_text_npy_dtype_named_with_character_size(tmp_path):
    np.save(tmp_path / "preds.npy", np.array(["a", "b"]))
    np.save(tmp_path / "target.npy", np.array([1.0, 2.0]))

    completed = run(
        "--preds-npy", tmp_path / "preds.npy", "--target-npy", tmp_path / "target.npy"
    )

    assert completed.returncode != 0
    assert "<U1 (str32, 4 bytes per character)" in completed.stderr


@pytest.mark.parametrize("option", ["--adjusted", "--csi-threshold"])
def test_negative_option_value_reaches_validation(option, tmp_path):
    np.save(tmp_path / "preds.npy", np.array([1.0, 2.0, 3.0]))
    np.save(tmp_path / "target.npy", np.array([1.0, 2.5, 3.0]))

    completed = run(
        "--preds-npy", tmp_path / "preds.npy", "--target-npy", tmp_path / "target.npy",
        option, "-1",
    )

    assert "unexpected argument" not in completed.stderr
    if option == "--adjusted":
        assert completed.returncode != 0
        assert "-1" in completed.stderr
