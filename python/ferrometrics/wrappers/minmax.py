"""`MinMaxMetric`: a metric's value with the largest and smallest values computed so far."""

from __future__ import annotations

import copy
import math
from typing import Any, Dict, List

from ferrometrics.metric import Metric
from ferrometrics.wrappers._base import (
    _check_metric,
    _Engine,
    _reject_kwargs,
    _to_scalar,
    _WrapperMetric,
)


class _MinMaxEngine(_Engine):
    wrapper = "MinMaxMetric"

    def __init__(self, base: Metric) -> None:
        super().__init__(base)
        self.metric = copy.deepcopy(base)
        self.max_val = -math.inf
        self.min_val = math.inf

    def reset(self) -> None:
        self.metric.reset()
        self.max_val = -math.inf
        self.min_val = math.inf

    def _config(self) -> Dict[str, Any]:
        return {}

    def update(self, first: Any, second: Any = None) -> None:
        self.metric._update(first, second)

    def compute(self) -> Dict[str, float]:
        raw = _to_scalar(self.metric.compute(), "MinMaxMetric")
        # A NaN leaves the range as it is, as TorchMetrics' comparisons do.
        if raw > self.max_val:
            self.max_val = raw
        if raw < self.min_val:
            self.min_val = raw
        return {"raw": raw, "max": self.max_val, "min": self.min_val}

    def merge(self, other: "_MinMaxEngine") -> None:
        self._check_other(other)
        self.metric.merge_state(other.metric)
        self.max_val = max(self.max_val, other.max_val)
        self.min_val = min(self.min_val, other.min_val)

    def _metrics(self) -> List[Any]:
        return [self.metric]

    def _extra_state(self) -> Dict[str, Any]:
        return {"max": self.max_val, "min": self.min_val}

    def _load_extra_state(self, extra: Dict[str, Any], metrics: List[Any]) -> None:
        self.metric = metrics[0]
        self.max_val = float(extra["max"])
        self.min_val = float(extra["min"])


class MinMaxMetric(_WrapperMetric):
    """A metric's value with the largest and smallest values that ``compute`` returned since
    the last reset: ``compute`` returns ``{"raw", "max", "min"}``.

    Each ``compute`` widens the range to the current value. ``forward`` returns the batch's own
    value as ``raw``, ``max`` and ``min`` and adds the batch to the state, and that value joins
    the range. The base metric's value must be one number.
    """

    full_state_update = True

    def __init__(self, base_metric: Metric, **kwargs: Any) -> None:
        _reject_kwargs("MinMaxMetric", kwargs)
        base_metric = _check_metric("base_metric", base_metric)
        self._init_wrapper(_MinMaxEngine(base_metric), {}, base_metric)
        self.plot_lower_bound = base_metric.plot_lower_bound
        self.plot_upper_bound = base_metric.plot_upper_bound

    @property
    def max_val(self) -> float:
        """The largest value computed since the last reset, ``-inf`` before the first."""
        return self._native.max_val

    @property
    def min_val(self) -> float:
        """The smallest value computed since the last reset, ``inf`` before the first."""
        return self._native.min_val

    def __repr__(self) -> str:
        return f"MinMaxMetric({self._native.metric!r})"
