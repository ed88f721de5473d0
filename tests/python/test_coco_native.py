"""Tests of the native datasets behind ``ferrometrics.coco``: ``COCO(path)`` and
``loadRes(path)`` parse in Rust and ``COCOeval`` evaluates them without a JSON round trip.

Parity tests import pycocotools and are skipped without it. The real-data tests read the COCO
files from the folder in the environment variable ``FERROMETRICS_COCO_DATA`` and are skipped
when it is unset.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ferrometrics.coco import COCO, COCOeval

GROUND_TRUTH = "instances_val2014_100.json"
RESULTS = {
    "bbox": "instances_val2014_fakebbox100_results.json",
    "segm": "instances_val2014_fakesegm100_results.json",
}


def coco_data() -> Path:
    folder = os.environ.get("FERROMETRICS_COCO_DATA")
    if not folder:
        pytest.skip("set FERROMETRICS_COCO_DATA to the folder of the COCO val2014 sample files")
    return Path(folder)


def evaluate(truth: Any, detections: Any, iou_type: str, **params: Any) -> Any:
    if not isinstance(detections, COCO) and isinstance(truth, COCO):
        detections = truth.loadRes(detections)
    evaluation = type_of_eval(truth)(truth, detections, iou_type)
    for name, value in params.items():
        setattr(evaluation.params, name, value)
    with contextlib.redirect_stdout(io.StringIO()):
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return evaluation


def type_of_eval(truth: Any) -> Any:
    if isinstance(truth, COCO):
        return COCOeval
    return pytest.importorskip("pycocotools.cocoeval").COCOeval


def pycocotools_pair(truth_path: Path, results_path: Path) -> Any:
    pycoco = pytest.importorskip("pycocotools.coco")
    with contextlib.redirect_stdout(io.StringIO()):
        truth = pycoco.COCO(str(truth_path))
        return truth, truth.loadRes(str(results_path))


def assert_same_evaluation(ours: Any, reference: Any) -> None:
    assert ours.stats.tolist() == reference.stats.tolist()
    for key in ("precision", "recall", "scores"):
        assert np.array_equal(ours.eval[key], reference.eval[key]), key


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_native_files_match_pycocotools(iou_type):
    folder = coco_data()
    reference = evaluate(*pycocotools_pair(folder / GROUND_TRUTH, folder / RESULTS[iou_type]),
                         iou_type)

    truth = COCO(str(folder / GROUND_TRUTH))
    detections = truth.loadRes(str(folder / RESULTS[iou_type]))

    assert truth.native is not None
    assert detections.native is not None
    assert_same_evaluation(evaluate(truth, detections, iou_type), reference)
    # The evaluation reads the native copies and leaves the Python views unbuilt.
    assert truth.native is not None
    assert detections.native is not None


@pytest.mark.parametrize(
    "params",
    [{"useCats": 0}, {"maxDets": [1, 5, 100]}, "subset"],
    ids=["useCats", "maxDets", "subset"],
)
def test_native_params_match_pycocotools(params):
    folder = coco_data()
    truth_path, results_path = folder / GROUND_TRUTH, folder / RESULTS["segm"]
    reference_truth, reference_detections = pycocotools_pair(truth_path, results_path)
    if params == "subset":
        params = {
            "imgIds": sorted(reference_truth.getImgIds())[::3],
            "catIds": sorted(reference_truth.getCatIds())[:40],
        }
    reference = evaluate(reference_truth, reference_detections, "segm", **params)

    truth = COCO(str(truth_path))
    ours = evaluate(truth, truth.loadRes(str(results_path)), "segm", **params)

    assert_same_evaluation(ours, reference)


def test_native_views_match_pycocotools():
    folder = coco_data()
    reference_truth, reference_detections = pycocotools_pair(
        folder / GROUND_TRUTH, folder / RESULTS["bbox"]
    )
    truth = COCO(str(folder / GROUND_TRUTH))
    detections = truth.loadRes(str(folder / RESULTS["bbox"]))

    assert truth.getImgIds() == reference_truth.getImgIds()
    assert truth.getCatIds() == reference_truth.getCatIds()
    assert truth.native is not None

    assert truth.dataset == reference_truth.dataset
    assert truth.native is None
    assert truth.anns == reference_truth.anns
    assert dict(truth.imgToAnns) == dict(reference_truth.imgToAnns)
    assert dict(truth.catToImgs) == dict(reference_truth.catToImgs)
    image_id = truth.getImgIds()[4]
    assert truth.getAnnIds(imgIds=image_id) == reference_truth.getAnnIds(imgIds=image_id)
    assert detections.anns == reference_detections.anns
    assert detections.native is None


def test_native_views_see_edits():
    folder = coco_data()
    truth = COCO(str(folder / GROUND_TRUTH))
    detections = truth.loadRes(str(folder / RESULTS["bbox"]))
    before = evaluate(truth, detections, "bbox").stats.copy()

    # Removing the ground truth of one category after the views are built must count.
    category_id = truth.getCatIds()[0]
    kept = [ann for ann in truth.dataset["annotations"] if ann["category_id"] != category_id]
    truth.dataset["annotations"] = kept
    truth.createIndex()
    after = evaluate(truth, detections, "bbox").stats

    assert truth.native is None
    assert not np.array_equal(before, after)


def test_native_truth_with_result_list():
    folder = coco_data()
    with open(folder / RESULTS["bbox"], encoding="utf-8") as handle:
        results = json.load(handle)
    reference = evaluate(
        *pycocotools_pair(folder / GROUND_TRUTH, folder / RESULTS["bbox"]), "bbox"
    )

    truth = COCO(str(folder / GROUND_TRUTH))
    detections = truth.loadRes(copy.deepcopy(results))

    assert detections.native is not None
    assert_same_evaluation(evaluate(truth, detections, "bbox"), reference)
    assert detections.anns[1]["id"] == 1
    assert detections.anns[1]["area"] == results[0]["bbox"][2] * results[0]["bbox"][3]


def test_native_dataset_deepcopy():
    folder = coco_data()
    truth = COCO(str(folder / GROUND_TRUTH))
    detections = truth.loadRes(str(folder / RESULTS["bbox"]))
    expected = evaluate(truth, detections, "bbox").stats.tolist()

    truth_copy = copy.deepcopy(truth)
    detections_copy = copy.deepcopy(detections)

    assert truth_copy.native is None
    assert evaluate(truth_copy, detections_copy, "bbox").stats.tolist() == expected


def test_file_the_native_loader_rejects(tmp_path):
    dataset = {
        "images": [{"id": 1, "height": 20, "width": 20}],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4]}],
    }
    path = tmp_path / "truth.json"
    path.write_text(json.dumps(dataset), encoding="utf-8")

    truth = COCO(str(path))

    # Without `area` the file still loads, as in pycocotools, and the evaluation names it.
    assert truth.native is None
    assert truth.getAnnIds() == [1]
    detections = truth.loadRes([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4],
                                 "score": 0.5}])
    with pytest.raises(ValueError, match="area"):
        COCOeval(truth, detections, "bbox").evaluate()


def test_results_file_of_unknown_image(tmp_path):
    dataset = {
        "images": [{"id": 1, "height": 20, "width": 20}],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4], "area": 16}
        ],
    }
    truth_path = tmp_path / "truth.json"
    truth_path.write_text(json.dumps(dataset), encoding="utf-8")
    results_path = tmp_path / "results.json"
    results_path.write_text(
        json.dumps([{"image_id": 7, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1.0}]),
        encoding="utf-8",
    )
    truth = COCO(str(truth_path))
    assert truth.native is not None

    with pytest.raises(ValueError, match="resFile"):
        truth.loadRes(str(results_path))


def test_native_and_dict_paths_agree(tmp_path):
    dataset = {
        "images": [{"id": 1, "height": 40, "width": 40}, {"id": 2, "height": 40, "width": 40}],
        "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [2, 2, 10, 10], "area": 100},
            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [20, 20, 8, 6], "area": 48},
            {"id": 3, "image_id": 2, "category_id": 1, "bbox": [0, 0, 30, 30], "area": 900,
             "iscrowd": 1},
            {"id": 4, "image_id": 2, "category_id": 2, "bbox": [5, 5, 5, 5], "area": 25},
        ],
    }
    results = [
        {"image_id": 1, "category_id": 1, "bbox": [3, 2, 10, 10], "score": 0.9},
        {"image_id": 1, "category_id": 2, "bbox": [20, 21, 8, 6], "score": 0.4},
        {"image_id": 2, "category_id": 1, "bbox": [1, 1, 10, 10], "score": 0.7},
        {"image_id": 2, "category_id": 2, "bbox": [5, 6, 5, 5], "score": 0.8},
        {"image_id": 2, "category_id": 2, "bbox": [30, 30, 4, 4], "score": 0.95},
    ]
    truth_path = tmp_path / "truth.json"
    truth_path.write_text(json.dumps(dataset), encoding="utf-8")
    results_path = tmp_path / "results.json"
    results_path.write_text(json.dumps(results), encoding="utf-8")
    truth = COCO(str(truth_path))
    detections = truth.loadRes(str(results_path))
    assert truth.native is not None
    assert detections.native is not None
    expected = evaluate(COCO(copy.deepcopy(dataset)), copy.deepcopy(results), "bbox")

    ours = evaluate(truth, detections, "bbox")

    assert ours.stats.tolist() == expected.stats.tolist()
    assert np.array_equal(ours.eval["precision"], expected.eval["precision"])
    ours.accumulate()
    assert np.array_equal(ours.eval["precision"], expected.eval["precision"])
    assert np.array_equal(ours.eval["recall"], expected.eval["recall"])
