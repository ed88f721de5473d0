"""COCO's run-length encoded masks with the interface of ``pycocotools.mask``.

An RLE is a dict ``{"size": [height, width], "counts": bytes}``, with the counts in COCO's
compressed form. Binary masks are uint8 arrays ``(H, W)`` or ``(H, W, N)`` in Fortran order,
and runs go down the columns, as in pycocotools.
"""

from __future__ import annotations

from typing import Any, Dict, List, Sequence, Tuple, Union

import numpy as np

from ferrometrics import _native

__all__ = ["area", "decode", "encode", "frPyObjects", "iou", "merge", "toBbox"]

Rle = Dict[str, Any]
_Parts = Tuple[int, int, bytes]

# Sizes and run lengths are 32-bit unsigned integers, as in pycocotools.
_RUN_LIMIT = 1 << 32


def encode(bimask: np.ndarray) -> Union[Rle, List[Rle]]:
    """Encode a binary mask ``(H, W)`` into one RLE, or masks ``(H, W, N)`` into a list."""
    array = np.asarray(bimask)
    if array.ndim == 2:
        return encode(array.reshape(array.shape[0], array.shape[1], 1))[0]
    if array.ndim != 3:
        raise ValueError(
            f"invalid input `bimask`: expected an array of shape (H, W) or (H, W, N), "
            f"got shape {array.shape}"
        )
    if array.dtype != np.uint8:
        array = (array != 0).astype(np.uint8)
    return [_to_dict(parts) for parts in _native.mask_encode(array)]


def decode(rleObjs: Union[Rle, Sequence[Rle]]) -> np.ndarray:  # noqa: N803 (pycocotools' name)
    """Decode one RLE into a uint8 mask ``(H, W)``, or a list into ``(H, W, N)``, in Fortran
    order."""
    if isinstance(rleObjs, dict):
        return decode([rleObjs])[:, :, 0]
    return _native.mask_decode(_parts_list(rleObjs))


def area(rleObjs: Union[Rle, Sequence[Rle]]) -> Union[np.uint32, np.ndarray]:  # noqa: N803
    """Count the foreground pixels of one RLE (a scalar) or of each RLE in a list (uint32)."""
    if isinstance(rleObjs, dict):
        return area([rleObjs])[0]
    return np.array(_native.mask_area(_parts_list(rleObjs)), dtype=np.uint32)


def toBbox(rleObjs: Union[Rle, Sequence[Rle]]) -> np.ndarray:  # noqa: N802, N803
    """Return the tight box ``[x, y, width, height]`` of one RLE ``(4,)`` or of each RLE in a
    list ``(N, 4)``, as float64."""
    if isinstance(rleObjs, dict):
        return toBbox([rleObjs])[0]
    boxes = _native.mask_to_bbox(_parts_list(rleObjs))
    return np.array(boxes, dtype=np.float64).reshape(-1, 4)


def merge(rleObjs: Sequence[Rle], intersect: int = 0) -> Rle:  # noqa: N803
    """Merge RLEs of one size into their union, or their intersection if ``intersect``."""
    return _to_dict(_native.mask_merge(_parts_list(rleObjs), bool(intersect)))


def iou(dt: Any, gt: Any, pyiscrowd: Sequence[int]) -> Union[np.ndarray, List[Any]]:
    """Compute the IoU of every detection with every ground-truth object, ``(D, G)`` float64.

    ``dt`` and ``gt`` are both lists of RLEs or both boxes ``[x, y, width, height]`` (an
    ``(N, 4)`` array or a list of rows). For a crowd ground truth the union is the detection's
    area. As in pycocotools, an empty ``dt`` or ``gt`` gives an empty list.
    """
    crowd = [bool(flag) for flag in np.asarray(pyiscrowd).reshape(-1)]
    if len(dt) == 0 or len(gt) == 0:
        return []
    dt_rles = _is_rle_list(dt)
    gt_rles = _is_rle_list(gt)
    if dt_rles != gt_rles:
        raise ValueError(
            "invalid input `dt`, `gt`: both must be lists of RLEs or both boxes; "
            "got one of each"
        )
    if len(crowd) != len(gt):
        raise ValueError(
            f"invalid input `pyiscrowd`: it has {len(crowd)} flags but `gt` has {len(gt)} "
            "objects; pass one flag per ground-truth object"
        )
    if dt_rles:
        return _native.mask_iou_rles(_parts_list(dt), _parts_list(gt), crowd)
    return _native.mask_iou_boxes(_boxes(dt, "dt"), _boxes(gt, "gt"), crowd)


def frPyObjects(pyobj: Any, h: int, w: int) -> Union[Rle, List[Rle]]:  # noqa: N802
    """Convert polygons, boxes or uncompressed RLEs of an ``h x w`` image into RLEs.

    A list of polygons ``[x0, y0, x1, y1, ...]`` gives one RLE per polygon (merge them for the
    object's mask). An ``(N, 4)`` array or a list of 4-number rows is read as boxes
    ``[x, y, width, height]``. A dict (or list of dicts) with a ``counts`` list is compressed.
    """
    height, width = int(h), int(w)
    if isinstance(pyobj, np.ndarray):
        return _from_boxes(pyobj, height, width)
    if isinstance(pyobj, dict):
        if "counts" in pyobj and "size" in pyobj:
            return frPyObjects([pyobj], height, width)[0]
        raise ValueError("invalid input `pyobj`: an RLE dict needs the keys 'counts' and 'size'")
    if isinstance(pyobj, (list, tuple)) and len(pyobj) > 0:
        first = pyobj[0]
        if isinstance(first, dict):
            return [_from_uncompressed(rle, height, width) for rle in pyobj]
        if len(first) == 4:
            return _from_boxes(np.asarray(pyobj, dtype=np.float64), height, width)
        if len(first) > 4:
            polygons = [[float(v) for v in polygon] for polygon in pyobj]
            return [_to_dict(p) for p in _native.mask_from_polygons(polygons, height, width)]
    raise ValueError(
        "invalid input `pyobj`: expected a list of polygons, boxes of shape (N, 4), or "
        f"uncompressed RLE dicts, got {type(pyobj).__name__}"
    )


def _from_boxes(boxes: np.ndarray, height: int, width: int) -> List[Rle]:
    rows = _boxes(boxes, "pyobj")
    return [_to_dict(p) for p in _native.mask_from_boxes(rows.tolist(), height, width)]


def _from_uncompressed(rle: Rle, height: int, width: int) -> Rle:
    counts = rle["counts"]
    if isinstance(counts, (bytes, str)):
        # pycocotools passes compressed counts through unchanged.
        return {"size": list(rle["size"]), "counts": counts}
    rle_height, rle_width = _rle_size(rle["size"])
    parts = _native.mask_from_counts([_run_lengths(counts)], rle_height, rle_width)
    del height, width
    return _to_dict(parts[0])


def _boxes(value: Any, argument: str) -> np.ndarray:
    boxes = np.asarray(value, dtype=np.float64)
    if boxes.size == 0:
        return boxes.reshape(0, 4)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(
            f"invalid input `{argument}`: expected boxes of shape (N, 4), got shape {boxes.shape}"
        )
    return np.ascontiguousarray(boxes)


def _is_rle_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and len(value) > 0 and isinstance(value[0], dict)


def _to_dict(parts: _Parts) -> Rle:
    height, width, counts = parts
    return {"size": [height, width], "counts": counts}


def _to_parts(rle: Rle) -> _Parts:
    if not isinstance(rle, dict) or "size" not in rle or "counts" not in rle:
        raise ValueError(
            f"invalid input `rleObjs`: expected RLE dicts with 'size' and 'counts', got {rle!r:.80}"
        )
    height, width = _rle_size(rle["size"])
    counts = rle["counts"]
    if isinstance(counts, str):
        try:
            counts = counts.encode("ascii")
        except UnicodeEncodeError as error:
            character = counts[error.start]
            raise ValueError(
                f"invalid input `counts`: compressed RLE has character {character!r} "
                f"(U+{ord(character):04X}) at position {error.start}, outside '0'..='o'; pass "
                "the counts string that pycocotools' encode returns"
            ) from None
    elif isinstance(counts, (list, tuple, np.ndarray)):
        # An uncompressed count list; compress it first, as frPyObjects would.
        return _native.mask_from_counts([_run_lengths(counts)], height, width)[0]
    elif not isinstance(counts, (bytes, bytearray)):
        # bytes(4) would read an integer as four zero bytes.
        raise ValueError(
            f"invalid input `counts`: expected a compressed string or bytes, or a list of run "
            f"lengths, got {type(counts).__name__}"
        )
    return height, width, bytes(counts)


def _rle_size(size: Any) -> Tuple[int, int]:
    """Return the ``[height, width]`` of an RLE as two integers in [0, 2**32)."""
    try:
        values = [int(v) for v in size]
    except (TypeError, ValueError):
        values = []
    if len(values) != 2 or not all(0 <= v < _RUN_LIMIT for v in values):
        raise ValueError(
            f"invalid input `size`: expected [height, width] with two integers in [0, 2**32), "
            f"got {size!r}"
        )
    return values[0], values[1]


def _run_lengths(counts: Any) -> List[int]:
    """Return an uncompressed RLE's counts as integers in [0, 2**32)."""
    runs = [int(c) for c in counts]
    for index, run in enumerate(runs):
        if not 0 <= run < _RUN_LIMIT:
            raise ValueError(
                f"invalid input `counts`: run {index} is {run}, outside [0, 2**32); pass "
                "non-negative run lengths"
            )
    return runs


def _parts_list(rles: Sequence[Rle]) -> List[_Parts]:
    return [_to_parts(rle) for rle in rles]
