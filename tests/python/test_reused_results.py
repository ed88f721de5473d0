"""Large result arrays, whose memory goes back to ferrometrics when Python frees them.

Later results must leave live arrays unchanged and equal scikit-learn's values, whatever the
caller wrote into the freed arrays."""

from __future__ import annotations

import gc

import numpy as np
from sklearn import metrics as sk

from ferrometrics.functional import classification as functional

# Enough distinct scores for float64 columns of more than 8 MiB.
N = 1_200_000


def inputs():
    rng = np.random.default_rng(5)
    scores = rng.random(N).astype(np.float32)
    target = rng.integers(0, 2, N)
    return scores, target


def assert_equal_curves(actual, expected):
    for column, reference in zip(actual, expected):
        np.testing.assert_array_equal(column, reference)


def test_roc_after_edited_freed_arrays():
    scores, target = inputs()
    expected = sk.roc_curve(target, scores, drop_intermediate=False)
    assert expected[0].nbytes > 8 << 20

    first = functional.binary_roc(scores, target)
    assert_equal_curves(first, expected)
    alive = functional.binary_roc(scores, target)
    # Edits to freed arrays must not reach later results.
    for column in first:
        column[:] = -7.0
    del first
    gc.collect()
    for _ in range(3):
        assert_equal_curves(functional.binary_roc(scores, target), expected)
    # A result still alive is untouched by the calls after it.
    assert_equal_curves(alive, expected)


def test_views_keep_freed_result_memory():
    scores, target = inputs()
    expected = sk.roc_curve(target, scores, drop_intermediate=False)
    fpr, tpr, _ = functional.binary_roc(scores, target)
    every_other = tpr[::2]
    del fpr, tpr
    gc.collect()
    later = functional.binary_roc(scores, target)
    np.testing.assert_array_equal(every_other, expected[1][::2])
    assert_equal_curves(later, expected)
    assert every_other.base is not None
    assert every_other.flags.writeable
