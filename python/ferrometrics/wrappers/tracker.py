"""`MetricTracker`: one copy of a metric or collection per step, and the best step."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Union

import numpy as np

from ferrometrics.metric import Metric
from ferrometrics.wrappers._base import (
    _check_tracked,
    _empty_any,
    Tracked,
)


class MetricTracker:
    """A metric or collection tracked over steps such as epochs.

    ``increment()`` starts a step with an empty copy of ``metric``, and ``update``,
    ``forward``, ``compute`` and ``reset`` act on the latest step. ``compute_all()`` returns
    every step's values, and ``best_metric()`` the best value of each output (and its step with
    ``return_step=True``).

    ``maximize`` is a bool for every output or a list with one bool per output key. ``None``
    takes ``higher_is_better`` of the metric, or of each collection member in order, and raises
    ``ValueError`` if one of them has no better direction. ``best_metric`` skips NaN values.
    """

    def __init__(self, metric: Tracked, maximize: Optional[Union[bool, List[bool]]] = None) -> None:
        metric = _check_tracked("metric", metric)
        if maximize is None:
            if isinstance(metric, Metric):
                directions = [metric.higher_is_better]
                names = [type(metric).__name__]
            else:
                members = metric.items(keep_base=True, copy_state=False)
                directions = [member.higher_is_better for _, member in members]
                names = [name for name, _ in members]
            missing = [name for name, direction in zip(names, directions) if direction is None]
            if missing:
                raise ValueError(
                    f"invalid value for `maximize`: {missing} have no better direction "
                    "(higher_is_better is None); pass maximize=True or False"
                )
            maximize = directions[0] if isinstance(metric, Metric) else directions
        elif isinstance(maximize, list):
            if not maximize or not all(isinstance(flag, bool) for flag in maximize):
                raise ValueError(
                    f"invalid value for `maximize`: expected a bool or a non-empty list of bools, "
                    f"got {maximize!r}"
                )
        elif not isinstance(maximize, bool):
            raise ValueError(
                "invalid value for `maximize`: expected a bool or a list of bools, got "
                f"{maximize!r}"
            )
        self._base = _empty_any(metric)
        self._steps: List[Tracked] = []
        self.maximize = maximize

    @property
    def n_steps(self) -> int:
        """The number of steps started."""
        return len(self._steps)

    def increment(self) -> None:
        """Start a new step with an empty copy of the tracked metric."""
        self._steps.append(_empty_any(self._base))

    def _latest(self, action: str) -> Tracked:
        if not self._steps:
            raise ValueError(f"no step has started; call increment() before {action}()")
        return self._steps[-1]

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Add a batch to the latest step."""
        self._latest("update").update(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Return the batch's own value and add the batch to the latest step."""
        return self._latest("forward").forward(*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def compute(self) -> Any:
        """Return the latest step's value."""
        return self._latest("compute").compute()

    def reset(self) -> None:
        """Clear the latest step's state."""
        if self._steps:
            self._steps[-1].reset()

    def reset_all(self) -> None:
        """Remove every step."""
        self._steps = []

    def state_dict(
        self,
        destination: Optional[Dict[str, Any]] = None,
        prefix: str = "",
        keep_vars: bool = False,
    ) -> Dict[str, Any]:
        """Return every step's state under ``prefix + str(step) + "."``, steps counted from 0."""
        if destination is None:
            destination = {}
        for index, step in enumerate(self._steps):
            step.state_dict(destination, prefix=f"{prefix}{index}.", keep_vars=keep_vars)
        return destination

    def load_state_dict(self, state_dict: Dict[str, Any], strict: bool = True) -> None:
        """Replace the steps with those of ``state_dict``, from a tracker of the same metric.

        The number of steps is read from the keys. Every step is loaded before any replaces the
        current ones, so a rejected dict leaves the tracker as it was. With ``strict``, a key
        that belongs to no step raises ``ValueError``.
        """
        by_step: Dict[int, Dict[str, Any]] = {}
        for key, value in state_dict.items():
            index, dot, rest = str(key).partition(".")
            if not (dot and index.isdigit() and str(int(index)) == index):
                if strict:
                    raise ValueError(
                        f"invalid value for `state_dict`: key {key!r} is not of the form "
                        "'<step>.<name>'; pass the dict returned by MetricTracker.state_dict()"
                    )
                continue
            by_step.setdefault(int(index), {})[rest] = value
        missing = [index for index in range(len(by_step)) if index not in by_step]
        if missing:
            raise ValueError(
                f"invalid value for `state_dict`: steps {sorted(by_step)} are not numbered from 0 "
                f"without gaps (step {missing[0]} is missing)"
            )
        steps = []
        for index in range(len(by_step)):
            step = _empty_any(self._base)
            step.load_state_dict(by_step[index], strict=strict)
            steps.append(step)
        self._steps = steps

    def compute_all(self) -> Any:
        """Return every step's value: an array over the steps, or a dict of such arrays."""
        if not self._steps:
            raise ValueError("no step has started; call increment() before compute_all()")
        values = [step.compute() for step in self._steps]
        if isinstance(values[0], dict):
            return {
                key: np.stack([np.asarray(value[key]) for value in values]) for key in values[0]
            }
        return np.stack([np.asarray(value) for value in values])

    def best_metric(self, return_step: bool = False) -> Any:
        """Return the best value over the steps, per key for dict values.

        With ``return_step=True`` also return the step, counted from 0, that first reached it.
        """
        all_values = self.compute_all()
        as_dict = isinstance(all_values, dict)
        series = all_values if as_dict else {"": all_values}
        if isinstance(self.maximize, list):
            if len(self.maximize) != len(series):
                raise ValueError(
                    f"invalid value for `maximize`: got {len(self.maximize)} directions for the "
                    f"{len(series)} outputs {list(series)}; pass one bool or one per output"
                )
            directions = self.maximize
        else:
            directions = [self.maximize] * len(series)

        best: Dict[str, float] = {}
        steps: Dict[str, int] = {}
        for (key, values), maximize in zip(series.items(), directions):
            if values.ndim != 1:
                raise ValueError(
                    f"best_metric needs one number per step, but the output {key!r} has shape "
                    f"{values.shape[1:]} at each step"
                )
            if np.isnan(values).all():
                raise ValueError(f"every step's value of {key!r} is NaN, so there is no best step")
            step = int(np.nanargmax(values) if maximize else np.nanargmin(values))
            best[key] = float(values[step])
            steps[key] = step
        if not as_dict:
            return (best[""], steps[""]) if return_step else best[""]
        return (best, steps) if return_step else best
