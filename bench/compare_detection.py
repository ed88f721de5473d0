#!/usr/bin/env python3
"""Time COCO evaluation in ferrometrics and its peers (pycocotools, faster-coco-eval, hotcoco)
on the same seeded COCO-like data, and check that every peer's 12 summary numbers equal
pycocotools'.

The peer ``ferrometrics-cli`` is the ``ferrometrics detection`` command (``$FERROMETRICS_CLI``,
by default ``target/release/ferrometrics``). It loads and evaluates in one process: its load and
evaluation columns come from its ``--timings`` output, and its load+eval column is the wall
time of the whole process. Each (peer, set) pair runs in its own
child process, so that its peak resident memory is its
own. A child loads the ground truth and results files (timed once), then runs evaluate,
accumulate and summarize `--repeats` times on freshly loaded inputs and keeps the best time.
The data comes from the seeded generator ``gen_coco.py`` in ``--generator-dir``; files are
written to ``--data-dir`` once and reused. Peers that are not installed are skipped.

Example:
    python bench/compare_detection.py --generator-dir PATH/TO/GENERATORS --sets small,val
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import resource
import subprocess
import sys
import time

SETS = {
    "small": dict(images=500, segm=False),
    "small-segm": dict(images=500, segm=True),
    "val": dict(images=5000, segm=False),
    "val-segm": dict(images=5000, segm=True),
}
PEERS = ["ferrometrics-cli", "ferrometrics", "pycocotools", "faster-coco-eval", "hotcoco"]
STAT_KEYS = ["map", "map_50", "map_75", "map_small", "map_medium", "map_large",
             "mar_1", "mar_10", "mar_100", "mar_small", "mar_medium", "mar_large"]


def peer_api(peer):
    """Return the (COCO, COCOeval) classes of a peer, all with pycocotools' interface."""
    if peer == "ferrometrics":
        from ferrometrics.coco import COCO, COCOeval
    elif peer == "pycocotools":
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    elif peer == "faster-coco-eval":
        from faster_coco_eval import COCO
        from faster_coco_eval import COCOeval_faster as COCOeval
    elif peer == "hotcoco":
        from hotcoco import COCO, COCOeval
    else:
        raise ValueError(f"unknown peer {peer!r}")
    return COCO, COCOeval


def child_cli(gt_path, dt_path, iou_type, repeats):
    """Time the `ferrometrics detection` command, which loads and evaluates in one run.

    Its load time is the best of the reading and parsing steps that ``--timings`` prints, and
    its evaluation time the best of evaluate, accumulate and summarize. Its load+eval time is
    the best wall time of the whole process, which also includes starting, printing and
    exiting."""
    binary = os.environ.get("FERROMETRICS_CLI", "target/release/ferrometrics")
    command = [binary, "detection", "--gt", gt_path, "--dt", dt_path, "--iou-type", iou_type,
               "--format", "json", "--timings"]
    best = float("inf")
    best_load = best_eval = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run = subprocess.run(command, check=True, capture_output=True, text=True)
        best = min(best, time.perf_counter() - start)
        steps = {}
        for line in run.stderr.splitlines():
            name, _, seconds = line.rpartition(":")
            steps[name.strip()] = float(seconds.split()[0])
        best_load = min(best_load, steps["read files, parse ground truth"]
                        + steps["parse results"])
        best_eval = min(best_eval, steps["evaluate"] + steps["accumulate"] + steps["summarize"])
    result = json.loads(run.stdout)
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    stats = [float(result[key]) for key in STAT_KEYS]
    print(json.dumps(dict(load=best_load, eval=best_eval, total=best, stats=stats,
                          peak_mib=peak_mib)))


def child(peer, gt_path, dt_path, iou_type, repeats):
    """Run one peer on one set and prints its timings, stats and peak memory as JSON."""
    if peer == "ferrometrics-cli":
        child_cli(gt_path, dt_path, iou_type, repeats)
        return
    COCO, COCOeval = peer_api(peer)

    def load():
        with contextlib.redirect_stdout(io.StringIO()):
            gt = COCO(gt_path)
            return gt, gt.loadRes(dt_path)

    start = time.perf_counter()
    gt, dt = load()
    load_seconds = time.perf_counter() - start

    best = float("inf")
    stats = None
    for _ in range(repeats):
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            evaluation = COCOeval(gt, dt, iou_type)
            evaluation.evaluate()
            evaluation.accumulate()
            evaluation.summarize()
        best = min(best, time.perf_counter() - start)
        stats = [float(x) for x in evaluation.stats]
        gt, dt = load()

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(dict(load=load_seconds, eval=best, stats=stats, peak_mib=peak_mib)))


def files_for(name, generator_dir, data_dir):
    spec = importlib.util.spec_from_file_location("gen_coco", f"{generator_dir}/gen_coco.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    images, segm = SETS[name]["images"], SETS[name]["segm"]
    argv = ["--images", str(images), "--classes", "80", "--gt-per-image", "7.0",
            "--dets-per-image", "100", "--seed", "0", "--out-dir", data_dir]
    if segm:
        argv.append("--segm")
    tag = f"i{images}_c80_g7_d100_s0"
    suffix = "_segm" if segm else ""
    gt = os.path.join(data_dir, f"gt_{tag}{suffix}.json")
    dt = os.path.join(data_dir, f"dets_segm_{tag}.json" if segm else f"dets_bbox_{tag}.json")
    if not (os.path.exists(gt) and os.path.exists(dt)):
        with contextlib.redirect_stdout(io.StringIO()):
            gen.main(argv)
    return gt, dt, "segm" if segm else "bbox"


def installed(peer):
    if peer == "ferrometrics-cli":
        return os.path.exists(os.environ.get("FERROMETRICS_CLI", "target/release/ferrometrics"))
    module = {"ferrometrics": "ferrometrics", "pycocotools": "pycocotools",
              "faster-coco-eval": "faster_coco_eval", "hotcoco": "hotcoco"}[peer]
    return importlib.util.find_spec(module) is not None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator-dir", help="folder that contains gen_coco.py")
    parser.add_argument("--data-dir", default="bench-data", help="where the JSON inputs are kept")
    parser.add_argument("--sets", default="small,small-segm,val", help="comma-separated: "
                        + ", ".join(SETS))
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; the best counts")
    parser.add_argument("--peers", default=",".join(PEERS), help="comma-separated: "
                        + ", ".join(PEERS))
    parser.add_argument("--child", nargs=4, metavar=("PEER", "GT", "DT", "IOU"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        peer, gt, dt, iou = args.child
        child(peer, gt, dt, iou, args.repeats)
        return
    if not args.generator_dir:
        parser.error("--generator-dir is required")

    print(f"# {time.strftime('%Y-%m-%d')}, Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs, best of {args.repeats}")
    header = (f"{'set':12} {'peer':17} {'load s':>8} {'eval s':>8} {'load+eval':>10} "
              f"{'peak MiB':>9}  stats == pycocotools")
    print(header)
    print("-" * len(header))
    for name in args.sets.split(","):
        gt, dt, iou = files_for(name, args.generator_dir, args.data_dir)
        reference = None
        rows = []
        for peer in args.peers.split(","):
            if not installed(peer):
                continue
            command = [sys.executable, __file__, "--repeats", str(args.repeats),
                       "--child", peer, gt, dt, iou]
            result = json.loads(subprocess.run(command, check=True, capture_output=True,
                                               text=True).stdout.strip().splitlines()[-1])
            if peer == "pycocotools":
                reference = result["stats"]
            rows.append((peer, result))
        for peer, result in rows:
            same = "n/a" if reference is None else str(result["stats"] == reference)
            total = result.get("total", result["load"] + result["eval"])
            print(f"{name:12} {peer:17} {result['load']:8.3f} {result['eval']:8.3f} "
                  f"{total:10.3f} {result['peak_mib']:9.0f}  {same}")


if __name__ == "__main__":
    main()
