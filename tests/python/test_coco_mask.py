"""Tests of ``ferrometrics.coco.mask``: hand-checked RLEs, and parity with ``pycocotools.mask``
on seeded random masks when pycocotools is installed."""

from __future__ import annotations

import numpy as np
import pytest

from ferrometrics.coco import mask

# A 3 x 4 mask. Its column-major runs are 2 zeros, 2 ones and 8 zeros.
SMALL = np.asfortranarray(
    np.array([[0, 1, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0]], dtype=np.uint8)
)


def random_masks(seed: int, count: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    masks = np.zeros((37, 23, count), dtype=np.uint8)
    for index in range(count):
        top, left = rng.integers(0, 20), rng.integers(0, 12)
        masks[top : top + rng.integers(3, 17), left : left + rng.integers(3, 11), index] = 1
        masks[:, :, index] |= (rng.uniform(size=(37, 23)) < 0.05).astype(np.uint8)
    return np.asfortranarray(masks)


def test_encode_small_mask():
    rle = mask.encode(SMALL)

    # Each run below 16 is one character, '0' + run, and deltas start from the fourth run.
    assert rle == {"size": [3, 4], "counts": b"228"}
    assert mask.decode(rle).tolist() == SMALL.tolist()


def test_decode_round_trip_fortran_uint8():
    masks = random_masks(1)

    decoded = mask.decode(mask.encode(masks))

    assert decoded.dtype == np.uint8
    assert decoded.flags.f_contiguous
    assert decoded.shape == (37, 23, 4)
    assert np.array_equal(decoded, masks)


def test_area_and_bbox_of_small_mask():
    rle = mask.encode(SMALL)

    assert mask.area(rle) == 2
    assert mask.area([rle, rle]).tolist() == [2, 2]
    assert mask.area([rle]).dtype == np.uint32
    # Pixels (row 2, column 0) and (row 0, column 1): box x 0..1, y 0..2.
    assert mask.toBbox(rle).tolist() == [0.0, 0.0, 2.0, 3.0]
    assert mask.toBbox([rle]).shape == (1, 4)


def test_merge_union_and_intersection():
    first = np.zeros((4, 4), dtype=np.uint8)
    first[:2, :] = 1
    second = np.zeros((4, 4), dtype=np.uint8)
    second[:, :2] = 1
    rles = [mask.encode(np.asfortranarray(first)), mask.encode(np.asfortranarray(second))]

    assert mask.area(mask.merge(rles)) == 12
    assert mask.area(mask.merge(rles, intersect=1)) == 4


def test_iou_boxes_with_crowd():
    detections = np.array([[0.0, 0.0, 2.0, 2.0]])
    truths = np.array([[1.0, 0.0, 2.0, 2.0], [1.0, 0.0, 2.0, 2.0]])

    ious = mask.iou(detections, truths, [0, 1])

    assert ious.shape == (1, 2)
    assert ious[0, 0] == 2.0 / 6.0
    # For a crowd, the union is the detection's area alone.
    assert ious[0, 1] == 0.5


def test_iou_rles_equal_masks_is_one():
    rles = mask.encode(random_masks(2, 2))

    ious = mask.iou(rles, rles, [0, 0])

    assert ious[0, 0] == 1.0
    assert ious[1, 1] == 1.0


def test_iou_empty_inputs_give_empty_list():
    assert mask.iou([], [mask.encode(SMALL)], [0]) == []


def test_iou_mixed_inputs_raise_value_error():
    with pytest.raises(ValueError, match="dt"):
        mask.iou([mask.encode(SMALL)], [[0.0, 0.0, 1.0, 1.0]], [0])


def test_iou_crowd_length_raises_value_error():
    with pytest.raises(ValueError, match="pyiscrowd"):
        mask.iou(np.zeros((1, 4)), np.zeros((2, 4)), [0])


def test_fr_py_objects_polygon_square():
    # The polygon through (0, 0) and (4, 4) covers rows and columns 0..3.
    rles = mask.frPyObjects([[0, 0, 4, 0, 4, 4, 0, 4]], 6, 6)

    assert len(rles) == 1
    assert mask.area(rles[0]) == 16
    assert mask.toBbox(rles[0]).tolist() == [0.0, 0.0, 4.0, 4.0]


def test_fr_py_objects_boxes_and_counts():
    boxes = mask.frPyObjects(np.array([[1.0, 1.0, 2.0, 3.0]]), 6, 6)
    compressed = mask.frPyObjects({"size": [3, 4], "counts": [2, 3, 7]}, 3, 4)

    assert mask.area(boxes[0]) == 6
    assert compressed == {"size": [3, 4], "counts": b"237"}


def test_fr_py_objects_unsupported_raises_value_error():
    with pytest.raises(ValueError, match="pyobj"):
        mask.frPyObjects("polygon", 3, 4)


def test_decode_mixed_sizes_raises_value_error():
    other = mask.encode(np.zeros((2, 2), dtype=np.uint8))

    with pytest.raises(ValueError, match="rleObjs"):
        mask.decode([mask.encode(SMALL), other])


def test_decode_bad_counts_raise_value_error():
    with pytest.raises(ValueError, match="counts"):
        mask.decode({"size": [3, 4], "counts": b"99"})


@pytest.mark.parametrize("seed", range(4))
def test_random_masks_match_pycocotools(seed):
    reference = pytest.importorskip("pycocotools.mask")
    masks = random_masks(seed)

    ours = mask.encode(masks)
    theirs = reference.encode(masks)

    assert ours == theirs
    assert np.array_equal(mask.decode(ours), reference.decode(theirs))
    assert mask.area(ours).tolist() == reference.area(theirs).tolist()
    assert np.array_equal(mask.toBbox(ours), reference.toBbox(theirs))
    assert mask.merge(ours) == reference.merge(theirs)
    assert mask.merge(ours, intersect=1) == reference.merge(theirs, intersect=1)
    crowd = [0, 1, 0, 1]
    assert np.array_equal(mask.iou(ours, ours, crowd), reference.iou(theirs, theirs, crowd))


@pytest.mark.parametrize("seed", range(4))
def test_random_polygons_and_boxes_match_pycocotools(seed):
    reference = pytest.importorskip("pycocotools.mask")
    rng = np.random.default_rng(seed)
    polygons = [list(rng.uniform(-5, 45, size=2 * int(rng.integers(3, 9)))) for _ in range(3)]
    boxes = rng.uniform(0, 30, size=(5, 4))

    assert mask.frPyObjects(polygons, 40, 35) == reference.frPyObjects(polygons, 40, 35)
    assert mask.frPyObjects(boxes, 40, 35) == reference.frPyObjects(boxes, 40, 35)
    crowd = [0, 1, 0, 0, 1]
    assert np.array_equal(
        mask.iou(boxes[:3], boxes, crowd), reference.iou(boxes[:3], boxes, crowd)
    )


@pytest.mark.parametrize(
    ("rle", "pattern"),
    [
        ({"size": [2, 2], "counts": 4}, "`counts`: expected a compressed string"),
        ({"size": [2, 2], "counts": [1, -1, 4]}, r"`counts`: run 1 is -1, outside \[0, 2\*\*32\)"),
        ({"size": [2, 2], "counts": [2**32, 1]}, r"`counts`: run 0 is 4294967296"),
        ({"size": [2], "counts": "4"}, r"`size`: expected \[height, width\]"),
        ({"size": [-2, 2], "counts": "0"}, r"`size`: .* got \[-2, 2\]"),
    ],
)
def test_area_rejects_invalid_rle(rle, pattern):
    with pytest.raises(ValueError, match=pattern):
        mask.area([rle])


def test_fr_py_objects_rejects_negative_run():
    with pytest.raises(ValueError, match="`counts`: run 1 is -1"):
        mask.frPyObjects([{"size": [2, 2], "counts": [1, -1, 4]}], 2, 2)
