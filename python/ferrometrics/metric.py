"""The ``Metric`` base class shared by every metric of the package."""

from __future__ import annotations

import copy
import math
from typing import Any, ClassVar, Dict, Optional, Union

import numpy as np

from ferrometrics._native import NativeMetric

__all__ = ["Metric"]

_STATE_KEY = "state"


class Metric:
    """Base class of ferrometrics metrics, with TorchMetrics' ``Metric`` interface.

    A metric accumulates batches with ``update``, returns its value with ``compute``, and returns
    the value of one batch while accumulating it with ``forward`` (or by calling the metric).
    The state lives in the native library. It merges with ``merge_state``, and it serializes for
    ``state_dict``, ``load_state_dict`` and pickling, so that states from several processes can
    be gathered and merged.

    Subclasses set ``_native_name`` to the native class name. The facts (``higher_is_better``,
    ``is_differentiable``, ``plot_lower_bound``, ``plot_upper_bound``) are read from the native
    metric when the subclass is defined.
    """

    _native_name: ClassVar[Optional[str]] = None
    full_state_update: ClassVar[bool] = False
    higher_is_better: ClassVar[Optional[bool]] = None
    is_differentiable: ClassVar[bool] = False
    plot_lower_bound: ClassVar[Optional[float]] = None
    plot_upper_bound: ClassVar[Optional[float]] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("_native_name") is None:
            return
        # Classes whose native form needs arguments (such as num_classes) give probe values.
        facts = NativeMetric(cls._native_name, cls.__dict__.get("_probe_options"))
        cls.higher_is_better = facts.higher_is_better
        cls.is_differentiable = facts.is_differentiable
        cls.plot_lower_bound = facts.lower_bound if math.isfinite(facts.lower_bound) else None
        cls.plot_upper_bound = facts.upper_bound if math.isfinite(facts.upper_bound) else None

    def __init__(self, options: Dict[str, Any], kwargs: Dict[str, Any]) -> None:
        if kwargs:
            names = ", ".join(sorted(kwargs))
            raise ValueError(
                f"{type(self).__name__} got unexpected keyword arguments: {names}; "
                "ferrometrics metrics take no distributed-sync or device options"
            )
        self._options = dict(options)
        self._native = NativeMetric(self._native_name, self._options)
        self._update_count = 0
        # The metric of a compute group whose state this metric reads, set by MetricCollection.
        self._state_owner: Optional[Metric] = None

    @property
    def update_count(self) -> int:
        """Number of batches passed to ``update`` or ``forward`` since the last reset."""
        return self._update_count

    @property
    def update_called(self) -> bool:
        """Whether ``update`` or ``forward`` ran since the last reset."""
        return self._update_count > 0

    def _validate_batch(self, first: Any, second: Any) -> None:
        """Check a batch before the native metric receives it. The default checks nothing."""

    def _check_incoming(self, incoming_state: Any, other_native: NativeMetric) -> None:
        """Check a state before ``merge_state`` folds it in. The default checks nothing."""

    def _finish_output(self, value: Any, native: Any) -> Any:
        """Convert a value that ``native``, the native state it came from, computed into the form
        the class returns. The default returns it unchanged."""
        return value

    def _report_nan(self, dropped: int) -> None:
        """React to ``dropped`` NaN values that the native NaN strategy removed from a batch."""

    def _update(self, first: Any, second: Any = None) -> None:
        self._validate_batch(first, second)
        if self._state_owner is not None:
            self._state_owner._update(first, second)
        else:
            self._native.update(first, second)
        self._update_count += 1

    def _forward(self, first: Any, second: Any = None) -> Any:
        self._validate_batch(first, second)
        owner = self._state_owner
        if owner is None:
            value = self._native.forward(first, second)
            native = self._native
        else:
            batch = owner._native.empty_copy()
            batch.update(first, second)
            value = self._native.compute_shared(batch)
            owner._native.merge(batch)
            owner._update_count += 1
            native = batch
        self._update_count += 1
        return self._finish_output(value, native)

    def compute(self) -> Any:
        """Compute the metric's value from every batch accumulated since the last reset."""
        if self._state_owner is not None:
            owner = self._state_owner._native
            return self._finish_output(self._native.compute_shared(owner), owner)
        return self._finish_output(self._native.compute(), self._native)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def reset(self) -> None:
        """Clear the state, keeping the configuration."""
        if self._state_owner is not None:
            self._state_owner.reset()
        self._native.reset()
        self._update_count = 0

    def merge_state(self, incoming_state: Union["Metric", Dict[str, Any]]) -> None:
        """Fold another metric's state into this one.

        ``incoming_state`` is a metric of the same class and configuration, or a dict returned
        by its ``state_dict``.
        """
        if isinstance(incoming_state, Metric):
            if type(incoming_state) is not type(self):
                raise ValueError(
                    f"cannot merge a {type(incoming_state).__name__} state into a "
                    f"{type(self).__name__} state"
                )
            other_native = incoming_state._state_native()
            other_count = incoming_state._update_count
        elif isinstance(incoming_state, dict):
            other_native = self._state_native().clone()
            other_native.load_bytes(_read_state(incoming_state, "", type(self).__name__))
            other_count = 0
        else:
            raise TypeError(
                "merge_state expects a metric or a dict from state_dict, got "
                f"{type(incoming_state).__name__}"
            )
        self._check_incoming(incoming_state, other_native)
        # NOTE: a member of a compute group keeps its state in the group leader, which may be
        # another class. Such a state merges only with a state of the same leader class, and
        # other merges raise ValueError.
        self._state_native().merge(other_native)
        self._update_count += other_count

    def _state_native(self) -> NativeMetric:
        """Return the native metric that stores this metric's state."""
        if self._state_owner is not None:
            return self._state_owner._native
        return self._native

    def state_dict(
        self,
        destination: Optional[Dict[str, Any]] = None,
        prefix: str = "",
        keep_vars: bool = False,
    ) -> Dict[str, Any]:
        """Return the configuration and state as ``{prefix + "state": bytes}``.

        ``keep_vars`` exists for TorchMetrics' signature and has no effect, because the state is
        always serialized.
        """
        del keep_vars
        if destination is None:
            destination = {}
        destination[prefix + _STATE_KEY] = bytes(self._state_native().to_bytes())
        return destination

    def load_state_dict(self, state_dict: Dict[str, Any], strict: bool = True) -> None:
        """Replace the state with one from ``state_dict`` of a metric of the same configuration.

        With ``strict=False`` a dict without a state leaves the metric unchanged.
        """
        if _STATE_KEY not in state_dict and not strict:
            return
        self._state_native().load_bytes(_read_state(state_dict, "", type(self).__name__))

    def clone(self) -> "Metric":
        """Return a deep copy with the same configuration and state."""
        return copy.deepcopy(self)

    def __getstate__(self) -> Dict[str, Any]:
        state = self.__dict__.copy()
        state["_native"] = bytes(self._native.to_bytes())
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        state = dict(state)
        native_bytes = state.pop("_native")
        self.__dict__.update(state)
        self._native = NativeMetric(self._native_name, self._options)
        self._native.load_bytes(native_bytes)

    def __deepcopy__(self, memo: Dict[int, Any]) -> "Metric":
        copied = type(self).__new__(type(self))
        memo[id(self)] = copied
        for name, value in self.__dict__.items():
            if name == "_native":
                copied.__dict__[name] = value.clone()
            else:
                copied.__dict__[name] = copy.deepcopy(value, memo)
        return copied

    def __repr__(self) -> str:
        arguments = ", ".join(f"{name}={value!r}" for name, value in self._options.items())
        return f"{type(self).__name__}({arguments})"


def _read_state(state_dict: Dict[str, Any], prefix: str, metric: str) -> bytes:
    """Return the serialized state under ``prefix + "state"``, accepting only bytes-like values.

    ``bytes()`` of an integer allocates that many zero bytes, and ``bytes()`` of other objects
    gives errors that do not name the entry, so each accepted type is converted explicitly.
    """
    key = prefix + _STATE_KEY
    expected = f"the bytes that {metric}.state_dict() returns under {key!r}"
    if not isinstance(state_dict, dict):
        raise TypeError(f"expected a dict containing {expected}, got {type(state_dict).__name__}")
    if key not in state_dict:
        raise ValueError(
            f"invalid state dict for {metric}: missing the entry {key!r}; pass {expected}"
        )

    value = state_dict[key]
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, np.ndarray) and value.dtype == np.uint8 and value.ndim == 1:
        return value.tobytes()
    raise TypeError(
        f"invalid type for the entry {key!r} of the state dict of {metric}: expected bytes, "
        f"bytearray, memoryview or a 1-D numpy uint8 array, got {type(value).__name__}; "
        f"pass {expected}"
    )
