"""Classification metrics as functions over whole inputs, with TorchMetrics' names and arguments.

Each function takes ``preds`` and ``target`` first, then the arguments of the matching class in
``ferrometrics.classification`` (``binary_accuracy(preds, target, threshold=0.5)`` computes what
``BinaryAccuracy(threshold=0.5)`` computes after one update). The task dispatchers
(``accuracy(preds, target, task="multiclass", num_classes=3)``) pick the task's function.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict

from ferrometrics import classification as _classes

_SNAKE_NAMES = {
    "AUROC": "auroc",
    "ROC": "roc",
    "LogAUC": "logauc",
    "EER": "eer",
    "F1Score": "f1_score",
    "FBetaScore": "fbeta_score",
    "MatthewsCorrCoef": "matthews_corrcoef",
}


def _snake(family: str) -> str:
    if family in _SNAKE_NAMES:
        return _SNAKE_NAMES[family]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", family).lower()


def _make_function(class_name: str, task: str, family: str) -> Callable[..., Any]:
    metric_class = getattr(_classes, class_name)

    def function(preds: Any, target: Any, *args: Any, **kwargs: Any) -> Any:
        metric = metric_class(*args, **kwargs)
        return metric._evaluate(preds, target)

    function.__name__ = f"{task}_{_snake(family)}"
    function.__qualname__ = function.__name__
    function.__doc__ = (
        f"Compute ``{class_name}`` over ``preds`` and ``target`` in one call.\n\n"
        f"{_classes._DESCRIPTIONS[family]}"
    )
    return function


def _make_dispatch(family: str) -> Callable[..., Any]:
    dispatcher = getattr(_classes, family)

    def function(preds: Any, target: Any, task: str, *args: Any, **kwargs: Any) -> Any:
        metric = dispatcher(task, *args, **kwargs)
        return metric._evaluate(preds, target)

    function.__name__ = _snake(family)
    function.__qualname__ = function.__name__
    function.__doc__ = (
        f"Compute the ``{family}`` metric of ``task`` over ``preds`` and ``target``.\n\n"
        f"{_classes._DESCRIPTIONS[family]}"
    )
    return function


__all__ = []
_FUNCTIONS: Dict[str, Callable[..., Any]] = {}
for _family, _tasks in _classes._FAMILY_TASKS.items():
    for _task in _tasks:
        _function = _make_function(_task.capitalize() + _family, _task, _family)
        _FUNCTIONS[_function.__name__] = _function
    if len(_tasks) > 1:
        _function = _make_dispatch(_family)
        _FUNCTIONS[_function.__name__] = _function


def binary_fairness(
    preds: Any,
    target: Any,
    groups: Any,
    num_groups: int,
    task: str = "all",
    threshold: float = 0.5,
    ignore_index: Any = None,
    validate_args: bool = True,
) -> Dict[str, float]:
    """Compute ``BinaryFairness`` over ``preds``, ``target`` and ``groups`` in one call."""
    metric = _classes.BinaryFairness(num_groups, task, threshold, ignore_index, validate_args)
    metric.update(preds, target, groups)
    return metric.compute()


def binary_groups_stat_rates(
    preds: Any,
    target: Any,
    groups: Any,
    num_groups: int,
    threshold: float = 0.5,
    ignore_index: Any = None,
    validate_args: bool = True,
) -> Dict[str, Any]:
    """Compute ``BinaryGroupStatRates`` over ``preds``, ``target`` and ``groups`` in one call."""
    metric = _classes.BinaryGroupStatRates(num_groups, threshold, ignore_index, validate_args)
    metric.update(preds, target, groups)
    return metric.compute()


_FUNCTIONS["binary_fairness"] = binary_fairness
_FUNCTIONS["binary_groups_stat_rates"] = binary_groups_stat_rates
globals().update(_FUNCTIONS)
__all__ = sorted(_FUNCTIONS)
