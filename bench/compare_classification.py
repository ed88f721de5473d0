"""Time exact binary curves, binary stat scores and multiclass macro F1 against scikit-learn and
TorchMetrics.

Run from the repository root after `maturin develop --release`, with a folder of inputs written
by the seeded generator `gen_labels.py` (`binary --n 10000000`, `multiclass --n 1000000 --c 100`
and `multiclass --n 10000000 --c 10`):

    python bench/compare_classification.py --data-dir DIR [--skip-sklearn]
        [--torch-python PATH]

Each ferrometrics time is the best of three runs; each scikit-learn time is one run, because
its exact curves take seconds at 10^7 scores. With `--torch-python`, `torchmetrics_worker.py`
runs under that Python (an environment with torch and TorchMetrics) and times each case, best
of `--torch-runs`, just before ferrometrics does. The numpy floor is the best of three
`preds.sum(); target.sum()` over the same arrays, the time to read the input bytes once.
Process CPU time (every thread, system time included) is printed next to wall time because
other jobs may share the cores. The script ends with a Markdown table of the results.
"""

import argparse
import json
import os
import subprocess

import numpy as np

from ferrometrics.functional import classification as fm
from timing import best_of


def load(data_dir, stem):
    return [np.load(os.path.join(data_dir, f"{stem}_{name}.npy")) for name in ("pred", "target")]


class TorchMetricsWorker:
    """A `torchmetrics_worker.py` process that times one case per request."""

    def __init__(self, python, data_dir, runs):
        worker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torchmetrics_worker.py")
        self.process = subprocess.Popen(
            [python, worker, "--data-dir", data_dir, "--runs", str(runs)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.version = self._read()["ready"]

    def _read(self):
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("torchmetrics_worker.py exited early; see its error output above")
        return json.loads(line)

    def time(self, case):
        self.process.stdin.write(case + "\n")
        self.process.stdin.flush()
        reply = self._read()
        if "error" in reply:
            raise RuntimeError(f"TorchMetrics failed on {case}: {reply['error']}")
        return reply["wall"], reply["cpu"], reply["value"]

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="folder of gen_labels.py .npy files")
    parser.add_argument("--skip-sklearn", action="store_true", help="do not time scikit-learn")
    parser.add_argument(
        "--torch-python",
        help="Python of an environment with torch and torchmetrics; TorchMetrics is not timed "
        "without it",
    )
    parser.add_argument(
        "--torch-runs", type=int, default=3, help="TorchMetrics runs per case; the best is kept"
    )
    args = parser.parse_args()

    binary_stem = os.path.join(args.data_dir, "binary_n10000000_s0")
    scores = np.load(binary_stem + "_scores.npy")
    target = np.load(binary_stem + "_target.npy")
    labels = (scores > 0.5).astype(np.int64)
    pred_100, target_100 = load(args.data_dir, "multiclass_n1000000_c100_s0")
    pred_10, target_10 = load(args.data_dir, "multiclass_n10000000_c10_s0")

    from sklearn import metrics

    # (name, TorchMetrics case, numpy floor index or None, ferrometrics, scikit-learn)
    cases = [
        (
            "binary AUROC, exact, n=10^7 float32",
            "auroc",
            None,
            lambda: float(fm.binary_auroc(scores, target)),
            lambda: metrics.roc_auc_score(target, scores),
        ),
        (
            "binary average precision, exact, n=10^7 float32",
            "average_precision",
            None,
            lambda: float(fm.binary_average_precision(scores, target)),
            lambda: metrics.average_precision_score(target, scores),
        ),
        (
            "binary ROC curve, exact, n=10^7 float32 (points)",
            "roc",
            None,
            lambda: float(len(fm.binary_roc(scores, target)[0])),
            lambda: float(len(metrics.roc_curve(target, scores, drop_intermediate=False)[0])),
        ),
        (
            "binary F1, n=10^7 float32 scores",
            "f1_scores",
            0,
            lambda: float(fm.binary_f1_score(scores, target)),
            lambda: metrics.f1_score(target, labels),
        ),
        (
            "binary F1, n=10^7 int64 labels",
            "f1_labels",
            1,
            lambda: float(fm.binary_f1_score(labels, target)),
            lambda: metrics.f1_score(target, labels),
        ),
        (
            "multiclass macro F1, 100 classes, n=10^6",
            "macro_f1_100",
            None,
            lambda: float(fm.multiclass_f1_score(pred_100, target_100, 100)),
            lambda: metrics.f1_score(target_100, pred_100, average="macro"),
        ),
        (
            "multiclass macro F1, 10 classes, n=10^7",
            "macro_f1_10",
            None,
            lambda: float(fm.multiclass_f1_score(pred_10, target_10, 10)),
            lambda: metrics.f1_score(target_10, pred_10, average="macro"),
        ),
    ]
    floors = [
        ("numpy sum of float32 scores + int64 target", lambda: (scores.sum(), target.sum())),
        ("numpy sum of int64 labels + int64 target", lambda: (labels.sum(), target.sum())),
    ]

    worker = None
    if args.torch_python:
        worker = TorchMetricsWorker(args.torch_python, args.data_dir, args.torch_runs)
        print(f"TorchMetrics worker ready (torch {worker.version})", flush=True)
    print("load average at start: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()), flush=True)

    floor_times = []
    for name, function in floors:
        floor_time, floor_cpu, _ = best_of(3, function)
        floor_times.append((floor_time, floor_cpu))
        print(f"{name}: {floor_time:.4f} s (CPU {floor_cpu:.4f} s)", flush=True)

    rows = []
    for name, torch_case, floor, ours, theirs in cases:
        row = {"name": name}
        if worker is not None:
            row["torch"] = worker.time(torch_case)
        row["ours"] = best_of(3, ours)
        if not args.skip_sklearn:
            row["sklearn"] = best_of(1, theirs)
        if floor is not None:
            row["floor"] = floor_times[floor]
        rows.append(row)
        print(describe(row), flush=True)
    if worker is not None:
        worker.close()
    print("load average at end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    print()
    print_table(rows)


def describe(row):
    """Return one line of text for a case."""
    ours_time, ours_cpu, ours_value = row["ours"]
    line = f"{row['name']}: ferrometrics {ours_time:.3f} s (CPU {ours_cpu:.3f} s)"
    if "torch" in row:
        torch_time, torch_cpu, torch_value = row["torch"]
        line += (
            f", TorchMetrics {torch_time:.3f} s (CPU {torch_cpu:.3f} s), "
            f"ratio {torch_time / ours_time:.1f}x wall, {torch_cpu / ours_cpu:.1f}x CPU, "
            f"|difference| {abs(ours_value - torch_value):.2e}"
        )
    if "sklearn" in row:
        sklearn_time, _, sklearn_value = row["sklearn"]
        line += (
            f", scikit-learn {sklearn_time:.3f} s, ratio {sklearn_time / ours_time:.1f}x, "
            f"|difference| {abs(ours_value - sklearn_value):.2e}"
        )
    if "floor" in row:
        floor_time, floor_cpu = row["floor"]
        line += (
            f", {ours_time / floor_time:.1f}x the numpy floor wall, "
            f"{ours_cpu / floor_cpu:.1f}x CPU"
        )
    return line


def print_table(rows):
    """Print the results as a Markdown table; empty cells are cases that were not timed."""
    print(
        "| metric | TorchMetrics wall (CPU) s | scikit-learn wall s | ferrometrics wall (CPU) s "
        "| vs TorchMetrics wall (CPU) | vs numpy floor wall (CPU) | difference from "
        "scikit-learn |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        ours_time, ours_cpu, ours_value = row["ours"]
        cells = [row["name"], "", "", f"{ours_time:.3f} ({ours_cpu:.3f})", "", "", ""]
        if "torch" in row:
            torch_time, torch_cpu, _ = row["torch"]
            cells[1] = f"{torch_time:.3f} ({torch_cpu:.3f})"
            cells[4] = f"{torch_time / ours_time:.1f}x ({torch_cpu / ours_cpu:.1f}x)"
        if "sklearn" in row:
            sklearn_time, _, sklearn_value = row["sklearn"]
            cells[2] = f"{sklearn_time:.3f}"
            cells[6] = f"{abs(ours_value - sklearn_value):.1e}"
        if "floor" in row:
            floor_time, floor_cpu = row["floor"]
            cells[5] = f"{ours_time / floor_time:.1f}x ({ours_cpu / floor_cpu:.1f}x)"
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
