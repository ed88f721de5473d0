"""`BootStrapper`: bootstrap estimates of any metric by resampling every batch."""

from __future__ import annotations

import copy
import numbers
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ferrometrics._native import bootstrap_sample_indices, bootstrap_update_terms
from ferrometrics.collection import _INPUT_NAMES
from ferrometrics.metric import Metric
from ferrometrics.wrappers._base import (
    _check_flag,
    _check_metric,
    _check_positive_int,
    _empty,
    _Engine,
    _reject_kwargs,
    _to_array,
    _to_numpy,
    _to_python,
    _WrapperMetric,
)

# Largest `num_bootstraps`, as in the Rust `BootStrapper`.
_MAX_BOOTSTRAPS = 1 << 20

_STRATEGIES = ("poisson", "multinomial")

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


def _is_per_sample(second: Any, first: Any, input_kind: str) -> bool:
    """Return whether the second input has one entry per sample along the first axis.

    Labels and targets always do. A weight does unless it broadcasts over the samples: a
    scalar, fewer axes than the values, or a first axis of length 1.
    """
    if input_kind != "weighted_values":
        return True
    if isinstance(second, list) or isinstance(first, list):
        return isinstance(second, list)
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

    def _update_with_terms(self, first: Any, second: Any) -> bool:
        """Update every replicate natively from the base metric's per-sample terms, weighted by
        the replicate's Poisson counts, without gathering resamples. Return False, with nothing
        changed, if the base metric has no such terms."""
        if self.options["sampling_strategy"] != "poisson":
            return False
        if self.input_kind == "regression":
            if second is None:
                return False
        elif self.input_kind != "weighted_values":
            return False
        self._base._validate_batch(first, second)
        drawn = bootstrap_update_terms(
            self._base._native,
            [replicate._native for replicate in self.replicates],
            self.options["seed"],
            self.next_batch,
            _to_numpy(first),
            None if second is None else _to_numpy(second),
        )
        if drawn is None:
            return False
        for index, count in enumerate(drawn):
            if count > 0:
                self.replicates[index]._update_count += 1
                self.drawn[index] += count
        self.next_batch += 1
        return True

    def update(self, first: Any, second: Any = None) -> None:
        if self._update_with_terms(first, second):
            self._warn_on_nan(first, second, None)
            return
        probe = _empty(self._base)
        probe._update(first, second)
        self._warn_on_nan(first, second, probe)
        first = _as_samples(first)
        first_name, second_name = _INPUT_NAMES.get(self.input_kind, ("preds", "target"))
        samples = _num_samples(first, first_name)
        input_kind = self.input_kind
        per_sample = second is not None and _is_per_sample(_as_samples(second), first, input_kind)
        if per_sample:
            second = _as_samples(second)
            second_samples = _num_samples(second, second_name)
            if second_samples != samples:
                raise ValueError(
                    f"invalid input `{second_name}`: it has {second_samples} samples but "
                    f"`{first_name}` has {samples}; pass inputs of equal length"
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

    def _warn_on_nan(self, first: Any, second: Any, probe: Optional[Metric]) -> None:
        """Warn as the base metric's own update does when its ``nan_strategy="warn"`` drops NaN
        values of the batch. ``probe`` is an empty base metric already updated with the batch,
        or None to update one here. The replicates drop the same values where they draw them,
        so the count is that of the whole batch."""
        if getattr(self._base, "nan_strategy", None) != "warn":
            return
        if probe is None:
            probe = _empty(self._base)
            probe._update(first, second)
        self._base._report_nan(probe._native.nan_count)

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
    # Only real numbers are levels: numpy would also parse the string "0.5" or read True as 1.
    try:
        levels = np.asarray(quantile)
    except (TypeError, ValueError):
        levels = None
    if levels is not None and levels.dtype.kind in "iuf":
        levels = levels.astype(np.float64)
    else:
        levels = None
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

    Under Poisson sampling, a native base metric whose state is a sum of per-sample terms
    (``MeanSquaredError``, ``MeanAbsoluteError``, ``MeanSquaredLogError``, ``LogCoshError``,
    ``MeanAbsolutePercentageError``, ``SymmetricMeanAbsolutePercentageError``, ``MeanMetric``
    and ``SumMetric``) is updated in Rust without copying resamples:
    each replicate adds each sample's term times the number of times it draws the sample. The
    draws are the same as for other metrics, and the replicate values match a copied resample
    up to summation order (within 1e-12 relative).

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

        num_bootstraps = _check_positive_int(
            "num_bootstraps", num_bootstraps, "pass a positive number of replicates"
        )
        if num_bootstraps > _MAX_BOOTSTRAPS:
            raise ValueError(
                f"invalid value for `num_bootstraps`: got {num_bootstraps}, more than the "
                f"{_MAX_BOOTSTRAPS} supported, because every replicate keeps a copy of the base "
                "metric; pass fewer replicates"
            )
        options = {
            "num_bootstraps": num_bootstraps,
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
