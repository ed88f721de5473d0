"""`Running`: any metric over the last ``window`` updates."""

from __future__ import annotations

import copy
from typing import Any, Dict, List

from ferrometrics.metric import Metric
from ferrometrics.wrappers._base import (
    _check_metric,
    _check_positive_int,
    _empty,
    _Engine,
    _reject_kwargs,
    _WrapperMetric,
)


class _RunningEngine(_Engine):
    wrapper = "Running"

    def __init__(self, base: Metric, window: int) -> None:
        super().__init__(base)
        self.window = window
        self.states: List[Metric] = []

    def reset(self) -> None:
        self.states = []

    def _config(self) -> Dict[str, Any]:
        return {"window": self.window}

    def _push(self, state: Metric) -> None:
        self.states.append(state)
        del self.states[:-self.window]

    def update(self, first: Any, second: Any = None) -> None:
        state = _empty(self._base)
        state._update(first, second)
        self._push(state)

    def compute(self) -> Any:
        total = _empty(self._base)
        for state in self.states:
            total.merge_state(state)
        return total.compute()

    def forward(self, first: Any, second: Any = None) -> Any:
        state = _empty(self._base)
        state._update(first, second)
        value = state.compute()
        self._push(state)
        return value

    def merge(self, other: "_RunningEngine") -> None:
        self._check_other(other)
        for state in other.states:
            self._push(copy.deepcopy(state))

    def _metrics(self) -> List[Any]:
        return list(self.states)

    def _load_extra_state(self, extra: Dict[str, Any], metrics: List[Any]) -> None:
        if len(metrics) > self.window:
            raise ValueError("invalid Running state: it contains more updates than the window")
        self.states = metrics


class Running(_WrapperMetric):
    """A metric's value over the batches of the last ``window`` updates.

    Each update's batch is kept as its own state of ``base_metric``, and ``compute`` merges the
    states in the window. ``forward`` returns the batch's own value. ``merge_state`` treats the
    incoming updates as coming after this metric's, so merging consecutive runs of updates in
    order gives the one-pass value.
    """

    def __init__(self, base_metric: Metric, window: int = 5, **kwargs: Any) -> None:
        _reject_kwargs("Running", kwargs)
        base_metric = _check_metric("base_metric", base_metric)
        window = _check_positive_int(
            "window", window, "the window must hold at least one update, pass a positive integer"
        )
        self._init_wrapper(_RunningEngine(base_metric, window), {"window": window}, base_metric)
        self.window = window
        self.base_metric = _empty(base_metric)
        self.higher_is_better = base_metric.higher_is_better
        self.is_differentiable = base_metric.is_differentiable
        self.plot_lower_bound = base_metric.plot_lower_bound
        self.plot_upper_bound = base_metric.plot_upper_bound
