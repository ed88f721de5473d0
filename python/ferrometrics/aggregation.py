"""Aggregation metrics with TorchMetrics' class names and arguments.

Each metric takes ``nan_strategy``: ``"error"`` rejects a batch holding NaN, ``"warn"`` (the
default) drops NaN values with a ``UserWarning``, ``"ignore"`` drops them silently,
``"disable"`` lets them reach the result, and a number replaces them.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any, Union

from ferrometrics.metric import Metric

__all__ = [
    "CatMetric",
    "MaxMetric",
    "MeanMetric",
    "MinMetric",
    "RunningMean",
    "RunningSum",
    "SumMetric",
]

NanStrategy = Union[str, float]


class _AggregationMetric(Metric):
    """A metric over values of any shape, warning when its NaN strategy drops values."""

    def __init__(self, nan_strategy: NanStrategy = "warn", **kwargs: Any) -> None:
        options = {"nan_strategy": nan_strategy}
        # Only the running metrics pass `window`, and they pass it even when it is None, so that
        # the native parser rejects None instead of using the default.
        if "window" in kwargs:
            options = {"window": kwargs.pop("window"), **options}
        super().__init__(options, kwargs)
        self.nan_strategy = nan_strategy

    def update(self, value: Any) -> None:
        """Add ``value``: a float, a sequence or an array of any shape."""
        self._warn_on_nan(self._update, value, None)

    def forward(self, value: Any) -> Any:
        """Return the aggregate of ``value`` alone and add it to the state."""
        return self._warn_on_nan(self._forward, value, None)

    def _warn_on_nan(self, step: Any, value: Any, weight: Any) -> Any:
        native = self._native if self._state_owner is None else self._state_owner._native
        before = native.nan_count
        result = step(value, weight)
        self._report_nan(native.nan_count - before)
        return result

    def _report_nan(self, dropped: int) -> None:
        if dropped > 0 and self.nan_strategy == "warn":
            warnings.warn(
                f"{type(self).__name__} dropped {dropped} NaN values from the batch; pass "
                "nan_strategy='ignore' to drop them silently or 'error' to reject such batches",
                UserWarning,
                stacklevel=_stacklevel_outside_package(),
            )


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _stacklevel_outside_package() -> int:
    """Return the ``warnings.warn`` stacklevel of the innermost caller outside ferrometrics.

    A fixed stacklevel points into the package when the update arrives through ``__call__``,
    ``forward`` or a wrapper such as ``BootStrapper``, so the frames are counted instead. Level 2
    is the caller of the function that calls ``warn``.
    """
    frame = sys._getframe(2)
    level = 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level


class SumMetric(_AggregationMetric):
    """Sum of every value seen, with compensated summation."""

    _native_name = "SumMetric"


class MeanMetric(_AggregationMetric):
    """Weighted mean of every value seen.

    ``weight`` broadcasts to the shape of ``value``, so a scalar weight applies to every value.
    """

    _native_name = "MeanMetric"

    def update(self, value: Any, weight: Any = 1.0) -> None:  # type: ignore[override]
        """Add ``value`` with ``weight``, which broadcasts to the shape of ``value``."""
        self._warn_on_nan(self._update, value, _weight_or_none(weight))

    def forward(self, value: Any, weight: Any = 1.0) -> Any:  # type: ignore[override]
        """Return the weighted mean of this batch alone and add the batch to the state."""
        return self._warn_on_nan(self._forward, value, _weight_or_none(weight))


class MaxMetric(_AggregationMetric):
    """Largest value seen."""

    _native_name = "MaxMetric"


class MinMetric(_AggregationMetric):
    """Smallest value seen."""

    _native_name = "MinMetric"


class CatMetric(_AggregationMetric):
    """Every value seen, flattened and concatenated into one float64 array."""

    _native_name = "CatMetric"


class RunningMean(_AggregationMetric):
    """Mean over the values of the last ``window`` batches."""

    _native_name = "RunningMean"

    def __init__(self, window: int = 5, nan_strategy: NanStrategy = "warn", **kwargs: Any) -> None:
        super().__init__(nan_strategy, window=window, **kwargs)
        self.window = window


class RunningSum(_AggregationMetric):
    """Sum over the values of the last ``window`` batches."""

    _native_name = "RunningSum"

    def __init__(self, window: int = 5, nan_strategy: NanStrategy = "warn", **kwargs: Any) -> None:
        super().__init__(nan_strategy, window=window, **kwargs)
        self.window = window


def _weight_or_none(weight: Any) -> Any:
    """Pass a default scalar weight of 1 as ``None``, which the native metric reads faster."""
    if isinstance(weight, (int, float)) and not isinstance(weight, bool) and weight == 1.0:
        return None
    return weight
