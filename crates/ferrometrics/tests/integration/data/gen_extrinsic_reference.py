"""Writes extrinsic_reference.json: extrinsic clustering scores from scikit-learn and scipy.

Run with a Python that has numpy, scipy and scikit-learn:
    python gen_extrinsic_reference.py > extrinsic_reference.json
"""

import json

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn import metrics
from sklearn.metrics.cluster import contingency_matrix, pair_confusion_matrix

AVERAGES = ["min", "geometric", "arithmetic", "max"]


def cluster_accuracy(target, preds):
    matrix = contingency_matrix(target, preds)
    rows, cols = linear_sum_assignment(matrix, maximize=True)
    return float(matrix[rows, cols].sum() / matrix.sum())


def scores(name, preds, target):
    preds = [int(x) for x in preds]
    target = [int(x) for x in target]
    t, p = np.array(target, dtype=np.int64), np.array(preds, dtype=np.int64)
    return {
        "name": name,
        "preds": preds,
        "target": target,
        "mutual_info_score": metrics.mutual_info_score(t, p),
        "normalized_mutual_info_score": {
            a: metrics.normalized_mutual_info_score(t, p, average_method=a) for a in AVERAGES
        },
        "adjusted_mutual_info_score": {
            a: metrics.adjusted_mutual_info_score(t, p, average_method=a) for a in AVERAGES
        },
        "rand_score": metrics.rand_score(t, p),
        "adjusted_rand_score": metrics.adjusted_rand_score(t, p),
        "fowlkes_mallows_index": metrics.fowlkes_mallows_score(t, p),
        "homogeneity_score": metrics.homogeneity_score(t, p),
        "completeness_score": metrics.completeness_score(t, p),
        "v_measure_score": {
            str(b): metrics.v_measure_score(t, p, beta=b) for b in [0.5, 1.0, 2.0]
        },
        "cluster_accuracy": cluster_accuracy(t, p),
        "pair_confusion_matrix": pair_confusion_matrix(t, p).tolist(),
        "contingency_matrix": contingency_matrix(t, p).tolist(),
    }


def main():
    rng = np.random.default_rng(20261204)
    cases = [
        scores("torchmetrics_rand_example", [2, 1, 0, 1, 0], [0, 2, 1, 1, 0]),
        scores("torchmetrics_mutual_info_example", [1, 3, 2, 0, 1], [0, 3, 2, 2, 1]),
        scores("torchmetrics_fowlkes_mallows_example", [2, 2, 0, 1, 0], [2, 2, 1, 1, 0]),
        scores("split_class", [0, 0, 1, 2], [0, 0, 1, 1]),
        scores("single_cluster_both", [4, 4, 4, 4], [-2, -2, -2, -2]),
        scores("single_cluster_preds", [7, 7, 7, 7], [0, 1, 2, 2]),
        scores("single_cluster_target", [0, 1, 2, 2], [7, 7, 7, 7]),
        scores("all_singletons", [0, 1, 2, 3, 4], [4, 3, 2, 1, 0]),
        scores("singletons_against_one", [0, 1, 2, 3], [5, 5, 5, 5]),
        scores("one_sample", [3], [-9]),
        scores("independent", [0, 1, 0, 1], [0, 0, 1, 1]),
        scores("cluster_only_in_preds", [0, 0, 1, 1, 9], [0, 0, 1, 1, 1]),
        scores("wide_labels", [-(2**62), 2**62, 5, 5, -(2**62)], [2**63 - 1, -(2**63), 0, 0, 0]),
    ]
    for n, k_pred, k_true in [(40, 3, 4), (200, 10, 7), (500, 25, 25), (1000, 2, 40), (3000, 60, 50)]:
        preds = rng.integers(0, k_pred, n)
        target = rng.integers(0, k_true, n)
        cases.append(scores(f"random_{n}_{k_pred}_{k_true}", preds, target))
    # Correlated labelings, where AMI and ARI are far from 0.
    for n, k in [(300, 6), (2000, 20)]:
        target = rng.integers(0, k, n)
        noise = rng.random(n) < 0.3
        preds = np.where(noise, rng.integers(0, k, n), target * 3 - 100)
        cases.append(scores(f"correlated_{n}_{k}", preds, target))
    print("[\n" + ",\n".join(json.dumps(case) for case in cases) + "\n]")


if __name__ == "__main__":
    main()
