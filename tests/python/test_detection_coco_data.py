"""``MeanAveragePrecision`` on the COCO val2014 sample, fed as TorchMetrics users feed it: one
dict of arrays per image. The summaries must equal pycocotools' ``COCOeval`` on the same files.

The files come from the folder in the environment variable ``FERROMETRICS_COCO_DATA``, and the
tests are skipped when it is unset.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np
import pytest

from ferrometrics.coco import COCO
from ferrometrics.detection import MeanAveragePrecision
from test_coco import GROUND_TRUTH, PYCOCOTOOLS_STATS, RESULTS
from test_detection import SUMMARY_KEYS


def coco_data() -> Path:
    folder = os.environ.get("FERROMETRICS_COCO_DATA")
    if not folder:
        pytest.skip("set FERROMETRICS_COCO_DATA to the folder of the COCO val2014 sample files")
    return Path(folder)


def per_image_batches(
    iou_type: str,
) -> List[Tuple[Dict[str, np.ndarray], Dict[str, np.ndarray]]]:
    """Convert the ground truth and results into one (preds, target) pair per image, in
    ascending image id order, the order in which pycocotools breaks score ties."""
    folder = coco_data()
    truth = COCO(str(folder / GROUND_TRUTH))
    with open(folder / RESULTS[iou_type], encoding="utf-8") as handle:
        results = json.load(handle)
    detections = truth.loadRes(results)
    by_image: Dict[Any, List[Dict[str, Any]]] = defaultdict(list)
    for ann in detections.dataset["annotations"]:
        by_image[ann["image_id"]].append(ann)

    batches = []
    for image_id in sorted(truth.getImgIds()):
        objects = truth.imgToAnns[image_id]
        found = by_image[image_id]
        target: Dict[str, np.ndarray] = {
            "boxes": np.array([o["bbox"] for o in objects], dtype=np.float64).reshape(-1, 4),
            "labels": np.array([o["category_id"] for o in objects], dtype=np.int64),
            "iscrowd": np.array([o["iscrowd"] for o in objects], dtype=np.int64),
            "area": np.array([o["area"] for o in objects], dtype=np.float64),
        }
        preds: Dict[str, np.ndarray] = {
            "boxes": np.array([d["bbox"] for d in found], dtype=np.float64).reshape(-1, 4),
            "scores": np.array([d["score"] for d in found], dtype=np.float64),
            "labels": np.array([d["category_id"] for d in found], dtype=np.int64),
        }
        if iou_type == "segm":
            image = truth.imgs[image_id]
            shape = (0, image["height"], image["width"])
            target["masks"] = _stack([truth.annToMask(o) for o in objects], shape)
            preds["masks"] = _stack([detections.annToMask(d) for d in found], shape)
        batches.append((preds, target))
    return batches


def _stack(masks: List[np.ndarray], empty_shape: Tuple[int, int, int]) -> np.ndarray:
    if not masks:
        return np.zeros(empty_shape, dtype=bool)
    return np.stack(masks).astype(bool)


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_real_data_equals_pycocotools_stats(iou_type):
    metric = MeanAveragePrecision(box_format="xywh", iou_type=iou_type)
    for preds, target in per_image_batches(iou_type):
        metric.update([preds], [target])

    result = metric.compute()

    assert [result[key] for key in SUMMARY_KEYS] == PYCOCOTOOLS_STATS[iou_type]
