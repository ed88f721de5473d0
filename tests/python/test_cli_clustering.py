"""Compare `ferrometrics clustering --format json` with scikit-learn on clustered real data.

The binary is $FERROMETRICS_CLI when set, else target/release/ferrometrics, else
target/debug/ferrometrics. The tests are skipped when that file does not exist (build it with
`cargo build -p ferrometrics-cli`).
"""

import json
import math
import os
import subprocess
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
from sklearn import metrics
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits, load_iris, load_wine

REPO = Path(__file__).resolve().parents[2]
REL_TOL = 1e-9
# Values such as an adjusted index near 0 have no meaningful relative error.
ABS_TOL = 1e-12


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


def run_json(*args):
    completed = subprocess.run(
        [str(CLI), "clustering", *map(str, args), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def minkowski_rows(differences, p):
    """Minkowski norm of each row of `differences`."""
    if math.isinf(p):
        return np.abs(differences).max(axis=1)
    return (np.abs(differences) ** p).sum(axis=1) ** (1.0 / p)


def dunn_index_centroid(data, labels, p=2.0):
    """Dunn index as torchmetrics.functional.clustering.dunn_index computes it: the minimum
    distance between two centroids over the maximum distance from a row to its own centroid."""
    clusters = [data[labels == label] for label in np.unique(labels)]
    centroids = np.array([cluster.mean(axis=0) for cluster in clusters])
    between = minkowski_rows(
        np.array([a - b for a, b in combinations(centroids, 2)]), p
    ).min()
    within = max(
        minkowski_rows(cluster - centroid, p).max()
        for cluster, centroid in zip(clusters, centroids)
    )
    return between / within


def dunn_index_pairwise(data, labels, p=2.0):
    """Dunn's original index: the minimum distance between rows of different clusters over the
    maximum distance between rows of one cluster."""
    metric = "chebyshev" if math.isinf(p) else "minkowski"
    options = {} if math.isinf(p) else {"p": p}
    clusters = [data[labels == label] for label in np.unique(labels)]
    between = min(
        cdist(a, b, metric, **options).min() for a, b in combinations(clusters, 2)
    )
    within = max(cdist(c, c, metric, **options).max() for c in clusters)
    return between / within


def cluster_accuracy(target, preds):
    """Share of samples labelled right under the best one-to-one map of clusters to classes."""
    contingency = metrics.cluster.contingency_matrix(target, preds)
    rows, columns = linear_sum_assignment(contingency, maximize=True)
    return contingency[rows, columns].sum() / len(target)


def sklearn_values(data, target, preds, average_method="arithmetic", beta=1.0):
    return {
        "mutual_info_score": metrics.mutual_info_score(target, preds),
        "normalized_mutual_info_score": metrics.normalized_mutual_info_score(
            target, preds, average_method=average_method
        ),
        "adjusted_mutual_info_score": metrics.adjusted_mutual_info_score(
            target, preds, average_method=average_method
        ),
        "rand_score": metrics.rand_score(target, preds),
        "adjusted_rand_score": metrics.adjusted_rand_score(target, preds),
        "fowlkes_mallows_index": metrics.fowlkes_mallows_score(target, preds),
        "homogeneity_score": metrics.homogeneity_score(target, preds),
        "completeness_score": metrics.completeness_score(target, preds),
        "v_measure_score": metrics.v_measure_score(target, preds, beta=beta),
        "cluster_accuracy": cluster_accuracy(target, preds),
        "calinski_harabasz_score": metrics.calinski_harabasz_score(data, preds),
        "davies_bouldin_score": metrics.davies_bouldin_score(data, preds),
        "dunn_index": dunn_index_centroid(data, preds),
        "silhouette_score": metrics.silhouette_score(data, preds),
    }


def assert_close(got, expected):
    assert sorted(got) == sorted(expected)
    for name, value in expected.items():
        assert got[name] is not None, f"{name} is null"
        assert math.isclose(got[name], value, rel_tol=REL_TOL, abs_tol=ABS_TOL), (
            f"{name}: ferrometrics {got[name]!r}, reference {value!r}"
        )


LOADERS = {"iris": load_iris, "wine": load_wine, "digits": load_digits}


@pytest.fixture(scope="module", params=sorted(LOADERS))
def clustered(request, tmp_path_factory):
    """A bundled dataset clustered with KMeans, saved as CSV and as .npy files."""
    dataset = LOADERS[request.param]()
    data = dataset.data.astype(np.float64)
    target = dataset.target.astype(np.int64)
    n_clusters = len(np.unique(target))
    preds = KMeans(n_clusters=n_clusters, random_state=0, n_init=10).fit_predict(data)
    preds = preds.astype(np.int64)

    directory = tmp_path_factory.mktemp(request.param)
    csv_path = directory / f"{request.param}.csv"
    columns = [name.replace(",", "_") for name in dataset.feature_names]
    lines = [",".join([*columns, "target", "preds"])]
    for row, label, pred in zip(data, target, preds):
        lines.append(",".join([*(repr(float(value)) for value in row), str(label), str(pred)]))
    csv_path.write_text("\n".join(lines) + "\n")

    paths = {"csv": csv_path}
    for name, array in {"data": data, "target": target, "preds": preds}.items():
        paths[name] = directory / f"{name}.npy"
        np.save(paths[name], array)
    return data, target, preds, paths


def test_csv_matches_sklearn(clustered):
    data, target, preds, paths = clustered

    got = run_json(paths["csv"], "--target", "target", "--preds", "preds", "--all-features")

    assert_close(got, sklearn_values(data, target, preds))


def test_npy_matches_csv(clustered):
    data, target, preds, paths = clustered

    from_npy = run_json(
        "--target-npy", paths["target"], "--preds-npy", paths["preds"], "--data", paths["data"]
    )
    from_csv = run_json(
        paths["csv"], "--target", "target", "--preds", "preds", "--all-features"
    )

    assert from_npy == from_csv


@pytest.mark.parametrize("average_method", ["min", "geometric", "arithmetic", "max"])
def test_average_method_matches_sklearn(clustered, average_method):
    data, target, preds, paths = clustered

    got = run_json(
        "--target-npy",
        paths["target"],
        "--preds-npy",
        paths["preds"],
        "--average-method",
        average_method,
    )
    expected = sklearn_values(data, target, preds, average_method=average_method)

    for name in ["normalized_mutual_info_score", "adjusted_mutual_info_score"]:
        assert math.isclose(got[name], expected[name], rel_tol=REL_TOL, abs_tol=ABS_TOL), name


def test_beta_matches_sklearn(clustered):
    data, target, preds, paths = clustered

    got = run_json(
        "--target-npy", paths["target"], "--preds-npy", paths["preds"], "--beta", "2.5"
    )
    expected = metrics.v_measure_score(target, preds, beta=2.5)

    assert math.isclose(got["v_measure_score"], expected, rel_tol=REL_TOL, abs_tol=ABS_TOL)


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, math.inf])
@pytest.mark.parametrize("definition", ["centroid", "pairwise"])
def test_dunn_index_matches_numpy(clustered, p, definition):
    data, _, preds, paths = clustered
    reference = dunn_index_centroid if definition == "centroid" else dunn_index_pairwise

    got = run_json(
        "--data",
        paths["data"],
        "--labels",
        paths["preds"],
        "--p",
        "inf" if math.isinf(p) else p,
        "--dunn-definition",
        definition,
        "--no-silhouette",
    )
    expected = reference(data, preds, p)

    assert math.isclose(got["dunn_index"], expected, rel_tol=REL_TOL, abs_tol=ABS_TOL)
