"""The box IoU family as functions over two box arrays, with TorchMetrics' names and arguments.

Each function takes predicted boxes ``preds`` (N, 4) and target boxes ``target`` (M, 4) as
``[x1, y1, x2, y2]`` and computes the value of every prediction with every target with
torchvision's formulas. Values below ``iou_threshold`` are replaced by ``replacement_val``.
With ``aggregate=True`` (the default) the result is the mean of the diagonal of the (N, M)
matrix as a float, or 0.0 when either side is empty. With ``aggregate=False`` it is the matrix
as a float64 numpy array. Every function runs in the native library with the GIL released.
"""

from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np
import numpy.typing as npt

from ferrometrics import _native

__all__ = [
    "complete_intersection_over_union",
    "distance_intersection_over_union",
    "generalized_intersection_over_union",
    "intersection_over_union",
]

_Result = Union[float, npt.NDArray[np.float64]]


def intersection_over_union(
    preds: Any,
    target: Any,
    iou_threshold: Optional[float] = None,
    replacement_val: float = 0,
    aggregate: bool = True,
) -> _Result:
    """Compute the IoU of every ``preds`` box with every ``target`` box.

    IoU = |A ∩ B| / |A ∪ B|, as torchvision's ``box_iou``.

    Example:
        >>> import numpy as np
        >>> from ferrometrics.functional.detection import intersection_over_union
        >>> preds = np.array([[100.0, 100.0, 200.0, 200.0]])
        >>> target = np.array([[110.0, 110.0, 210.0, 210.0]])
        >>> round(intersection_over_union(preds, target), 4)
        0.6807
    """
    return _native.intersection_over_union(
        preds, target, _threshold(iou_threshold), float(replacement_val), _flag(aggregate)
    )


def generalized_intersection_over_union(
    preds: Any,
    target: Any,
    iou_threshold: Optional[float] = None,
    replacement_val: float = 0,
    aggregate: bool = True,
) -> _Result:
    """Compute the generalized IoU of every ``preds`` box with every ``target`` box.

    GIoU = IoU - (C - U) / C, with ``C`` the area of the smallest enclosing box and ``U`` the
    union area, as torchvision's ``generalized_box_iou``.

    Example:
        >>> import numpy as np
        >>> from ferrometrics.functional.detection import generalized_intersection_over_union
        >>> preds = np.array([[100.0, 100.0, 200.0, 200.0]])
        >>> target = np.array([[110.0, 110.0, 210.0, 210.0]])
        >>> round(generalized_intersection_over_union(preds, target), 4)
        0.6641
    """
    return _native.generalized_intersection_over_union(
        preds, target, _threshold(iou_threshold), float(replacement_val), _flag(aggregate)
    )


def distance_intersection_over_union(
    preds: Any,
    target: Any,
    iou_threshold: Optional[float] = None,
    replacement_val: float = 0,
    aggregate: bool = True,
) -> _Result:
    """Compute the distance IoU of every ``preds`` box with every ``target`` box.

    DIoU = IoU - ρ² / (c² + 1e-7), with ``ρ`` the distance between the box centers and ``c``
    the diagonal of the smallest enclosing box, as torchvision's ``distance_box_iou``.

    Example:
        >>> import numpy as np
        >>> from ferrometrics.functional.detection import distance_intersection_over_union
        >>> preds = np.array([[100.0, 100.0, 200.0, 200.0]])
        >>> target = np.array([[110.0, 110.0, 210.0, 210.0]])
        >>> round(distance_intersection_over_union(preds, target), 4)
        0.6724
    """
    return _native.distance_intersection_over_union(
        preds, target, _threshold(iou_threshold), float(replacement_val), _flag(aggregate)
    )


def complete_intersection_over_union(
    preds: Any,
    target: Any,
    iou_threshold: Optional[float] = None,
    replacement_val: float = 0,
    aggregate: bool = True,
) -> _Result:
    """Compute the complete IoU of every ``preds`` box with every ``target`` box.

    CIoU = DIoU - α v, with v = 4 / π² (atan(w₁ / h₁) - atan(w₂ / h₂))² and
    α = v / (1 - IoU + v + 1e-7), as torchvision's ``complete_box_iou``.

    Example:
        >>> import numpy as np
        >>> from ferrometrics.functional.detection import complete_intersection_over_union
        >>> preds = np.array([[100.0, 100.0, 200.0, 200.0]])
        >>> target = np.array([[110.0, 110.0, 210.0, 210.0]])
        >>> round(complete_intersection_over_union(preds, target), 4)
        0.6724
    """
    return _native.complete_intersection_over_union(
        preds, target, _threshold(iou_threshold), float(replacement_val), _flag(aggregate)
    )


def _threshold(value: Any) -> Optional[float]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ValueError(
            f"invalid value for `iou_threshold`: expected a float or None, got {value!r}"
        )
    return float(value)


def _flag(value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"invalid value for `aggregate`: expected a bool, got {value!r}")
    return bool(value)
