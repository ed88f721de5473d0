#!/usr/bin/env python3
"""Time ferrometrics' regression metrics against scikit-learn, scipy and optionally
TorchMetrics on the same seeded data, and print the ratios.

The data comes from the seeded generator ``gen_labels.py`` (``x ~ N(0, 1)``,
``y = 0.6 x + 0.8 N(0, 1)``, float32), whose folder is given with ``--generator-dir``. Files
are written to ``--data-dir`` once and reused. The float32 values are converted to float64
before timing, so every side computes on the same float64 numbers. The log and Tweedie errors
take ``exp`` of the values, which their domains need. Every timing is the best of ``--repeats``
runs with loading untimed, as wall time and as process CPU time (user + system, which counts
every thread). The numpy row is the time numpy needs to sum the same input bytes, the
memory-bandwidth floor for a one-pass metric.

With ``--torch-python PATH`` the same inputs are saved as float64 ``.npy`` files and timed with
TorchMetrics by ``torch_regression.py`` under that interpreter, in a separate process, so torch
is optional and never imported here.

Example:
    python bench/compare_regression.py --generator-dir PATH/TO/GENERATORS --data-dir bench-data \
        --torch-python /path/to/torch/venv/bin/python
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

from timing import best_of

# Goals at n = 10^7: these metrics within 3 times the numpy floor, Spearman at least 20 times
# faster than scipy.
FLOOR_GOAL = 3.0
FLOOR_GOAL_METRICS = ("pearson_corrcoef", "r2_score", "mean_squared_error", "mean_absolute_error")
SPEARMAN_GOAL = 20.0

# Header lines already printed, so that each subprocess run does not repeat them.
PRINTED_NOTES = set()


def load_generator(directory):
    spec = importlib.util.spec_from_file_location("gen_labels", f"{directory}/gen_labels.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def comparisons():
    """Return (name, ferrometrics function, peer name, peer function, positive inputs) rows.

    Every function takes ``(preds, target)``. The peers take scikit-learn's ``(y_true,
    y_pred)`` order, which the lambdas swap.
    """
    import scipy.stats as st
    import sklearn.metrics as sk

    import ferrometrics.functional.regression as fm

    def tweedie(p, t):
        return fm.tweedie_deviance_score(p, t, power=1.5)

    return [
        ("pearson_corrcoef", fm.pearson_corrcoef, "scipy",
         lambda p, t: st.pearsonr(p, t)[0], False),
        ("spearman_corrcoef", fm.spearman_corrcoef, "scipy",
         lambda p, t: st.spearmanr(p, t)[0], False),
        ("kendall_rank_corrcoef", fm.kendall_rank_corrcoef, "scipy",
         lambda p, t: st.kendalltau(p, t)[0], False),
        ("r2_score", fm.r2_score, "scikit-learn",
         lambda p, t: sk.r2_score(t, p), False),
        ("explained_variance", fm.explained_variance, "scikit-learn",
         lambda p, t: sk.explained_variance_score(t, p), False),
        ("mean_squared_error", fm.mean_squared_error, "scikit-learn",
         lambda p, t: sk.mean_squared_error(t, p), False),
        ("mean_absolute_error", fm.mean_absolute_error, "scikit-learn",
         lambda p, t: sk.mean_absolute_error(t, p), False),
        ("mean_absolute_percentage_error", fm.mean_absolute_percentage_error, "scikit-learn",
         lambda p, t: sk.mean_absolute_percentage_error(t, p), False),
        ("mean_squared_log_error", fm.mean_squared_log_error, "scikit-learn",
         lambda p, t: sk.mean_squared_log_error(t, p), True),
        ("tweedie_deviance_score", tweedie, "scikit-learn",
         lambda p, t: sk.mean_tweedie_deviance(t, p, power=1.5), True),
    ]


def report(rows):
    """Print one line per comparison. Against a peer the ratio is the speed-up; against the
    numpy floor it is how many times the floor ferrometrics needs."""
    header = (
        f"{'metric':32} {'size':8} {'compared with':14} {'its s':>9} {'its cpu':>9} "
        f"{'ferro s':>9} {'ferro cpu':>9} {'ratio':>16}"
    )
    print(header)
    print("-" * len(header))
    for metric, size, peer, (peer_wall, peer_cpu), (wall, cpu) in rows:
        if peer == "numpy sum":
            ratio = f"{wall / peer_wall:.1f}x the floor"
        else:
            ratio = f"{peer_wall / wall:.1f}x faster"
        print(
            f"{metric:32} {size:8} {peer:14} {peer_wall:9.4f} {peer_cpu:9.4f} "
            f"{wall:9.4f} {cpu:9.4f} {ratio:>16}"
        )


def report_goals(rows):
    """Print whether each goal at n = 10^7 is met, by wall time and by CPU time."""
    print()
    print("Goals at n=1e+07 (wall ratio / CPU ratio):")
    for metric, size, peer, peer_times, ours in rows:
        if size != "n=1e+07":
            continue
        wall_ratio = ours[0] / peer_times[0]
        cpu_ratio = ours[1] / peer_times[1]
        if peer == "numpy sum" and metric in FLOOR_GOAL_METRICS:
            met = "met" if wall_ratio <= FLOOR_GOAL else "NOT met"
            print(f"  {metric:24} {wall_ratio:5.1f}x / {cpu_ratio:5.1f}x the floor "
                  f"(goal <= {FLOOR_GOAL:g}x): {met}")
        if peer == "scipy" and metric == "spearman_corrcoef":
            speedup = 1 / wall_ratio
            met = "met" if speedup >= SPEARMAN_GOAL else "NOT met"
            print(f"  {metric:24} {speedup:5.1f}x / {1 / cpu_ratio:5.1f}x faster than scipy "
                  f"(goal >= {SPEARMAN_GOAL:g}x): {met}")


def torch_times(args, inputs_dir, preds, target, names, positive):
    """Time `names` with TorchMetrics in a subprocess; return {name: ((wall, cpu), value)}."""
    if not args.torch_python or not names:
        return {}
    preds_path = os.path.join(inputs_dir, "torch_preds.npy")
    target_path = os.path.join(inputs_dir, "torch_target.npy")
    np.save(preds_path, preds)
    np.save(target_path, target)
    command = [
        args.torch_python,
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_regression.py"),
        "--preds", preds_path, "--target", target_path,
        "--metrics", ",".join(names), "--repeats", str(args.repeats),
    ]
    if positive:
        command.append("--positive")
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    results = json.loads(output)
    versions = results.pop("_versions")
    line = (f"# torchmetrics {versions['torchmetrics']}, torch {versions['torch']}, "
            f"{versions['threads']} torch threads")
    if line not in PRINTED_NOTES:
        PRINTED_NOTES.add(line)
        print(line)
    return {name: ((wall, cpu), value) for name, (wall, cpu, value) in results.items()}


def agree(ours_value, peer_value, tolerance=1e-9):
    return abs(ours_value - peer_value) <= tolerance * max(1.0, abs(peer_value))


def check_agree(name, peer_name, ours_value, peer_value):
    if not agree(ours_value, peer_value):
        sys.exit(f"{name}: ferrometrics {ours_value!r} != {peer_name} {peer_value!r}")


def bench(args, gen, n, rows):
    paths = gen.regression(n, 0, args.data_dir)
    preds = np.load(paths["x"]).astype(np.float64)
    target = np.load(paths["y"]).astype(np.float64)
    positive = (np.exp(preds), np.exp(target))
    size = f"n={n:.0e}"
    selected = [row for row in comparisons() if args.metrics is None or row[0] in args.metrics]

    *floor, _ = best_of(args.repeats, lambda: preds.sum() + target.sum())
    # TorchMetrics' Kendall tau is left out: it is not the subject of these goals and takes
    # minutes at 10^7.
    torch_results = {}
    for positive_inputs in (False, True):
        names = [row[0] for row in selected
                 if row[4] == positive_inputs and row[0] != "kendall_rank_corrcoef"]
        torch_results.update(
            torch_times(args, args.data_dir, preds, target, names, positive_inputs))

    for name, ours_fn, peer_name, peer_fn, needs_positive in selected:
        inputs = positive if needs_positive else (preds, target)
        # scipy's Kendall tau sorts in Python-level passes and takes tens of seconds at 10^7.
        peer_repeats = 1 if name == "kendall_rank_corrcoef" else args.repeats
        *ours, ours_value = best_of(args.repeats, ours_fn, *inputs)
        *peer, peer_value = best_of(peer_repeats, peer_fn, *inputs)
        check_agree(name, peer_name, ours_value, peer_value)
        rows.append((name, size, peer_name, peer, ours))
        if name in torch_results:
            torch_time, torch_value = torch_results[name]
            # In torchmetrics 1.9.0 Spearman adds eps=1e-6 to the product of the rank standard
            # deviations, about 1e-7 relative here, and MAPE floors |target| at 1.17e-6 where
            # scikit-learn uses the float64 machine epsilon. A value that differs is timed all
            # the same and marked with "(differs)".
            peer_label = "torchmetrics"
            if not agree(ours_value, torch_value, tolerance=1e-6):
                peer_label = "torch(differs)"
                print(f"# {name} {size}: TorchMetrics gives {torch_value!r}, "
                      f"ferrometrics and {peer_name} {ours_value!r}")
            rows.append((name, size, peer_label, torch_time, ours))
        if name in FLOOR_GOAL_METRICS:
            rows.append((name, size, "numpy sum", floor, ours))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator-dir", required=True, help="folder that contains gen_labels.py")
    parser.add_argument("--data-dir", default="bench-data", help="where the .npy inputs are kept")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per case; the best counts")
    parser.add_argument(
        "--sizes", default="1000000,10000000", help="comma-separated sample counts"
    )
    parser.add_argument(
        "--metrics", type=lambda text: text.split(","), default=None,
        help="comma-separated functional names to time (default: all)",
    )
    parser.add_argument(
        "--torch-python", default=None,
        help="Python interpreter that imports torchmetrics; without it TorchMetrics is not timed",
    )
    args = parser.parse_args(argv)

    gen = load_generator(args.generator_dir)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, numpy {np.__version__}, "
          f"{time.strftime('%Y-%m-%d %H:%M %Z')}, load average {load}")
    rows = []
    for n in (int(size) for size in args.sizes.split(",")):
        bench(args, gen, n, rows)
    report(rows)
    report_goals(rows)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"# load average at the end: {load}")


if __name__ == "__main__":
    main()
