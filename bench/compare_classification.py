"""Time exact binary curves, binary stat scores and multiclass macro F1 against scikit-learn.

Run from the repository root after `maturin develop --release`, with a folder of inputs written
by the seeded generator `gen_labels.py` (`binary --n 10000000`, `multiclass --n 1000000 --c 100`
and `multiclass --n 10000000 --c 10`):

    python bench/compare_classification.py --data-dir DIR [--skip-sklearn]

Each ferrometrics time is the best of three runs; each scikit-learn time is one run, because
its exact curves take seconds at 10^7 scores. The numpy floor is the best of three
`preds.sum(); target.sum()` over the same arrays, the time to read the input bytes once.
Process CPU time is printed next to wall time because other jobs may share the cores.
"""

import argparse
import os
import time

import numpy as np

from ferrometrics.functional import classification as fm


def best_of(runs, function):
    """Return the best wall time, the best process CPU time (all threads) and the value."""
    timings, cpu_timings = [], []
    for _ in range(runs):
        start, cpu_start = time.perf_counter(), time.process_time()
        value = function()
        timings.append(time.perf_counter() - start)
        cpu_timings.append(time.process_time() - cpu_start)
    return min(timings), min(cpu_timings), value


def load(data_dir, stem):
    return [np.load(os.path.join(data_dir, f"{stem}_{name}.npy")) for name in ("pred", "target")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="folder of gen_labels.py .npy files")
    parser.add_argument("--skip-sklearn", action="store_true", help="time ferrometrics only")
    args = parser.parse_args()

    binary_stem = os.path.join(args.data_dir, "binary_n10000000_s0")
    scores = np.load(binary_stem + "_scores.npy")
    target = np.load(binary_stem + "_target.npy")
    labels = (scores > 0.5).astype(np.int64)
    pred_100, target_100 = load(args.data_dir, "multiclass_n1000000_c100_s0")
    pred_10, target_10 = load(args.data_dir, "multiclass_n10000000_c10_s0")

    from sklearn import metrics

    cases = [
        (
            "binary AUROC, exact, n=10^7 float32",
            lambda: float(fm.binary_auroc(scores, target)),
            lambda: metrics.roc_auc_score(target, scores),
        ),
        (
            "binary average precision, exact, n=10^7 float32",
            lambda: float(fm.binary_average_precision(scores, target)),
            lambda: metrics.average_precision_score(target, scores),
        ),
        (
            "binary ROC curve, exact, n=10^7 float32 (points)",
            lambda: float(len(fm.binary_roc(scores, target)[0])),
            lambda: float(len(metrics.roc_curve(target, scores, drop_intermediate=False)[0])),
        ),
        (
            "binary F1, n=10^7 float32 scores",
            lambda: float(fm.binary_f1_score(scores, target)),
            lambda: metrics.f1_score(target, labels),
        ),
        (
            "binary F1, n=10^7 int64 labels",
            lambda: float(fm.binary_f1_score(labels, target)),
            lambda: metrics.f1_score(target, labels),
        ),
        (
            "multiclass macro F1, 100 classes, n=10^6",
            lambda: float(fm.multiclass_f1_score(pred_100, target_100, 100)),
            lambda: metrics.f1_score(target_100, pred_100, average="macro"),
        ),
        (
            "multiclass macro F1, 10 classes, n=10^7",
            lambda: float(fm.multiclass_f1_score(pred_10, target_10, 10)),
            lambda: metrics.f1_score(target_10, pred_10, average="macro"),
        ),
    ]
    floors = [
        ("numpy sum of float32 scores + int64 target", lambda: (scores.sum(), target.sum())),
        ("numpy sum of int64 labels + int64 target", lambda: (labels.sum(), target.sum())),
    ]
    for name, function in floors:
        floor_time, floor_cpu, _ = best_of(3, function)
        print(f"{name}: {floor_time:.4f} s (CPU {floor_cpu:.4f} s)")
    for name, ours, theirs in cases:
        ours_time, ours_cpu, ours_value = best_of(3, ours)
        line = f"{name}: ferrometrics {ours_time:.3f} s (CPU {ours_cpu:.3f} s)"
        if not args.skip_sklearn:
            theirs_time, _, theirs_value = best_of(1, theirs)
            line += (
                f", scikit-learn {theirs_time:.3f} s, ratio {theirs_time / ours_time:.1f}x, "
                f"|difference| {abs(ours_value - theirs_value):.2e}"
            )
        print(line, flush=True)


if __name__ == "__main__":
    main()
