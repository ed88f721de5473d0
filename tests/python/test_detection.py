"""Tests of ``ferrometrics.detection.MeanAveragePrecision``: TorchMetrics' documented example,
parity with pycocotools on seeded random images, states, and input errors."""

from __future__ import annotations

import contextlib
import io
import pickle
from typing import Any, Dict, List, Tuple

import numpy as np
import pytest

from conftest import FakeTensor
from ferrometrics.detection import MeanAveragePrecision

SUMMARY_KEYS = [
    "map",
    "map_50",
    "map_75",
    "map_small",
    "map_medium",
    "map_large",
    "mar_1",
    "mar_10",
    "mar_100",
    "mar_small",
    "mar_medium",
    "mar_large",
]


def random_images(
    seed: int, images: int, classes: int
) -> Tuple[List[Dict[str, np.ndarray]], List[Dict[str, np.ndarray]]]:
    """Build seeded detections and ground truth in xyxy boxes: jittered copies of the truth
    plus unmatched boxes, over a range of object sizes."""
    rng = np.random.default_rng(seed)
    preds, target = [], []
    for _ in range(images):
        count = int(rng.integers(1, 8))
        corner = rng.uniform(0, 400, size=(count, 2))
        size = rng.uniform(5, 200, size=(count, 2))
        truth = np.concatenate([corner, corner + size], axis=1).round(1)
        labels = rng.integers(0, classes, size=count)
        iscrowd = (rng.uniform(size=count) < 0.1).astype(np.int64)

        jitter = rng.normal(0, 8, size=truth.shape)
        found = truth + jitter
        found[:, 2:] = np.maximum(found[:, 2:], found[:, :2] + 1)
        extra = int(rng.integers(0, 4))
        extra_corner = rng.uniform(0, 400, size=(extra, 2))
        extra_boxes = np.concatenate(
            [extra_corner, extra_corner + rng.uniform(5, 100, size=(extra, 2))], axis=1
        )
        boxes = np.concatenate([found, extra_boxes]).round(2)
        pred_labels = np.concatenate([labels, rng.integers(0, classes, size=extra)])
        flip = rng.uniform(size=len(pred_labels)) < 0.15
        pred_labels[flip] = rng.integers(0, classes, size=int(flip.sum()))
        scores = rng.uniform(0.05, 1.0, size=len(boxes)).round(3)

        preds.append({"boxes": boxes, "scores": scores, "labels": pred_labels})
        target.append({"boxes": truth, "labels": labels, "iscrowd": iscrowd})
    return preds, target


def coco_stats(
    preds: List[Dict[str, np.ndarray]], target: List[Dict[str, np.ndarray]], iou_type: str
) -> np.ndarray:
    """Evaluate xyxy boxes with pycocotools, with image ids 0, 1, ... as TorchMetrics sets
    them, and return the twelve summary numbers."""
    return coco_evaluation(preds, target, iou_type).stats


def coco_evaluation(
    preds: List[Dict[str, np.ndarray]], target: List[Dict[str, np.ndarray]], iou_type: str
) -> Any:
    """Run pycocotools' COCOeval on xyxy boxes (and masks for segm) with image ids 0, 1, ...
    and return it after summarize."""
    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    def xywh(box: np.ndarray) -> List[float]:
        return [float(box[0]), float(box[1]), float(box[2] - box[0]), float(box[3] - box[1])]

    labels = sorted({int(c) for image in preds + target for c in image["labels"]})
    def rle(masks: Dict[str, np.ndarray], index: int) -> Dict[str, Any]:
        return mask_utils.encode(np.asfortranarray(masks["masks"][index].astype(np.uint8)))

    annotations, results = [], []
    for image_id, (pred, truth) in enumerate(zip(preds, target)):
        for index, (box, label, crowd) in enumerate(
            zip(truth["boxes"], truth["labels"], truth["iscrowd"])
        ):
            bbox = xywh(box)
            annotation = {
                "id": len(annotations) + 1,
                "image_id": image_id,
                "category_id": int(label),
                "bbox": bbox,
                "area": bbox[2] * bbox[3],
                "iscrowd": int(crowd),
            }
            if iou_type == "segm":
                annotation["segmentation"] = rle(truth, index)
                annotation["area"] = float(mask_utils.area(annotation["segmentation"]))
            annotations.append(annotation)
        for index, (box, label, score) in enumerate(
            zip(pred["boxes"], pred["labels"], pred["scores"])
        ):
            result = {"image_id": image_id, "category_id": int(label), "score": float(score)}
            if iou_type == "segm":
                result["segmentation"] = rle(pred, index)
            else:
                result["bbox"] = xywh(box)
            results.append(result)
    height, width = (target[0]["masks"].shape[1:]) if iou_type == "segm" else (0, 0)
    truth_set = COCO()
    truth_set.dataset = {
        "images": [{"id": i, "height": height, "width": width} for i in range(len(target))],
        "annotations": annotations,
        "categories": [{"id": c} for c in labels],
    }
    with contextlib.redirect_stdout(io.StringIO()):
        truth_set.createIndex()
        detections = truth_set.loadRes(results)
        evaluation = COCOeval(truth_set, detections, iou_type)
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return evaluation


def summary(result: Dict[str, Any]) -> List[float]:
    return [result[key] for key in SUMMARY_KEYS]


EXAMPLE_PREDS = [
    {
        "boxes": np.array([[258.0, 41.0, 606.0, 285.0]]),
        "scores": np.array([0.536]),
        "labels": np.array([0]),
    }
]
EXAMPLE_TARGET = [{"boxes": np.array([[214.0, 41.0, 562.0, 285.0]]), "labels": np.array([0])}]


def test_torchmetrics_documented_example():
    # TorchMetrics' MeanAveragePrecision docstring (v1.x) prints these values to 4 decimals.
    metric = MeanAveragePrecision(iou_type="bbox")
    metric.update(EXAMPLE_PREDS, EXAMPLE_TARGET)
    result = metric.compute()

    expected = {
        "map": 0.6,
        "map_50": 1.0,
        "map_75": 1.0,
        "map_small": -1.0,
        "map_medium": -1.0,
        "map_large": 0.6,
        "mar_1": 0.6,
        "mar_10": 0.6,
        "mar_100": 0.6,
        "mar_small": -1.0,
        "mar_medium": -1.0,
        "mar_large": 0.6,
        "map_per_class": -1.0,
        "mar_100_per_class": -1.0,
    }
    for key, value in expected.items():
        assert isinstance(result[key], float), key
        assert result[key] == pytest.approx(value, abs=5e-5), key
    assert result["classes"].tolist() == [0]
    # TorchMetrics returns int32; int64 keeps labels of 2**31 and above.
    assert result["classes"].dtype == np.int64


def test_example_keys_in_torchmetrics_order():
    metric = MeanAveragePrecision()
    metric.update(EXAMPLE_PREDS, EXAMPLE_TARGET)

    keys = list(metric.compute())

    assert keys == SUMMARY_KEYS + ["map_per_class", "mar_100_per_class", "classes"]


def test_example_exact_bits():
    # pycocotools divides by tp + fp + spacing(1), so a perfect precision falls just below 1.
    metric = MeanAveragePrecision()
    metric.update(EXAMPLE_PREDS, EXAMPLE_TARGET)

    result = metric.compute()

    assert result["map"] == 0.5999999999999999
    assert result["map_50"] == 0.9999999999999999
    assert result["mar_100"] == 0.6


def test_random_images_without_pycocotools():
    # Expected from pycocotools 2.0.11, run from tests/python:
    #   python -c "from test_detection import *; \
    #     print(coco_stats(*random_images(7, 6, 3), 'bbox').tolist())"
    expected = [
        0.25718350406469215,
        0.5278677867786778,
        0.15567271012815564,
        0.0,
        0.20827439886845828,
        0.6295049504950495,
        0.24583333333333332,
        0.43749999999999994,
        0.43749999999999994,
        0.0,
        0.35,
        0.6666666666666666,
    ]
    preds, target = random_images(seed=7, images=6, classes=3)
    metric = MeanAveragePrecision()
    metric.update(preds, target)

    actual = summary(metric.compute())

    assert actual == expected


@pytest.mark.parametrize("seed", range(6))
def test_random_images_match_pycocotools(seed):
    pytest.importorskip("pycocotools")
    preds, target = random_images(seed=seed, images=8, classes=4)
    metric = MeanAveragePrecision()
    metric.update(preds, target)

    actual = summary(metric.compute())

    assert actual == coco_stats(preds, target, "bbox").tolist()


def test_per_class_values_match_pycocotools():
    pytest.importorskip("pycocotools")
    preds, target = random_images(seed=21, images=10, classes=4)
    metric = MeanAveragePrecision(class_metrics=True)
    metric.update(preds, target)
    reference = coco_evaluation(preds, target, "bbox")

    result = metric.compute()

    precision = reference.eval["precision"][:, :, :, 0, -1]
    recall = reference.eval["recall"][:, :, 0, -1]
    for k in range(precision.shape[2]):
        defined = precision[:, :, k][precision[:, :, k] > -1]
        expected_map = float(np.mean(defined)) if defined.size else -1.0
        defined = recall[:, k][recall[:, k] > -1]
        expected_mar = float(np.mean(defined)) if defined.size else -1.0
        assert result["map_per_class"][k] == expected_map, k
        assert result["mar_100_per_class"][k] == expected_mar, k


def random_masks(
    seed: int, images: int, classes: int, size: int = 48
) -> Tuple[List[Dict[str, np.ndarray]], List[Dict[str, np.ndarray]]]:
    """Build seeded rectangle-and-noise masks: shifted copies of the truth plus extra masks."""
    rng = np.random.default_rng(seed)
    preds, target = [], []

    def blob() -> np.ndarray:
        mask = np.zeros((size, size), dtype=bool)
        top, left = rng.integers(0, size - 8, size=2)
        mask[top : top + rng.integers(4, 30), left : left + rng.integers(4, 30)] = True
        return mask

    for _ in range(images):
        count = int(rng.integers(1, 5))
        truth = np.stack([blob() for _ in range(count)])
        labels = rng.integers(0, classes, size=count)
        shifted = np.roll(truth, shift=int(rng.integers(-3, 4)), axis=2)
        shifted |= rng.uniform(size=shifted.shape) < 0.02
        extra = int(rng.integers(0, 3))
        masks = np.concatenate([shifted] + [blob()[None] for _ in range(extra)])
        pred_labels = np.concatenate([labels, rng.integers(0, classes, size=extra)])
        scores = rng.uniform(0.05, 1.0, size=len(masks)).round(3)
        # Segm evaluation reads no boxes, so these placeholders only give the reference helper
        # one row per object.
        preds.append(
            {
                "boxes": np.zeros((len(masks), 4)),
                "masks": masks,
                "scores": scores,
                "labels": pred_labels,
            }
        )
        target.append(
            {
                "boxes": np.zeros((count, 4)),
                "masks": truth,
                "labels": labels,
                "iscrowd": np.zeros(count, int),
            }
        )
    return preds, target


@pytest.mark.parametrize("seed", range(3))
def test_random_masks_match_pycocotools(seed):
    pytest.importorskip("pycocotools")
    preds, target = random_masks(seed=seed, images=6, classes=3)
    metric = MeanAveragePrecision(iou_type="segm")
    metric.update(preds, target)

    actual = summary(metric.compute())

    assert actual == coco_stats(preds, target, "segm").tolist()


def test_random_images_cxcywh_matches_xyxy():
    preds, target = random_images(seed=3, images=5, classes=2)

    def to_cxcywh(images):
        converted = []
        for image in images:
            image = dict(image)
            boxes = image["boxes"]
            size = boxes[:, 2:] - boxes[:, :2]
            image["boxes"] = np.concatenate([boxes[:, :2] + size / 2, size], axis=1)
            converted.append(image)
        return converted

    xyxy = MeanAveragePrecision()
    xyxy.update(preds, target)
    center = MeanAveragePrecision(box_format="cxcywh")
    center.update(to_cxcywh(preds), to_cxcywh(target))

    assert summary(center.compute()) == pytest.approx(summary(xyxy.compute()), abs=1e-12)


def test_batches_equal_one_update():
    preds, target = random_images(seed=11, images=9, classes=3)
    whole = MeanAveragePrecision(class_metrics=True)
    whole.update(preds, target)
    batched = MeanAveragePrecision(class_metrics=True)
    for start in range(0, 9, 4):
        batched.update(preds[start : start + 4], target[start : start + 4])

    expected = whole.compute()
    actual = batched.compute()

    assert summary(actual) == summary(expected)
    assert actual["map_per_class"].tolist() == expected["map_per_class"].tolist()


def test_merge_state_in_rank_order():
    preds, target = random_images(seed=12, images=8, classes=3)
    whole = MeanAveragePrecision()
    whole.update(preds, target)
    first = MeanAveragePrecision()
    first.update(preds[:5], target[:5])
    second = MeanAveragePrecision()
    second.update(preds[5:], target[5:])

    first.merge_state(second)

    assert summary(first.compute()) == summary(whole.compute())


def test_merge_state_from_state_dict():
    preds, target = random_images(seed=13, images=6, classes=2)
    whole = MeanAveragePrecision()
    whole.update(preds, target)
    first = MeanAveragePrecision()
    first.update(preds[:3], target[:3])
    second = MeanAveragePrecision()
    second.update(preds[3:], target[3:])

    first.merge_state(second.state_dict())

    assert summary(first.compute()) == summary(whole.compute())


def test_merge_state_rejects_other_config():
    first = MeanAveragePrecision()
    second = MeanAveragePrecision(iou_thresholds=[0.5])

    with pytest.raises(ValueError, match="iou_thresholds"):
        first.merge_state(second)


def test_pickle_keeps_state_and_config():
    preds, target = random_images(seed=14, images=4, classes=2)
    metric = MeanAveragePrecision(class_metrics=True, max_detection_thresholds=[1, 5, 50])
    metric.update(preds, target)

    restored = pickle.loads(pickle.dumps(metric))

    assert summary_keys_equal(restored.compute(), metric.compute())
    assert "mar_50" in restored.compute()


def summary_keys_equal(first: Dict[str, Any], second: Dict[str, Any]) -> bool:
    if list(first) != list(second):
        return False
    return all(np.array_equal(np.asarray(first[k]), np.asarray(second[k])) for k in first)


def test_load_state_dict_round_trip():
    preds, target = random_images(seed=15, images=4, classes=2)
    metric = MeanAveragePrecision()
    metric.update(preds, target)
    restored = MeanAveragePrecision()

    restored.load_state_dict(metric.state_dict())

    assert summary(restored.compute()) == summary(metric.compute())


def test_load_state_dict_rejects_other_config():
    metric = MeanAveragePrecision(class_metrics=True)

    with pytest.raises(ValueError, match="`class_metrics`: false and true"):
        MeanAveragePrecision().load_state_dict(metric.state_dict())


def test_forward_returns_batch_value_and_accumulates():
    preds, target = random_images(seed=16, images=6, classes=2)
    alone = MeanAveragePrecision()
    alone.update(preds[3:], target[3:])
    metric = MeanAveragePrecision()
    metric.update(preds[:3], target[:3])

    batch_value = metric(preds[3:], target[3:])

    assert summary(batch_value) == summary(alone.compute())
    assert metric.update_count == 2
    whole = MeanAveragePrecision()
    whole.update(preds, target)
    assert summary(metric.compute()) == summary(whole.compute())


def test_reset_clears_images():
    metric = MeanAveragePrecision()
    metric.update(EXAMPLE_PREDS, EXAMPLE_TARGET)

    metric.reset()

    assert metric.compute()["map"] == -1.0


def test_fake_tensors_and_lists_accepted():
    preds = [
        {
            "boxes": FakeTensor([[258.0, 41.0, 606.0, 285.0]]),
            "scores": FakeTensor([0.536]),
            "labels": FakeTensor([0]),
        }
    ]
    target = [{"boxes": [[214.0, 41.0, 562.0, 285.0]], "labels": [0]}]
    metric = MeanAveragePrecision()

    metric.update(preds, target)

    assert metric.compute()["map"] == 0.5999999999999999


def test_float32_boxes_match_float64():
    preds, target = random_images(seed=17, images=4, classes=2)
    as_float32 = [
        {**image, "boxes": image["boxes"].astype(np.float32)} for image in preds
    ]
    wide = MeanAveragePrecision()
    wide.update([{**p, "boxes": p["boxes"].astype(np.float32).astype(np.float64)} for p in preds],
                target)
    narrow = MeanAveragePrecision()
    narrow.update(as_float32, target)

    assert summary(narrow.compute()) == summary(wide.compute())


def test_empty_images_accepted():
    preds = [{"boxes": np.zeros((0, 4)), "scores": np.zeros(0), "labels": np.zeros(0, int)}]
    target = [{"boxes": np.zeros((0,)), "labels": np.zeros(0, int)}]
    metric = MeanAveragePrecision()

    metric.update(preds + EXAMPLE_PREDS, target + EXAMPLE_TARGET)

    assert metric.compute()["map"] == 0.5999999999999999


@pytest.mark.parametrize("position", [32, 1018, 1030])
def test_load_state_dict_rejects_corrupted_state(position):
    metric = MeanAveragePrecision()
    metric.update(EXAMPLE_PREDS, EXAMPLE_TARGET)
    state = metric.state_dict()
    corrupted = bytearray(state["state"])
    corrupted[position] = 0
    restored = MeanAveragePrecision()

    try:
        restored.load_state_dict({**state, "state": bytes(corrupted)})
    except ValueError:
        return
    # A change that still decodes to a consistent state must compute without a panic.
    restored.compute()


def test_classes_keep_int64_labels():
    large = [2**40, 2**53 + 1]
    preds, target = _example_with("preds", labels=np.array([large[0]]))
    target[0]["labels"] = np.array([large[1]])
    metric = MeanAveragePrecision(class_metrics=True)
    metric.update(preds, target)

    classes = metric.compute()["classes"]

    assert classes.dtype == np.int64
    assert classes.tolist() == large


@pytest.mark.parametrize("side", ["preds", "target"])
def test_uint64_labels_above_int64_raise_value_error(side):
    preds, target = _example_with(side, labels=np.array([2**64 - 1], dtype=np.uint64))

    with pytest.raises(ValueError, match=rf"{side}\[0\]\.labels.*18446744073709551615"):
        MeanAveragePrecision().update(preds, target)


def test_uint64_labels_within_int64_accepted():
    preds, target = _example_with("preds", labels=np.array([0], dtype=np.uint64))
    metric = MeanAveragePrecision()

    metric.update(preds, target)

    assert metric.compute()["map"] == MeanAveragePrecision()(EXAMPLE_PREDS, EXAMPLE_TARGET)["map"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"box_format": "xywh"}, "`box_format`: xyxy and xywh"),
        ({"iou_thresholds": [0.5]}, "`iou_thresholds`: None and [0.5]"),
        ({"average": "micro"}, "`average`: macro and micro"),
        ({"iou_type": ("bbox", "segm")}, '`iou_type`: ["bbox"] and ["bbox", "segm"]'),
    ],
)
def test_merge_state_names_differing_argument(options, message):
    with pytest.raises(ValueError) as raised:
        MeanAveragePrecision().merge_state(MeanAveragePrecision(**options))

    assert message in str(raised.value)
    assert "MapConfig" not in str(raised.value)


def test_repeated_iou_type_message_uses_names():
    with pytest.raises(ValueError, match=r'\["bbox", "bbox"\] repeats a type'):
        MeanAveragePrecision(iou_type=("bbox", "bbox"))


def test_class_metrics_per_class_arrays():
    preds, target = random_images(seed=18, images=6, classes=3)
    metric = MeanAveragePrecision(class_metrics=True)
    metric.update(preds, target)

    result = metric.compute()

    assert result["classes"].tolist() == [0, 1, 2]
    assert result["map_per_class"].shape == (3,)
    assert result["mar_100_per_class"].shape == (3,)


def test_extended_summary_shapes():
    preds, target = random_images(seed=19, images=6, classes=3)
    metric = MeanAveragePrecision(extended_summary=True)
    metric.update(preds, target)

    result = metric.compute()

    assert result["precision"].shape == (10, 101, 3, 4, 3)
    assert result["recall"].shape == (10, 3, 4, 3)
    assert result["scores"].shape == (10, 101, 3, 4, 3)


def test_micro_average_pools_classes():
    preds = [
        {
            "boxes": np.array([[0.0, 0.0, 10.0, 10.0]]),
            "scores": np.array([0.9]),
            "labels": np.array([1]),
        }
    ]
    target = [{"boxes": np.array([[0.0, 0.0, 10.0, 10.0]]), "labels": np.array([0])}]
    macro = MeanAveragePrecision()
    macro.update(preds, target)
    micro = MeanAveragePrecision(average="micro")
    micro.update(preds, target)

    assert macro.compute()["map"] == 0.0
    assert micro.compute()["map"] == pytest.approx(1.0, abs=1e-15)


def test_segm_square_masks_match_boxes():
    masks_pred = np.zeros((1, 40, 40), dtype=bool)
    masks_pred[0, 10:30, 12:32] = True
    masks_truth = np.zeros((1, 40, 40), dtype=bool)
    masks_truth[0, 10:30, 10:30] = True
    preds = [{"masks": masks_pred, "scores": np.array([0.9]), "labels": np.array([0])}]
    target = [{"masks": masks_truth, "labels": np.array([0])}]
    metric = MeanAveragePrecision(iou_type="segm")

    metric.update(preds, target)

    # IoU 360/440 = 0.818 passes 7 of the 10 thresholds.
    assert metric.compute()["map"] == 0.6999999999999998


def test_both_iou_types_prefix_keys():
    masks = np.zeros((1, 20, 20), dtype=bool)
    masks[0, 2:8, 2:8] = True
    preds = [
        {
            "boxes": np.array([[2.0, 2.0, 8.0, 8.0]]),
            "masks": masks,
            "scores": np.array([0.5]),
            "labels": np.array([0]),
        }
    ]
    target = [{"boxes": np.array([[2.0, 2.0, 8.0, 8.0]]), "masks": masks, "labels": np.array([0])}]
    metric = MeanAveragePrecision(iou_type=("bbox", "segm"))

    metric.update(preds, target)
    result = metric.compute()

    assert "bbox_map" in result
    assert "segm_map" in result
    assert "classes" in result


def test_metric_facts():
    assert MeanAveragePrecision.higher_is_better is True
    assert MeanAveragePrecision.is_differentiable is False


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"box_format": "yxyx"}, "box_format"),
        ({"iou_type": "keypoints"}, "iou_type"),
        ({"iou_type": ("bbox", "bbox")}, "iou_type"),
        ({"average": "weighted"}, "average"),
        ({"backend": "detectron"}, "backend"),
        ({"iou_thresholds": [0.5, 1.5]}, "iou"),
        ({"iou_thresholds": "0.5"}, "iou_thresholds"),
        ({"max_detection_thresholds": [1, 10]}, "max_detection_thresholds"),
        ({"max_detection_thresholds": [1, -10, 100]}, "max_detection_thresholds"),
        ({"class_metrics": "yes"}, "class_metrics"),
        ({"dist_sync_on_step": True}, "dist_sync_on_step"),
    ],
)
def test_invalid_option_raises_value_error(options, argument):
    with pytest.raises(ValueError, match=argument):
        MeanAveragePrecision(**options)


def _example_with(side: str, **changes: Any) -> Tuple[list, list]:
    preds = [dict(EXAMPLE_PREDS[0])]
    target = [dict(EXAMPLE_TARGET[0])]
    (preds if side == "preds" else target)[0].update(changes)
    return preds, target


@pytest.mark.parametrize(
    ("side", "changes", "argument"),
    [
        ("preds", {"boxes": np.array([[1.0, 2.0, 3.0]])}, r"preds\[0\]\.boxes"),
        ("preds", {"boxes": np.array([1.0, 2.0, 3.0, 4.0])}, r"preds\[0\]\.boxes"),
        ("target", {"boxes": np.zeros((1, 5))}, r"target\[0\]\.boxes"),
        ("preds", {"scores": np.array([np.nan])}, r"preds\[0\]\.scores"),
        ("preds", {"scores": np.array([0.5, 0.6])}, r"preds\[0\]\.scores"),
        ("preds", {"boxes": np.array([[np.inf, 0.0, 1.0, 1.0]])}, r"preds\[0\]\.boxes"),
        ("preds", {"boxes": np.array([[10.0, 10.0, 5.0, 5.0]])}, r"preds\[0\]\.boxes"),
        ("target", {"labels": np.array([[0]])}, r"target\[0\]\.labels"),
        ("target", {"area": np.array([np.nan])}, r"target\[0\]\.area"),
        ("target", {"iscrowd": np.array([0, 1])}, r"target\[0\]\.iscrowd"),
    ],
)
def test_invalid_input_raises_value_error(side, changes, argument):
    preds, target = _example_with(side, **changes)
    metric = MeanAveragePrecision()

    with pytest.raises(ValueError, match=argument):
        metric.update(preds, target)
    assert metric.compute()["map"] == -1.0


def test_missing_key_raises_value_error():
    preds = [{"boxes": np.zeros((0, 4)), "labels": np.zeros(0, int)}]
    target = [{"boxes": np.zeros((0, 4)), "labels": np.zeros(0, int)}]

    with pytest.raises(ValueError, match=r"preds\[0\]\.scores"):
        MeanAveragePrecision().update(preds, target)


def test_missing_masks_for_segm_raises_value_error():
    with pytest.raises(ValueError, match=r"preds\[0\]\.masks"):
        MeanAveragePrecision(iou_type="segm").update(EXAMPLE_PREDS, EXAMPLE_TARGET)


def test_float_labels_raise_type_error():
    preds, target = _example_with("preds", labels=np.array([0.5]))

    with pytest.raises(TypeError, match=r"preds\[0\]\.labels"):
        MeanAveragePrecision().update(preds, target)


def test_mismatched_image_counts_raise_value_error():
    with pytest.raises(ValueError, match="target"):
        MeanAveragePrecision().update(EXAMPLE_PREDS * 2, EXAMPLE_TARGET)


def test_single_dict_raises_type_error():
    with pytest.raises(TypeError, match="preds"):
        MeanAveragePrecision().update(EXAMPLE_PREDS[0], EXAMPLE_TARGET)


def test_collection_with_mean_average_precision():
    from ferrometrics import MetricCollection

    collection = MetricCollection({"det": MeanAveragePrecision()}, prefix="val_")
    collection.update(EXAMPLE_PREDS, EXAMPLE_TARGET)

    result = collection.compute()

    assert result["val_map"] == 0.5999999999999999
    assert result["val_mar_100"] == 0.6
    assert result["val_classes"].tolist() == [0]
