"""``MetricCollection``: several metrics updated with the same batches and computed together."""

from __future__ import annotations

import copy
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from ferrometrics.metric import Metric

__all__ = ["MetricCollection"]

Metrics = Union[Metric, Sequence[Metric], Dict[str, Metric]]


class MetricCollection:
    """Metrics that take the same batches, computed into one flat dict, as in TorchMetrics.

    ``metrics`` is a metric, a sequence of metrics (named by their class names) or a dict of
    metrics (added in sorted key order). ``prefix`` and ``postfix`` decorate every output key.

    With ``compute_groups=True``, members whose states are identical by construction, such as
    the extrinsic clustering metrics that all keep one contingency table, form a group: only the
    first member of a group is updated, and the others compute from its state. A list of lists
    of member names sets the groups explicitly, and ``False`` updates every member.

    Indexing (``collection["RandScore"]``), ``items()`` and ``values()`` return detached copies
    of the members, as TorchMetrics does with its default ``copy_state=True``. A copy contains the
    member's current state, or a copy of its group's state, so updating, resetting or merging
    into it leaves the collection unchanged. ``items(copy_state=False)`` and
    ``values(copy_state=False)`` return the members themselves.

    Dict-valued results are flattened into the output. When two output keys would collide, the
    keys of every dict-valued member get the member's name and ``_`` in front.
    """

    def __init__(
        self,
        metrics: Metrics,
        *additional_metrics: Metric,
        prefix: Optional[str] = None,
        postfix: Optional[str] = None,
        compute_groups: Union[bool, List[List[str]]] = True,
    ) -> None:
        self.prefix = _check_affix("prefix", prefix)
        self.postfix = _check_affix("postfix", postfix)
        if not isinstance(compute_groups, (bool, list)):
            raise ValueError(
                "invalid value for `compute_groups`: expected a bool or a list of lists of "
                f"member names, got {compute_groups!r}"
            )
        self._enable_compute_groups = compute_groups
        self._members: Dict[str, Metric] = {}
        self._groups: List[List[str]] = []
        self.add_metrics(metrics, *additional_metrics)

    def add_metrics(self, metrics: Metrics, *additional_metrics: Metric) -> None:
        """Add metrics, then rebuild the compute groups."""
        if isinstance(metrics, Metric):
            metrics = [metrics]
        if isinstance(metrics, dict):
            if additional_metrics:
                raise ValueError(
                    "invalid value for `additional_metrics`: pass further metrics inside the "
                    "dict, because metrics after a dict have no names"
                )
            named = [(name, metrics[name]) for name in sorted(metrics)]
        elif isinstance(metrics, Sequence):
            named = [(type(metric).__name__, metric) for metric in [*metrics, *additional_metrics]]
        else:
            raise ValueError(
                "invalid value for `metrics`: expected a metric, a sequence of metrics or a dict "
                f"of metrics, got {type(metrics).__name__}"
            )
        # Every name is checked before the first is added, so that a rejected call leaves the
        # collection as it was.
        taken = set(self._members)
        for name, metric in named:
            self._check_member(name, metric, taken)
            taken.add(name)
        for name, metric in named:
            self._members[name] = metric
        self._build_groups()

    def _check_member(self, name: str, metric: Any, taken: Any) -> None:
        if not isinstance(metric, Metric):
            raise ValueError(
                f"invalid value for `metrics`: {name!r} is a {type(metric).__name__}, "
                "not a ferrometrics Metric"
            )
        if not isinstance(name, str) or not name:
            raise ValueError(
                f"invalid value for `metrics`: member names must be non-empty strings, got {name!r}"
            )
        if name in taken:
            raise ValueError(
                f"invalid value for `metrics`: two metrics are named {name!r}; pass a dict to "
                "give them distinct names"
            )

    def _build_groups(self) -> None:
        for metric in self._members.values():
            metric._state_owner = None

        if self._enable_compute_groups is False:
            groups = [[name] for name in self._members]
        elif self._enable_compute_groups is True:
            groups = self._detect_groups()
        else:
            groups = self._check_groups(self._enable_compute_groups)

        for group in groups:
            leader = self._members[group[0]]
            for name in group[1:]:
                self._members[name]._state_owner = leader
        self._groups = groups

    def _detect_groups(self) -> List[List[str]]:
        groups: List[List[str]] = []
        leader_of_key: Dict[Tuple[str, str], List[str]] = {}
        for name, metric in self._members.items():
            key = metric._native.shared_state_key()
            if key is None:
                groups.append([name])
                continue
            group_key = (key, metric._native.input_kind)
            if group_key in leader_of_key:
                leader_of_key[group_key].append(name)
            else:
                group = [name]
                leader_of_key[group_key] = group
                groups.append(group)
        return groups

    def _check_groups(self, requested: List[List[str]]) -> List[List[str]]:
        grouped = [name for group in requested for name in group]
        unknown = [name for name in grouped if name not in self._members]
        if unknown:
            raise ValueError(
                f"invalid value for `compute_groups`: no members named {unknown}; the members "
                f"are {list(self._members)}"
            )
        if len(set(grouped)) != len(grouped):
            raise ValueError("invalid value for `compute_groups`: a member is in two groups")
        for group in requested:
            keys = {self._members[name]._native.shared_state_key() for name in group}
            if len(group) > 1 and (len(keys) != 1 or None in keys):
                raise ValueError(
                    f"invalid value for `compute_groups`: the members {group} do not share one "
                    "state, so they cannot form a compute group"
                )
        groups = [list(group) for group in requested if group]
        groups += [[name] for name in self._members if name not in grouped]
        return groups

    @property
    def compute_groups(self) -> Dict[int, List[str]]:
        """Groups of member names sharing one state, each led by the member that is updated."""
        return dict(enumerate(copy.deepcopy(self._groups)))

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Add one batch to every member.

        If any member rejects the batch, no member changes.
        """
        batches = self._update_batches(args, kwargs)
        self._merge_batches(batches)

    def forward(self, *args: Any, **kwargs: Any) -> Dict[str, Any]:
        """Return every member's value on this batch alone and add the batch to the states."""
        batches = self._update_batches(args, kwargs)
        values = self._compute_members(batches)
        self._merge_batches(batches)
        return values

    def __call__(self, *args: Any, **kwargs: Any) -> Dict[str, Any]:
        return self.forward(*args, **kwargs)

    def compute(self) -> Dict[str, Any]:
        """Return every member's value as one flat dict, in member order."""
        states = {group[0]: self._members[group[0]]._native for group in self._groups}
        return self._compute_members(states)

    def reset(self) -> None:
        """Clear every member's state."""
        for metric in self._members.values():
            metric._native.reset()
            metric._update_count = 0

    def merge_state(self, incoming: "MetricCollection") -> None:
        """Fold the states of a collection with the same members into this one.

        Each member's ``update_count`` grows by the count of its counterpart in ``incoming``, as
        ``Metric.merge_state`` does for a single metric. TorchMetrics 1.x leaves the count of
        the target unchanged in ``Metric.merge_state``, and its ``MetricCollection`` has no
        ``merge_state``.
        """
        if not isinstance(incoming, MetricCollection):
            raise TypeError(
                f"merge_state expects a MetricCollection, got {type(incoming).__name__}"
            )
        if list(incoming._members) != list(self._members):
            raise ValueError(
                f"cannot merge collections with members {list(incoming._members)} and "
                f"{list(self._members)}"
            )
        merged = {}
        for name, metric in self._members.items():
            # A member of a compute group reads its leader's state, so only the members that
            # own a state merge, and each reads the state that its counterpart reads. Where the
            # counterpart reads the shared state of a leader of another class, the member folds
            # that shared state into its own. Every merge runs on a copy, so a rejected one
            # leaves the collection unchanged.
            if metric._state_owner is not None:
                continue
            native = metric._native.clone()
            owner = incoming._members[name]._state_owner
            if owner is not None and type(owner) is not type(metric):
                try:
                    native.merge_shared(owner._native)
                except ValueError as error:
                    raise ValueError(
                        f"cannot merge the state of member {name!r}, which reads the state of "
                        f"{type(owner).__name__} through a compute group: {error}"
                    ) from error
            else:
                native.merge(incoming._members[name]._state_native())
            merged[name] = native
        for name, native in merged.items():
            self._members[name]._native = native
        for name, metric in self._members.items():
            metric._update_count += incoming._members[name]._update_count

    def state_dict(
        self,
        destination: Optional[Dict[str, Any]] = None,
        prefix: str = "",
        keep_vars: bool = False,
    ) -> Dict[str, Any]:
        """Return every member's state under ``prefix + name + "."``."""
        if destination is None:
            destination = {}
        for name, metric in self._members.items():
            metric.state_dict(destination, prefix=f"{prefix}{name}.", keep_vars=keep_vars)
        return destination

    def load_state_dict(self, state_dict: Dict[str, Any], strict: bool = True) -> None:
        """Replace every member's state with the one stored under its name.

        Only the members that own a state load (in a compute group, its first member), and
        every one is loaded before any state changes, so a rejected dict leaves the collection
        as it was. A dict saved with ``compute_groups=True`` holds each group's shared state
        under every member, so it loads only into a collection with the same groups.
        """
        loaded = {}
        for name, metric in self._members.items():
            if metric._state_owner is not None:
                continue
            member_state = {
                key[len(name) + 1:]: value
                for key, value in state_dict.items()
                if key.startswith(f"{name}.")
            }
            trial = copy.deepcopy(metric)
            try:
                trial.load_state_dict(member_state, strict=strict)
            except ValueError as error:
                raise ValueError(
                    f"cannot load the state of member {name!r}: {error}. If the dict comes "
                    "from a collection with other compute_groups, build this one with the same "
                    "compute_groups"
                ) from error
            loaded[name] = trial._native
        for name, native in loaded.items():
            self._members[name]._native = native

    def keys(self, keep_base: bool = False) -> List[str]:
        """Return the member names, with the prefix and postfix unless ``keep_base``."""
        if keep_base:
            return list(self._members)
        return [self._decorate(name) for name in self._members]

    def items(self, keep_base: bool = False, copy_state: bool = True) -> List[Tuple[str, Metric]]:
        """Return ``(name, metric)`` pairs, with the prefix and postfix unless ``keep_base``.

        With ``copy_state`` (the default) each metric is a detached copy, as ``__getitem__``
        returns. With ``copy_state=False`` the pairs hold the collection's own members, and a
        member of a compute group reads and updates its group's shared state.
        """
        return list(zip(self.keys(keep_base), self.values(copy_state)))

    def values(self, copy_state: bool = True) -> List[Metric]:
        """Return the members in order, as detached copies unless ``copy_state`` is ``False``."""
        if copy_state:
            return [self._detached(name) for name in self._members]
        return list(self._members.values())

    def __getitem__(self, key: str) -> Metric:
        """Return a detached copy of the member named ``key``, with or without the affixes."""
        if key in self._members:
            return self._detached(key)
        for name in self._members:
            if self._decorate(name) == key:
                return self._detached(name)
        raise KeyError(key)

    def _detached(self, name: str) -> Metric:
        # A deep copy also copies the group leader that a grouped member reads, so the copy
        # computes the member's current value and shares no state with the collection.
        return copy.deepcopy(self._members[name])

    def __contains__(self, key: object) -> bool:
        return key in self._members

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._members)

    def clone(
        self, prefix: Optional[str] = None, postfix: Optional[str] = None
    ) -> "MetricCollection":
        """Return a deep copy, optionally with another prefix or postfix."""
        copied = copy.deepcopy(self)
        if prefix is not None:
            copied.prefix = _check_affix("prefix", prefix)
        if postfix is not None:
            copied.postfix = _check_affix("postfix", postfix)
        return copied

    def __repr__(self) -> str:
        lines = [f"  ({name}): {metric!r}" for name, metric in self._members.items()]
        affixes = ""
        if self.prefix:
            affixes += f",\n  prefix={self.prefix}"
        if self.postfix:
            affixes += f",\n  postfix={self.postfix}"
        return "MetricCollection(\n" + "\n".join(lines) + affixes + "\n)"

    def _update_batches(self, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Dict[str, Any]:
        """Update an empty copy of each group leader with the batch, keyed by leader name."""
        batches = {}
        for group in self._groups:
            leader = self._members[group[0]]
            batch = leader._native.empty_copy()
            # Members take their update arguments by position, so keywords are mapped through
            # the leader's own signature.
            inputs = _bind_inputs(leader, args, kwargs)
            for name in group:
                self._members[name]._validate_batch(inputs[0], inputs[1])
            batch.update(*inputs)
            batches[group[0]] = batch
        return batches

    def _merge_batches(self, batches: Dict[str, Any]) -> None:
        for name, batch in batches.items():
            leader = self._members[name]
            before = leader._native.nan_count
            leader._native.merge(batch)
            if before is not None:
                leader._report_nan(leader._native.nan_count - before)
            leader._update_count += 1
            for member_name in self._group_of(name)[1:]:
                self._members[member_name]._update_count += 1

    def _group_of(self, leader: str) -> List[str]:
        for group in self._groups:
            if group[0] == leader:
                return group
        raise KeyError(leader)

    def _compute_members(self, states: Dict[str, Any]) -> Dict[str, Any]:
        """Compute each member from its group leader's state in ``states``, then flatten."""
        values: List[Tuple[str, Any]] = []
        for group in self._groups:
            state = states[group[0]]
            leader = self._members[group[0]]
            values.append((group[0], leader._finish_output(state.compute(), state)))
            for name in group[1:]:
                member = self._members[name]
                value = member._native.compute_shared(state)
                values.append((name, member._finish_output(value, state)))
        order = {name: index for index, name in enumerate(self._members)}
        values.sort(key=lambda item: order[item[0]])
        return self._flatten(values)

    def _flatten(self, values: List[Tuple[str, Any]]) -> Dict[str, Any]:
        seen = set()
        collision = False
        for name, value in values:
            keys = list(value) if isinstance(value, dict) else [name]
            for key in keys:
                collision |= key in seen
                seen.add(key)

        flat: Dict[str, Any] = {}
        for name, value in values:
            if isinstance(value, dict):
                for key, entry in value.items():
                    key = f"{name}_{key}" if collision else key
                    self._put(flat, self._decorate(key), entry)
            else:
                self._put(flat, self._decorate(name), value)
        return flat

    @staticmethod
    def _put(flat: Dict[str, Any], key: str, value: Any) -> None:
        if key in flat:
            raise ValueError(
                f"two members produce the output key {key!r} even with member names before "
                "their keys; rename one member"
            )
        flat[key] = value

    def _decorate(self, key: str) -> str:
        return f"{self.prefix}{key}{self.postfix}"


def _check_affix(argument: str, value: Optional[str]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"invalid value for `{argument}`: expected a string, got {value!r}")
    return value


def _bind_inputs(metric: Metric, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> List[Any]:
    """Map the positional and keyword arguments of an update to the native inputs, two for most
    metrics and three for those that take weights or groups."""
    names = _INPUT_NAMES[metric._native.input_kind]
    inputs = list(args)
    if len(inputs) > len(names):
        raise TypeError(f"update takes at most {len(names)} inputs, got {len(inputs)}")
    for position, name in enumerate(names):
        if name in kwargs:
            if position < len(inputs):
                raise TypeError(f"update got two values for `{name}`")
            while len(inputs) < position:
                inputs.append(None)
            inputs.append(kwargs[name])
    unknown = set(kwargs) - set(names)
    if unknown:
        raise TypeError(f"update got unexpected keyword arguments: {sorted(unknown)}")
    if not inputs:
        raise TypeError(f"update is missing the input `{names[0]}`")
    inputs += [None] * (len(names) - len(inputs))
    return inputs


_INPUT_NAMES = {
    "label_pairs": ("preds", "target"),
    "data_labels": ("data", "labels"),
    "weighted_values": ("value", "weight"),
    "detection": ("preds", "target"),
    "regression": ("preds", "target"),
    "distributions": ("p", "q"),
    "multitask": ("task_preds", "task_targets"),
    "classification": ("preds", "target"),
    "grouped": ("preds", "target", "groups"),
    "weighted_regression": ("preds", "target", "weights"),
}
