"""Seeded synthetic COCO data for the differential detection tests.

``make_dataset`` builds a ground-truth dict and a results list with the hard cases of COCO
evaluation: objects of all three area ranges, crowd regions, images without detections,
detections on images without ground truth, a category without ground truth, scores rounded to
two decimals (so they tie within and across images), degenerate and zero-area boxes, and more
detections per image than the max-dets counts. With ``segm=True`` every object is a polygon
inside its box and every detection a compressed RLE, as detectors write them.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ferrometrics.coco import mask as coco_mask

IMAGE_SIZES = [(320, 240), (240, 320), (300, 300)]


def _random_box(rng: np.random.Generator, width: int, height: int) -> List[float]:
    """Draw a box [x, y, w, h] whose side spans the small, medium and large area ranges."""
    side = math.exp(rng.uniform(math.log(4.0), math.log(220.0)))
    aspect = math.exp(rng.uniform(math.log(0.4), math.log(2.5)))
    w = min(side * math.sqrt(aspect), width - 1.0)
    h = min(side / math.sqrt(aspect), height - 1.0)
    x = rng.uniform(0, width - w)
    y = rng.uniform(0, height - h)
    return [x, y, w, h]


def _polygon(rng: np.random.Generator, box: List[float]) -> np.ndarray:
    """Draw a star-shaped polygon inscribed in ``box``, as (k, 2) vertices."""
    x, y, w, h = box
    count = int(rng.integers(6, 12))
    angles = np.sort(rng.uniform(0, 2 * np.pi, size=count))
    radius = rng.uniform(0.6, 1.0, size=count)
    px = x + w / 2 + (w / 2) * radius * np.cos(angles)
    py = y + h / 2 + (h / 2) * radius * np.sin(angles)
    return np.stack([px, py], axis=1)


def _shoelace(vertices: np.ndarray) -> float:
    x, y = vertices[:, 0], vertices[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _tight_box(vertices: np.ndarray) -> List[float]:
    low = vertices.min(axis=0)
    high = vertices.max(axis=0)
    return [float(low[0]), float(low[1]), float(high[0] - low[0]), float(high[1] - low[1])]


def _jitter(rng: np.random.Generator, box: List[float], scale: float) -> List[float]:
    x, y, w, h = box
    w2 = max(w * math.exp(rng.normal(0, scale)), 1.0)
    h2 = max(h * math.exp(rng.normal(0, scale)), 1.0)
    cx = x + w / 2 + rng.normal(0, scale) * w
    cy = y + h / 2 + rng.normal(0, scale) * h
    return [cx - w2 / 2, cy - h2 / 2, w2, h2]


def _moved(
    vertices: Optional[np.ndarray], box: List[float], moved: List[float]
) -> Optional[np.ndarray]:
    """Map polygon ``vertices`` inside ``box`` onto the box ``moved`` by scaling and shifting."""
    if vertices is None:
        return None
    x, y, w, h = box
    x2, y2, w2, h2 = moved
    result = np.empty_like(vertices)
    result[:, 0] = x2 + (vertices[:, 0] - x) * (w2 / w)
    result[:, 1] = y2 + (vertices[:, 1] - y) * (h2 / h)
    return result


def _rounded(values: Any) -> List[float]:
    return [round(float(v), 2) for v in values]


def _rle(vertices: np.ndarray, height: int, width: int) -> Dict[str, Any]:
    rles = coco_mask.frPyObjects([_rounded(vertices.ravel())], height, width)
    merged = coco_mask.merge(rles)
    counts = merged["counts"]
    return {"size": [height, width], "counts": counts.decode("ascii")}


def make_dataset(
    seed: int,
    images: int,
    classes: int = 4,
    gt_per_image: int = 4,
    dets_per_image: int = 12,
    segm: bool = False,
) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
    """Build a COCO ground-truth dict and a results list from ``seed``.

    Category ``classes + 1`` is listed but never has ground truth, and only false positives
    use it. Every seventh image has no ground truth, and every fifth image has no detections.
    """
    rng = np.random.default_rng(seed)
    categories = [{"id": c, "name": f"class_{c}"} for c in range(1, classes + 2)]
    image_entries, annotations, results = [], [], []
    for index in range(images):
        image_id = 10 * index + 3
        width, height = IMAGE_SIZES[index % len(IMAGE_SIZES)]
        image_entries.append({"id": image_id, "width": width, "height": height})

        objects = []
        truth_count = 0 if index % 7 == 6 else int(rng.integers(1, 2 * gt_per_image))
        for _ in range(truth_count):
            box = _random_box(rng, width, height)
            category = int(rng.integers(1, classes + 1))
            crowd = int(rng.uniform() < 0.06)
            annotation: Dict[str, Any] = {
                "id": len(annotations) + 1,
                "image_id": image_id,
                "category_id": category,
                "iscrowd": crowd,
            }
            if segm:
                vertices = _polygon(rng, box)
                annotation["segmentation"] = [_rounded(vertices.ravel())]
                annotation["bbox"] = _rounded(_tight_box(vertices))
                annotation["area"] = round(_shoelace(vertices), 2)
                if crowd:
                    annotation["segmentation"] = _rle(vertices, height, width)
            else:
                annotation["bbox"] = _rounded(box)
                annotation["area"] = round(box[2] * box[3], 2)
            annotations.append(annotation)
            objects.append((box, category, vertices if segm else None))

        if index % 5 == 4:
            continue
        # (box, category, score, polygon or None); found objects score higher than misses.
        detections = []
        for box, category, vertices in objects:
            if rng.uniform() < 0.8:
                found_category = category
                if rng.uniform() < 0.1:
                    found_category = int(rng.integers(1, classes + 1))
                score = float(rng.beta(4, 2))
                found = _jitter(rng, box, rng.uniform(0.02, 0.15))
                detections.append((found, found_category, score, _moved(vertices, box, found)))
                if rng.uniform() < 0.2:
                    loose = _jitter(rng, box, 0.3)
                    score = float(rng.beta(2, 3))
                    detections.append((loose, category, score, _moved(vertices, box, loose)))
        while len(detections) < dets_per_image:
            box = _random_box(rng, width, height)
            category = int(rng.integers(1, classes + 2))
            detections.append((box, category, float(rng.beta(1.5, 4)), None))
        # Degenerate detections: a zero-width box and a box of one pixel.
        if index % 3 == 0:
            detections.append(([5.0, 5.0, 0.0, 10.0], 1, 0.5, None))
            detections.append(([7.0, 7.0, 1.0, 1.0], 1, 0.5, None))

        for box, category, score, vertices in detections:
            # Two decimals make equal scores within an image and across images.
            entry: Dict[str, Any] = {
                "image_id": image_id,
                "category_id": category,
                "score": round(score, 2),
            }
            if segm:
                if box[2] <= 0 or box[3] <= 0:
                    continue
                if vertices is None:
                    vertices = _polygon(rng, box)
                entry["segmentation"] = _rle(vertices, height, width)
            else:
                entry["bbox"] = _rounded(box)
            results.append(entry)

    truth = {"images": image_entries, "categories": categories, "annotations": annotations}
    return truth, results


def to_metric_inputs(
    truth: Dict[str, Any], results: List[Dict[str, Any]], segm: bool
) -> Tuple[List[Dict[str, np.ndarray]], List[Dict[str, np.ndarray]]]:
    """Convert COCO data into MeanAveragePrecision's per-image dicts, images in id order.

    Boxes stay in ``xywh``. Ground truth passes its ``area`` and ``iscrowd``, so the area
    ranges and crowd rules see what pycocotools sees. With ``segm`` the masks are decoded from
    the same polygons and RLEs that pycocotools reads.
    """
    sizes = {image["id"]: (image["height"], image["width"]) for image in truth["images"]}
    preds, target = [], []
    for image_id in sorted(sizes):
        height, width = sizes[image_id]
        truths = [a for a in truth["annotations"] if a["image_id"] == image_id]
        found = [r for r in results if r["image_id"] == image_id]
        pred: Dict[str, np.ndarray] = {
            "scores": np.array([r["score"] for r in found], dtype=np.float64),
            "labels": np.array([r["category_id"] for r in found], dtype=np.int64),
        }
        gt: Dict[str, np.ndarray] = {
            "labels": np.array([a["category_id"] for a in truths], dtype=np.int64),
            "iscrowd": np.array([a["iscrowd"] for a in truths], dtype=np.int64),
            "area": np.array([a["area"] for a in truths], dtype=np.float64),
        }
        if segm:
            pred["masks"] = _masks([r["segmentation"] for r in found], height, width)
            gt["masks"] = _masks([a["segmentation"] for a in truths], height, width)
        else:
            pred["boxes"] = np.array([r["bbox"] for r in found], dtype=np.float64).reshape(-1, 4)
            gt["boxes"] = np.array([a["bbox"] for a in truths], dtype=np.float64).reshape(-1, 4)
        preds.append(pred)
        target.append(gt)
    return preds, target


def _masks(segmentations: List[Any], height: int, width: int) -> np.ndarray:
    if not segmentations:
        return np.zeros((0, height, width), dtype=bool)
    rles = []
    for segmentation in segmentations:
        if isinstance(segmentation, list):
            rles.append(coco_mask.merge(coco_mask.frPyObjects(segmentation, height, width)))
        else:
            counts = segmentation["counts"]
            rles.append({"size": segmentation["size"], "counts": counts.encode("ascii")})
    return np.stack([coco_mask.decode(rle) for rle in rles]).astype(bool)
