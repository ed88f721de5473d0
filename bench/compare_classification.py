"""Time exact binary AUROC and average precision, and macro F1, against scikit-learn.

Run from the repository root after `maturin develop --release`:

    python bench/compare_classification.py [n]

Both libraries get the same seeded float64 scores in one process; each timing is the best of
three runs.
"""

import sys
import time

import numpy as np
from sklearn import metrics

from ferrometrics.functional import classification as fm


def best_of_three(function):
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        value = function()
        timings.append(time.perf_counter() - start)
    return min(timings), value


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    rng = np.random.default_rng(0)
    scores = rng.random(n)
    target = (rng.random(n) < scores).astype(np.int64)
    labels = rng.integers(0, 10, n)
    class_preds = np.where(rng.random(n) < 0.6, labels, rng.integers(0, 10, n))

    cases = [
        (
            "binary AUROC (exact)",
            lambda: fm.binary_auroc(scores, target),
            lambda: metrics.roc_auc_score(target, scores),
        ),
        (
            "binary average precision (exact)",
            lambda: fm.binary_average_precision(scores, target),
            lambda: metrics.average_precision_score(target, scores),
        ),
        (
            "multiclass macro F1, 10 classes",
            lambda: fm.multiclass_f1_score(class_preds, labels, 10),
            lambda: metrics.f1_score(labels, class_preds, average="macro"),
        ),
    ]
    print(f"n = {n}")
    for name, ours, theirs in cases:
        ours_time, ours_value = best_of_three(ours)
        theirs_time, theirs_value = best_of_three(theirs)
        print(
            f"{name}: ferrometrics {ours_time:.3f} s, scikit-learn {theirs_time:.3f} s, "
            f"ratio {theirs_time / ours_time:.1f}x, |difference| {abs(ours_value - theirs_value):.2e}"
        )


if __name__ == "__main__":
    main()
