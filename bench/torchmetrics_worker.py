"""Time TorchMetrics on the classification benchmark inputs, one case per request.

`compare_classification.py --torch-python PATH` starts this script with the Python of an
environment that has torch and TorchMetrics (it needs neither ferrometrics nor scikit-learn),
so both libraries are timed in one run, a moment apart. The script loads the same .npy files,
then reads case names from stdin, one per line, and writes one JSON line per case:
`{"wall": best wall seconds, "cpu": process CPU seconds of that run, "value": float}`, or
`{"error": message}` if TorchMetrics raised.
"""

import argparse
import json
import os
import sys

import numpy as np
import torch
from torchmetrics.functional import classification as tm

from timing import best_of


def load(data_dir, name):
    return torch.from_numpy(np.load(os.path.join(data_dir, name)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="folder of gen_labels.py .npy files")
    parser.add_argument("--runs", type=int, default=3, help="runs per case; the best is kept")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    scores = load(args.data_dir, "binary_n10000000_s0_scores.npy")
    target = load(args.data_dir, "binary_n10000000_s0_target.npy")
    labels = (scores > 0.5).long()
    pred_100 = load(args.data_dir, "multiclass_n1000000_c100_s0_pred.npy")
    target_100 = load(args.data_dir, "multiclass_n1000000_c100_s0_target.npy")
    pred_10 = load(args.data_dir, "multiclass_n10000000_c10_s0_pred.npy")
    target_10 = load(args.data_dir, "multiclass_n10000000_c10_s0_target.npy")

    cases = {
        "auroc": lambda: float(tm.binary_auroc(scores, target)),
        "average_precision": lambda: float(tm.binary_average_precision(scores, target)),
        "roc": lambda: float(len(tm.binary_roc(scores, target)[0])),
        "f1_scores": lambda: float(tm.binary_f1_score(scores, target)),
        "f1_labels": lambda: float(tm.binary_f1_score(labels, target)),
        "macro_f1_100": lambda: float(
            tm.multiclass_f1_score(pred_100, target_100, num_classes=100, average="macro")
        ),
        "macro_f1_10": lambda: float(
            tm.multiclass_f1_score(pred_10, target_10, num_classes=10, average="macro")
        ),
    }
    print(json.dumps({"ready": torch.__version__}), flush=True)
    for line in sys.stdin:
        name = line.strip()
        try:
            wall, cpu, value = best_of(args.runs, cases[name])
            reply = {"wall": wall, "cpu": cpu, "value": value}
        except Exception as error:  # reported to the parent, which prints it
            reply = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
