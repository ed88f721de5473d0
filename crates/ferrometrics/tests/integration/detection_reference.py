"""Print pycocotools' numbers for the COCO parity tests in detection.rs.

Usage: python detection_reference.py DATA_DIR
Needs pycocotools and numpy. Floats are printed as IEEE-754 bit patterns in hex, so the Rust
tests can compare them exactly.
"""

import contextlib
import io
import struct
import sys

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def bits(value):
    return "0x%016x" % struct.unpack("<Q", struct.pack("<d", float(value)))[0]


def run(data, truth, results, iou_type, iou_thrs=None, rec_thrs=None, max_dets=None):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(f"{data}/{truth}")
        dt = gt.loadRes(f"{data}/{results}")
        ev = COCOeval(gt, dt, iou_type)
        if iou_thrs is not None:
            ev.params.iouThrs = np.array(iou_thrs)
        if rec_thrs is not None:
            ev.params.recThrs = np.array(rec_thrs)
        if max_dets is not None:
            ev.params.maxDets = max_dets
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    precision = ev.eval["precision"]
    recall = ev.eval["recall"]
    print(f"{truth} {results} {iou_type} iou={iou_thrs} rec={rec_thrs} max_dets={max_dets}")
    print("  stats:", ", ".join(bits(s) for s in ev.stats))
    print("  precision sum:", bits(np.sum(precision.ravel())), "shape", precision.shape)
    print("  recall sum:", bits(np.sum(recall.ravel())))
    print("  precision[0, -1, 0, 0, -1]:", bits(precision[0, -1, 0, 0, -1]))
    print("  recall[0, 0, 0, -1]:", bits(recall[0, 0, 0, -1]))


def main():
    data = sys.argv[1]
    big = "instances_val2014_100.json"
    run(data, big, "instances_val2014_fakebbox100_results.json", "bbox")
    run(data, big, "instances_val2014_fakesegm100_results.json", "segm")
    run(data, big, "instances_val2014_fakebbox100_results.json", "bbox",
        iou_thrs=[0.25, 0.5, 0.75], rec_thrs=[0.25, 0.5, 0.75])
    run(data, big, "instances_val2014_fakebbox100_results.json", "segm")
    for iou_type in ("bbox", "segm"):
        run(data, "gt_dataset.json", "dt_dataset.json", iou_type)
        run(data, "gt_cat_dog.json", "dt_cat_dog.json", iou_type)


if __name__ == "__main__":
    main()
