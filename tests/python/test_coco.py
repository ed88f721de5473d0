"""Tests of ``ferrometrics.coco``: the pycocotools drop-in (``COCO``, ``COCOeval``).

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
from typing import Any, Dict, Tuple

import numpy as np
import pytest

from ferrometrics.coco import COCO, COCOeval

GROUND_TRUTH = "instances_val2014_100.json"
RESULTS = {
    "bbox": "instances_val2014_fakebbox100_results.json",
    "segm": "instances_val2014_fakesegm100_results.json",
}

# pycocotools 2.0.11 on the files above:
#   python -c "import os; from pycocotools.coco import COCO; \
#     from pycocotools.cocoeval import COCOeval; d = os.environ['FERROMETRICS_COCO_DATA']; \
#     gt = COCO(d + '/instances_val2014_100.json'); \
#     dt = gt.loadRes(d + '/instances_val2014_fake' + KIND + '100_results.json'); \
#     e = COCOeval(gt, dt, KIND); e.evaluate(); e.accumulate(); e.summarize(); \
#     print(e.stats.tolist())"
PYCOCOTOOLS_STATS = {
    "bbox": [
        0.5045806987249628,
        0.6969727247299577,
        0.5729816669904824,
        0.5856257209410443,
        0.5193996948036719,
        0.5013978986347466,
        0.38681277964578054,
        0.5936795762842003,
        0.595352982877607,
        0.6398109626113442,
        0.5664205978994309,
        0.5642905982905982,
    ],
    "segm": [
        0.3195452758576433,
        0.5622883972521636,
        0.29892653412086784,
        0.3873740315997837,
        0.31018272403369485,
        0.3269339071005138,
        0.2682297225711534,
        0.41544868114906375,
        0.4168394992198818,
        0.4694498622754236,
        0.37675922666197265,
        0.3814715099715099,
    ],
}


def coco_data() -> Path:
    folder = os.environ.get("FERROMETRICS_COCO_DATA")
    if not folder:
        pytest.skip("set FERROMETRICS_COCO_DATA to the folder of the COCO val2014 sample files")
    return Path(folder)


def run_ferrometrics(truth: COCO, results: Any, iou_type: str, **params: Any) -> COCOeval:
    detections = truth.loadRes(results)
    evaluation = COCOeval(truth, detections, iou_type)
    for name, value in params.items():
        setattr(evaluation.params, name, value)
    with contextlib.redirect_stdout(io.StringIO()):
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return evaluation


def run_pycocotools(dataset: Dict[str, Any], results: Any, iou_type: str, **params: Any):
    pycoco = pytest.importorskip("pycocotools.coco")
    pycocoeval = pytest.importorskip("pycocotools.cocoeval")
    with contextlib.redirect_stdout(io.StringIO()):
        truth = pycoco.COCO()
        truth.dataset = copy.deepcopy(dataset)
        truth.createIndex()
        detections = truth.loadRes(copy.deepcopy(results))
        evaluation = pycocoeval.COCOeval(truth, detections, iou_type)
        for name, value in params.items():
            setattr(evaluation.params, name, value)
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return evaluation


def load_real(iou_type: str) -> Tuple[Dict[str, Any], list]:
    folder = coco_data()
    with open(folder / GROUND_TRUTH, encoding="utf-8") as handle:
        dataset = json.load(handle)
    with open(folder / RESULTS[iou_type], encoding="utf-8") as handle:
        results = json.load(handle)
    return dataset, results


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_real_data_stats_without_pycocotools(iou_type):
    folder = coco_data()
    truth = COCO(str(folder / GROUND_TRUTH))

    evaluation = run_ferrometrics(truth, str(folder / RESULTS[iou_type]), iou_type)

    assert evaluation.stats.dtype == np.float64
    assert evaluation.stats.shape == (12,)
    assert evaluation.stats.tolist() == PYCOCOTOOLS_STATS[iou_type]


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_real_data_matches_pycocotools(iou_type):
    dataset, results = load_real(iou_type)
    reference = run_pycocotools(dataset, results, iou_type)

    evaluation = run_ferrometrics(COCO(copy.deepcopy(dataset)), copy.deepcopy(results), iou_type)

    assert (evaluation.stats == reference.stats).all()
    for key in ("precision", "recall", "scores"):
        assert evaluation.eval[key].shape == reference.eval[key].shape, key
        assert np.array_equal(evaluation.eval[key], reference.eval[key]), key
    assert evaluation.eval["counts"] == reference.eval["counts"]


@pytest.mark.parametrize(
    "params",
    [
        {"maxDets": [1, 5, 100]},
        {"maxDets": [1, 5, 10, 100]},
        {"iouThrs": np.array([0.3, 0.5, 0.9])},
        {"recThrs": np.linspace(0, 1, 11)},
        {"useCats": 0},
        {"useCats": 0, "catIds": [1, 2, 3, 18]},
        {"areaRng": [[0, 1e10], [0, 2000], [2000, 20000], [20000, 1e10]]},
    ],
    ids=["maxDets", "maxDets4", "iouThrs", "recThrs", "useCats", "useCatsSubset", "areaRng"],
)
def test_real_data_params_match_pycocotools(params):
    dataset, results = load_real("bbox")
    reference = run_pycocotools(dataset, results, "bbox", **params)

    evaluation = run_ferrometrics(
        COCO(copy.deepcopy(dataset)), copy.deepcopy(results), "bbox", **params
    )

    assert (evaluation.stats == reference.stats).all()
    assert np.array_equal(evaluation.eval["precision"], reference.eval["precision"])


def test_real_data_subset_ids_match_pycocotools():
    dataset, results = load_real("segm")
    image_ids = sorted(img["id"] for img in dataset["images"])[::3]
    category_ids = sorted(cat["id"] for cat in dataset["categories"])[:40]
    params = {"imgIds": image_ids, "catIds": category_ids}
    reference = run_pycocotools(dataset, results, "segm", **params)

    evaluation = run_ferrometrics(
        COCO(copy.deepcopy(dataset)), copy.deepcopy(results), "segm", **params
    )

    assert (evaluation.stats == reference.stats).all()
    assert np.array_equal(evaluation.eval["precision"], reference.eval["precision"])


def test_real_data_numpy_results_match_pycocotools():
    dataset, results = load_real("bbox")
    rows = np.array(
        [[r["image_id"], *r["bbox"], r["score"], r["category_id"]] for r in results]
    )
    reference = run_pycocotools(dataset, rows, "bbox")

    evaluation = run_ferrometrics(COCO(copy.deepcopy(dataset)), rows, "bbox")

    assert (evaluation.stats == reference.stats).all()


def test_real_data_queries_match_pycocotools():
    dataset, _ = load_real("bbox")
    pycoco = pytest.importorskip("pycocotools.coco")
    with contextlib.redirect_stdout(io.StringIO()):
        reference = pycoco.COCO()
        reference.dataset = copy.deepcopy(dataset)
        reference.createIndex()
    ours = COCO(copy.deepcopy(dataset))
    image_id = sorted(reference.getImgIds())[5]
    category_ids = reference.getCatIds(supNms=["animal"])

    assert sorted(ours.getImgIds()) == sorted(reference.getImgIds())
    assert ours.getCatIds() == reference.getCatIds()
    assert ours.getCatIds(catNms=["person", "dog"]) == reference.getCatIds(catNms=["person", "dog"])
    assert ours.getCatIds(supNms=["animal"]) == category_ids
    assert sorted(ours.getImgIds(catIds=category_ids[:1])) == sorted(
        reference.getImgIds(catIds=category_ids[:1])
    )
    assert ours.getAnnIds(imgIds=image_id) == reference.getAnnIds(imgIds=image_id)
    assert ours.getAnnIds(catIds=[1], areaRng=[100, 5000]) == reference.getAnnIds(
        catIds=[1], areaRng=[100, 5000]
    )
    assert ours.getAnnIds(iscrowd=1) == reference.getAnnIds(iscrowd=1)
    assert ours.getAnnIds(iscrowd=0) == reference.getAnnIds(iscrowd=0)
    assert ours.loadImgs(image_id) == reference.loadImgs(image_id)
    assert ours.loadCats([1, 2]) == reference.loadCats([1, 2])


def test_real_data_ann_to_mask_matches_pycocotools():
    dataset, _ = load_real("segm")
    pycoco = pytest.importorskip("pycocotools.coco")
    with contextlib.redirect_stdout(io.StringIO()):
        reference = pycoco.COCO()
        reference.dataset = copy.deepcopy(dataset)
        reference.createIndex()
    ours = COCO(copy.deepcopy(dataset))

    for ann_id in list(ours.anns)[:50]:
        expected_rle = reference.annToRLE(reference.anns[ann_id])
        actual_rle = ours.annToRLE(ours.anns[ann_id])
        assert actual_rle["size"] == list(expected_rle["size"]), ann_id
        assert actual_rle["counts"] == expected_rle["counts"], ann_id
        assert np.array_equal(
            ours.annToMask(ours.anns[ann_id]), reference.annToMask(reference.anns[ann_id])
        ), ann_id


TOY = {
    "images": [
        {"id": 1, "height": 40, "width": 40},
        {"id": 2, "height": 40, "width": 40},
    ],
    "categories": [
        {"id": 1, "name": "cat", "supercategory": "animal"},
        {"id": 2, "name": "dog", "supercategory": "animal"},
        {"id": 3, "name": "car", "supercategory": "vehicle"},
    ],
    "annotations": [
        {
            "id": 10,
            "image_id": 1,
            "category_id": 1,
            "bbox": [10, 10, 20, 20],
            "area": 400,
            "iscrowd": 0,
            "segmentation": [[10, 10, 30, 10, 30, 30, 10, 30]],
        },
        {
            "id": 11,
            "image_id": 1,
            "category_id": 2,
            "bbox": [0, 0, 5, 5],
            "area": 25,
            "iscrowd": 1,
            "segmentation": {"size": [40, 40], "counts": [0, 5, 35, 5, 35, 5, 35, 5, 35, 5, 1435]},
        },
        {
            "id": 12,
            "image_id": 2,
            "category_id": 1,
            "bbox": [2, 2, 8, 8],
            "area": 64,
            "iscrowd": 0,
            "segmentation": [[2, 2, 10, 2, 10, 10, 2, 10]],
        },
    ],
}


def toy() -> COCO:
    return COCO(copy.deepcopy(TOY))


def one_detection_evaluation() -> COCOeval:
    """Return a box COCOeval of the toy dataset with one exact detection of category 1."""
    truth = toy()
    results = [{"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.9}]
    return COCOeval(truth, truth.loadRes(results), "bbox")


def test_queries_on_toy_dataset():
    truth = toy()

    assert truth.getImgIds() == [1, 2]
    assert truth.getCatIds() == [1, 2, 3]
    assert truth.getCatIds(supNms="animal") == [1, 2]
    assert truth.getCatIds(catNms=["car"]) == [3]
    assert sorted(truth.getImgIds(catIds=[1])) == [1, 2]
    assert truth.getImgIds(catIds=[1, 2]) == [1]
    assert truth.getImgIds(imgIds=[2], catIds=[2]) == []
    assert truth.getAnnIds(imgIds=1) == [10, 11]
    assert truth.getAnnIds(catIds=1) == [10, 12]
    assert truth.getAnnIds(areaRng=[30, 500]) == [10, 12]
    assert truth.getAnnIds(iscrowd=1) == [11]
    assert truth.getAnnIds(imgIds=[1], iscrowd=0) == [10]
    assert [ann["id"] for ann in truth.loadAnns([12, 10])] == [12, 10]
    assert truth.loadCats(3)[0]["name"] == "car"
    assert truth.loadImgs([2])[0]["id"] == 2


def test_dataset_attribute_then_create_index():
    truth = COCO()
    truth.dataset = copy.deepcopy(TOY)

    truth.createIndex()

    assert sorted(truth.anns) == [10, 11, 12]
    assert len(truth.imgToAnns[1]) == 2
    assert truth.catToImgs[1] == [1, 2]


def test_constructor_reads_file(tmp_path):
    path = tmp_path / "truth.json"
    path.write_text(json.dumps(TOY), encoding="utf-8")

    truth = COCO(str(path))

    assert truth.getAnnIds() == [10, 11, 12]


def test_ann_to_mask_polygon_and_rle():
    truth = toy()

    square = truth.annToMask(truth.anns[10])
    crowd = truth.annToMask(truth.anns[11])

    assert square.shape == (40, 40)
    assert square.dtype == np.uint8
    # pycocotools rasterizes the polygon (10, 10)-(30, 30) to 20 x 20 pixels, rows and columns
    # 10..29.
    assert int(square.sum()) == 400
    assert square[10:30, 10:30].all()
    assert int(crowd.sum()) == 25
    assert crowd[:5, :5].all()
    assert truth.annToRLE(truth.anns[11])["counts"] == b"05S10000000h[1"


def test_load_res_boxes_adds_pycocotools_fields():
    truth = toy()
    results = [{"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 10], "score": 0.9}]

    detections = truth.loadRes(results)

    ann = detections.anns[1]
    assert ann["area"] == 200
    assert ann["iscrowd"] == 0
    assert ann["segmentation"] == [[10, 10, 10, 20, 30, 20, 30, 10]]
    assert detections.getCatIds() == [1, 2, 3]


def test_load_res_masks_adds_area_and_box():
    truth = toy()
    results = [
        {
            "image_id": 2,
            "category_id": 1,
            "segmentation": {"size": [40, 40], "counts": "05S10000000h[1"},
            "score": 0.7,
        }
    ]

    detections = truth.loadRes(results)

    ann = detections.anns[1]
    assert int(ann["area"]) == 25
    assert ann["bbox"].tolist() == [0.0, 0.0, 5.0, 5.0]


def test_load_res_numpy_rows():
    truth = toy()
    rows = np.array([[1, 10, 10, 20, 20, 0.9, 1], [2, 2, 2, 8, 8, 0.8, 1]])

    detections = truth.loadRes(rows)

    assert detections.anns[2]["bbox"] == [2.0, 2.0, 8.0, 8.0]
    assert detections.anns[2]["category_id"] == 1


@pytest.mark.parametrize("score", [float("nan"), float("inf"), np.float32("-inf")])
def test_load_res_non_finite_score_raises_value_error(score):
    results = [
        {"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.9},
        {"image_id": 1, "category_id": 1, "bbox": [12, 10, 20, 20], "score": score},
    ]

    with pytest.raises(ValueError, match="result 1 has score"):
        toy().loadRes(results)


def test_load_res_unknown_image_raises_value_error():
    with pytest.raises(ValueError, match="resFile"):
        toy().loadRes([{"image_id": 9, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1.0}])


def test_toy_perfect_detections_bbox():
    truth = toy()
    results = [
        {"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.9},
        {"image_id": 2, "category_id": 1, "bbox": [2, 2, 8, 8], "score": 0.8},
    ]

    evaluation = run_ferrometrics(truth, results, "bbox")

    # One category with ground truth is matched exactly; pycocotools' precision of a perfect
    # match is 1 / (1 + 2^-52).
    assert evaluation.stats[0] == pytest.approx(1.0, abs=1e-15)
    assert evaluation.stats[5] == -1.0
    assert evaluation.eval["precision"].shape == (10, 101, 3, 4, 3)
    assert evaluation.eval["recall"].shape == (10, 3, 4, 3)
    assert evaluation.eval["scores"].shape == (10, 101, 3, 4, 3)


def test_toy_matches_pycocotools_segm():
    results = [
        {"image_id": 1, "category_id": 1, "segmentation": [[12, 10, 30, 10, 30, 30, 12, 30]],
         "bbox": [12, 10, 18, 20], "score": 0.9},
        {"image_id": 1, "category_id": 2, "bbox": [0, 0, 6, 6], "score": 0.6},
        {"image_id": 2, "category_id": 1, "bbox": [3, 2, 8, 8], "score": 0.8},
    ]
    reference = run_pycocotools(TOY, results, "segm")

    evaluation = run_ferrometrics(toy(), copy.deepcopy(results), "segm")

    assert (evaluation.stats == reference.stats).all()


def test_summarize_prints_pycocotools_layout(capsys):
    evaluation = one_detection_evaluation()
    evaluation.evaluate()
    evaluation.accumulate()

    evaluation.summarize()

    # Category 1 has two objects and one exact detection, so precision is 1 up to recall 0.5:
    # 51 of the 101 recall thresholds. The crowd object of category 2 counts for nothing.
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 12
    assert lines[0] == (
        " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.505"
    )
    assert lines[6] == (
        " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.500"
    )


def test_repeated_accumulate_recomputes_arrays():
    evaluation = one_detection_evaluation()
    evaluation.evaluate()
    evaluation.accumulate()
    first = dict(evaluation.eval)
    expected = {key: first[key].copy() for key in ("precision", "recall", "scores")}
    # The caller owns the first arrays and may change them in place.
    for key in expected:
        first[key][...] = 7.0

    evaluation.accumulate()

    for key in expected:
        assert evaluation.eval[key] is not first[key], key
        assert np.array_equal(evaluation.eval[key], expected[key]), key
        assert evaluation.eval[key].flags.writeable, key
    with contextlib.redirect_stdout(io.StringIO()):
        evaluation.summarize()
    # pycocotools' first summary line is the mean of the defined precision values at area
    # "all" and the largest max detection count.
    precision = expected["precision"][:, :, :, 0, 2]
    assert evaluation.stats[0] == np.mean(precision[precision > -1])


def test_default_params_like_pycocotools():
    evaluation = COCOeval(toy(), None, "bbox")
    params = evaluation.params

    assert params.imgIds == [1, 2]
    assert params.catIds == [1, 2, 3]
    assert params.iouThrs.tolist() == np.linspace(0.5, 0.95, 10).tolist()
    assert params.recThrs.tolist() == np.linspace(0.0, 1.0, 101).tolist()
    assert params.maxDets == [1, 10, 100]
    assert params.areaRngLbl == ["all", "small", "medium", "large"]
    assert params.useCats == 1
    assert COCOeval().params.iouType == "segm"


def test_unknown_iou_type_raises_value_error():
    with pytest.raises(ValueError, match="iouType"):
        COCOeval(toy(), toy(), "polygon")


def test_keypoints_raise_value_error():
    with pytest.raises(ValueError, match="keypoint"):
        COCOeval(toy(), toy(), "keypoints")


def test_summarize_before_accumulate_raises():
    with pytest.raises(ValueError, match="accumulate"):
        COCOeval(toy(), toy(), "bbox").summarize()


def test_accumulate_before_evaluate_raises():
    with pytest.raises(ValueError, match="evaluate"):
        COCOeval(toy(), toy(), "bbox").accumulate()


def test_invalid_threshold_raises_value_error():
    truth = toy()
    detections = truth.loadRes(
        [{"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.9}]
    )
    evaluation = COCOeval(truth, detections, "bbox")
    evaluation.params.iouThrs = np.array([0.5, 1.5])

    with pytest.raises(ValueError, match="iou_thresholds"):
        evaluation.evaluate()


def test_missing_area_in_ground_truth_raises_value_error():
    dataset = copy.deepcopy(TOY)
    del dataset["annotations"][0]["area"]
    truth = COCO(dataset)
    detections = truth.loadRes(
        [{"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.9}]
    )

    with pytest.raises(ValueError, match="area"):
        COCOeval(truth, detections, "bbox").evaluate()


def test_real_data_max_dets_without_100():
    # pycocotools 2.0.11 gives stats[0] = -1 here, because its first line looks for
    # maxDets=100. ferrometrics reads the largest count, 50, and agrees on the other lines.
    dataset, results = load_real("bbox")
    params = {"maxDets": [1, 10, 50]}
    reference = run_pycocotools(dataset, results, "bbox", **params)

    evaluation = run_ferrometrics(
        COCO(copy.deepcopy(dataset)), copy.deepcopy(results), "bbox", **params
    )

    assert reference.stats[0] == -1.0
    assert 0.0 < evaluation.stats[0] < 1.0
    assert (evaluation.stats[1:] == reference.stats[1:]).all()


@pytest.mark.parametrize(
    "edit",
    [
        lambda evaluation: evaluation.eval["precision"].__setitem__(Ellipsis, 0.5),
        lambda evaluation: evaluation.eval.__setitem__(
            "precision", evaluation.eval["precision"][:, :, :40]
        ),
    ],
    ids=["in-place", "cut-categories"],
)
def test_real_data_summarize_reads_edited_eval(edit):
    dataset, results = load_real("bbox")
    pycoco = pytest.importorskip("pycocotools.coco")
    pycocoeval = pytest.importorskip("pycocotools.cocoeval")
    evaluations = []
    for coco_class, eval_class in ((pycoco.COCO, pycocoeval.COCOeval), (COCO, COCOeval)):
        with contextlib.redirect_stdout(io.StringIO()):
            truth = coco_class()
            truth.dataset = copy.deepcopy(dataset)
            truth.createIndex()
            evaluation = eval_class(truth, truth.loadRes(copy.deepcopy(results)), "bbox")
            evaluation.evaluate()
            evaluation.accumulate()
            edit(evaluation)
            evaluation.summarize()
        evaluations.append(evaluation)
    reference, evaluation = evaluations

    assert (evaluation.stats == reference.stats).all()


def test_summarize_rejects_reshaped_eval():
    evaluation = one_detection_evaluation()
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.eval["precision"] = evaluation.eval["precision"][:, :50]

    with pytest.raises(ValueError, match="call accumulate"):
        evaluation.summarize()


def test_pooled_repeated_category_raises():
    evaluation = one_detection_evaluation()
    evaluation.params.useCats = 0
    evaluation.params.catIds = [1, 1]

    with pytest.raises(ValueError, match="catIds"):
        evaluation.evaluate()


def test_load_res_non_ascii_counts_raises_value_error():
    results = [
        {
            "image_id": 2,
            "category_id": 1,
            "segmentation": {"size": [40, 40], "counts": "05S10000000h[1\u00e9"},
            "score": 0.7,
        }
    ]

    with pytest.raises(ValueError, match=r"`counts`.*'\u00e9' \(U\+00E9\) at position 14"):
        toy().loadRes(results)
