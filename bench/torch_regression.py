#!/usr/bin/env python3
"""Time TorchMetrics' functional regression metrics on saved float64 inputs and print JSON.

``compare_regression.py`` runs this file with the interpreter given by ``--torch-python``, so
that torch stays out of the ferrometrics process. Each metric is timed like the other peers:
the best of ``--repeats`` runs, with wall time and process CPU time (user + system). The output
is one JSON object that maps each metric name to ``[wall_s, cpu_s, value]``.

Example:
    python bench/torch_regression.py --preds x.npy --target y.npy --metrics pearson_corrcoef
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from timing import best_of


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preds", required=True, help=".npy file of float64 predictions")
    parser.add_argument("--target", required=True, help=".npy file of float64 targets")
    parser.add_argument("--metrics", required=True, help="comma-separated functional names")
    parser.add_argument("--positive", action="store_true", help="take exp of both inputs first")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per metric")
    args = parser.parse_args(argv)

    import torch
    import torchmetrics.functional.regression as tm

    preds = np.load(args.preds)
    target = np.load(args.target)
    if args.positive:
        preds, target = np.exp(preds), np.exp(target)
    preds, target = torch.from_numpy(preds), torch.from_numpy(target)

    results = {}
    for name in args.metrics.split(","):
        function = getattr(tm, name)
        if name == "tweedie_deviance_score":
            wall, cpu, value = best_of(args.repeats, function, preds, target, 1.5)
        else:
            wall, cpu, value = best_of(args.repeats, function, preds, target)
        results[name] = [wall, cpu, float(value)]
    results["_versions"] = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    import torchmetrics

    results["_versions"]["torchmetrics"] = torchmetrics.__version__
    print(json.dumps(results))


if __name__ == "__main__":
    main()
