"""Write the batches of the MeanAveragePrecision tests and print pycocotools' numbers for them.

Usage: python detection_metric.py OUT_DIR [COCO_DATA_DIR]
Needs pycocotools 2.0.11 and numpy. The inputs are converted to COCO as TorchMetrics does it.
Image ids are 0, 1, ... in update order and annotation ids start at 1. Boxes go from xyxy to
xywh, areas come from the boxes (or masks), and the categories are the sorted labels of
predictions and targets. With micro averaging every label becomes 0. Floats are printed as IEEE-754 bit patterns in hex.
"""

import contextlib
import io
import json
import random
import struct
import sys

import numpy as np
import pycocotools.mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

KEYS = ["map", "map_50", "map_75", "map_small", "map_medium", "map_large", "mar_a", "mar_b",
        "mar_c", "mar_small", "mar_medium", "mar_large"]


def bits(value):
    return "0x%016x" % struct.unpack("<Q", struct.pack("<d", float(value)))[0]


def random_images(rng, count):
    images = []
    for _ in range(count):
        target = {"boxes": [], "labels": [], "iscrowd": []}
        pred = {"boxes": [], "scores": [], "labels": []}
        for _ in range(rng.randint(0, 6)):
            x, y = rng.uniform(0, 300), rng.uniform(0, 300)
            w, h = rng.uniform(3, 150), rng.uniform(3, 150)
            label = rng.choice([0, 1, 2, 5])
            target["boxes"].append([round(x, 1), round(y, 1), round(x + w, 1), round(y + h, 1)])
            target["labels"].append(label)
            target["iscrowd"].append(1 if rng.random() < 0.1 else 0)
            if rng.random() < 0.85:
                dx, dy = rng.uniform(-10, 10), rng.uniform(-10, 10)
                pred["boxes"].append([round(x + dx, 1), round(y + dy, 1),
                                      round(x + w + dx, 1), round(y + h + dy, 1)])
                pred["scores"].append(round(rng.random(), 2))
                pred["labels"].append(label if rng.random() < 0.8 else rng.choice([0, 1, 2, 5]))
        for _ in range(rng.randint(0, 3)):
            x, y = rng.uniform(0, 300), rng.uniform(0, 300)
            pred["boxes"].append([round(x, 1), round(y, 1), round(x + 40, 1), round(y + 30, 1)])
            pred["scores"].append(round(rng.random(), 2))
            pred["labels"].append(rng.choice([0, 1, 2, 3]))
        images.append({"pred": pred, "target": target})
    return images


def to_coco(images, micro, iou_type="bbox"):
    labels = sorted({l for im in images for l in im["pred"]["labels"] + im["target"]["labels"]})
    categories = [{"id": 0}] if micro else [{"id": l} for l in labels]
    gt = {"images": [], "annotations": [], "categories": categories}
    dt = {"images": [], "annotations": [], "categories": categories}
    for image_id, im in enumerate(images):
        entry = {"id": image_id}
        if "masks" in im["target"] and im["target"]["masks"]:
            entry["height"], entry["width"] = im["target"]["masks"][0]["size"]
        gt["images"].append(entry)
        dt["images"].append(entry)
        for side, dataset in (("target", gt), ("pred", dt)):
            part = im[side]
            for k, label in enumerate(part["labels"]):
                ann = {"id": len(dataset["annotations"]) + 1, "image_id": image_id,
                       "category_id": 0 if micro else label,
                       "iscrowd": part.get("iscrowd", [0] * len(part["labels"]))[k]}
                if "boxes" in part:
                    x1, y1, x2, y2 = part["boxes"][k]
                    ann["bbox"] = [x1, y1, x2 - x1, y2 - y1]
                    ann["area"] = ann["bbox"][2] * ann["bbox"][3]
                if "masks" in part:
                    ann["segmentation"] = part["masks"][k]
                    ann["area"] = float(mask_utils.area(part["masks"][k]))
                    ann["bbox"] = list(mask_utils.toBbox(part["masks"][k]))
                if "scores" in part:
                    ann["score"] = part["scores"][k]
                dataset["annotations"].append(ann)
    return gt, dt, labels


def evaluate(gt, dt, iou_type, max_dets=None, cat_ids=None):
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt, coco_dt = COCO(), COCO()
        coco_gt.dataset, coco_dt.dataset = gt, dt
        coco_gt.createIndex()
        coco_dt.createIndex()
        ev = COCOeval(coco_gt, coco_dt, iou_type)
        if max_dets is not None:
            ev.params.maxDets = max_dets
        if cat_ids is not None:
            ev.params.catIds = cat_ids
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    stats = list(ev.stats)
    # pycocotools reads the mean AP at maxDets=100; TorchMetrics' key is the largest count.
    s = ev.eval["precision"][:, :, :, 0, -1]
    stats[0] = np.mean(s[s > -1]) if (s > -1).any() else -1.0
    return stats


def report(name, images, micro=False, iou_type="bbox", max_dets=None):
    gt, dt, labels = to_coco(images, micro, iou_type)
    stats = evaluate(gt, dt, iou_type, max_dets)
    print(f"{name}:")
    print("  stats:", ", ".join(bits(s) for s in stats))
    gt, dt, labels = to_coco(images, False, iou_type)
    per_class = [evaluate(gt, dt, iou_type, max_dets, [label]) for label in labels]
    print("  classes:", labels)
    print("  map_per_class:", ", ".join(bits(s[0]) for s in per_class))
    print("  mar_per_class:", ", ".join(bits(s[8]) for s in per_class))


def main():
    out_dir = sys.argv[1]
    rng = random.Random(11)
    images = random_images(rng, 24)
    with open(f"{out_dir}/metric_batches.json", "w") as f:
        json.dump(images, f)
    report("macro", images)
    report("micro", images, micro=True)
    report("max dets [1, 5, 50]", images, max_dets=[1, 5, 50])
    if len(sys.argv) > 2:
        with open(f"{sys.argv[2]}/instance_segmentation_inputs.json") as f:
            masks = json.load(f)
        preds, targets = masks["preds"], masks["targets"]
        segm_images = [
            {"pred": {"masks": [preds[0]], "scores": [0.236], "labels": [4]},
             "target": {"masks": [targets[0]], "labels": [4]}},
            {"pred": {"masks": [preds[1], preds[2]], "scores": [0.318, 0.726], "labels": [3, 2]},
             "target": {"masks": [targets[1], targets[2]], "labels": [2, 2]}},
        ]
        report("instance segmentation", segm_images, iou_type="segm")


if __name__ == "__main__":
    main()
