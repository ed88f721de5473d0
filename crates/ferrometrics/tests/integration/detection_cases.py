"""Write the hand-made COCO cases of detection.rs and print pycocotools' numbers for them.

Usage: python detection_cases.py OUT_DIR
Needs pycocotools 2.0.11 and numpy. Each case is a ground-truth file CASE_gt.json and a
results file CASE_dt.json. Floats are printed as IEEE-754 bit patterns in hex.
"""

import contextlib
import io
import json
import random
import struct
import sys

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def bits(value):
    return "0x%016x" % struct.unpack("<Q", struct.pack("<d", float(value)))[0]


def images(count, size=200):
    return [{"id": i + 1, "height": size, "width": size} for i in range(count)]


def gt_ann(ann_id, image, cat, box, crowd=0, area=None):
    return {"id": ann_id, "image_id": image, "category_id": cat, "bbox": box,
            "area": box[2] * box[3] if area is None else area, "iscrowd": crowd}


def det(image, cat, box, score):
    return {"image_id": image, "category_id": cat, "bbox": box, "score": score}


def jitter(rng, box, amount):
    return [round(v + rng.uniform(-amount, amount), 2) for v in box[:2]] + \
        [round(max(v + rng.uniform(-amount, amount), 1), 2) for v in box[2:]]


def random_case(rng, n_images, n_cats, per_image, n_dets, size=200):
    gt = {"images": images(n_images, size), "categories": [{"id": c + 1} for c in range(n_cats)],
          "annotations": []}
    dts = []
    for image in range(1, n_images + 1):
        for _ in range(per_image):
            w, h = rng.uniform(2, 120), rng.uniform(2, 120)
            box = [round(rng.uniform(0, size - w), 2), round(rng.uniform(0, size - h), 2),
                   round(w, 2), round(h, 2)]
            cat = rng.randint(1, n_cats)
            gt["annotations"].append(gt_ann(len(gt["annotations"]) + 1, image, cat, box))
            if rng.random() < 0.8:
                dts.append(det(image, cat, jitter(rng, box, 8), round(rng.random(), 2)))
        for _ in range(n_dets):
            w, h = rng.uniform(2, 80), rng.uniform(2, 80)
            dts.append(det(image, rng.randint(1, n_cats),
                           [round(rng.uniform(0, size - w), 2), round(rng.uniform(0, size - h), 2),
                            round(w, 2), round(h, 2)], round(rng.random(), 2)))
    return gt, dts


def cases():
    rng = random.Random(7)
    out = {}
    box = [10, 10, 40, 40]

    out["empty_image"] = (
        {"images": images(3), "categories": [{"id": 1}],
         "annotations": [gt_ann(1, 1, 1, box), gt_ann(2, 2, 1, box), gt_ann(3, 3, 1, box)]},
        [det(1, 1, [12, 10, 40, 40], 0.9), det(3, 1, [30, 30, 40, 40], 0.4)])
    out["detections_without_truth"] = (
        {"images": images(3), "categories": [{"id": 1}],
         "annotations": [gt_ann(1, 1, 1, box)]},
        [det(1, 1, [11, 11, 40, 40], 0.5), det(2, 1, box, 0.9), det(3, 1, box, 0.8)])
    out["category_without_truth"] = (
        {"images": images(2), "categories": [{"id": 1}, {"id": 2}, {"id": 5}],
         "annotations": [gt_ann(1, 1, 1, box), gt_ann(2, 2, 5, [50, 50, 100, 80])]},
        [det(1, 1, box, 0.9), det(1, 2, box, 0.95), det(2, 2, [50, 50, 100, 80], 0.7),
         det(2, 5, [55, 50, 100, 80], 0.6)])

    out["crowd"] = (
        {"images": images(1), "categories": [{"id": 1}],
         "annotations": [gt_ann(1, 1, 1, [0, 0, 150, 150], crowd=1),
                         gt_ann(2, 1, 1, [10, 10, 30, 30]),
                         gt_ann(3, 1, 1, [100, 100, 30, 30])]},
        [det(1, 1, [10, 10, 30, 30], 0.9), det(1, 1, [20, 20, 20, 20], 0.85),
         det(1, 1, [50, 50, 20, 20], 0.8), det(1, 1, [101, 100, 30, 30], 0.7),
         det(1, 1, [0, 0, 150, 150], 0.6), det(1, 1, [160, 160, 20, 20], 0.5)])
    out["tied_scores"] = (
        {"images": images(2), "categories": [{"id": 1}],
         "annotations": [gt_ann(1, 1, 1, box), gt_ann(2, 1, 1, [60, 60, 30, 30]),
                         gt_ann(3, 2, 1, box)]},
        [det(1, 1, [100, 100, 20, 20], 0.5), det(1, 1, box, 0.5), det(2, 1, [150, 10, 5, 5], 0.5),
         det(2, 1, box, 0.5), det(1, 1, [60, 60, 30, 30], 0.5), det(2, 1, [10, 10, 38, 40], 0.3)])
    out["degenerate_boxes"] = (
        {"images": images(1), "categories": [{"id": 1}],
         "annotations": [gt_ann(1, 1, 1, [10, 10, 0, 20]), gt_ann(2, 1, 1, [50, 50, 20, 20]),
                         gt_ann(3, 1, 1, [90, 90, 0, 0])]},
        [det(1, 1, [10, 10, 0, 20], 0.9), det(1, 1, [50, 50, 0, 0], 0.8),
         det(1, 1, [70, 50, 20, 20], 0.7), det(1, 1, [50, 50, 20, 20], 0.6),
         det(1, 1, [90, 90, 0, 0], 0.5)])

    many_gt = {"images": images(2), "categories": [{"id": 1}, {"id": 2}], "annotations": []}
    many_dt = []
    for i in range(12):
        b = [i * 15, (i % 4) * 40, 12, 30]
        many_gt["annotations"].append(gt_ann(i + 1, 1, 1 + i % 2, b))
        many_dt.append(det(1, 1 + i % 2, [b[0] + 1, b[1], 12, 30], round(0.001 * i, 3)))
    for i in range(130):
        many_dt.append(det(1, 1 + i % 2, [rng.uniform(0, 180), rng.uniform(0, 180), 10, 10],
                           round(rng.uniform(0.02, 1), 3)))
    many_gt["annotations"].append(gt_ann(13, 2, 1, box))
    many_dt.append(det(2, 1, box, 0.0))
    out["more_than_max_dets"] = (many_gt, many_dt)

    out["random_small"] = random_case(rng, 6, 3, 5, 4)
    out["random_areas"] = random_case(rng, 10, 4, 8, 6, size=400)
    return out


def run(gt, dts, iou_thrs=None, rec_thrs=None, max_dets=None, use_cats=1):
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = json.loads(json.dumps(gt))
        coco.createIndex()
        res = coco.loadRes(json.loads(json.dumps(dts)))
        ev = COCOeval(coco, res, "bbox")
        if iou_thrs is not None:
            ev.params.iouThrs = np.array(iou_thrs)
        if rec_thrs is not None:
            ev.params.recThrs = np.array(rec_thrs)
        if max_dets is not None:
            ev.params.maxDets = max_dets
        ev.params.useCats = use_cats
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def show(name, ev):
    p = ev.eval["precision"]
    # pycocotools reads the mean AP at maxDets=100; this is the value at the largest count.
    s = p[:, :, :, 0, -1]
    largest = np.mean(s[s > -1]) if (s > -1).any() else -1.0
    print(f"{name}:")
    print("  stats:", ", ".join(bits(s) for s in ev.stats))
    print("  map at largest max det:", bits(largest))
    print("  precision sum:", bits(np.sum(p.ravel())), "recall sum:",
          bits(np.sum(ev.eval["recall"].ravel())))


def main():
    out_dir = sys.argv[1]
    for name, (gt, dts) in cases().items():
        with open(f"{out_dir}/{name}_gt.json", "w") as f:
            json.dump(gt, f)
        with open(f"{out_dir}/{name}_dt.json", "w") as f:
            json.dump(dts, f)
        show(name, run(gt, dts))
    gt, dts = cases()["random_areas"]
    show("random_areas custom thresholds",
         run(gt, dts, iou_thrs=[0.1, 0.3, 0.5, 0.7], rec_thrs=[0.0, 0.2, 0.4, 0.6, 0.8, 1.0]))
    show("random_areas max dets [1, 5, 50]", run(gt, dts, max_dets=[1, 5, 50]))
    show("random_areas max dets [1, 2, 3]", run(gt, dts, max_dets=[1, 2, 3]))
    show("random_areas pooled categories", run(gt, dts, use_cats=0))


if __name__ == "__main__":
    main()
