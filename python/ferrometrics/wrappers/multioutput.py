"""`MultioutputWrapper`: one copy of a metric per output column."""

from __future__ import annotations

import copy
import numbers
from typing import Any, Dict, List, Tuple

import numpy as np

from ferrometrics.metric import Metric
from ferrometrics.wrappers._base import (
    _check_flag,
    _check_metric,
    _check_positive_int,
    _empty,
    _Engine,
    _to_array,
    _to_numpy,
    _WrapperMetric,
)


class _MultioutputEngine(_Engine):
    wrapper = "MultioutputWrapper"

    def __init__(
        self, base: Metric, num_outputs: int, output_dim: int, remove_nans: bool, squeeze: bool
    ) -> None:
        super().__init__(base)
        self.metrics = [_empty(base) for _ in range(num_outputs)]
        self.output_dim = output_dim
        self.remove_nans = remove_nans
        self.squeeze = squeeze

    def reset(self) -> None:
        for metric in self.metrics:
            metric.reset()

    def _config(self) -> Dict[str, Any]:
        return {
            "num_outputs": len(self.metrics),
            "output_dim": self.output_dim,
            "remove_nans": self.remove_nans,
            "squeeze_outputs": self.squeeze,
        }

    def _columns(self, first: Any, second: Any) -> List[Tuple[Any, Any]]:
        arrays = [_to_numpy(first)] + ([] if second is None else [_to_numpy(second)])
        names = ["preds", "target"]
        outputs = None
        for name, array in zip(names, arrays):
            if not -array.ndim <= self.output_dim < array.ndim:
                raise ValueError(
                    f"invalid value for `output_dim`: axis {self.output_dim} does not exist in "
                    f"`{name}`, which has {array.ndim} axes"
                )
            length = array.shape[self.output_dim]
            if outputs is not None and length != outputs:
                raise ValueError(
                    f"invalid input `{name}`: it has {length} outputs along axis "
                    f"{self.output_dim} but `preds` has {outputs}"
                )
            outputs = length
        if outputs != len(self.metrics):
            raise ValueError(
                f"invalid input `preds`: axis {self.output_dim} has {outputs} outputs but the "
                f"wrapper has num_outputs={len(self.metrics)}"
            )

        columns = []
        for index in range(outputs):
            parts = []
            for array in arrays:
                part = np.take(array, index, axis=self.output_dim)
                if not self.squeeze:
                    axis = self.output_dim if self.output_dim >= 0 else self.output_dim + array.ndim
                    part = np.expand_dims(part, axis)
                parts.append(part)
            if self.remove_nans:
                keep = None
                for part in parts:
                    if part.ndim == 0 or not np.issubdtype(part.dtype, np.floating):
                        continue
                    rows = ~np.isnan(part.reshape(part.shape[0], -1)).any(axis=1)
                    keep = rows if keep is None else keep & rows
                if keep is not None and not keep.all():
                    parts = [part[keep] if part.ndim > 0 else part for part in parts]
            columns.append((parts[0], parts[1] if len(parts) > 1 else None))
        return columns

    def _update_parts(self, first: Any, second: Any) -> List[Metric]:
        parts = []
        columns = self._columns(first, second)
        for metric, (column_first, column_second) in zip(self.metrics, columns):
            part = _empty(metric)
            part._update(column_first, column_second)
            parts.append(part)
        return parts

    def update(self, first: Any, second: Any = None) -> None:
        for metric, part in zip(self.metrics, self._update_parts(first, second)):
            metric.merge_state(part)

    def compute(self) -> np.ndarray:
        values = [_to_array(metric.compute(), "MultioutputWrapper") for metric in self.metrics]
        return np.stack(values)

    def forward(self, first: Any, second: Any = None) -> np.ndarray:
        parts = self._update_parts(first, second)
        value = np.stack([_to_array(part.compute(), "MultioutputWrapper") for part in parts])
        for metric, part in zip(self.metrics, parts):
            metric.merge_state(part)
        return value

    def merge(self, other: "_MultioutputEngine") -> None:
        self._check_other(other)
        merged = [copy.deepcopy(metric) for metric in self.metrics]
        for ours, theirs in zip(merged, other.metrics):
            ours.merge_state(theirs)
        self.metrics = merged

    def _metrics(self) -> List[Any]:
        return list(self.metrics)

    def _load_extra_state(self, extra: Dict[str, Any], metrics: List[Any]) -> None:
        self.metrics = metrics


class MultioutputWrapper(_WrapperMetric):
    """One copy of ``base_metric`` per output, each fed its slice of the inputs along
    ``output_dim``.

    With ``remove_nans``, each output drops the samples (rows of the first axis) holding a NaN
    in any of its inputs. With ``squeeze_outputs``, the output axis is removed from each slice.
    ``compute`` stacks the outputs' values into one array with the outputs along the first axis.
    """

    def __init__(
        self,
        base_metric: Metric,
        num_outputs: int,
        output_dim: int = -1,
        remove_nans: bool = True,
        squeeze_outputs: bool = True,
    ) -> None:
        base_metric = _check_metric("base_metric", base_metric)
        num_outputs = _check_positive_int(
            "num_outputs", num_outputs, "pass the positive number of outputs"
        )
        if isinstance(output_dim, bool) or not isinstance(output_dim, numbers.Integral):
            raise ValueError(
                f"invalid value for `output_dim`: expected an integer, got {output_dim!r}"
            )
        remove_nans = _check_flag("remove_nans", remove_nans)
        squeeze_outputs = _check_flag("squeeze_outputs", squeeze_outputs)
        engine = _MultioutputEngine(
            base_metric, num_outputs, int(output_dim), remove_nans, squeeze_outputs
        )
        options = {
            "num_outputs": num_outputs,
            "output_dim": int(output_dim),
            "remove_nans": remove_nans,
            "squeeze_outputs": squeeze_outputs,
        }
        self._init_wrapper(engine, options, base_metric)
        self.num_outputs = num_outputs
        self.output_dim = int(output_dim)
        self.remove_nans = remove_nans
        self.squeeze_outputs = squeeze_outputs
        self.higher_is_better = base_metric.higher_is_better
        self.is_differentiable = base_metric.is_differentiable

    @property
    def metrics(self) -> List[Metric]:
        """The per-output copies of the base metric."""
        return list(self._native.metrics)
