#!/usr/bin/env python3
"""Time ferrometrics' regression metrics against scikit-learn and scipy on the same seeded data,
in one process, and print the ratios.

The data comes from the seeded generator ``gen_labels.py`` (``x ~ N(0, 1)``,
``y = 0.6 x + 0.8 N(0, 1)``, float32), whose folder is given with ``--generator-dir``. Files
are written to ``--data-dir`` once and reused. The float32 values are converted to float64
before timing, so both sides compute on the same float64 numbers. The log and Tweedie errors
take ``exp`` of the values, which their domains need. Every timing is the best of ``--repeats``
runs with loading untimed. The numpy row is the time numpy needs to sum the same input bytes,
the memory-bandwidth floor for a one-pass metric.

Example:
    python bench/compare_regression.py --generator-dir PATH/TO/GENERATORS --data-dir bench-data
"""
from __future__ import annotations

import argparse
import importlib.util
import platform
import sys
import time

import numpy as np


def best_of(repeats, fn, *args):
    """Return the fastest wall time of `repeats` calls, in seconds, and the last value."""
    best = float("inf")
    value = None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn(*args)
        best = min(best, time.perf_counter() - start)
    return best, value


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
    """Print one line per comparison. Against a peer the last column is the speed-up; against
    the numpy floor it is how many times the floor ferrometrics needs."""
    header = f"{'metric':32} {'size':8} {'compared with':14} {'its s':>9} {'ferro s':>9} {'ratio':>15}"
    print(header)
    print("-" * len(header))
    for metric, size, peer, peer_time, ours in rows:
        if peer == "numpy sum":
            ratio = f"{ours / peer_time:.1f}x the floor"
        else:
            ratio = f"{peer_time / ours:.1f}x faster"
        print(f"{metric:32} {size:8} {peer:14} {peer_time:9.4f} {ours:9.4f} {ratio:>15}")


def bench(args, gen, n, rows):
    paths = gen.regression(n, 0, args.data_dir)
    preds = np.load(paths["x"]).astype(np.float64)
    target = np.load(paths["y"]).astype(np.float64)
    positive = (np.exp(preds), np.exp(target))
    size = f"n={n:.0e}"

    floor, _ = best_of(args.repeats, lambda: preds.sum() + target.sum())
    for name, ours_fn, peer_name, peer_fn, needs_positive in comparisons():
        inputs = positive if needs_positive else (preds, target)
        # scipy's Kendall tau sorts in Python-level passes and takes tens of seconds at 10^7.
        peer_repeats = 1 if name == "kendall_rank_corrcoef" else args.repeats
        ours, ours_value = best_of(args.repeats, ours_fn, *inputs)
        peer, peer_value = best_of(peer_repeats, peer_fn, *inputs)
        if abs(ours_value - peer_value) > 1e-9 * max(1.0, abs(peer_value)):
            sys.exit(f"{name}: ferrometrics {ours_value!r} != {peer_name} {peer_value!r}")
        rows.append((name, size, peer_name, peer, ours))
        if name in ("pearson_corrcoef", "mean_squared_error"):
            rows.append((name, size, "numpy sum", floor, ours))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator-dir", required=True, help="folder that contains gen_labels.py")
    parser.add_argument("--data-dir", default="bench-data", help="where the .npy inputs are kept")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per case; the best counts")
    parser.add_argument(
        "--sizes", default="1000000,10000000", help="comma-separated sample counts"
    )
    args = parser.parse_args(argv)

    gen = load_generator(args.generator_dir)
    print(f"# {platform.processor() or platform.machine()}, {platform.python_version()}, "
          f"numpy {np.__version__}, {time.strftime('%Y-%m-%d')}")
    rows = []
    for n in (int(size) for size in args.sizes.split(",")):
        bench(args, gen, n, rows)
    report(rows)


if __name__ == "__main__":
    main()
