#!/usr/bin/env python3
"""Time ferrometrics' clustering metrics against scikit-learn (and TorchMetrics on CPU when it
is installed) on the same seeded data, in one process, and print the ratios.

The data comes from the seeded generator ``gen_labels.py``, whose folder is given with
``--generator-dir``; files are written to ``--data-dir`` once and reused. Every timing is the
best of ``--repeats`` runs with loading untimed. The numpy row is the time numpy needs to sum
the same input bytes, the memory-bandwidth floor for a one-pass metric.

Example:
    python bench/compare_clustering.py --generator-dir PATH/TO/GENERATORS --data-dir bench-data
"""
from __future__ import annotations

import argparse
import importlib.util
import platform
import sys
import time

import numpy as np

EXTRINSIC = [
    "adjusted_rand_score",
    "normalized_mutual_info_score",
    "v_measure_score",
    "fowlkes_mallows_score",
    "adjusted_mutual_info_score",
]
# scikit-learn's name -> ferrometrics' (TorchMetrics') name.
RENAMED = {"fowlkes_mallows_score": "fowlkes_mallows_index"}


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


def torchmetrics_clustering():
    try:
        import torch
        import torchmetrics.functional.clustering as functional
    except ImportError:
        return None, None
    return torch, functional


def report(rows):
    """Print one line per comparison. Against a peer the last column is the speed-up; against
    the numpy floor it is how many times the floor ferrometrics needs."""
    header = f"{'metric':30} {'size':20} {'compared with':14} {'its s':>9} {'ferro s':>9} {'ratio':>14}"
    print(header)
    print("-" * len(header))
    for metric, size, peer, peer_time, ours in rows:
        if peer == "numpy sum":
            ratio = f"{ours / peer_time:.1f}x the floor"
        else:
            ratio = f"{peer_time / ours:.0f}x faster"
        print(f"{metric:30} {size:20} {peer:14} {peer_time:9.4f} {ours:9.4f} {ratio:>14}")


def bench_extrinsic(args, gen, rows):
    import sklearn.metrics as sk

    import ferrometrics.functional.clustering as fm

    torch, tm = torchmetrics_clustering()
    for n, k in [(10**7, 10), (10**6, 1000)]:
        paths = gen.clustering(n, k, 0, args.data_dir)
        target, preds = np.load(paths["true"]), np.load(paths["pred"])
        size = f"n={n:.0e} k={k}"
        floor, _ = best_of(args.repeats, lambda: target.sum() + preds.sum())
        # AMI's expected mutual information is the costly part at many clusters.
        names = ["adjusted_mutual_info_score"] if k == 1000 else EXTRINSIC[:-1]
        for name in names:
            ours_fn = getattr(fm, RENAMED.get(name, name))
            ours, ours_value = best_of(args.repeats, ours_fn, preds, target)
            peer, peer_value = best_of(
                1 if name == "adjusted_mutual_info_score" else args.repeats,
                getattr(sk, name),
                target,
                preds,
            )
            if abs(ours_value - peer_value) > 1e-9 * max(1.0, abs(peer_value)):
                sys.exit(f"{name}: ferrometrics {ours_value!r} != scikit-learn {peer_value!r}")
            rows.append((name, size, "scikit-learn", peer, ours))
            if k == 10:
                rows.append((name, size, "numpy sum", floor, ours))
            if tm is not None and name != "adjusted_mutual_info_score":
                tmfn = getattr(tm, RENAMED.get(name, name))
                tp, tt = torch.from_numpy(preds), torch.from_numpy(target)
                peer, _ = best_of(args.repeats, tmfn, tp, tt)
                rows.append((name, size, "torchmetrics", peer, ours))


def bench_intrinsic(args, gen, rows):
    import sklearn.metrics as sk

    import ferrometrics.functional.clustering as fm

    torch, tm = torchmetrics_clustering()
    n, d, k = 10**6, 64, 10
    paths = gen.embedding(n, d, k, 0, args.data_dir)
    data, labels = np.load(paths["X"]), np.load(paths["labels"])
    size = f"n={n:.0e} d={d} k={k}"
    for name in ["calinski_harabasz_score", "davies_bouldin_score"]:
        ours, ours_value = best_of(args.repeats, getattr(fm, name), data, labels)
        peer, peer_value = best_of(args.repeats, getattr(sk, name), data, labels)
        # scikit-learn accumulates float32 input partly in float32, so the values agree to
        # float32 precision here, and to 1e-9 on float64 input (the pytest suite checks that).
        if abs(ours_value - peer_value) > 1e-4 * abs(peer_value):
            sys.exit(f"{name}: ferrometrics {ours_value!r} != scikit-learn {peer_value!r}")
        rows.append((name, size, "scikit-learn", peer, ours))
        if tm is not None:
            tX, tl = torch.from_numpy(data), torch.from_numpy(labels)
            peer, _ = best_of(args.repeats, getattr(tm, name), tX, tl)
            rows.append((name, size, "torchmetrics", peer, ours))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator-dir", required=True, help="folder that contains gen_labels.py")
    parser.add_argument("--data-dir", default="bench-data", help="where the .npy inputs are kept")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per case; the best counts")
    parser.add_argument("--sections", default="extrinsic,intrinsic", help="comma-separated list")
    args = parser.parse_args(argv)

    gen = load_generator(args.generator_dir)
    print(f"# {platform.processor() or platform.machine()}, {platform.python_version()}, "
          f"numpy {np.__version__}, {time.strftime('%Y-%m-%d')}")
    rows = []
    sections = args.sections.split(",")
    if "extrinsic" in sections:
        bench_extrinsic(args, gen, rows)
    if "intrinsic" in sections:
        bench_intrinsic(args, gen, rows)
    report(rows)


if __name__ == "__main__":
    main()
