"""Object detection metrics with TorchMetrics' class names and arguments.

``MeanAveragePrecision`` computes COCO's mean average precision and recall with the numbers of
pycocotools' ``COCOeval``, to the bit. ``IntersectionOverUnion``,
``GeneralizedIntersectionOverUnion``, ``DistanceIntersectionOverUnion`` and
``CompleteIntersectionOverUnion`` average the box IoU family over matching boxes with
torchvision's formulas. Inputs are lists with one dict per image, holding numpy arrays, Python
sequences or CPU torch tensors.
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ferrometrics._native import NativeBoxIou, NativeMeanAveragePrecision
from ferrometrics.metric import Metric

__all__ = [
    "CompleteIntersectionOverUnion",
    "DistanceIntersectionOverUnion",
    "GeneralizedIntersectionOverUnion",
    "IntersectionOverUnion",
    "MeanAveragePrecision",
]

_IOU_TYPES = ("bbox", "segm")


class MeanAveragePrecision(Metric):
    """COCO mean average precision (mAP) and mean average recall (mAR) for object detection
    and instance segmentation.

    Each ``update`` takes ``preds`` and ``target``, lists with one dict per image:

    - ``preds[i]``: ``boxes`` (N, 4) in ``box_format``, ``scores`` (N,), ``labels`` (N,)
      integers, and ``masks`` (N, H, W) booleans for ``iou_type="segm"``.
    - ``target[i]``: ``boxes``, ``labels``, optionally ``iscrowd`` (0/1 flags) and ``area``
      (used for the area ranges where positive), and ``masks`` for segm.

    Every image is matched when it arrives, so the state keeps match results, not boxes or
    masks, and grows with the number of detections. ``compute`` returns a dict with the keys
    ``map``, ``map_50``, ``map_75``, ``map_small``, ``map_medium``, ``map_large``,
    ``mar_{d}`` for the three max detection counts ``d``, ``mar_small``, ``mar_medium``,
    ``mar_large``, ``map_per_class``, ``mar_{d}_per_class`` (-1 unless ``class_metrics``),
    ``classes``, and with ``extended_summary`` also ``ious``, ``precision``, ``recall`` and
    ``scores``. ``ious`` is a dict keyed ``(image index, class)`` over every image (in update
    order) and every class (class 0 alone with ``average="micro"``), holding the IoU matrix of
    the image's detections of the class (rows, highest score first, cut at the largest max
    detection count) with its ground truth (columns), or an empty list where a side is empty.
    With both IoU types the keys other than ``classes`` start with ``bbox_`` or ``segm_``.
    Scalars are Python floats, the other values numpy arrays, and -1 marks an undefined value.

    Args:
        box_format: ``"xyxy"``, ``"xywh"`` or ``"cxcywh"``.
        iou_type: ``"bbox"``, ``"segm"`` or a tuple of both.
        iou_thresholds: IoU thresholds; ``None`` for 0.50:0.05:0.95.
        rec_thresholds: recall thresholds; ``None`` for 0.00:0.01:1.00.
        max_detection_thresholds: three max detection counts; ``None`` for ``[1, 10, 100]``.
        class_metrics: whether to report ``map_per_class`` and ``mar_{d}_per_class``.
        extended_summary: whether to report the IoU matrices and the precision, recall and
            score arrays in pycocotools' shapes. The IoU matrices are then kept in the state.
        average: ``"macro"`` averages over classes as COCO does, ``"micro"`` pools all
            classes into one as TorchMetrics does, by giving every object one label. Equal
            scores in an image then keep their input order, where pycocotools'
            ``useCats=0`` orders an image's detections by category first.
        backend: ``"pycocotools"`` or ``"faster_coco_eval"``; both run the same engine, which
            gives pycocotools' numbers.

    Example:
        >>> import numpy as np
        >>> from ferrometrics.detection import MeanAveragePrecision
        >>> preds = [dict(boxes=np.array([[258.0, 41.0, 606.0, 285.0]]),
        ...               scores=np.array([0.536]), labels=np.array([0]))]
        >>> target = [dict(boxes=np.array([[214.0, 41.0, 562.0, 285.0]]),
        ...                labels=np.array([0]))]
        >>> metric = MeanAveragePrecision(iou_type="bbox")
        >>> metric.update(preds, target)
        >>> result = metric.compute()
        >>> round(result["map"], 4), round(result["map_50"], 4), round(result["mar_100"], 4)
        (0.6, 1.0, 0.6)
    """

    higher_is_better = True
    is_differentiable = False
    plot_lower_bound = 0.0
    plot_upper_bound = 1.0

    def __init__(
        self,
        box_format: str = "xyxy",
        iou_type: Union[str, Tuple[str, ...]] = "bbox",
        iou_thresholds: Optional[List[float]] = None,
        rec_thresholds: Optional[List[float]] = None,
        max_detection_thresholds: Optional[List[int]] = None,
        class_metrics: bool = False,
        extended_summary: bool = False,
        average: str = "macro",
        backend: str = "pycocotools",
        **kwargs: Any,
    ) -> None:
        if kwargs:
            names = ", ".join(sorted(kwargs))
            raise ValueError(
                f"MeanAveragePrecision got unexpected keyword arguments: {names}; "
                "ferrometrics metrics take no distributed-sync or device options"
            )
        self._options = {
            "box_format": _check_name("box_format", box_format),
            "iou_type": _check_iou_type(iou_type),
            "iou_thresholds": _check_thresholds("iou_thresholds", iou_thresholds),
            "rec_thresholds": _check_thresholds("rec_thresholds", rec_thresholds),
            "max_detection_thresholds": _check_max_detections(max_detection_thresholds),
            "class_metrics": _check_flag("class_metrics", class_metrics),
            "extended_summary": _check_flag("extended_summary", extended_summary),
            "average": _check_name("average", average),
            "backend": _check_name("backend", backend),
        }
        self._native = _build_native(self._options)
        self._update_count = 0
        self._state_owner: Optional[Metric] = None

    @property
    def box_format(self) -> str:
        """The layout of the input boxes."""
        return self._options["box_format"]

    @property
    def iou_type(self) -> Union[str, Tuple[str, ...]]:
        """The IoU type, or a tuple of both."""
        return self._options["iou_type"]

    def update(self, preds: Sequence[Dict[str, Any]], target: Sequence[Dict[str, Any]]) -> None:
        """Add a batch: ``preds`` and ``target`` hold one dict of arrays per image."""
        self._update(preds, target)

    def forward(self, preds: Sequence[Dict[str, Any]], target: Sequence[Dict[str, Any]]) -> Any:
        """Return the batch's own value and add the batch to the state."""
        batch = self._native.clone()
        batch.reset()
        batch.update(preds, target)
        value = self._finish_output(batch.compute(), batch)
        self._native.merge(batch)
        self._update_count += 1
        return value

    def _forward(self, first: Any, second: Any = None) -> Any:
        return self.forward(first, second)

    def compute(self) -> Dict[str, Any]:
        """Compute mAP and mAR over every image seen since the last reset."""
        return super().compute()

    def _finish_output(self, value: Any, native: Any) -> Any:
        """Convert ``classes`` to integers and add the extended summary's ``ious``."""
        return _convert_output(value, native, self._options)

    def __setstate__(self, state: Dict[str, Any]) -> None:
        state = dict(state)
        native_bytes = state.pop("_native")
        self.__dict__.update(state)
        self._native = _build_native(self._options)
        self._native.load_bytes(native_bytes)


class _BoxIouMetric(Metric):
    """The shared interface of the four box IoU metrics.

    Each ``update`` takes ``preds`` and ``target``, lists with one dict per image holding
    ``boxes`` (N, 4) in ``box_format`` and integer ``labels`` (N,). Other keys, such as
    ``scores``, are ignored. For each image the metric computes the value of every prediction
    with every target and keeps the pairs with equal labels (with ``respect_labels``) whose value
    is at least ``iou_threshold``. ``compute`` returns the mean over the kept pairs of all
    images under the key ``"{key}"``, and with ``class_metrics`` one mean per label under
    ``"{key}/cl_{label}"``, a pair counting for its target's label.

    An image without predictions or without targets adds one zero per box on its non-empty side
    (the square of that count without ``respect_labels``), as in TorchMetrics. The state is a
    sum and a count per class, so it does not grow with the data.
    """

    _native_class_name: ClassVar[str] = ""
    higher_is_better = True
    is_differentiable = False
    plot_upper_bound = 1.0

    def __init__(
        self,
        box_format: str = "xyxy",
        iou_threshold: Optional[float] = None,
        class_metrics: bool = False,
        respect_labels: bool = True,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            names = ", ".join(sorted(kwargs))
            raise ValueError(
                f"{type(self).__name__} got unexpected keyword arguments: {names}; "
                "ferrometrics metrics take no distributed-sync or device options"
            )
        self._options = {
            "box_format": _check_box_format(box_format),
            "iou_threshold": _check_iou_threshold(iou_threshold),
            "class_metrics": _check_flag("class_metrics", class_metrics),
            "respect_labels": _check_flag("respect_labels", respect_labels),
        }
        self._native = NativeBoxIou(self._native_class_name, **self._options)
        self._update_count = 0
        self._state_owner: Optional[Metric] = None

    @property
    def box_format(self) -> str:
        """The layout of the input boxes."""
        return self._options["box_format"]

    def update(self, preds: Sequence[Dict[str, Any]], target: Sequence[Dict[str, Any]]) -> None:
        """Add a batch: ``preds`` and ``target`` hold one dict of boxes and labels per image."""
        self._update(preds, target)

    def forward(
        self, preds: Sequence[Dict[str, Any]], target: Sequence[Dict[str, Any]]
    ) -> Dict[str, float]:
        """Return the batch's own value and add the batch to the state."""
        batch = self._native.empty_copy()
        batch.update(preds, target)
        value = batch.compute()
        self._native.merge(batch)
        self._update_count += 1
        return value

    def _forward(self, first: Any, second: Any = None) -> Any:
        return self.forward(first, second)

    def compute(self) -> Dict[str, float]:
        """Compute the mean values over every image seen since the last reset."""
        return super().compute()

    def __setstate__(self, state: Dict[str, Any]) -> None:
        state = dict(state)
        native_bytes = state.pop("_native")
        self.__dict__.update(state)
        self._native = NativeBoxIou(self._native_class_name, **self._options)
        self._native.load_bytes(native_bytes)


class IntersectionOverUnion(_BoxIouMetric):
    """Mean intersection over union (IoU) of matching prediction and target boxes.

    IoU = |A ∩ B| / |A ∪ B|, as torchvision's ``box_iou``; values lie in [0, 1]. The output
    keys are ``"iou"`` and, with ``class_metrics``, ``"iou/cl_{label}"``. A pair of two
    zero-area boxes gives NaN, as in torchvision.

    Args:
        box_format: ``"xyxy"``, ``"xywh"`` or ``"cxcywh"``.
        iou_threshold: pairs with a lower IoU are left out; ``None`` keeps every pair.
        class_metrics: whether to report one mean per class.
        respect_labels: whether only pairs with equal labels count.

    Example:
        >>> import numpy as np
        >>> from ferrometrics.detection import IntersectionOverUnion
        >>> preds = [dict(boxes=np.array([[296.55, 93.96, 314.97, 152.79],
        ...                               [298.55, 98.96, 314.97, 151.79]]),
        ...               labels=np.array([4, 5]))]
        >>> target = [dict(boxes=np.array([[300.0, 100.0, 315.0, 150.0]]), labels=np.array([5]))]
        >>> metric = IntersectionOverUnion()
        >>> round(metric(preds, target)["iou"], 4)
        0.8614
    """

    _native_class_name = "IntersectionOverUnion"
    plot_lower_bound = 0.0


class GeneralizedIntersectionOverUnion(_BoxIouMetric):
    """Mean generalized IoU (GIoU) of matching prediction and target boxes.

    GIoU = IoU - (C - U) / C, with ``C`` the area of the smallest box enclosing both and ``U``
    the union area (torchvision's ``generalized_box_iou``); values lie in (-1, 1]. The output
    keys are ``"giou"`` and ``"giou/cl_{label}"``, and ``iou_threshold`` compares GIoU values.
    The arguments are those of ``IntersectionOverUnion``.

    Example:
        >>> import numpy as np
        >>> from ferrometrics.detection import GeneralizedIntersectionOverUnion
        >>> preds = [dict(boxes=np.array([[296.55, 93.96, 314.97, 152.79],
        ...                               [298.55, 98.96, 314.97, 151.79]]),
        ...               labels=np.array([4, 5]))]
        >>> target = [dict(boxes=np.array([[300.0, 100.0, 315.0, 150.0]]), labels=np.array([5]))]
        >>> metric = GeneralizedIntersectionOverUnion()
        >>> round(metric(preds, target)["giou"], 4)
        0.8613
    """

    _native_class_name = "GeneralizedIntersectionOverUnion"
    plot_lower_bound = -1.0


class DistanceIntersectionOverUnion(_BoxIouMetric):
    """Mean distance IoU (DIoU) of matching prediction and target boxes.

    DIoU = IoU - ρ² / (c² + 1e-7), with ``ρ`` the distance between the box centers and ``c``
    the diagonal of the smallest enclosing box (torchvision's ``distance_box_iou``); values lie
    in (-1, 1]. The output keys are ``"diou"`` and ``"diou/cl_{label}"``, and ``iou_threshold``
    compares DIoU values. The arguments are those of ``IntersectionOverUnion``.

    Example:
        >>> import numpy as np
        >>> from ferrometrics.detection import DistanceIntersectionOverUnion
        >>> preds = [dict(boxes=np.array([[296.55, 93.96, 314.97, 152.79],
        ...                               [298.55, 98.96, 314.97, 151.79]]),
        ...               labels=np.array([4, 5]))]
        >>> target = [dict(boxes=np.array([[300.0, 100.0, 315.0, 150.0]]), labels=np.array([5]))]
        >>> metric = DistanceIntersectionOverUnion()
        >>> round(metric(preds, target)["diou"], 4)
        0.8611
    """

    _native_class_name = "DistanceIntersectionOverUnion"
    plot_lower_bound = -1.0


class CompleteIntersectionOverUnion(_BoxIouMetric):
    """Mean complete IoU (CIoU) of matching prediction and target boxes.

    CIoU = DIoU - α v, with v = 4 / π² (atan(w₁ / h₁) - atan(w₂ / h₂))² comparing the aspect
    ratios and α = v / (1 - IoU + v + 1e-7) (torchvision's ``complete_box_iou``); values lie
    in (-2, 1]. The output keys are ``"ciou"`` and ``"ciou/cl_{label}"``, and
    ``iou_threshold`` compares CIoU values. The arguments are those of
    ``IntersectionOverUnion``.

    Example:
        >>> import numpy as np
        >>> from ferrometrics.detection import CompleteIntersectionOverUnion
        >>> preds = [dict(boxes=np.array([[296.55, 93.96, 314.97, 152.79],
        ...                               [298.55, 98.96, 314.97, 151.79]]),
        ...               labels=np.array([4, 5]))]
        >>> target = [dict(boxes=np.array([[300.0, 100.0, 315.0, 150.0]]), labels=np.array([5]))]
        >>> metric = CompleteIntersectionOverUnion()
        >>> round(metric(preds, target)["ciou"], 4)
        0.8611
    """

    _native_class_name = "CompleteIntersectionOverUnion"
    plot_lower_bound = -2.0


def _check_box_format(value: Any) -> str:
    if value not in ("xyxy", "xywh", "cxcywh"):
        raise ValueError(
            f"invalid value for `box_format`: expected \"xyxy\", \"xywh\" or \"cxcywh\", "
            f"got {value!r}"
        )
    return value


def _check_iou_threshold(value: Any) -> Optional[float]:
    if value is None:
        return None
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise ValueError(
            f"invalid value for `iou_threshold`: expected a float or None, got {value!r}"
        )
    return float(value)


def _build_native(options: Dict[str, Any]) -> NativeMeanAveragePrecision:
    native_options = dict(options)
    iou_type = native_options["iou_type"]
    native_options["iou_type"] = [iou_type] if isinstance(iou_type, str) else list(iou_type)
    return NativeMeanAveragePrecision(**native_options)


def _convert_output(
    result: Dict[str, Any], native: NativeMeanAveragePrecision, options: Dict[str, Any]
) -> Dict[str, Any]:
    # TorchMetrics returns the class ids as integers. int64 keeps every label that update accepts.
    classes = result.get("classes")
    if isinstance(classes, np.ndarray):
        result["classes"] = classes.astype(np.int64)
    if not options["extended_summary"]:
        return result

    # TorchMetrics puts `ious` before `precision`, `recall` and `scores`.
    iou_types = options["iou_type"]
    iou_types = [iou_types] if isinstance(iou_types, str) else list(iou_types)
    prefixes = [f"{name}_" for name in iou_types] if len(iou_types) > 1 else [""]
    ordered: Dict[str, Any] = {}
    for key, value in result.items():
        for type_index, prefix in enumerate(prefixes):
            if key == f"{prefix}precision":
                ordered[f"{prefix}ious"] = native.extended_ious(type_index)
        ordered[key] = value
    return ordered


def _check_name(argument: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"invalid value for `{argument}`: expected a string, got {value!r}")
    return value


def _check_flag(argument: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"invalid value for `{argument}`: expected a bool, got {value!r}")
    return bool(value)


def _check_iou_type(value: Any) -> Union[str, Tuple[str, ...]]:
    names = (value,) if isinstance(value, str) else value
    if not isinstance(names, (tuple, list)) or not all(isinstance(n, str) for n in names):
        raise ValueError(
            f"invalid value for `iou_type`: expected \"bbox\", \"segm\" or a tuple of them, "
            f"got {value!r}"
        )
    for name in names:
        if name not in _IOU_TYPES:
            raise ValueError(
                f"invalid value for `iou_type`: {name!r} is not an IoU type; "
                "use \"bbox\" or \"segm\""
            )
    return value if isinstance(value, str) else tuple(value)


def _check_thresholds(argument: str, value: Any) -> Optional[List[float]]:
    if value is None:
        return None
    if not isinstance(value, (list, tuple, np.ndarray)) or not all(
        isinstance(v, numbers.Real) for v in value
    ):
        raise ValueError(
            f"invalid value for `{argument}`: expected a list of floats or None, got {value!r}"
        )
    return [float(v) for v in value]


def _check_max_detections(value: Any) -> Optional[List[int]]:
    if value is None:
        return None
    if not isinstance(value, (list, tuple, np.ndarray)) or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0 for v in value
    ):
        raise ValueError(
            "invalid value for `max_detection_thresholds`: expected a list of three positive "
            f"integers or None, got {value!r}"
        )
    # TorchMetrics sorts the counts, so the summary reads them in ascending order.
    return sorted(int(v) for v in value)
