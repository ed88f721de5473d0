"""Differential tests of COCO evaluation against pycocotools, faster-coco-eval and hotcoco.

Each case builds seeded synthetic data (``synthetic_coco.make_dataset``) with crowd regions,
images without detections or without ground truth, a category without ground truth, tied
scores within and across images, degenerate and zero-area boxes and more detections than the
max-dets counts. ferrometrics is run through ``ferrometrics.coco.COCOeval``,
``ferrometrics.detection.MeanAveragePrecision`` and the ``ferrometrics detection`` command, and
each must give pycocotools' summary to the bit, and its precision, recall and score arrays.
MeanAveragePrecision's micro average is compared with pycocotools on the data relabelled to one
category, which is TorchMetrics' definition, and the other micro averages with useCats = 0.

faster-coco-eval and hotcoco are checked against pycocotools and against ferrometrics'
COCOeval and command to 1e-12 absolute, because faster-coco-eval sums in another order and
differs in the last bit on some inputs.

One deliberate difference: with max-dets counts that do not include 100, pycocotools 2.0.11
reports -1 for the mean AP (stats[0]), because its summary reads the AP at 100 detections.
ferrometrics reports the AP at the largest count, and the tests assert that value, computed
from pycocotools' own precision array.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np
import pytest

from conftest import find_cli
from ferrometrics.coco import COCO as FerroCOCO
from ferrometrics.coco import COCOeval as FerroCOCOeval
from ferrometrics.detection import MeanAveragePrecision
from synthetic_coco import make_dataset, to_metric_inputs

pycocotools_coco = pytest.importorskip("pycocotools.coco")
pycocotools_cocoeval = pytest.importorskip("pycocotools.cocoeval")

SUMMARY_KEYS = [
    "map",
    "map_50",
    "map_75",
    "map_small",
    "map_medium",
    "map_large",
    "mar_{0}",
    "mar_{1}",
    "mar_{2}",
    "mar_small",
    "mar_medium",
    "mar_large",
]

PEER_TOLERANCE = 1e-12

# Evaluation parameters by case name, in pycocotools' attribute names.
PARAMS: Dict[str, Dict[str, Any]] = {
    "default": {},
    "iou_thresholds": {"iouThrs": np.array([0.3, 0.5, 0.62, 0.75, 0.9])},
    "rec_thresholds": {"recThrs": np.linspace(0.0, 1.0, 11)},
    "max_dets_without_100": {"maxDets": [1, 3, 7]},
    "max_dets_above_100": {"maxDets": [2, 10, 300]},
    "micro": {"useCats": 0},
}

# (seed, images, dets_per_image, segm): several sizes of box and mask data.
DATASETS = {
    "bbox_small": (11, 6, 8, False),
    "bbox_medium": (12, 40, 12, False),
    "bbox_large": (13, 150, 20, False),
    "segm_small": (21, 6, 6, True),
    "segm_medium": (22, 30, 10, True),
}


def evaluate_with(
    coco_class: Any,
    eval_class: Any,
    truth: Dict[str, Any],
    results: List[Dict[str, Any]],
    iou_type: str,
    params: Dict[str, Any],
) -> Any:
    """Run evaluate, accumulate and summarize of one COCO implementation, silencing its
    prints, and return the evaluator."""
    with contextlib.redirect_stdout(io.StringIO()):
        gt = coco_class()
        gt.dataset = copy.deepcopy(truth)
        gt.createIndex()
        dt = gt.loadRes(copy.deepcopy(results))
        evaluator = eval_class(gt, dt, iou_type)
        for name, value in params.items():
            setattr(evaluator.params, name, value)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator


def expected_stats(reference: Any, params: Dict[str, Any]) -> np.ndarray:
    """Return pycocotools' stats, with stats[0] replaced by the mean AP at the largest max-dets
    count where pycocotools reports -1 for lack of a count of 100."""
    stats = np.array(reference.stats, dtype=np.float64)
    max_dets = sorted(params.get("maxDets", [1, 10, 100]))
    if 100 not in max_dets:
        assert stats[0] == -1.0, "pycocotools reads AP at 100 detections and reports -1"
        precision = reference.eval["precision"][:, :, :, 0, -1]
        defined = precision[precision > -1]
        stats[0] = np.mean(defined) if defined.size else -1.0
    return stats


@functools.lru_cache(maxsize=None)
def build_dataset(name: str) -> Tuple[Dict[str, Any], List[Dict[str, Any]], str]:
    seed, images, dets_per_image, segm = DATASETS[name]
    truth, results = make_dataset(seed, images, dets_per_image=dets_per_image, segm=segm)
    return truth, results, "segm" if segm else "bbox"


@functools.lru_cache(maxsize=None)
def reference_for(name: str, params_name: str, collapsed: bool = False) -> Any:
    """Return pycocotools' evaluator of a dataset, once per dataset and parameters; with
    ``collapsed`` every category is merged into one first."""
    truth, results, iou_type = build_dataset(name)
    if collapsed:
        truth, results = collapse_categories(truth, results)
    return evaluate_with(
        pycocotools_coco.COCO,
        pycocotools_cocoeval.COCOeval,
        truth,
        results,
        iou_type,
        PARAMS[params_name],
    )


def collapse_categories(
    truth: Dict[str, Any], results: List[Dict[str, Any]]
) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
    """Give every object and detection category 1: one pooled class whose objects keep their
    input order, the micro average of MeanAveragePrecision."""
    truth = copy.deepcopy(truth)
    results = copy.deepcopy(results)
    truth["categories"] = [{"id": 1, "name": "all"}]
    for entry in truth["annotations"] + results:
        entry["category_id"] = 1
    return truth, results


@pytest.fixture(params=list(DATASETS))
def name(request):
    return request.param


@pytest.mark.parametrize("params_name", list(PARAMS))
def test_cocoeval_matches_pycocotools(name, params_name):
    truth, results, iou_type = build_dataset(name)
    params = PARAMS[params_name]
    reference = reference_for(name, params_name)

    ours = evaluate_with(FerroCOCO, FerroCOCOeval, truth, results, iou_type, params)

    np.testing.assert_array_equal(ours.stats, expected_stats(reference, params))
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(ours.eval[key], reference.eval[key], err_msg=key)


@pytest.mark.parametrize("params_name", list(PARAMS))
def test_mean_average_precision_matches_pycocotools(name, params_name):
    truth, results, iou_type = build_dataset(name)
    params = PARAMS[params_name]
    if params.get("useCats", 1) == 0:
        # TorchMetrics' micro average relabels every object to one class, so equal scores in an
        # image keep their input order. pycocotools' useCats = 0 orders the detections of an
        # image by category first, which ranks tied scores differently.
        reference = reference_for(name, "default", collapsed=True)
    else:
        reference = reference_for(name, params_name)
    preds, target = to_metric_inputs(truth, results, segm=iou_type == "segm")
    max_dets = params.get("maxDets")

    metric = MeanAveragePrecision(
        box_format="xywh",
        iou_type=iou_type,
        iou_thresholds=list(params["iouThrs"]) if "iouThrs" in params else None,
        rec_thresholds=list(params["recThrs"]) if "recThrs" in params else None,
        max_detection_thresholds=max_dets,
        average="micro" if params.get("useCats", 1) == 0 else "macro",
        extended_summary=True,
    )
    half = len(preds) // 2
    metric.update(preds[:half], target[:half])
    metric.update(preds[half:], target[half:])
    result = metric.compute()

    counts = sorted(max_dets or [1, 10, 100])
    keys = [key.format(*counts) for key in SUMMARY_KEYS]
    actual = np.array([result[key] for key in keys])
    np.testing.assert_array_equal(actual, expected_stats(reference, params))
    # Under the micro average both sides have one category in the arrays' third axis.
    for key in ("precision", "recall", "scores"):
        np.testing.assert_array_equal(result[key], reference.eval[key], err_msg=key)


CLI = find_cli()


@functools.lru_cache(maxsize=None)
def cli_stats(name: str, params_name: str) -> np.ndarray:
    """Run ``ferrometrics detection --format json`` on a dataset and return its twelve values,
    read back exactly from the printed digits."""
    truth, results, iou_type = build_dataset(name)
    params = PARAMS[params_name]
    with tempfile.TemporaryDirectory() as folder:
        gt_path = Path(folder) / "gt.json"
        dt_path = Path(folder) / "dt.json"
        gt_path.write_text(json.dumps(truth))
        dt_path.write_text(json.dumps(results))

        arguments = [str(CLI), "detection", "--gt", str(gt_path), "--dt", str(dt_path)]
        arguments += ["--iou-type", iou_type, "--format", "json"]
        if "iouThrs" in params:
            thresholds = ",".join(repr(float(t)) for t in params["iouThrs"])
            arguments += ["--iou-thresholds", thresholds]
        if "recThrs" in params:
            thresholds = ",".join(repr(float(r)) for r in params["recThrs"])
            arguments += ["--rec-thresholds", thresholds]
        if "maxDets" in params:
            arguments += ["--max-dets", ",".join(str(m) for m in params["maxDets"])]
        if params.get("useCats", 1) == 0:
            arguments += ["--average", "micro"]
        completed = subprocess.run(arguments, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr

    # Python's float() rounds correctly, so the shortest printed digits read back exactly.
    output = json.loads(completed.stdout, parse_float=float)
    counts = sorted(params.get("maxDets", [1, 10, 100]))
    return np.array([output[key.format(*counts)] for key in SUMMARY_KEYS])


needs_cli = pytest.mark.skipif(
    CLI is None, reason="ferrometrics binary not found; build ferrometrics-cli"
)


@needs_cli
@pytest.mark.parametrize("params_name", list(PARAMS))
def test_cli_matches_pycocotools(name, params_name):
    params = PARAMS[params_name]
    reference = reference_for(name, params_name)

    np.testing.assert_array_equal(cli_stats(name, params_name), expected_stats(reference, params))


@functools.lru_cache(maxsize=None)
def ours_for(name: str, params_name: str) -> Any:
    truth, results, iou_type = build_dataset(name)
    return evaluate_with(
        FerroCOCO, FerroCOCOeval, truth, results, iou_type, PARAMS[params_name]
    )


def assert_ferrometrics_agrees(peer_stats: np.ndarray, name: str, params_name: str) -> None:
    """Compare a peer's summary with ferrometrics' COCOeval and, when built, the CLI."""
    np.testing.assert_allclose(
        ours_for(name, params_name).stats, peer_stats, rtol=0, atol=PEER_TOLERANCE
    )
    if CLI is not None:
        np.testing.assert_allclose(
            cli_stats(name, params_name), peer_stats, rtol=0, atol=PEER_TOLERANCE
        )


@pytest.mark.parametrize("params_name", list(PARAMS))
def test_faster_coco_eval_agrees(name, params_name):
    faster = pytest.importorskip("faster_coco_eval")
    truth, results, iou_type = build_dataset(name)
    params = PARAMS[params_name]
    reference = reference_for(name, params_name)

    peer = evaluate_with(faster.COCO, faster.COCOeval_faster, truth, results, iou_type, params)

    # faster-coco-eval 1.8.0 also reads the mean AP at the largest max-dets count.
    peer_stats = np.array(peer.stats, dtype=np.float64)
    np.testing.assert_allclose(
        peer_stats, expected_stats(reference, params), rtol=0, atol=PEER_TOLERANCE
    )
    for key in ("precision", "recall"):
        np.testing.assert_allclose(
            peer.eval[key], reference.eval[key], rtol=0, atol=PEER_TOLERANCE, err_msg=key
        )
    assert_ferrometrics_agrees(peer_stats, name, params_name)


# hotcoco warns about parameters that COCO leaderboards do not use, such as useCats = 0.
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("params_name", list(PARAMS))
def test_hotcoco_agrees(name, params_name):
    hotcoco = pytest.importorskip("hotcoco")
    truth, results, iou_type = build_dataset(name)
    params = PARAMS[params_name]
    reference = reference_for(name, params_name)

    peer = evaluate_with(hotcoco.COCO, hotcoco.COCOeval, truth, results, iou_type, params)

    # hotcoco 1.3.0 also reads the mean AP at the largest max-dets count.
    peer_stats = np.array(peer.stats, dtype=np.float64)
    np.testing.assert_allclose(
        peer_stats, expected_stats(reference, params), rtol=0, atol=PEER_TOLERANCE
    )
    assert_ferrometrics_agrees(peer_stats, name, params_name)


def _tiny_truth(annotations: List[Dict[str, Any]], images: int = 2) -> Dict[str, Any]:
    return {
        "images": [{"id": i + 1, "width": 100, "height": 100} for i in range(images)],
        "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
        "annotations": annotations,
    }


def _box(image_id: int, category: int, bbox: List[float], **extra: Any) -> Dict[str, Any]:
    entry = {"image_id": image_id, "category_id": category, "bbox": bbox}
    entry.update(extra)
    return entry


HANDMADE = {
    # One image has ground truth and no detections, the other detections and no ground truth.
    "empty_sides": (
        [_box(1, 1, [10, 10, 20, 20], id=1, area=400, iscrowd=0)],
        [_box(2, 1, [10, 10, 20, 20], score=0.9)],
    ),
    # A detection inside a crowd region is ignored, the second one is a true positive.
    "crowd": (
        [
            _box(1, 1, [0, 0, 60, 60], id=1, area=3600, iscrowd=1),
            _box(1, 1, [70, 70, 20, 20], id=2, area=400, iscrowd=0),
        ],
        [_box(1, 1, [5, 5, 20, 20], score=0.8), _box(1, 1, [71, 70, 20, 20], score=0.7)],
    ),
    # Equal scores across two images: the order of images decides the ranking.
    "tied_scores": (
        [
            _box(1, 1, [10, 10, 20, 20], id=1, area=400, iscrowd=0),
            _box(2, 1, [10, 10, 20, 20], id=2, area=400, iscrowd=0),
        ],
        [
            _box(1, 1, [50, 50, 20, 20], score=0.5),
            _box(2, 1, [10, 10, 20, 20], score=0.5),
            _box(1, 1, [10, 11, 20, 20], score=0.5),
        ],
    ),
    # A zero-area detection and a category (2) that has detections but no ground truth.
    "zero_area_and_category_without_truth": (
        [_box(1, 1, [10, 10, 20, 20], id=1, area=400, iscrowd=0)],
        [
            _box(1, 1, [10, 10, 0, 0], score=0.95),
            _box(1, 1, [10, 10, 20, 20], score=0.6),
            _box(1, 2, [10, 10, 20, 20], score=0.9),
        ],
    ),
}


@pytest.mark.parametrize("case", list(HANDMADE))
@pytest.mark.parametrize("params_name", ["default", "micro", "max_dets_without_100"])
def test_handmade_cases_match_pycocotools(case, params_name):
    annotations, detections = HANDMADE[case]
    truth = _tiny_truth(annotations)
    params = PARAMS[params_name]
    reference = evaluate_with(
        pycocotools_coco.COCO, pycocotools_cocoeval.COCOeval, truth, detections, "bbox", params
    )

    ours = evaluate_with(FerroCOCO, FerroCOCOeval, truth, detections, "bbox", params)

    np.testing.assert_array_equal(ours.stats, expected_stats(reference, params))
    np.testing.assert_array_equal(ours.eval["precision"], reference.eval["precision"])


def test_max_dets_without_100_gives_largest_count_ap():
    # pycocotools 2.0.11 prints -1 for this line; the AP at 7 detections is defined.
    truth, results = make_dataset(5, 10)
    params = PARAMS["max_dets_without_100"]
    reference = evaluate_with(
        pycocotools_coco.COCO, pycocotools_cocoeval.COCOeval, truth, results, "bbox", params
    )
    ours = evaluate_with(FerroCOCO, FerroCOCOeval, truth, results, "bbox", params)

    assert reference.stats[0] == -1.0
    assert ours.stats[0] > 0.0
    assert ours.stats[0] == expected_stats(reference, params)[0]
