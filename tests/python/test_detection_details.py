"""Tests of the per-image outputs of COCO evaluation: ``COCOeval.ious`` and ``COCOeval.evalImgs``
of ``ferrometrics.coco``, and the ``ious`` of ``MeanAveragePrecision(extended_summary=True)``,
against pycocotools on seeded synthetic data, on the COCO val2014 sample when
FERROMETRICS_COCO_DATA is set, and on small handmade inputs."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import pytest

from ferrometrics.coco import COCO as FerroCOCO
from ferrometrics.coco import COCOeval as FerroCOCOeval
from ferrometrics.detection import MeanAveragePrecision
from synthetic_coco import make_dataset, to_metric_inputs

pycocotools_coco = pytest.importorskip("pycocotools.coco")
pycocotools_cocoeval = pytest.importorskip("pycocotools.cocoeval")


def evaluated(
    coco_class: Any,
    eval_class: Any,
    truth: Dict[str, Any],
    results: List[Dict[str, Any]],
    iou_type: str,
    params: Dict[str, Any],
) -> Any:
    """Run ``evaluate`` of one implementation and return the evaluator."""
    with contextlib.redirect_stdout(io.StringIO()):
        gt = coco_class()
        gt.dataset = copy.deepcopy(truth)
        gt.createIndex()
        dt = gt.loadRes(copy.deepcopy(results))
        evaluator = eval_class(gt, dt, iou_type)
        for name, value in params.items():
            setattr(evaluator.params, name, value)
        evaluator.evaluate()
    return evaluator


def assert_same_value(actual: Any, expected: Any, where: Any) -> None:
    """Assert equal values with equal types; arrays need the same dtype, shape and bits."""
    if isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray), (where, type(actual))
        assert actual.dtype == expected.dtype, (where, actual.dtype, expected.dtype)
        assert actual.shape == expected.shape, (where, actual.shape, expected.shape)
        np.testing.assert_array_equal(actual, expected, err_msg=str(where))
    else:
        assert type(actual) is type(expected), (where, type(actual), type(expected))
        assert actual == expected, (where, actual, expected)


def assert_same_details(ours: Any, reference: Any) -> None:
    assert list(ours.ious) == list(reference.ious)
    for key, expected in reference.ious.items():
        assert_same_value(ours.ious[key], expected, ("ious", key))

    assert len(ours.evalImgs) == len(reference.evalImgs)
    for index, (actual, expected) in enumerate(zip(ours.evalImgs, reference.evalImgs)):
        if expected is None:
            assert actual is None, index
            continue
        assert list(actual) == list(expected), index
        for key, value in expected.items():
            assert_same_value(actual[key], value, (index, key))


PARAMS = {
    "default": {},
    "micro": {"useCats": 0},
    "max_dets_without_100": {"maxDets": [1, 3, 7]},
    "iou_thresholds": {"iouThrs": np.array([0.3, 0.62, 0.9])},
    "area_ranges": {
        "areaRng": [[0.0, 1e10], [0.0, 500.0], [500.0, 1e10]],
        "areaRngLbl": ["all", "below", "above"],
    },
}


@pytest.mark.parametrize("params_name", list(PARAMS))
@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_details_match_pycocotools(iou_type, params_name):
    truth, results = make_dataset(31, 20, dets_per_image=10, segm=iou_type == "segm")
    params = PARAMS[params_name]
    reference = evaluated(
        pycocotools_coco.COCO, pycocotools_cocoeval.COCOeval, truth, results, iou_type, params
    )

    ours = evaluated(FerroCOCO, FerroCOCOeval, truth, results, iou_type, params)

    assert_same_details(ours, reference)


def _coco_data() -> Path:
    folder = os.environ.get("FERROMETRICS_COCO_DATA")
    if not folder:
        pytest.skip("FERROMETRICS_COCO_DATA is not set")
    path = Path(folder)
    if not (path / "instances_val2014_100.json").is_file():
        pytest.skip("instances_val2014_100.json is not in FERROMETRICS_COCO_DATA")
    return path


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_real_data_details_match_pycocotools(iou_type):
    folder = _coco_data()
    truth = json.loads((folder / "instances_val2014_100.json").read_text())
    results_name = f"instances_val2014_fake{iou_type}100_results.json"
    results = json.loads((folder / results_name).read_text())
    reference = evaluated(
        pycocotools_coco.COCO, pycocotools_cocoeval.COCOeval, truth, results, iou_type, {}
    )

    ours = evaluated(FerroCOCO, FerroCOCOeval, truth, results, iou_type, {})

    assert_same_details(ours, reference)


HANDMADE_TRUTH = {
    "images": [{"id": 1, "width": 100, "height": 100}, {"id": 2, "width": 100, "height": 100}],
    "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
    "annotations": [
        {"id": 5, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "area": 400},
        {"id": 6, "image_id": 1, "category_id": 1, "bbox": [50, 50, 40, 40], "area": 1600,
         "iscrowd": 1},
    ],
}
HANDMADE_RESULTS = [
    {"image_id": 1, "category_id": 1, "bbox": [12, 10, 20, 20], "score": 0.9},
    {"image_id": 1, "category_id": 1, "bbox": [60, 60, 10, 10], "score": 0.8},
    {"image_id": 2, "category_id": 2, "bbox": [0, 0, 5, 5], "score": 0.7},
]


def test_handmade_details_values():
    ours = evaluated(FerroCOCO, FerroCOCOeval, HANDMADE_TRUTH, HANDMADE_RESULTS, "bbox", {})

    ious = ours.ious[(1, 1)]
    # Detection 1 overlaps object 5 by 360 / 440. Detection 2 lies inside the crowd region, so
    # its IoU is its own area over its own area.
    np.testing.assert_array_equal(ious, [[360 / 440, 0.0], [0.0, 1.0]])
    assert ours.ious[(1, 2)] == []
    assert ours.ious[(2, 1)] == []
    assert ours.ious[(2, 2)] == []

    # evalImgs: category 1 then 2, each over four area ranges and two images.
    assert len(ours.evalImgs) == 16
    first = ours.evalImgs[0]
    assert first["image_id"] == 1
    assert first["category_id"] == 1
    assert first["aRng"] == [0.0, 1e10]
    assert first["dtIds"] == [1, 2]
    assert first["gtIds"] == [5, 6]
    # Object 5 matches detection 1 up to IoU 0.80; the crowd matches detection 2 always.
    assert first["dtMatches"][:7, 0].tolist() == [5.0] * 7
    assert first["dtMatches"][7:, 0].tolist() == [0.0] * 3
    assert first["dtMatches"][:, 1].tolist() == [6.0] * 10
    assert first["dtIgnore"][:, 1].tolist() == [True] * 10
    assert first["gtIgnore"].tolist() == [0, 1]
    assert ours.evalImgs[1] is None
    category_two_image_two = ours.evalImgs[9]
    assert category_two_image_two["dtMatches"].shape == (10, 1)
    assert category_two_image_two["gtIgnore"].dtype == np.float64


def test_details_before_evaluate_are_empty():
    evaluator = FerroCOCOeval(FerroCOCO(), FerroCOCO(), "bbox")
    assert evaluator.evalImgs == []
    assert evaluator.ious == {}


def test_details_follow_latest_evaluate():
    with contextlib.redirect_stdout(io.StringIO()):
        gt = FerroCOCO()
        gt.dataset = copy.deepcopy(HANDMADE_TRUTH)
        gt.createIndex()
        dt = gt.loadRes(copy.deepcopy(HANDMADE_RESULTS))
    evaluator = FerroCOCOeval(gt, dt, "bbox")
    evaluator.evaluate()
    assert evaluator.evalImgs[0]["dtMatches"].shape == (10, 2)

    evaluator.params.iouThrs = np.array([0.5])
    evaluator.evaluate()
    assert evaluator.evalImgs[0]["dtMatches"].shape == (1, 2)


def _map_reference(truth: Dict[str, Any], results: List[Dict[str, Any]], iou_type: str) -> Any:
    return evaluated(
        pycocotools_coco.COCO, pycocotools_cocoeval.COCOeval, truth, results, iou_type, {}
    )


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_mean_average_precision_ious_match_pycocotools(iou_type):
    truth, results = make_dataset(41, 12, dets_per_image=8, segm=iou_type == "segm")
    reference = _map_reference(truth, results, iou_type)
    preds, target = to_metric_inputs(truth, results, segm=iou_type == "segm")
    image_ids = sorted(image["id"] for image in truth["images"])

    metric = MeanAveragePrecision(box_format="xywh", iou_type=iou_type, extended_summary=True)
    metric.update(preds[:5], target[:5])
    metric.update(preds[5:], target[5:])
    result = metric.compute()

    keys = list(result)
    assert keys.index("ious") + 1 == keys.index("precision")
    classes = result["classes"].tolist()
    expected_keys = [(index, c) for index in range(len(image_ids)) for c in classes]
    assert list(result["ious"]) == expected_keys
    for (index, category), matrix in result["ious"].items():
        expected = reference.ious[(image_ids[index], category)]
        assert_same_value(matrix, expected, (index, category))


def test_mean_average_precision_micro_ious_use_class_zero():
    truth, results = make_dataset(42, 6, dets_per_image=6)
    collapsed_truth = copy.deepcopy(truth)
    collapsed_results = copy.deepcopy(results)
    collapsed_truth["categories"] = [{"id": 1, "name": "all"}]
    for entry in collapsed_truth["annotations"] + collapsed_results:
        entry["category_id"] = 1
    reference = _map_reference(collapsed_truth, collapsed_results, "bbox")
    preds, target = to_metric_inputs(truth, results, segm=False)
    image_ids = sorted(image["id"] for image in truth["images"])

    metric = MeanAveragePrecision(box_format="xywh", average="micro", extended_summary=True)
    metric.update(preds, target)
    ious = metric.compute()["ious"]

    assert list(ious) == [(index, 0) for index in range(len(image_ids))]
    for (index, _), matrix in ious.items():
        assert_same_value(matrix, reference.ious[(image_ids[index], 1)], index)


def test_mean_average_precision_ious_both_types_prefixed():
    truth, results = make_dataset(43, 4, dets_per_image=5, segm=True)
    mask_preds, mask_target = to_metric_inputs(truth, results, segm=True)
    # Mask results carry no boxes, so each detection gets the box of its mask.
    box_preds = [
        {**pred, "boxes": _mask_boxes(pred["masks"])} for pred in mask_preds
    ]
    box_target = [{**gt, "boxes": _mask_boxes(gt["masks"])} for gt in mask_target]

    both = MeanAveragePrecision(box_format="xywh", iou_type=("bbox", "segm"), extended_summary=True)
    both.update(box_preds, box_target)
    result = both.compute()
    separate = {}
    for iou_type in ("bbox", "segm"):
        metric = MeanAveragePrecision(box_format="xywh", iou_type=iou_type, extended_summary=True)
        metric.update(box_preds, box_target)
        separate[iou_type] = metric.compute()["ious"]

    keys = list(result)
    assert keys.index("bbox_ious") + 1 == keys.index("bbox_precision")
    assert keys.index("segm_ious") + 1 == keys.index("segm_precision")
    assert "ious" not in result
    for iou_type in ("bbox", "segm"):
        ious = result[f"{iou_type}_ious"]
        assert list(ious) == list(separate[iou_type])
        for key, matrix in ious.items():
            assert_same_value(matrix, separate[iou_type][key], (iou_type, key))


def _mask_boxes(masks: np.ndarray) -> np.ndarray:
    """Return the tight [x, y, w, h] box of each mask."""
    boxes = []
    for mask in masks:
        rows = np.flatnonzero(mask.any(axis=1))
        columns = np.flatnonzero(mask.any(axis=0))
        if rows.size == 0:
            boxes.append([0.0, 0.0, 0.0, 0.0])
            continue
        x, y = columns[0], rows[0]
        boxes.append([x, y, columns[-1] + 1 - x, rows[-1] + 1 - y])
    return np.array(boxes, dtype=np.float64).reshape(-1, 4)


def test_map_ious_need_extended_summary():
    truth, results = make_dataset(44, 3, dets_per_image=4)
    preds, target = to_metric_inputs(truth, results, segm=False)
    metric = MeanAveragePrecision(box_format="xywh")
    metric.update(preds, target)
    assert "ious" not in metric.compute()


def test_mean_average_precision_ious_survive_pickle_and_forward():
    import pickle

    truth, results = make_dataset(45, 6, dets_per_image=4)
    preds, target = to_metric_inputs(truth, results, segm=False)
    metric = MeanAveragePrecision(box_format="xywh", extended_summary=True)
    batch_value = metric(preds[:3], target[:3])
    metric.update(preds[3:], target[3:])
    restored = pickle.loads(pickle.dumps(metric))

    whole = metric.compute()["ious"]
    assert list(restored.compute()["ious"]) == list(whole)
    for key, matrix in batch_value["ious"].items():
        assert_same_value(whole[key], matrix, key)


def test_collection_keeps_map_ious_and_integer_classes():
    from ferrometrics import MetricCollection

    truth, results = make_dataset(46, 4, dets_per_image=4)
    preds, target = to_metric_inputs(truth, results, segm=False)
    single = MeanAveragePrecision(box_format="xywh", extended_summary=True)
    single.update(preds, target)
    collection = MetricCollection(
        {"det": MeanAveragePrecision(box_format="xywh", extended_summary=True)}
    )
    collection.update(preds, target)

    expected = single.compute()
    result = collection.compute()
    assert list(result) == list(expected)
    assert result["classes"].dtype == np.int64
    assert list(result["ious"]) == list(expected["ious"])
