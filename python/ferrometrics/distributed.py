"""Sync a metric or a collection over the processes of a distributed run.

``sync`` gathers the pickled metric of every rank with ``torch.distributed.all_gather_object``
or mpi4py's ``allgather``, and merges the states in rank order, rank 0 first, into an empty copy
of the local metric. Every rank gets the same state, and it equals one update over the data of
all ranks in rank order. Neither torch nor mpi4py is a dependency of ferrometrics: ``sync`` uses
whichever is installed and, for torch, initialized.

Example, under ``mpirun -n 4 python script.py`` with mpi4py installed::

    from ferrometrics.aggregation import SumMetric
    from ferrometrics.distributed import sync
    from mpi4py import MPI

    metric = SumMetric()
    metric.update(float(MPI.COMM_WORLD.Get_rank()))
    print(sync(metric, backend="mpi4py").compute())   # 6.0 on every rank
"""

from __future__ import annotations

import copy
import importlib
from typing import Any, List, Optional, TypeVar, Union

from ferrometrics.collection import MetricCollection
from ferrometrics.metric import Metric

__all__ = ["sync"]

Syncable = TypeVar("Syncable", Metric, MetricCollection)

_NO_BACKEND = (
    "sync needs a way to reach the other processes: initialize torch.distributed "
    "(torch.distributed.init_process_group), install mpi4py (pip install mpi4py, which builds "
    "against an installed MPI such as Open MPI), or pass a communicator object with an "
    "allgather(obj) method as backend"
)


def sync(
    metric: Syncable,
    backend: Union[str, Any, None] = None,
    group: Any = None,
) -> Syncable:
    """Return a copy of ``metric`` holding the merged states of every rank, in rank order.

    ``metric`` is a ``Metric`` or a ``MetricCollection``, and it is left unchanged. Every rank
    must call ``sync`` with a metric of the same class and configuration.

    ``backend`` selects the transport:

    - ``None`` uses ``torch.distributed`` when it is installed and initialized, else mpi4py's
      ``MPI.COMM_WORLD`` when mpi4py is installed;
    - ``"torch"`` uses ``torch.distributed.all_gather_object`` over ``group`` (the default
      group when ``None``);
    - ``"mpi4py"`` uses ``group.allgather``, where ``group`` is an mpi4py communicator
      (``MPI.COMM_WORLD`` when ``None``);
    - any other object is used as the communicator itself: ``backend.allgather(obj)`` must
      return the objects of every rank, indexed by rank.

    Raises ``ImportError`` when no backend is available, ``ValueError`` naming the rank whose
    state is not a metric of this class and configuration, and ``TypeError`` when ``metric`` is
    neither a metric nor a collection.
    """
    if not isinstance(metric, (Metric, MetricCollection)):
        raise TypeError(
            f"sync expects a ferrometrics Metric or MetricCollection, got {type(metric).__name__}"
        )
    gathered = _all_gather(metric, backend, group)

    merged = copy.deepcopy(metric)
    merged.reset()
    for rank, incoming in enumerate(gathered):
        if type(incoming) is not type(metric):
            raise ValueError(
                f"state from rank {rank}: expected a {type(metric).__name__}, got "
                f"{type(incoming).__name__}; call sync with the same metric on every rank"
            )
        try:
            merged.merge_state(incoming)
        except (ValueError, TypeError) as error:
            raise ValueError(f"state from rank {rank}: {error}") from error
    return merged


def _all_gather(metric: Any, backend: Union[str, Any, None], group: Any) -> List[Any]:
    if backend is None:
        backend = _default_backend()
    if backend == "torch":
        return _torch_all_gather(metric, group)
    if backend == "mpi4py":
        communicator = group if group is not None else _mpi4py().MPI.COMM_WORLD
        return _gathered_list(communicator.allgather(metric), type(communicator).__name__)
    if isinstance(backend, str):
        raise ValueError(
            f"invalid backend {backend!r}; use 'torch', 'mpi4py', None, or a communicator "
            "object with an allgather(obj) method"
        )
    if not callable(getattr(backend, "allgather", None)):
        raise TypeError(
            f"backend {type(backend).__name__} has no allgather(obj) method; pass 'torch', "
            "'mpi4py', None or a communicator with allgather"
        )
    return _gathered_list(backend.allgather(metric), type(backend).__name__)


def _gathered_list(gathered: Any, communicator: str) -> List[Any]:
    """Check that a communicator's ``allgather`` returned one object per rank."""
    try:
        return list(gathered)
    except TypeError:
        raise TypeError(
            f"{communicator}.allgather(obj) returned {type(gathered).__name__}, not a list with "
            "the object of every rank; return the gathered objects, indexed by rank"
        ) from None


def _default_backend() -> str:
    distributed = _optional_module("torch.distributed")
    if distributed is not None and distributed.is_available() and distributed.is_initialized():
        return "torch"
    if _optional_module("mpi4py") is not None:
        return "mpi4py"
    raise ImportError(_NO_BACKEND)


def _torch_all_gather(metric: Any, group: Any) -> List[Any]:
    distributed = _optional_module("torch.distributed")
    if distributed is None:
        raise ImportError(f"backend 'torch' needs torch, which is not installed; {_NO_BACKEND}")
    if not (distributed.is_available() and distributed.is_initialized()):
        raise RuntimeError(
            "backend 'torch' needs an initialized process group; call "
            "torch.distributed.init_process_group first"
        )
    gathered: List[Optional[Any]] = [None] * distributed.get_world_size(group)
    distributed.all_gather_object(gathered, metric, group=group)
    return gathered


def _mpi4py() -> Any:
    module = _optional_module("mpi4py")
    if module is None:
        raise ImportError(f"backend 'mpi4py' needs mpi4py, which is not installed; {_NO_BACKEND}")
    importlib.import_module("mpi4py.MPI")
    return module


def _optional_module(name: str) -> Optional[Any]:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None
