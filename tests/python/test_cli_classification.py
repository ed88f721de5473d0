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


def run_json(*args):
    result = run_cli(*args, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def assert_all_close(actual, expected):
    assert len(actual) == len(expected), (actual, expected)
    for got, want in zip(actual, expected):
        assert_close(got, want)


def per_class_sklearn(target, preds, labels):
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        target, preds, labels=labels, zero_division=0
    )
    matrix = metrics.multilabel_confusion_matrix(target, preds, labels=labels)
    tn, fp = matrix[:, 0, 0], matrix[:, 0, 1]
    specificity = np.divide(tn, tn + fp, out=np.zeros(len(labels)), where=tn + fp > 0)
    jaccard = metrics.jaccard_score(target, preds, labels=labels, average=None, zero_division=0)
    return {
        "precision": precision,
        "recall": recall,
        "f1_score": f1,
        "specificity": specificity,
        "jaccard_index": jaccard,
        "support": support,
    }


def check_per_class(values, expected):
    for name, want in expected.items():
        assert_all_close(values["per_class"][name], want)


def test_binary_report_matches_sklearn(tmp_path):
    rng = np.random.default_rng(11)
    logits = np.round(rng.normal(size=120), 3)
    label = (rng.random(120) < 1 / (1 + np.exp(-2 * logits))).astype(int)
    write_csv(tmp_path / "b.csv", {"logit": logits, "label": label})
    values = run_json(
        tmp_path / "b.csv", "--task", "binary", "--preds", "logit", "--target", "label"
    )
    preds = (logits > 0).astype(int)
    assert values["confusion_matrix"] == metrics.confusion_matrix(label, preds).tolist()
    check_per_class(values, per_class_sklearn(label, preds, [0, 1]))
    assert_close(values["precision"], metrics.precision_score(label, preds))
    assert_close(values["recall"], metrics.recall_score(label, preds))
    assert_close(values["auroc"], metrics.roc_auc_score(label, logits))
    assert_close(values["average_precision"], metrics.average_precision_score(label, logits))


def test_multiclass_npy_report_matches_sklearn(tmp_path):
    rng = np.random.default_rng(12)
    scores = rng.random((150, 4)).astype(np.float32)
    scores /= scores.sum(axis=1, keepdims=True)
    target = rng.integers(0, 4, 150).astype(np.int16)
    np.save(tmp_path / "p.npy", scores)
    np.save(tmp_path / "t.npy", target)
    values = run_json(
        "--task",
        "multiclass",
        "--num-classes",
        4,
        "--preds-npy",
        tmp_path / "p.npy",
        "--target-npy",
        tmp_path / "t.npy",
    )
    preds = scores.argmax(axis=1)
    labels = [0, 1, 2, 3]
    assert values["confusion_matrix"] == metrics.confusion_matrix(target, preds).tolist()
    check_per_class(values, per_class_sklearn(target, preds, labels))
    onehot = np.eye(4, dtype=int)[target]
    probabilities = scores.astype(np.float64)
    assert_all_close(
        values["per_class"]["auroc"],
        metrics.roc_auc_score(onehot, probabilities, average=None),
    )
    assert_all_close(
        values["per_class"]["average_precision"],
        metrics.average_precision_score(onehot, probabilities, average=None),
    )
    assert_close(values["f1_score"], metrics.f1_score(target, preds, average="macro"))
    assert_close(values["accuracy"], metrics.balanced_accuracy_score(target, preds))


def test_multilabel_report_matches_sklearn(tmp_path):
    rng = np.random.default_rng(13)
    scores = np.round(rng.random((100, 3)), 3)
    target = (rng.random((100, 3)) < scores).astype(int)
    columns = {f"s{j}": scores[:, j] for j in range(3)}
    columns.update({f"y{j}": target[:, j] for j in range(3)})
    write_csv(tmp_path / "ml.csv", columns)
    values = run_json(
        tmp_path / "ml.csv",
        "--task",
        "multilabel",
        "--preds",
        "s0,s1,s2",
        "--target",
        "y0,y1,y2",
        "--average",
        "micro",
    )
    preds = (scores > 0.5).astype(int)
    expected_matrix = metrics.multilabel_confusion_matrix(target, preds).tolist()
    assert values["confusion_matrix"] == expected_matrix
    assert values["per_class"]["classes"] == ["y0", "y1", "y2"]
    precision, recall, f1, support = metrics.precision_recall_fscore_support(target, preds)
    assert_all_close(values["per_class"]["precision"], precision)
    assert_all_close(values["per_class"]["recall"], recall)
    assert_all_close(values["per_class"]["f1_score"], f1)
    assert values["per_class"]["support"] == support.tolist()
    assert_all_close(
        values["per_class"]["auroc"], metrics.roc_auc_score(target, scores, average=None)
    )
    assert_close(values["f1_score"], metrics.f1_score(target, preds, average="micro"))
    assert_close(values["auroc"], metrics.roc_auc_score(target, scores, average="micro"))
    assert_close(
        values["average_precision"],
        metrics.average_precision_score(target, scores, average="micro"),
    )
    assert_close(values["exact_match"], metrics.accuracy_score(target, preds))


def test_npy_shape_mismatch_exits_2(tmp_path):
    np.save(tmp_path / "p.npy", np.array([0.1, 0.9, 0.4]))
    np.save(tmp_path / "t.npy", np.array([0, 1]))
    result = run_cli(
        "--task", "binary", "--preds-npy", tmp_path / "p.npy", "--target-npy", tmp_path / "t.npy"
    )
    assert result.returncode == 2
    assert "p.npy" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
