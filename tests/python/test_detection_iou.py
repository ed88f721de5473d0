"""Tests of the box IoU family in ``ferrometrics.detection`` and
``ferrometrics.functional.detection``: numpy reference formulas (torchvision's arithmetic) on
seeded boxes, TorchMetrics' documented examples, TorchMetrics' aggregation rules, states and
input errors."""

from __future__ import annotations

import json
import math
import pickle
import subprocess
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import pytest

from conftest import FakeTensor, assert_close, find_cli
from ferrometrics.detection import (
    CompleteIntersectionOverUnion,
    DistanceIntersectionOverUnion,
    GeneralizedIntersectionOverUnion,
    IntersectionOverUnion,
)
from ferrometrics.functional.detection import (
    complete_intersection_over_union,
    distance_intersection_over_union,
    generalized_intersection_over_union,
    intersection_over_union,
)
from synthetic_coco import make_dataset

EPS = 1e-7


def reference_matrix(kind: str, preds: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Compute the (N, M) matrix of one family member from xyxy boxes, written from the
    definitions in torchvision.ops.boxes (IoU, GIoU arXiv:1902.09630, DIoU arXiv:1911.08287,
    CIoU arXiv:2005.03572)."""
    p = preds[:, None, :]
    t = target[None, :, :]
    pred_area = (p[..., 2] - p[..., 0]) * (p[..., 3] - p[..., 1])
    target_area = (t[..., 2] - t[..., 0]) * (t[..., 3] - t[..., 1])
    width = np.clip(np.minimum(p[..., 2], t[..., 2]) - np.maximum(p[..., 0], t[..., 0]), 0, None)
    height = np.clip(np.minimum(p[..., 3], t[..., 3]) - np.maximum(p[..., 1], t[..., 1]), 0, None)
    inter = width * height
    union = pred_area + target_area - inter
    iou = inter / union
    if kind == "iou":
        return iou
    enclose_w = np.clip(np.maximum(p[..., 2], t[..., 2]) - np.minimum(p[..., 0], t[..., 0]), 0, None)
    enclose_h = np.clip(np.maximum(p[..., 3], t[..., 3]) - np.minimum(p[..., 1], t[..., 1]), 0, None)
    if kind == "giou":
        enclose = enclose_w * enclose_h
        return iou - (enclose - union) / enclose
    diagonal = enclose_w**2 + enclose_h**2 + EPS
    center_dx = (p[..., 0] + p[..., 2]) / 2 - (t[..., 0] + t[..., 2]) / 2
    center_dy = (p[..., 1] + p[..., 3]) / 2 - (t[..., 1] + t[..., 3]) / 2
    diou = iou - (center_dx**2 + center_dy**2) / diagonal
    if kind == "diou":
        return diou
    pred_angle = np.arctan((p[..., 2] - p[..., 0]) / (p[..., 3] - p[..., 1]))
    target_angle = np.arctan((t[..., 2] - t[..., 0]) / (t[..., 3] - t[..., 1]))
    v = 4 / math.pi**2 * (pred_angle - target_angle) ** 2
    alpha = v / (1 - iou + v + EPS)
    return diou - alpha * v


def reference_metric(
    kind: str,
    preds: List[Dict[str, np.ndarray]],
    target: List[Dict[str, np.ndarray]],
    iou_threshold: Optional[float] = None,
    respect_labels: bool = True,
) -> Tuple[float, Dict[int, float]]:
    """Compute the mean and per-class means with TorchMetrics' rules for the stateful metrics:
    pairs of different labels (with respect_labels) and pairs below the threshold drop out,
    and an image with one empty side adds zeros for its non-empty side."""
    values: List[float] = []
    per_class: Dict[int, List[float]] = {}
    for pred, truth in zip(preds, target):
        for label in list(pred["labels"]) + list(truth["labels"]):
            per_class.setdefault(int(label), [])
        n, m = len(pred["boxes"]), len(truth["boxes"])
        if n == 0 or m == 0:
            count = max(n, m)
            repeats = 1 if respect_labels else count
            for index in range(count):
                for _ in range(repeats):
                    values.append(0.0)
                    if m > 0:
                        per_class[int(truth["labels"][index])].append(0.0)
            continue
        matrix = reference_matrix(kind, pred["boxes"], truth["boxes"])
        for i in range(n):
            for j in range(m):
                label = int(truth["labels"][j])
                if respect_labels and int(pred["labels"][i]) != label:
                    continue
                if iou_threshold is not None and matrix[i, j] < iou_threshold:
                    continue
                values.append(float(matrix[i, j]))
                per_class[label].append(float(matrix[i, j]))
    mean = float(np.mean(values)) if values else 0.0
    classes = {label: float(np.mean(v)) if v else 0.0 for label, v in per_class.items()}
    return mean, classes


def random_boxes(rng: np.random.Generator, count: int) -> np.ndarray:
    corner = rng.uniform(0, 100, size=(count, 2))
    size = rng.uniform(1, 60, size=(count, 2))
    return np.concatenate([corner, corner + size], axis=1)


def random_images(
    seed: int, images: int, classes: int = 3
) -> Tuple[List[Dict[str, np.ndarray]], List[Dict[str, np.ndarray]]]:
    """Build seeded images with overlapping boxes, some images with no predictions or no
    targets."""
    rng = np.random.default_rng(seed)
    preds, target = [], []
    for index in range(images):
        truth_count = 0 if index % 7 == 3 else int(rng.integers(1, 6))
        pred_count = 0 if index % 5 == 2 else int(rng.integers(1, 6))
        truth_boxes = random_boxes(rng, truth_count)
        pred_boxes = random_boxes(rng, pred_count)
        shared = min(truth_count, pred_count)
        pred_boxes[:shared] = truth_boxes[:shared] + rng.normal(0, 4, size=(shared, 4))
        pred_boxes[:, 2:] = np.maximum(pred_boxes[:, 2:], pred_boxes[:, :2] + 0.5)
        preds.append(
            {
                "boxes": pred_boxes,
                "scores": rng.uniform(size=pred_count),
                "labels": rng.integers(0, classes, size=pred_count),
            }
        )
        target.append({"boxes": truth_boxes, "labels": rng.integers(0, classes, size=truth_count)})
    return preds, target


FUNCTIONS: Dict[str, Callable] = {
    "iou": intersection_over_union,
    "giou": generalized_intersection_over_union,
    "diou": distance_intersection_over_union,
    "ciou": complete_intersection_over_union,
}
METRICS = {
    "iou": IntersectionOverUnion,
    "giou": GeneralizedIntersectionOverUnion,
    "diou": DistanceIntersectionOverUnion,
    "ciou": CompleteIntersectionOverUnion,
}
KINDS = list(FUNCTIONS)

DOC_PREDS = np.array([[100.0, 100.0, 200.0, 200.0]])
DOC_TARGET = np.array([[110.0, 110.0, 210.0, 210.0]])


@pytest.mark.parametrize(
    ("kind", "expected"), [("iou", 0.6807), ("giou", 0.6641), ("diou", 0.6724), ("ciou", 0.6724)]
)
def test_functional_torchmetrics_documented_examples(kind, expected):
    # TorchMetrics' functional docstrings print these four values for the same two boxes.
    value = FUNCTIONS[kind](DOC_PREDS, DOC_TARGET)
    assert isinstance(value, float)
    assert round(value, 4) == expected


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_functional_matrix_matches_reference(kind, seed):
    rng = np.random.default_rng(seed)
    preds = random_boxes(rng, 7)
    target = random_boxes(rng, 5)
    target[:3] = preds[:3] + rng.normal(0, 3, size=(3, 4))
    target[:, 2:] = np.maximum(target[:, 2:], target[:, :2] + 0.5)

    matrix = FUNCTIONS[kind](preds, target, aggregate=False)
    expected = reference_matrix(kind, preds, target)
    assert isinstance(matrix, np.ndarray)
    assert matrix.dtype == np.float64
    assert matrix.shape == (7, 5)
    np.testing.assert_allclose(matrix, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kind", KINDS)
def test_functional_aggregate_is_diagonal_mean(kind):
    rng = np.random.default_rng(11)
    preds = random_boxes(rng, 4)
    target = random_boxes(rng, 6)
    expected = reference_matrix(kind, preds, target).diagonal().mean()
    assert_close(FUNCTIONS[kind](preds, target), float(expected), rel=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_functional_threshold_replaces_low_values(kind):
    rng = np.random.default_rng(5)
    preds = random_boxes(rng, 6)
    target = preds + rng.normal(0, 10, size=preds.shape)
    target[:, 2:] = np.maximum(target[:, 2:], target[:, :2] + 0.5)
    expected = reference_matrix(kind, preds, target)
    expected = np.where(expected < 0.4, -7.0, expected)

    matrix = FUNCTIONS[kind](preds, target, iou_threshold=0.4, replacement_val=-7, aggregate=False)
    np.testing.assert_allclose(matrix, expected, rtol=1e-12, atol=1e-15)
    assert (matrix == -7.0).any(), "the seeded boxes must have pairs below the threshold"


@pytest.mark.parametrize("kind", KINDS)
def test_functional_empty_side_gives_zero(kind):
    empty = np.zeros((0, 4))
    assert FUNCTIONS[kind](empty, DOC_TARGET) == 0.0
    assert FUNCTIONS[kind](DOC_PREDS, empty, aggregate=False).shape == (1, 0)


def test_functional_accepts_tensors_and_lists():
    expected = intersection_over_union(DOC_PREDS, DOC_TARGET)
    assert intersection_over_union(FakeTensor(DOC_PREDS), FakeTensor(DOC_TARGET)) == expected
    assert intersection_over_union(DOC_PREDS.tolist(), DOC_TARGET.tolist()) == expected
    assert intersection_over_union(DOC_PREDS.astype(np.float32), DOC_TARGET) == expected


def test_functional_zero_area_pair_is_nan():
    point = np.array([[5.0, 5.0, 5.0, 5.0]])
    assert math.isnan(intersection_over_union(point, point))


@pytest.mark.parametrize(
    ("preds", "argument"),
    [
        (np.array([[0.0, 0.0, 1.0]]), "preds"),
        (np.array([[2.0, 0.0, 1.0, 1.0]]), "preds"),
        (np.array([[0.0, np.nan, 1.0, 1.0]]), "preds"),
        (np.array([[0.0, 0.0, np.inf, 1.0]]), "preds"),
    ],
)
def test_functional_bad_boxes_raise_value_error(preds, argument):
    with pytest.raises(ValueError, match=argument):
        intersection_over_union(preds, DOC_TARGET)


def test_functional_bad_options_raise_value_error():
    with pytest.raises(ValueError, match="iou_threshold"):
        intersection_over_union(DOC_PREDS, DOC_TARGET, iou_threshold=float("nan"))
    with pytest.raises(ValueError, match="iou_threshold"):
        intersection_over_union(DOC_PREDS, DOC_TARGET, iou_threshold="0.5")
    with pytest.raises(ValueError, match="aggregate"):
        intersection_over_union(DOC_PREDS, DOC_TARGET, aggregate=1)


CLASS_PREDS = [
    {
        "boxes": np.array([[296.55, 93.96, 314.97, 152.79], [298.55, 98.96, 314.97, 151.79]]),
        "scores": np.array([0.236, 0.56]),
        "labels": np.array([4, 5]),
    }
]
CLASS_TARGET = [{"boxes": np.array([[300.0, 100.0, 315.0, 150.0]]), "labels": np.array([5])}]


@pytest.mark.parametrize(
    ("kind", "expected"), [("iou", 0.8614), ("giou", 0.8613), ("diou", 0.8611), ("ciou", 0.8611)]
)
def test_metric_torchmetrics_documented_example(kind, expected):
    metric = METRICS[kind]()
    metric.update(CLASS_PREDS, CLASS_TARGET)
    result = metric.compute()
    assert list(result) == [kind]
    assert round(result[kind], 4) == expected


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"iou_threshold": 0.3},
        {"respect_labels": False},
        {"respect_labels": False, "iou_threshold": 0.1},
    ],
)
def test_metric_matches_reference(kind, options):
    preds, target = random_images(seed=3, images=20)
    metric = METRICS[kind](class_metrics=True, **options)
    metric.update(preds[:9], target[:9])
    metric.update(preds[9:], target[9:])
    result = metric.compute()

    mean, classes = reference_metric(kind, preds, target, **options)
    assert_close(result[kind], mean, rel=1e-12)
    expected_keys = [kind] + [f"{kind}/cl_{label}" for label in sorted(classes)]
    assert list(result) == expected_keys
    for label, value in classes.items():
        assert_close(result[f"{kind}/cl_{label}"], value, rel=1e-12)


@pytest.mark.parametrize("box_format", ["xywh", "cxcywh"])
def test_metric_box_formats_equal_xyxy(box_format):
    preds, target = random_images(seed=8, images=6)

    def convert(images):
        out = []
        for image in images:
            boxes = image["boxes"]
            if box_format == "xywh":
                converted = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)
            else:
                converted = np.concatenate(
                    [(boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]], axis=1
                )
            out.append({**image, "boxes": converted})
        return out

    reference = GeneralizedIntersectionOverUnion()
    reference.update(preds, target)
    metric = GeneralizedIntersectionOverUnion(box_format=box_format)
    metric.update(convert(preds), convert(target))
    assert_close(metric.compute()["giou"], reference.compute()["giou"], rel=1e-12)


def test_metric_without_scores_key():
    preds = [{"boxes": CLASS_PREDS[0]["boxes"], "labels": CLASS_PREDS[0]["labels"]}]
    metric = IntersectionOverUnion()
    metric.update(preds, CLASS_TARGET)
    assert round(metric.compute()["iou"], 4) == 0.8614


def test_metric_no_update_gives_zero():
    assert IntersectionOverUnion().compute() == {"iou": 0.0}


def test_metric_image_without_predictions_adds_zeros():
    target = [{"boxes": DOC_TARGET, "labels": np.array([1])}, CLASS_TARGET[0]]
    preds = [{"boxes": np.zeros((0, 4)), "labels": np.array([], dtype=np.int64)}, CLASS_PREDS[0]]
    metric = IntersectionOverUnion(class_metrics=True)
    metric.update(preds, target)
    result = metric.compute()
    label_five = reference_matrix("iou", CLASS_PREDS[0]["boxes"], CLASS_TARGET[0]["boxes"])[1, 0]
    assert_close(result["iou"], float(label_five) / 2, rel=1e-12)
    assert result["iou/cl_1"] == 0.0
    assert result["iou/cl_4"] == 0.0


def test_metric_forward_returns_batch_value():
    preds, target = random_images(seed=4, images=6)
    metric = DistanceIntersectionOverUnion()
    first = metric(preds[:3], target[:3])
    metric(preds[3:], target[3:])
    batch_only = DistanceIntersectionOverUnion()
    batch_only.update(preds[:3], target[:3])
    assert first == batch_only.compute()
    whole = DistanceIntersectionOverUnion()
    whole.update(preds, target)
    assert_close(metric.compute()["diou"], whole.compute()["diou"], rel=1e-12)
    assert metric.update_count == 2


def test_metric_merge_state_equals_one_update():
    preds, target = random_images(seed=6, images=10)
    left = CompleteIntersectionOverUnion(class_metrics=True)
    right = CompleteIntersectionOverUnion(class_metrics=True)
    left.update(preds[:4], target[:4])
    right.update(preds[4:], target[4:])
    left.merge_state(right)
    whole = CompleteIntersectionOverUnion(class_metrics=True)
    whole.update(preds, target)
    merged, expected = left.compute(), whole.compute()
    assert list(merged) == list(expected)
    for key in expected:
        assert_close(merged[key], expected[key], rel=1e-12)


def test_metric_merge_state_rejects_other_config():
    with pytest.raises(ValueError, match="iou_threshold"):
        IntersectionOverUnion().merge_state(IntersectionOverUnion(iou_threshold=0.5))


def test_metric_merge_state_rejects_other_class():
    with pytest.raises(ValueError, match="IntersectionOverUnion"):
        IntersectionOverUnion().merge_state(GeneralizedIntersectionOverUnion())


def test_metric_pickle_and_state_dict_round_trip():
    preds, target = random_images(seed=2, images=5)
    metric = GeneralizedIntersectionOverUnion(iou_threshold=0.2, class_metrics=True)
    metric.update(preds, target)
    restored = pickle.loads(pickle.dumps(metric))
    assert restored.compute() == metric.compute()
    assert restored.box_format == "xyxy"

    loaded = GeneralizedIntersectionOverUnion(iou_threshold=0.2, class_metrics=True)
    loaded.load_state_dict(metric.state_dict())
    assert loaded.compute() == metric.compute()
    with pytest.raises(ValueError, match="`iou_threshold`: None and 0.2"):
        GeneralizedIntersectionOverUnion().load_state_dict(metric.state_dict())


def test_metric_reset_clears_state():
    metric = IntersectionOverUnion(class_metrics=True)
    metric.update(CLASS_PREDS, CLASS_TARGET)
    metric.reset()
    assert metric.compute() == {"iou": 0.0}
    assert metric.update_count == 0


def test_metric_accepts_tensors():
    preds = [{key: FakeTensor(value) for key, value in CLASS_PREDS[0].items()}]
    target = [{key: FakeTensor(value) for key, value in CLASS_TARGET[0].items()}]
    metric = IntersectionOverUnion()
    metric.update(preds, target)
    assert round(metric.compute()["iou"], 4) == 0.8614


@pytest.mark.parametrize(
    ("kind", "lower"), [("iou", 0.0), ("giou", -1.0), ("diou", -1.0), ("ciou", -2.0)]
)
def test_metric_facts(kind, lower):
    metric = METRICS[kind]
    assert metric.higher_is_better is True
    assert metric.is_differentiable is False
    assert metric.plot_lower_bound == lower
    assert metric.plot_upper_bound == 1.0


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"box_format": "yxyx"}, "box_format"),
        ({"iou_threshold": "high"}, "iou_threshold"),
        ({"iou_threshold": float("nan")}, "iou_threshold"),
        ({"class_metrics": 1}, "class_metrics"),
        ({"respect_labels": "yes"}, "respect_labels"),
        ({"dist_sync_on_step": True}, "dist_sync_on_step"),
    ],
)
def test_metric_invalid_option_raises_value_error(options, argument):
    with pytest.raises(ValueError, match=argument):
        IntersectionOverUnion(**options)


@pytest.mark.parametrize(
    ("kind", "threshold", "accepted"),
    [
        ("iou", 1.5, False),
        ("iou", -0.1, False),
        ("iou", 0.0, True),
        ("iou", 1.0, True),
        ("giou", -1.0, True),
        ("giou", -1.5, False),
        ("diou", 1.01, False),
        ("ciou", -2.0, True),
        ("ciou", -2.5, False),
    ],
)
def test_threshold_range_checked(kind, threshold, accepted):
    if accepted:
        METRICS[kind](iou_threshold=threshold)
        FUNCTIONS[kind](DOC_PREDS, DOC_TARGET, iou_threshold=threshold)
        return
    with pytest.raises(ValueError, match=rf"iou_threshold.*{threshold}"):
        METRICS[kind](iou_threshold=threshold)
    with pytest.raises(ValueError, match=rf"iou_threshold.*{threshold}"):
        FUNCTIONS[kind](DOC_PREDS, DOC_TARGET, iou_threshold=threshold)


@pytest.mark.parametrize(
    ("preds", "target", "argument"),
    [
        ([{"labels": np.array([5])}], CLASS_TARGET, r"preds\[0\]\.boxes"),
        ([{"boxes": DOC_PREDS}], CLASS_TARGET, r"preds\[0\]\.labels"),
        (
            [{"boxes": DOC_PREDS, "labels": np.array([1, 2])}],
            CLASS_TARGET,
            r"preds\[0\]\.labels",
        ),
        (
            [{"boxes": np.array([[5.0, 0.0, 1.0, 1.0]]), "labels": np.array([1])}],
            CLASS_TARGET,
            r"preds\[0\]\.boxes",
        ),
        (
            CLASS_PREDS,
            [{"boxes": np.array([[0.0, 0.0, np.nan, 1.0]]), "labels": np.array([5])}],
            r"target\[0\]\.boxes",
        ),
        (CLASS_PREDS, CLASS_TARGET * 2, "target"),
    ],
)
def test_metric_invalid_input_raises_and_keeps_state(preds, target, argument):
    metric = IntersectionOverUnion()
    metric.update(CLASS_PREDS, CLASS_TARGET)
    before = metric.compute()
    with pytest.raises(ValueError, match=argument):
        metric.update(preds, target)
    assert metric.compute() == before


def test_metric_float_labels_raise_type_error():
    preds = [{"boxes": DOC_PREDS, "labels": np.array([1.5])}]
    with pytest.raises(TypeError, match="labels"):
        IntersectionOverUnion().update(preds, CLASS_TARGET)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"box_format": "cxcywh"}, "`box_format`: xyxy and cxcywh"),
        ({"iou_threshold": 0.5}, "`iou_threshold`: None and 0.5"),
        ({"respect_labels": False}, "`respect_labels`: true and false"),
    ],
)
def test_metric_merge_state_names_differing_argument(options, message):
    with pytest.raises(ValueError) as raised:
        IntersectionOverUnion().merge_state(IntersectionOverUnion(**options))

    assert message in str(raised.value)
    assert "BoxIouConfig" not in str(raised.value)


def test_metric_uint64_labels_above_int64_raise_value_error():
    preds = [{"boxes": DOC_PREDS, "labels": np.array([2**64 - 1], dtype=np.uint64)}]
    target = [{"boxes": DOC_PREDS, "labels": np.array([2**63 - 1], dtype=np.int64)}]
    with pytest.raises(ValueError, match=r"labels.*18446744073709551615"):
        IntersectionOverUnion().update(preds, target)


def test_metric_in_collection_flattens_keys():
    from ferrometrics import MetricCollection

    collection = MetricCollection([IntersectionOverUnion(), CompleteIntersectionOverUnion()])
    collection.update(CLASS_PREDS, CLASS_TARGET)
    result = collection.compute()

    iou = IntersectionOverUnion()
    iou.update(CLASS_PREDS, CLASS_TARGET)
    ciou = CompleteIntersectionOverUnion()
    ciou.update(CLASS_PREDS, CLASS_TARGET)
    assert result == {**iou.compute(), **ciou.compute()}


def _coco_to_images(truth, results):
    """Convert COCO data into per-image dicts of xyxy boxes, images in file order."""
    preds, target = [], []
    for image in truth["images"]:
        truths = [a for a in truth["annotations"] if a["image_id"] == image["id"]]
        found = [r for r in results if r["image_id"] == image["id"]]
        for side, entries in ((target, truths), (preds, found)):
            boxes = np.array([e["bbox"] for e in entries], dtype=np.float64).reshape(-1, 4)
            boxes[:, 2:] += boxes[:, :2]
            labels = np.array([e["category_id"] for e in entries], dtype=np.int64)
            side.append({"boxes": boxes, "labels": labels})
    return preds, target


@pytest.mark.parametrize(
    "extra",
    [[], ["--iou-threshold", "0.3"], ["--no-respect-labels"]],
)
def test_cli_iou_metrics_match_reference(extra, tmp_path):
    cli = find_cli()
    if cli is None:
        pytest.skip("ferrometrics binary not found; build ferrometrics-cli")
    truth, results = make_dataset(51, 15, dets_per_image=6)
    (tmp_path / "gt.json").write_text(json.dumps(truth))
    (tmp_path / "dt.json").write_text(json.dumps(results))
    arguments = [str(cli), "detection", "--gt", str(tmp_path / "gt.json")]
    arguments += ["--dt", str(tmp_path / "dt.json"), "--iou-metrics", "--per-class"]
    arguments += ["--format", "json"] + extra
    completed = subprocess.run(arguments, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    output = json.loads(completed.stdout)

    preds, target = _coco_to_images(truth, results)
    options = {}
    if "--iou-threshold" in extra:
        options["iou_threshold"] = 0.3
    if "--no-respect-labels" in extra:
        options["respect_labels"] = False
    for kind, metric_class in METRICS.items():
        mean, classes = reference_metric(kind, preds, target, **options)
        assert_close(output[kind], mean, rel=1e-12)
        for label, value in classes.items():
            assert_close(output[f"{kind}/cl_{label}"], value, rel=1e-12)
        metric = metric_class(class_metrics=True, **options)
        metric.update(preds, target)
        assert_close(output[kind], metric.compute()[kind], rel=1e-12)


def _run_iou_cli(tmp_path, truth, results, *extra):
    cli = find_cli()
    if cli is None:
        pytest.skip("ferrometrics binary not found; build ferrometrics-cli")
    (tmp_path / "gt.json").write_text(json.dumps(truth))
    (tmp_path / "dt.json").write_text(json.dumps(results))
    arguments = [str(cli), "detection", "--gt", str(tmp_path / "gt.json")]
    arguments += ["--dt", str(tmp_path / "dt.json"), "--iou-metrics", "--format", "json"]
    return subprocess.run(arguments + list(extra), capture_output=True, text=True, check=False)


@pytest.mark.parametrize("threshold", ["2", "-0.5"])
def test_cli_iou_threshold_outside_unit_range_rejected(threshold, tmp_path):
    truth, results = make_dataset(52, 2, dets_per_image=2)

    completed = _run_iou_cli(tmp_path, truth, results, "--iou-threshold", threshold)

    assert completed.returncode != 0
    assert "--iou-threshold" in completed.stderr
    assert "[0, 1]" in completed.stderr


def test_cli_iou_nan_explained_on_stderr(tmp_path):
    truth = {
        "images": [{"id": 1}],
        "categories": [{"id": 1}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [5, 5, 0, 0], "area": 0}
        ],
    }
    results = [{"image_id": 1, "category_id": 1, "bbox": [5, 5, 0, 0], "score": 0.9}]

    completed = _run_iou_cli(tmp_path, truth, results)

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["iou"] is None
    assert "iou is NaN" in completed.stderr
    assert "zero-area" in completed.stderr
