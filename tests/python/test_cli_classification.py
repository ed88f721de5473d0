"""Compare `ferrometrics classification --format json` with scikit-learn on seeded CSV files.

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
from sklearn import metrics

REPO = Path(__file__).resolve().parents[2]


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
pytestmark = pytest.mark.skipif(CLI is None, reason="the ferrometrics binary is not built")


def run_cli(*args):
    return subprocess.run(
        [str(CLI), "classification", *map(str, args)], capture_output=True, text=True
    )


def write_csv(path, columns):
    names = list(columns)
    rows = zip(*(columns[name] for name in names))
    path.write_text(
        ",".join(names) + "\n" + "".join(",".join(map(str, row)) + "\n" for row in rows)
    )


def assert_close(actual, expected):
    assert math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12), (actual, expected)


def test_binary_json_matches_sklearn(tmp_path):
    rng = np.random.default_rng(7)
    prob = np.round(rng.random(80), 2)
    label = rng.integers(0, 2, 80)
    write_csv(tmp_path / "binary.csv", {"prob": prob, "label": label})
    result = run_cli(
        tmp_path / "binary.csv",
        "--task",
        "binary",
        "--preds",
        "prob",
        "--target",
        "label",
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    preds = (prob > 0.5).astype(int)
    assert_close(values["accuracy"], metrics.accuracy_score(label, preds))
    assert_close(values["f1_score"], metrics.f1_score(label, preds))
    assert_close(values["matthews_corrcoef"], metrics.matthews_corrcoef(label, preds))
    assert_close(values["auroc"], metrics.roc_auc_score(label, prob))
    assert_close(values["average_precision"], metrics.average_precision_score(label, prob))


def test_multiclass_scores_match_sklearn(tmp_path):
    rng = np.random.default_rng(8)
    scores = np.round(rng.random((90, 3)), 2)
    scores /= scores.sum(axis=1, keepdims=True)
    target = rng.integers(0, 3, 90)
    write_csv(
        tmp_path / "mc.csv",
        {"p0": scores[:, 0], "p1": scores[:, 1], "p2": scores[:, 2], "y": target},
    )
    result = run_cli(
        tmp_path / "mc.csv",
        "--task",
        "multiclass",
        "--num-classes",
        3,
        "--preds",
        "p0,p1,p2",
        "--target",
        "y",
        "--average",
        "weighted",
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    preds = scores.argmax(axis=1)
    assert_close(values["precision"], metrics.precision_score(target, preds, average="weighted"))
    assert_close(values["recall"], metrics.recall_score(target, preds, average="weighted"))
    assert_close(values["cohen_kappa"], metrics.cohen_kappa_score(target, preds))
    onehot = np.eye(3, dtype=int)[target]
    assert_close(values["auroc"], metrics.roc_auc_score(onehot, scores, average="weighted"))


def test_bad_label_exits_2(tmp_path):
    write_csv(tmp_path / "bad.csv", {"p": [0, 1, 2], "y": [0, 1, 5]})
    result = run_cli(
        tmp_path / "bad.csv",
        "--task",
        "multiclass",
        "--num-classes",
        3,
        "--preds",
        "p",
        "--target",
        "y",
    )
    assert result.returncode == 2
    assert "class index 5" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_num_classes_exits_2(tmp_path):
    write_csv(tmp_path / "d.csv", {"p": [0, 1], "y": [0, 1]})
    result = run_cli(tmp_path / "d.csv", "--task", "multiclass", "--preds", "p", "--target", "y")
    assert result.returncode == 2
    assert "--num-classes" in result.stderr
