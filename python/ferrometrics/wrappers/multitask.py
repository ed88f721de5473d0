"""`MultitaskWrapper`: one metric or collection per named task."""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional

from ferrometrics.wrappers._base import (
    _check_tracked,
    _empty_any,
    _Engine,
    Tracked,
    _WrapperMetric,
)


class _MultitaskEngine(_Engine):
    wrapper = "MultitaskWrapper"
    input_kind = "multitask"

    def __init__(self, tasks: Dict[str, Tracked], prefix: str, postfix: str) -> None:
        self.tasks = {name: copy.deepcopy(metric) for name, metric in tasks.items()}
        self.prefix = prefix
        self.postfix = postfix

    def reset(self) -> None:
        for metric in self.tasks.values():
            metric.reset()

    def _config(self) -> Dict[str, Any]:
        return {"tasks": list(self.tasks), "prefix": self.prefix, "postfix": self.postfix}

    def _update_parts(self, task_preds: Any, task_targets: Any) -> Dict[str, Tracked]:
        for argument, value in (("task_preds", task_preds), ("task_targets", task_targets)):
            if not isinstance(value, dict):
                raise TypeError(
                    f"invalid input `{argument}`: expected a dict keyed by task name, got "
                    f"{type(value).__name__}"
                )
            if set(value) != set(self.tasks):
                raise ValueError(
                    f"invalid input `{argument}`: its keys {sorted(value)} differ from the tasks "
                    f"{sorted(self.tasks)}; pass one entry per task"
                )
        parts = {}
        for name, metric in self.tasks.items():
            part = _empty_any(metric)
            # A task whose metric takes one input (an aggregation) gets a target of None.
            if task_targets[name] is None:
                part.update(task_preds[name])
            else:
                part.update(task_preds[name], task_targets[name])
            parts[name] = part
        return parts

    def update(self, task_preds: Any, task_targets: Any = None) -> None:
        for name, part in self._update_parts(task_preds, task_targets).items():
            self.tasks[name].merge_state(part)

    def _key(self, name: str) -> str:
        return f"{self.prefix}{name}{self.postfix}"

    def compute(self) -> Dict[str, Any]:
        return {self._key(name): metric.compute() for name, metric in self.tasks.items()}

    def forward(self, task_preds: Any, task_targets: Any = None) -> Dict[str, Any]:
        parts = self._update_parts(task_preds, task_targets)
        value = {self._key(name): part.compute() for name, part in parts.items()}
        for name, part in parts.items():
            self.tasks[name].merge_state(part)
        return value

    def merge(self, other: "_MultitaskEngine") -> None:
        self._check_other(other)
        merged = {name: copy.deepcopy(metric) for name, metric in self.tasks.items()}
        for name, metric in merged.items():
            metric.merge_state(other.tasks[name])
        self.tasks = merged

    def _metrics(self) -> List[Any]:
        return list(self.tasks.values())

    def _template(self, index: int) -> Any:
        return _empty_any(list(self.tasks.values())[index])

    def _load_extra_state(self, extra: Dict[str, Any], metrics: List[Any]) -> None:
        self.tasks = dict(zip(self.tasks, metrics))


class MultitaskWrapper(_WrapperMetric):
    """One metric or collection per named task, fed and computed as dicts keyed by task name.

    ``update(task_preds, task_targets)`` takes two dicts with one entry per task, and
    ``compute`` returns ``{prefix + task + postfix: value}``. A batch that lacks a task or names
    an unknown one raises ``ValueError`` and changes no task.
    """

    def __init__(
        self,
        task_metrics: Dict[str, Tracked],
        prefix: Optional[str] = None,
        postfix: Optional[str] = None,
    ) -> None:
        if not isinstance(task_metrics, dict) or not task_metrics:
            raise ValueError(
                "invalid value for `task_metrics`: expected a non-empty dict of metrics or "
                f"collections keyed by task name, got {task_metrics!r}"
            )
        for name, metric in task_metrics.items():
            if not isinstance(name, str):
                raise ValueError(
                    f"invalid value for `task_metrics`: task names must be strings, got {name!r}"
                )
            _check_tracked(f"task_metrics[{name!r}]", metric)
        for argument, value in (("prefix", prefix), ("postfix", postfix)):
            if value is not None and not isinstance(value, str):
                raise ValueError(
                    f"invalid value for `{argument}`: expected None or a string, got {value!r}"
                )
        engine = _MultitaskEngine(task_metrics, prefix or "", postfix or "")
        self._init_wrapper(engine, {"prefix": prefix, "postfix": postfix}, None)

    @property
    def task_metrics(self) -> Dict[str, Tracked]:
        """The metric or collection of each task."""
        return dict(self._native.tasks)

    def update(  # type: ignore[override]
        self, task_preds: Dict[str, Any], task_targets: Dict[str, Any]
    ) -> None:
        """Add one batch per task: ``task_preds[name]`` and ``task_targets[name]``."""
        self._update(task_preds, task_targets)

    def forward(  # type: ignore[override]
        self, task_preds: Dict[str, Any], task_targets: Dict[str, Any]
    ) -> Dict[str, Any]:
        """Return each task's value on this batch alone and add the batch to the states."""
        return self._forward(task_preds, task_targets)

    def __repr__(self) -> str:
        return f"MultitaskWrapper({self._native.tasks!r})"
