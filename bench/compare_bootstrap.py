#!/usr/bin/env python3
"""Time ferrometrics' BootStrapper against TorchMetrics' resampling approach on the same seeded
data, in one process, and print the ratios.

TorchMetrics' BootStrapper draws Poisson(1) counts per sample for each replicate, repeats the
sample indices by their counts, gathers the inputs at those indices and updates a copy of the
metric with the gathered batch. Without torch installed, the peer column runs those same steps
with numpy and computes the metric with numpy (mean squared error) or scikit-learn (adjusted
Rand index). With TorchMetrics installed, its own BootStrapper is timed as well.

Every timing is the best of ``--repeats`` runs. The data is drawn from numpy's PCG64 with a
fixed seed.

Example:
    python bench/compare_bootstrap.py --samples 1000000 --bootstraps 100
"""
from __future__ import annotations

import argparse
import platform
import time

import numpy as np
from sklearn.metrics import adjusted_rand_score

from ferrometrics.aggregation import MeanMetric
from ferrometrics.clustering import AdjustedRandScore
from ferrometrics.wrappers import BootStrapper


def best_of(repeats, fn):
    """Return the fastest wall time of `repeats` calls, in seconds, and the last value."""
    best = float("inf")
    value = None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def peer_bootstrap(inputs, bootstraps, metric):
    """Resample as TorchMetrics does, one replicate at a time, and return mean and std."""
    generator = np.random.default_rng(0)
    samples = len(inputs[0])
    values = []
    for _ in range(bootstraps):
        counts = generator.poisson(1.0, samples)
        indices = np.repeat(np.arange(samples), counts)
        values.append(metric(*(array[indices] for array in inputs)))
    values = np.asarray(values)
    return values.mean(), values.std(ddof=1)


def ferrometrics_bootstrap(base, inputs, bootstraps):
    metric = BootStrapper(base, num_bootstraps=bootstraps, seed=0)
    metric.update(*inputs)
    output = metric.compute()
    return output["mean"], output["std"]


def torchmetrics_mse(preds, target, bootstraps):
    try:
        import torch
        from torchmetrics.regression import MeanSquaredError
        from torchmetrics.wrappers import BootStrapper as TorchBootStrapper
    except ImportError:
        return None
    torch.manual_seed(0)
    metric = TorchBootStrapper(MeanSquaredError(), num_bootstraps=bootstraps)
    metric.update(torch.from_numpy(preds), torch.from_numpy(target))
    output = metric.compute()
    return float(output["mean"]), float(output["std"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--bootstraps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    generator = np.random.default_rng(12345)
    preds = generator.random(args.samples)
    target = generator.random(args.samples)
    squared_errors = (preds - target) ** 2
    labels = generator.integers(0, 10, args.samples)
    relabeled = generator.integers(0, 10, args.samples)
    noisy = np.where(generator.random(args.samples) < 0.3, relabeled, labels)

    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    print(f"n = {args.samples}, bootstraps = {args.bootstraps}, best of {args.repeats}")
    print(f"{'case':<36} {'peer (s)':>10} {'ferrometrics (s)':>17} {'speed-up':>9}")

    cases = [
        (
            "mean squared error (MeanMetric)",
            lambda: peer_bootstrap((squared_errors,), args.bootstraps, np.mean),
            lambda: ferrometrics_bootstrap(MeanMetric(), (squared_errors,), args.bootstraps),
        ),
        (
            "adjusted Rand index",
            lambda: peer_bootstrap((noisy, labels), args.bootstraps, adjusted_rand_score),
            lambda: ferrometrics_bootstrap(AdjustedRandScore(), (noisy, labels), args.bootstraps),
        ),
    ]
    for name, peer, ours in cases:
        peer_time, (peer_mean, peer_std) = best_of(args.repeats, peer)
        our_time, (our_mean, our_std) = best_of(args.repeats, ours)
        # Different draws give different replicates, so the two agree only within the spread.
        assert abs(peer_mean - our_mean) < 5 * max(peer_std, our_std), (peer_mean, our_mean)
        print(f"{name:<36} {peer_time:>10.3f} {our_time:>17.3f} {peer_time / our_time:>8.1f}x")

    torch_time = best_of(1, lambda: torchmetrics_mse(preds, target, args.bootstraps))
    if torch_time[1] is None:
        print("TorchMetrics is not installed; its own BootStrapper was not timed")
    else:
        print(f"TorchMetrics BootStrapper(MeanSquaredError): {torch_time[0]:.3f} s")


if __name__ == "__main__":
    main()
