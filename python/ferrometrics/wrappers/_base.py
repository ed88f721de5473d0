"""The machinery shared by the wrappers: a wrapper's state lives in an engine with the native
metric protocol (update, compute, merge, empty_copy, to_bytes, ...), so that ``Metric`` and
``MetricCollection`` drive wrappers exactly as they drive native metrics."""

from __future__ import annotations

import copy
import json
import numbers
import struct
from typing import Any, Dict, List, Sequence, Tuple, Union

import numpy as np

from ferrometrics.collection import MetricCollection, _bind_inputs
from ferrometrics.metric import Metric


_BYTES_MAGIC = b"FMW1"


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
        first, second = self._bind_two_inputs(args, kwargs)
        self._update(first, second)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Return the value of this batch alone and add the batch to the state."""
        first, second = self._bind_two_inputs(args, kwargs)
        return self._forward(first, second)

    def _bind_two_inputs(self, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Tuple[Any, Any]:
        inputs = _bind_inputs(self._base_for_inputs, args, kwargs)
        if len(inputs) != 2:
            raise TypeError(
                f"{type(self).__name__} wraps metrics that take two inputs, but "
                f"{type(self._base_for_inputs).__name__} takes {len(inputs)}"
            )
        return inputs[0], inputs[1]

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

def _to_numpy(value: Any) -> np.ndarray:
    """Return an input as a numpy array, converting a CPU torch tensor without importing torch."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return value.detach().cpu().numpy()
    return np.asarray(value)

def _reject_kwargs(wrapper: str, kwargs: Dict[str, Any]) -> None:
    if kwargs:
        names = ", ".join(sorted(kwargs))
        raise ValueError(
            f"{wrapper} got unexpected keyword arguments: {names}; ferrometrics metrics take no "
            "distributed-sync or device options"
        )

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
