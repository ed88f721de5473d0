"""Wrappers that change how a metric accumulates or reports, with TorchMetrics' names and arguments.

Each wrapper takes any ferrometrics metric, including another wrapper, and is a ``Metric``
itself: it merges with ``merge_state``, serializes with ``state_dict`` and pickling, and sits in
a ``MetricCollection``, whose duplicate-key rule applies to its dict outputs. ``forward``
accumulates the batch like ``update`` does, so two ``forward`` calls then ``compute`` give the
value of two ``update`` calls then ``compute``. ``MetricTracker`` keeps one copy of a metric or
collection per step and is not a metric.
"""

from __future__ import annotations

import copy
import json
import math
import numbers
import struct
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ferrometrics._native import bootstrap_sample_indices
from ferrometrics.collection import MetricCollection, _bind_inputs
from ferrometrics.metric import Metric

__all__ = [
    "BootStrapper",
    "ClasswiseWrapper",
    "MetricTracker",
    "MinMaxMetric",
    "MultioutputWrapper",
    "MultitaskWrapper",
    "Running",
]

_BYTES_MAGIC = b"FMW1"


# ---------------------------------------------------------------------------------------------
# Shared machinery: a wrapper's state lives in an engine with the native metric protocol
# (update, compute, merge, empty_copy, to_bytes, ...), so that Metric and MetricCollection drive
# wrappers exactly as they drive native metrics.


def _check_metric(argument: str, metric: Any) -> Metric:
    if not isinstance(metric, Metric):
        raise ValueError(
            f"invalid value for `{argument}`: expected a ferrometrics Metric, got "
            f"{type(metric).__name__}"
        )
    return metric


def _empty(metric: Metric) -> Metric:
    """Return a copy of ``metric`` with the same configuration and an empty state.

    The state is never copied, so the cost does not grow with the data a metric has seen. The
    attributes other than the state are configuration and are shared with ``metric``.
    """
    copied = type(metric).__new__(type(metric))
    copied.__dict__.update(metric.__dict__)
    copied._native = metric._native.empty_copy()
    copied._state_owner = None
    copied._update_count = 0
    return copied


def _check_flag(argument: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"invalid value for `{argument}`: expected a bool, got {value!r}")
    return bool(value)


def _check_positive_int(argument: str, value: Any, hint: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"invalid value for `{argument}`: got {value!r}; {hint}")
    return int(value)


def _pack(header: Dict[str, Any], blobs: Sequence[bytes]) -> bytes:
    """Serialize a JSON header and byte blobs: magic, header length, header, then each blob
    with its length."""
    encoded = json.dumps(header, sort_keys=True).encode()
    parts = [_BYTES_MAGIC, struct.pack("<Q", len(encoded)), encoded]
    for blob in blobs:
        parts.append(struct.pack("<Q", len(blob)))
        parts.append(bytes(blob))
    return b"".join(parts)


def _unpack(data: bytes, wrapper: str) -> Tuple[Dict[str, Any], List[bytes]]:
    def invalid(reason: str) -> ValueError:
        return ValueError(
            f"invalid {wrapper} state: {reason}; pass bytes from {wrapper}.state_dict()"
        )

    if not data.startswith(_BYTES_MAGIC):
        raise invalid("the bytes do not start with the wrapper state marker")
    offset = len(_BYTES_MAGIC)
    chunks = []
    while offset < len(data):
        if offset + 8 > len(data):
            raise invalid("the bytes end inside a length field")
        (length,) = struct.unpack_from("<Q", data, offset)
        offset += 8
        if offset + length > len(data):
            raise invalid("the bytes end inside a chunk")
        chunks.append(data[offset:offset + length])
        offset += length
    if not chunks:
        raise invalid("the bytes hold no header")
    try:
        header = json.loads(chunks[0].decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise invalid(f"the header is not JSON ({error})") from None
    return header, chunks[1:]


def _metric_bytes(metric: Any) -> bytes:
    state = metric.state_dict()
    if isinstance(metric, MetricCollection):
        # A MetricCollection stores one entry per member, so its dict is packed as a whole.
        return _pack({"keys": sorted(state)}, [bytes(state[key]) for key in sorted(state)])
    return bytes(next(iter(state.values())))


def _load_metric_bytes(metric: Any, blob: bytes) -> None:
    if isinstance(metric, MetricCollection):
        header, blobs = _unpack(blob, "MetricCollection")
        metric.load_state_dict(dict(zip(header["keys"], blobs)))
    else:
        metric.load_state_dict({"state": blob})


class _Engine:
    """Base of the wrapper states, with the protocol of the native metrics."""

    wrapper = "Wrapper"
    nan_count = None

    def __init__(self, base: Metric) -> None:
        self._base = _empty(base)

    @property
    def input_kind(self) -> str:
        return self._base._native.input_kind

    def shared_state_key(self) -> None:
        return None

    def compute_shared(self, leader: Any) -> Any:
        raise ValueError(f"{self.wrapper} does not read the state of another metric")

    def empty_copy(self) -> "_Engine":
        copied = copy.deepcopy(self)
        copied.reset()
        return copied

    def clone(self) -> "_Engine":
        return copy.deepcopy(self)

    def forward(self, first: Any, second: Any = None) -> Any:
        batch = self.empty_copy()
        batch.update(first, second)
        value = batch.compute()
        self.merge(batch)
        return value

    def _config(self) -> Dict[str, Any]:
        raise NotImplementedError

    def _check_other(self, other: Any) -> None:
        if type(other) is not type(self):
            raise ValueError(
                f"cannot merge a {type(other).__name__} state into a {self.wrapper} state"
            )
        if other._config() != self._config():
            raise ValueError(
                f"cannot merge {self.wrapper} states with different configurations: "
                f"{self._config()} and {other._config()}"
            )

    def _metrics(self) -> List[Any]:
        """Return the metrics whose states make up this wrapper's state, in a fixed order."""
        raise NotImplementedError

    def _extra_state(self) -> Dict[str, Any]:
        return {}

    def _load_extra_state(self, extra: Dict[str, Any], metrics: List[Any]) -> None:
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        metrics = self._metrics()
        header = {
            "wrapper": self.wrapper,
            "config": self._config(),
            "extra": self._extra_state(),
            "count": len(metrics),
        }
        return _pack(header, [_metric_bytes(metric) for metric in metrics])

    def load_bytes(self, data: bytes) -> None:
        header, blobs = _unpack(bytes(data), self.wrapper)
        if header.get("wrapper") != self.wrapper:
            raise ValueError(
                f"invalid {self.wrapper} state: the bytes hold a {header.get('wrapper')} state"
            )
        if header.get("config") != self._config():
            raise ValueError(
                f"invalid {self.wrapper} state: its configuration {header.get('config')} differs "
                f"from this wrapper's {self._config()}"
            )
        if header.get("count") != len(blobs):
            raise ValueError(f"invalid {self.wrapper} state: the number of states does not match")
        metrics = []
        for index, blob in enumerate(blobs):
            metric = self._template(index)
            _load_metric_bytes(metric, blob)
            metrics.append(metric)
        self._load_extra_state(header.get("extra", {}), metrics)

    def _template(self, index: int) -> Any:
        """Return an empty metric to load the state at ``index`` of ``_metrics()`` into."""
        return _empty(self._base)


class _WrapperMetric(Metric):
    """A Metric whose state is an engine rather than a native metric."""

    def _init_wrapper(self, engine: _Engine, options: Dict[str, Any], base: Any) -> None:
        self._options = dict(options)
        self._native = engine
        self._update_count = 0
        self._state_owner = None
        self._base_for_inputs = base

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Add a batch, with the arguments of the wrapped metric's ``update``."""
        first, second = _bind_inputs(self._base_for_inputs, args, kwargs)
        self._update(first, second)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Return the value of this batch alone and add the batch to the state."""
        first, second = _bind_inputs(self._base_for_inputs, args, kwargs)
        return self._forward(first, second)

    def __getstate__(self) -> Dict[str, Any]:
        return self.__dict__.copy()

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        arguments = ", ".join(f"{name}={value!r}" for name, value in self._options.items())
        return f"{type(self).__name__}({arguments})"


def _to_array(value: Any, wrapper: str) -> np.ndarray:
    if isinstance(value, dict):
        raise ValueError(
            f"{wrapper} needs a base metric whose value is a number or an array, got a dict "
            f"with keys {sorted(value)}"
        )
    return np.asarray(value, dtype=np.float64)


def _to_python(array: np.ndarray) -> Any:
    return float(array) if np.ndim(array) == 0 else array


# ---------------------------------------------------------------------------------------------
# BootStrapper

_STRATEGIES = ("poisson", "multinomial")


def _to_numpy(value: Any) -> np.ndarray:
    """Return an input as a numpy array, converting a CPU torch tensor without importing torch."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _as_samples(value: Any) -> Any:
    """Return a batch input as a list (one dict per image) or as a numpy array."""
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], dict):
        return list(value)
    return _to_numpy(value)


def _num_samples(value: Any, name: str) -> int:
    if isinstance(value, list):
        return len(value)
    if value.ndim == 0:
        raise ValueError(
            f"invalid input `{name}`: a scalar has no sample axis to resample; pass an array of "
            "shape (N, ...)"
        )
    return value.shape[0]


def _take(value: Any, indices: np.ndarray) -> Any:
    if isinstance(value, list):
        return [value[index] for index in indices]
    return value[indices]


def _is_per_sample(second: Any, first: Any) -> bool:
    """Return whether the second input has one entry per sample along the first axis, rather
    than broadcasting over the samples (a scalar weight, or a first axis of length 1)."""
    if isinstance(second, list):
        return True
    if isinstance(first, list):
        return False
    return second.ndim == first.ndim and second.ndim > 0 and second.shape[0] != 1


class _BootstrapEngine(_Engine):
    wrapper = "BootStrapper"

    def __init__(self, base: Metric, options: Dict[str, Any]) -> None:
        super().__init__(base)
        self.options = options
        self.first_batch = 0
        self.replicates = [_empty(base) for _ in range(options["num_bootstraps"])]
        self.reset()

    def reset(self) -> None:
        for replicate in self.replicates:
            replicate.reset()
        self.drawn = [0] * len(self.replicates)
        self.next_batch = self.first_batch

    def _config(self) -> Dict[str, Any]:
        # The seed is left out, so that shards drawn with their own seeds merge.
        return {key: value for key, value in self.options.items() if key != "seed"}

    def _draw(self, batch: int, samples: int) -> List[np.ndarray]:
        # One stream per (seed, replicate, batch index), the streams of the Rust BootStrapper,
        # so that shards with disjoint batch indices merge to one pass.
        return bootstrap_sample_indices(
            self.options["seed"],
            batch,
            samples,
            len(self.replicates),
            self.options["sampling_strategy"],
        )

    def update(self, first: Any, second: Any = None) -> None:
        probe = _empty(self._base)
        probe._update(first, second)
        first = _as_samples(first)
        samples = _num_samples(first, "preds")
        per_sample = second is not None and _is_per_sample(_as_samples(second), first)
        if per_sample:
            second = _as_samples(second)
            if _num_samples(second, "target") != samples:
                raise ValueError(
                    f"invalid input `target`: it has {_num_samples(second, 'target')} samples "
                    f"but the first input has {samples}; pass inputs of equal length"
                )

        parts: List[Optional[Tuple[Metric, int]]] = []
        draws = self._draw(self.next_batch, samples)
        for replicate, indices in zip(self.replicates, draws):
            if indices.size == 0:
                parts.append(None)
                continue
            part = _empty(replicate)
            part._update(_take(first, indices), _take(second, indices) if per_sample else second)
            parts.append((part, int(indices.size)))

        for index, entry in enumerate(parts):
            if entry is not None:
                part, count = entry
                self.replicates[index].merge_state(part)
                self.drawn[index] += count
        self.next_batch += 1

    def compute(self) -> Dict[str, Any]:
        values = [
            _to_array(replicate.compute(), "BootStrapper")
            for replicate, drawn in zip(self.replicates, self.drawn)
            if drawn > 0
        ]
        if not values:
            raise ValueError(
                "BootStrapper: no replicate has drawn a sample; update with at least one sample "
                "first"
            )
        shapes = {value.shape for value in values}
        if len(shapes) != 1:
            raise ValueError(
                f"BootStrapper: the replicates' values have different shapes {sorted(shapes)}; "
                "the base metric must return values of one shape"
            )

        raw = np.stack(values, axis=0)
        output: Dict[str, Any] = {}
        if self.options["mean"]:
            output["mean"] = _to_python(raw.mean(axis=0))
        if self.options["std"]:
            if raw.shape[0] < 2:
                output["std"] = _to_python(np.full(raw.shape[1:], np.nan))
            else:
                output["std"] = _to_python(raw.std(axis=0, ddof=1))
        quantile = self.options["quantile"]
        if quantile is not None:
            output["quantile"] = _to_python(np.quantile(raw, quantile, axis=0))
        if self.options["raw"]:
            output["raw"] = raw
        return output

    def merge(self, other: "_BootstrapEngine") -> None:
        self._check_other(other)
        merged = [copy.deepcopy(replicate) for replicate in self.replicates]
        for ours, theirs in zip(merged, other.replicates):
            ours.merge_state(theirs)
        self.replicates = merged
        self.drawn = [a + b for a, b in zip(self.drawn, other.drawn)]
        self.next_batch = max(self.next_batch, other.next_batch)

    def forward(self, first: Any, second: Any = None) -> Any:
        batch = self.empty_copy()
        batch.next_batch = self.next_batch
        batch.update(first, second)
        value = batch.compute()
        self.merge(batch)
        return value

    def _metrics(self) -> List[Any]:
        return list(self.replicates)

    def _extra_state(self) -> Dict[str, Any]:
        return {"drawn": self.drawn, "next_batch": self.next_batch, "first_batch": self.first_batch}

    def _load_extra_state(self, extra: Dict[str, Any], metrics: List[Any]) -> None:
        drawn = extra.get("drawn")
        if not isinstance(drawn, list) or len(drawn) != len(metrics):
            raise ValueError("invalid BootStrapper state: the sample counts do not match")
        self.replicates = metrics
        self.drawn = [int(count) for count in drawn]
        self.next_batch = int(extra["next_batch"])
        self.first_batch = int(extra["first_batch"])


def _check_quantile(quantile: Any) -> Optional[Union[float, List[float]]]:
    if quantile is None:
        return None
    levels = np.asarray(quantile, dtype=np.float64) if not isinstance(quantile, bool) else None
    if levels is None or levels.ndim > 1 or levels.size == 0:
        raise ValueError(
            f"invalid value for `quantile`: expected a float or a 1-D sequence of floats in "
            f"[0, 1], got {quantile!r}"
        )
    bad = [float(level) for level in levels.ravel() if not 0.0 <= level <= 1.0]
    if bad:
        raise ValueError(
            f"invalid value for `quantile`: levels {bad} are outside [0, 1]; pass levels in [0, 1]"
        )
    return float(levels) if levels.ndim == 0 else [float(level) for level in levels]


def _reject_kwargs(wrapper: str, kwargs: Dict[str, Any]) -> None:
    if kwargs:
        names = ", ".join(sorted(kwargs))
        raise ValueError(
            f"{wrapper} got unexpected keyword arguments: {names}; ferrometrics metrics take no "
            "distributed-sync or device options"
        )


class BootStrapper(_WrapperMetric):
    """Bootstrap estimates of a metric: ``num_bootstraps`` copies of ``base_metric``, each
    updated with a resample of every batch along its first axis.

    ``compute`` returns a dict with ``mean``, ``std`` (one delta degree of freedom, as
    ``torch.std``), ``quantile`` (numpy's linear method, along the replicate axis) and ``raw``
    (one row per replicate), as enabled. A replicate that has drawn no sample yet, which happens
    under Poisson sampling of tiny inputs, is left out instead of counting as a value.

    ``sampling_strategy="poisson"`` puts each sample ``k ~ Poisson(1)`` times into each
    replicate, independently across batches, which approaches the bootstrap of the whole data.
    ``"multinomial"`` resamples each batch of ``n`` samples to ``n`` samples with replacement,
    as TorchMetrics does, so every replicate keeps each batch's size.

    Draws come from one random stream per ``(seed, replicate, batch index)``: the same seed and
    batches give the same result. ``seed=None`` picks a random seed, kept in the ``seed``
    attribute. States with different seeds merge. Give each worker's shard its own seed,
    because shards that share a seed reuse the same draws for different data, which
    correlates them.

    Inputs are numpy arrays, sequences or CPU tensors resampled along their first axis; lists of
    per-image dicts (detection) are resampled by image. A second input with one entry per sample
    is resampled with the first, and one that broadcasts (a scalar weight) is kept.
    """

    full_state_update = True

    def __init__(
        self,
        base_metric: Metric,
        num_bootstraps: int = 10,
        mean: bool = True,
        std: bool = True,
        quantile: Optional[Union[float, Sequence[float]]] = None,
        raw: bool = False,
        sampling_strategy: str = "poisson",
        seed: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        _reject_kwargs("BootStrapper", kwargs)
        base_metric = _check_metric("base_metric", base_metric)
        if sampling_strategy not in _STRATEGIES:
            raise ValueError(
                f"invalid value for `sampling_strategy`: unknown strategy {sampling_strategy!r}; "
                "pass 'poisson' or 'multinomial'"
            )
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (1 << 63))
        elif (
            isinstance(seed, bool)
            or not isinstance(seed, numbers.Integral)
            or not 0 <= seed < 1 << 64
        ):
            raise ValueError(
                "invalid value for `seed`: expected None or an integer in [0, 2**64), got "
                f"{seed!r}"
            )

        options = {
            "num_bootstraps": _check_positive_int(
                "num_bootstraps", num_bootstraps, "pass a positive number of replicates"
            ),
            "mean": _check_flag("mean", mean),
            "std": _check_flag("std", std),
            "quantile": _check_quantile(quantile),
            "raw": _check_flag("raw", raw),
            "sampling_strategy": sampling_strategy,
        }

        engine = _BootstrapEngine(base_metric, {**options, "seed": int(seed)})
        self._init_wrapper(engine, {**options, "seed": int(seed)}, base_metric)
        self.num_bootstraps = options["num_bootstraps"]
        self.mean = options["mean"]
        self.std = options["std"]
        self.quantile = options["quantile"]
        self.raw = options["raw"]
        self.sampling_strategy = sampling_strategy
        self.seed = int(seed)

    @property
    def metrics(self) -> List[Metric]:
        """The replicates of the base metric."""
        return list(self._native.replicates)

    @property
    def first_batch(self) -> int:
        """The index of the first batch after a reset; see ``set_first_batch``."""
        return self._native.first_batch

    def set_first_batch(self, index: int) -> None:
        """Number this metric's batches from ``index`` on and clear its state.

        Shards of one data set with the same seed and disjoint ranges of batch indices merge
        to the result of one pass over all batches in index order.
        """
        if isinstance(index, bool) or not isinstance(index, numbers.Integral) or index < 0:
            raise ValueError(
                f"invalid value for `index`: expected a non-negative integer, got {index!r}"
            )
        self._native.first_batch = int(index)
        self.reset()

    def compute(self) -> Dict[str, Any]:
        """Return the enabled statistics over the replicates that drew a sample."""
        return self._native.compute()


# ---------------------------------------------------------------------------------------------
# MinMaxMetric


def _to_scalar(value: Any, wrapper: str) -> float:
    if isinstance(value, dict):
        raise ValueError(
            f"{wrapper} needs a base metric whose value is one number, got a dict with keys "
            f"{sorted(value)}"
        )
    array = np.asarray(value, dtype=np.float64)
    if array.size != 1:
        raise ValueError(
            f"{wrapper} needs a base metric whose value is one number, got an array of shape "
            f"{array.shape}"
        )
    return float(array.reshape(()))


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


# ---------------------------------------------------------------------------------------------
# Running


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


# ---------------------------------------------------------------------------------------------
# ClasswiseWrapper


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


# ---------------------------------------------------------------------------------------------
# MultioutputWrapper


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


# ---------------------------------------------------------------------------------------------
# MultitaskWrapper

Tracked = Union[Metric, MetricCollection]


def _empty_any(metric: Tracked) -> Tracked:
    if isinstance(metric, Metric):
        return _empty(metric)
    # NOTE: a collection is deep-copied before it is cleared, so this costs a copy of its
    # members' states, which grows with the data for members that keep every sample.
    copied = copy.deepcopy(metric)
    copied.reset()
    return copied


def _check_tracked(argument: str, metric: Any) -> Tracked:
    if not isinstance(metric, (Metric, MetricCollection)):
        raise ValueError(
            f"invalid value for `{argument}`: expected a ferrometrics Metric or MetricCollection, "
            f"got {type(metric).__name__}"
        )
    return metric


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


# ---------------------------------------------------------------------------------------------
# MetricTracker


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
