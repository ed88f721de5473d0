"""`ClasswiseWrapper`: a per-class array output as one named entry per class."""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional

import numpy as np

from ferrometrics.metric import Metric
from ferrometrics.wrappers._base import (
    _check_metric,
    _empty,
    _Engine,
    _to_python,
    _WrapperMetric,
)


class _ClasswiseEngine(_Engine):
    wrapper = "ClasswiseWrapper"

    def __init__(
        self,
        base: Metric,
        labels: Optional[List[str]],
        prefix: Optional[str],
        postfix: Optional[str],
    ) -> None:
        super().__init__(base)
        self.metric = copy.deepcopy(base)
        self.labels = labels
        self.prefix = prefix
        self.postfix = postfix

    def reset(self) -> None:
        self.metric.reset()

    def _config(self) -> Dict[str, Any]:
        return {"labels": self.labels, "prefix": self.prefix, "postfix": self.postfix}

    def convert(self, value: Any) -> Dict[str, Any]:
        if isinstance(value, dict):
            raise ValueError(
                "ClasswiseWrapper needs a base metric whose value has one entry per class, got a "
                f"dict with keys {sorted(value)}"
            )
        array = np.asarray(value, dtype=np.float64)
        if array.ndim == 0:
            raise ValueError(
                "ClasswiseWrapper needs a base metric whose value has one entry per class, got "
                "one number"
            )
        if self.labels is not None and len(self.labels) != array.shape[0]:
            raise ValueError(
                f"invalid value for `labels`: got {len(self.labels)} labels for a value with "
                f"{array.shape[0]} classes; pass one label per class"
            )
        if not self.prefix and not self.postfix:
            prefix, postfix = f"{type(self.metric).__name__.lower()}_", ""
        else:
            prefix, postfix = self.prefix or "", self.postfix or ""
        labels = self.labels if self.labels is not None else range(array.shape[0])
        return {
            f"{prefix}{label}{postfix}": _to_python(entry) for label, entry in zip(labels, array)
        }

    def update(self, first: Any, second: Any = None) -> None:
        self.metric._update(first, second)

    def compute(self) -> Dict[str, Any]:
        return self.convert(self.metric.compute())

    def forward(self, first: Any, second: Any = None) -> Dict[str, Any]:
        batch = _empty(self.metric)
        batch._update(first, second)
        value = self.convert(batch.compute())
        self.metric.merge_state(batch)
        return value

    def merge(self, other: "_ClasswiseEngine") -> None:
        self._check_other(other)
        self.metric.merge_state(other.metric)

    def _metrics(self) -> List[Any]:
        return [self.metric]

    def _load_extra_state(self, extra: Dict[str, Any], metrics: List[Any]) -> None:
        self.metric = metrics[0]


class ClasswiseWrapper(_WrapperMetric):
    """A per-class array output as a dict with one key per class.

    The key of class ``i`` is ``{prefix}{label}{postfix}``, where ``label`` is ``labels[i]`` or
    ``i``. Without a prefix and a postfix, the prefix is the metric's class name in lower case
    followed by ``_``, as TorchMetrics does. A ``labels`` list of another length than the
    output raises ``ValueError`` (TorchMetrics drops the extra entries).
    """

    def __init__(
        self,
        metric: Metric,
        labels: Optional[List[str]] = None,
        prefix: Optional[str] = None,
        postfix: Optional[str] = None,
    ) -> None:
        metric = _check_metric("metric", metric)
        if labels is not None and not (
            isinstance(labels, list) and all(isinstance(label, str) for label in labels)
        ):
            raise ValueError(
                f"invalid value for `labels`: expected None or a list of strings, got {labels!r}"
            )
        if labels is not None and len(set(labels)) != len(labels):
            repeated = next(label for i, label in enumerate(labels) if label in labels[:i])
            raise ValueError(
                f"invalid value for `labels`: {repeated!r} is given twice, so two classes would "
                "share one key; pass distinct labels"
            )
        for argument, value in (("prefix", prefix), ("postfix", postfix)):
            if value is not None and not isinstance(value, str):
                raise ValueError(
                    f"invalid value for `{argument}`: expected None or a string, got {value!r}"
                )
        engine = _ClasswiseEngine(metric, labels, prefix, postfix)
        options = {"labels": labels, "prefix": prefix, "postfix": postfix}
        self._init_wrapper(engine, options, metric)
        self.labels = labels
        self.higher_is_better = metric.higher_is_better
        self.is_differentiable = metric.is_differentiable
        self.plot_lower_bound = metric.plot_lower_bound
        self.plot_upper_bound = metric.plot_upper_bound

    @property
    def metric(self) -> Metric:
        """The wrapped metric."""
        return self._native.metric
