#!/usr/bin/env python3
"""Time ferrometrics' BootStrapper(MeanSquaredError) against TorchMetrics' BootStrapper on the
same data, and print wall and CPU times with their ratios.

The data is the regression set of ``gen_labels.py regression --n N`` (float32 ``x`` and ``y``,
read from ``--data-dir``), with ``x`` as predictions and ``y`` as targets. Each run is one
``BootStrapper(MeanSquaredError(), num_bootstraps=B)`` with Poisson sampling, one ``update``
with all samples and one ``compute``.

Peers, in one run of this script, a moment apart:

- TorchMetrics' own ``BootStrapper``, when ``--torch-python`` names an interpreter with torch
  and torchmetrics. It runs in a subprocess, which reports its own wall and CPU time.
- Otherwise a numpy stand-in of TorchMetrics' steps: per replicate, Poisson(1) counts per
  sample, ``repeat`` of the sample indices, a gather of both inputs and the mean squared error.
- ferrometrics' copying path, ``BootStrapper(MeanSquaredError(), sampling_strategy=
  "multinomial")``, which copies one resample of n samples per replicate
  (``--gather-bootstraps`` replicates, fewer because it is slow).

CPU time is user plus system time of the process that ran the case (``getrusage``). Other jobs
on a shared machine inflate wall time more than CPU time, so read both.

Example:
    python bench/compare_bootstrap.py --data-dir bench-data --torch-python /opt/torch/bin/python
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys

import numpy as np

from timing import best_of, timed


def load(data_dir: str, samples: int):
    stem = os.path.join(data_dir, f"regression_n{samples}_s0")
    paths = [f"{stem}_x.npy", f"{stem}_y.npy"]
    missing = [path for path in paths if not os.path.exists(path)]
    if missing:
        sys.exit(
            f"missing {', '.join(missing)}; write them with "
            f"`gen_labels.py regression --n {samples} --out-dir {data_dir}`"
        )
    return paths, np.load(paths[0]), np.load(paths[1])


def torch_worker(x_path: str, y_path: str, bootstraps: int) -> None:
    """Run TorchMetrics' BootStrapper once and print its times and output as JSON."""
    import torch
    from torchmetrics.regression import MeanSquaredError
    from torchmetrics.wrappers import BootStrapper

    preds = torch.from_numpy(np.load(x_path))
    target = torch.from_numpy(np.load(y_path))
    torch.manual_seed(0)

    def run():
        metric = BootStrapper(MeanSquaredError(), num_bootstraps=bootstraps)
        metric.update(preds, target)
        return {key: float(value) for key, value in metric.compute().items()}

    wall, cpu, output = timed(run)
    versions = f"torch {torch.__version__}, torchmetrics {__import__('torchmetrics').__version__}"
    threads = torch.get_num_threads()
    print(json.dumps({"wall": wall, "cpu": cpu, "output": output, "versions": versions,
                      "threads": threads}))


def torchmetrics_peer(torch_python: str, paths, bootstraps: int):
    completed = subprocess.run(
        [torch_python, __file__, "--torch-worker", *paths, str(bootstraps)],
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        sys.exit(f"the TorchMetrics run with {torch_python} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def numpy_peer(preds, target, bootstraps: int):
    """Run TorchMetrics' resampling steps with numpy and return mean and std."""
    generator = np.random.default_rng(0)
    samples = len(preds)
    values = []
    for _ in range(bootstraps):
        counts = generator.poisson(1.0, samples)
        indices = np.repeat(np.arange(samples), counts)
        difference = preds[indices].astype(np.float64) - target[indices]
        values.append(np.mean(difference * difference))
    values = np.asarray(values)
    return {"mean": values.mean(), "std": values.std(ddof=1)}


def ferrometrics_counts(preds, target, bootstraps: int):
    from ferrometrics.regression import MeanSquaredError
    from ferrometrics.wrappers import BootStrapper

    metric = BootStrapper(MeanSquaredError(), num_bootstraps=bootstraps, seed=0)
    metric.update(preds, target)
    return metric.compute()


def ferrometrics_gather(preds, target, bootstraps: int):
    from ferrometrics.regression import MeanSquaredError
    from ferrometrics.wrappers import BootStrapper

    metric = BootStrapper(
        MeanSquaredError(), num_bootstraps=bootstraps, sampling_strategy="multinomial", seed=0
    )
    metric.update(preds, target)
    return metric.compute()


def row(name, bootstraps, wall, cpu, reference=None):
    ratios = ""
    if reference is not None:
        ratios = f" {reference[0] / wall:>9.1f}x {reference[1] / cpu:>9.1f}x"
    print(f"{name:<52} {bootstraps:>6} {wall:>9.3f} {cpu:>9.3f}{ratios}")


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--torch-worker":
        torch_worker(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="folder of the gen_labels.py files")
    parser.add_argument("--samples", type=int, default=1_000_000, help="number of samples in the data set")
    parser.add_argument("--bootstraps", type=int, default=1000, help="replicates per run")
    parser.add_argument("--repeats", type=int, default=3, help="ferrometrics runs, best kept")
    parser.add_argument(
        "--gather-bootstraps", type=int, default=100,
        help="replicates of the gathering-path row, 0 to leave it out",
    )
    parser.add_argument(
        "--torch-python", help="interpreter with torch and torchmetrics for the peer row"
    )
    args = parser.parse_args()

    paths, preds, target = load(args.data_dir, args.samples)
    import ferrometrics

    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"ferrometrics {getattr(ferrometrics, '__version__', '?')}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs")
    print(f"n = {args.samples} (float32), load average before: {os.getloadavg()}")

    if args.torch_python:
        peer = torchmetrics_peer(args.torch_python, paths, args.bootstraps)
        peer_name = "TorchMetrics BootStrapper(MeanSquaredError)"
        peer_times = (peer["wall"], peer["cpu"])
        peer_output = peer["output"]
        print(f"{peer['versions']}, {peer['threads']} torch threads, one run")
    else:
        wall, cpu, peer_output = timed(lambda: numpy_peer(preds, target, args.bootstraps))
        peer_name = "numpy stand-in of TorchMetrics' steps"
        peer_times = (wall, cpu)
        print("TorchMetrics not timed (no --torch-python); the peer is a numpy stand-in")

    wall, cpu, ours = best_of(
        args.repeats, lambda: ferrometrics_counts(preds, target, args.bootstraps)
    )
    # Different draws give different replicates, so the two agree only within the spread.
    spread = 5 * max(peer_output["std"], ours["std"])
    assert abs(peer_output["mean"] - ours["mean"]) < spread, (peer_output, ours)

    print()
    print(f"{'case':<52} {'B':>6} {'wall (s)':>9} {'CPU (s)':>9} {'wall x':>10} {'CPU x':>10}")
    row(peer_name, args.bootstraps, *peer_times)
    row("ferrometrics BootStrapper(MeanSquaredError), weighted", args.bootstraps, wall, cpu,
        peer_times)
    if args.gather_bootstraps > 0:
        gather_wall, gather_cpu, _ = best_of(
            1, lambda: ferrometrics_gather(preds, target, args.gather_bootstraps)
        )
        scale = args.bootstraps / args.gather_bootstraps
        row("ferrometrics BootStrapper(MeanSquaredError), copying", args.gather_bootstraps,
            gather_wall, gather_cpu)
        print(f"weighted path vs copying, per replicate: wall "
              f"{gather_wall * scale / wall:.1f}x, CPU {gather_cpu * scale / cpu:.1f}x")
    print(f"mean and std of the replicates: peer {peer_output['mean']:.6f} "
          f"{peer_output['std']:.6f}, ferrometrics {ours['mean']:.6f} {ours['std']:.6f}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
