"""``ferrometrics.distributed.sync`` over an in-process group of threads, and over stand-ins for
torch.distributed and mpi4py, neither of which the tests need installed.

For metrics of each domain and for a collection, the synced value on every rank equals one
process's value over all the data, for 1, 2 and 4 ranks with even shards, uneven shards and
one rank without data.
"""

from __future__ import annotations

import pickle
import shutil
import subprocess
import sys
import threading
import types
from pathlib import Path
from typing import Any, Callable, List, Sequence

import numpy as np
import pytest

from conftest import mpi_environment
from ferrometrics import MetricCollection, aggregation, clustering, distributed
from ferrometrics.detection import MeanAveragePrecision

RANK_COUNTS = [1, 2, 4]


class ThreadGroup:
    """Ranks as threads that exchange pickled objects, as mpi4py's ``allgather`` does."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.barrier = threading.Barrier(size, timeout=60)
        self.slots: List[bytes] = [b""] * size

    def communicator(self, rank: int) -> "ThreadCommunicator":
        return ThreadCommunicator(self, rank)


class ThreadCommunicator:
    def __init__(self, group: ThreadGroup, rank: int) -> None:
        self.group = group
        self.rank = rank

    def allgather(self, obj: Any) -> List[Any]:
        self.group.slots[self.rank] = pickle.dumps(obj)
        self.group.barrier.wait()
        gathered = [pickle.loads(blob) for blob in self.group.slots]
        self.group.barrier.wait()
        return gathered


def run_ranks(size: int, work: Callable[[int, ThreadCommunicator], Any]) -> List[Any]:
    """Run ``work(rank, communicator)`` on one thread per rank and return the results by rank,
    re-raising the first exception."""
    group = ThreadGroup(size)
    results: List[Any] = [None] * size
    errors: List[BaseException] = []

    def target(rank: int) -> None:
        try:
            results[rank] = work(rank, group.communicator(rank))
        except BaseException as error:  # re-raised below, in the test's thread
            errors.append(error)
            group.barrier.abort()

    threads = [threading.Thread(target=target, args=(rank,)) for rank in range(size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def layouts(n: int, size: int) -> List[List[slice]]:
    """Contiguous shards: even, growing with the rank, and with one rank without data."""

    def split(weights: Sequence[int]) -> List[slice]:
        total = sum(weights)
        bounds = [n * sum(weights[:i]) // total for i in range(len(weights) + 1)]
        return [slice(bounds[i], bounds[i + 1]) for i in range(len(weights))]

    result = [split([1] * size), split([(rank + 1) ** 2 for rank in range(size)])]
    if size > 1:
        weights = [1] * size
        weights[size // 2] = 0
        result.append(split(weights))
    return result


def assert_close(actual: Any, expected: Any, rtol: float, context: str = "") -> None:
    """Assert that two results (floats, arrays or dicts of them) agree within ``rtol`` relative,
    exactly when ``rtol`` is 0."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{context}: {actual!r} is not a dict"
        assert list(actual) == list(expected), f"{context}: keys"
        for key in expected:
            assert_close(actual[key], expected[key], rtol, f"{context}, key {key}")
        return
    actual_array = np.asarray(actual, dtype=float)
    expected_array = np.asarray(expected, dtype=float)
    assert actual_array.shape == expected_array.shape, f"{context}: shape"
    if rtol == 0.0:
        np.testing.assert_array_equal(actual_array, expected_array, err_msg=context)
    else:
        np.testing.assert_allclose(actual_array, expected_array, rtol=rtol, atol=0, err_msg=context)


def check_sharded(make: Callable[[], Any], batches: Sequence[Any], update, tolerance: float):
    """Check that every rank's synced value equals one process's value over ``batches``."""
    single = make()
    for batch in batches:
        update(single, batch)
    expected = single.compute()

    for size in RANK_COUNTS:
        for shards in layouts(len(batches), size):

            def work(rank, communicator):
                local = make()
                for batch in batches[shards[rank]]:
                    update(local, batch)
                before = local.compute() if shards[rank].start < shards[rank].stop else None
                synced = distributed.sync(local, backend=communicator)
                if before is not None:
                    # sync returns a copy and leaves the local metric as it was.
                    assert_close(local.compute(), before, rtol=0.0)
                return synced.compute()

            for rank, value in enumerate(run_ranks(size, work)):
                assert_close(value, expected, tolerance, f"{size} ranks, rank {rank}")


def label_batches(seed: int, count: int) -> List[Any]:
    rng = np.random.default_rng(seed)
    return [(rng.integers(0, 6, size=7), rng.integers(0, 4, size=7)) for _ in range(count)]


def test_mean_metric_any_sharding():
    rng = np.random.default_rng(1)
    batches = [(rng.normal(size=5) * 1e3, rng.uniform(0.1, 2.0, size=5)) for _ in range(13)]
    check_sharded(
        aggregation.MeanMetric,
        batches,
        lambda metric, batch: metric.update(batch[0], batch[1]),
        1e-12,
    )


def test_cat_metric_keeps_rank_order():
    rng = np.random.default_rng(2)
    batches = [rng.normal(size=int(rng.integers(1, 4))) for _ in range(9)]
    check_sharded(aggregation.CatMetric, batches, lambda metric, batch: metric.update(batch), 0.0)


def test_extrinsic_clustering_any_sharding():
    check_sharded(
        clustering.AdjustedMutualInfoScore,
        label_batches(3, 11),
        lambda metric, batch: metric.update(*batch),
        0.0,
    )


def test_intrinsic_clustering_any_sharding():
    rng = np.random.default_rng(4)
    batches = []
    for _ in range(10):
        labels = rng.integers(0, 3, size=6)
        batches.append((rng.normal(size=(6, 2)) + labels[:, None] * 3.0, labels))
    check_sharded(
        clustering.CalinskiHarabaszScore,
        batches,
        lambda metric, batch: metric.update(*batch),
        1e-12,
    )


def detection_batches(seed: int, count: int) -> List[Any]:
    """One image per batch; scores are multiples of 0.05, so they tie across images."""
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(count):
        truths = int(rng.integers(0, 5))
        corner = rng.uniform(0, 300, size=(truths, 2))
        target_boxes = np.hstack([corner, corner + rng.uniform(10, 120, size=(truths, 2))])
        target_labels = rng.integers(0, 3, size=truths)
        keep = rng.uniform(size=truths) < 0.75
        pred_boxes = target_boxes[keep] + rng.uniform(0, 10, size=(int(keep.sum()), 1))
        preds = {
            "boxes": pred_boxes,
            "scores": rng.integers(0, 20, size=len(pred_boxes)) * 0.05,
            "labels": target_labels[keep],
        }
        batches.append(([preds], [{"boxes": target_boxes, "labels": target_labels}]))
    return batches


def test_mean_average_precision_any_sharding():
    check_sharded(
        MeanAveragePrecision,
        detection_batches(5, 24),
        lambda metric, batch: metric.update(*batch),
        0.0,
    )


def test_collection_with_compute_groups_any_sharding():
    def make():
        return MetricCollection(
            [clustering.RandScore(), clustering.MutualInfoScore(), clustering.FowlkesMallowsIndex()],
            prefix="val_",
        )

    check_sharded(make, label_batches(6, 9), lambda metric, batch: metric.update(*batch), 0.0)


def test_sync_keeps_update_counts():
    def work(rank, communicator):
        metric = aggregation.SumMetric()
        for _ in range(rank + 1):
            metric.update(1.0)
        return distributed.sync(metric, backend=communicator).update_count

    assert run_ranks(3, work) == [6, 6, 6]


def test_garbage_state_names_rank():
    def work(rank, communicator):
        if rank == 2:
            communicator.allgather("not a metric")
            return None
        with pytest.raises(ValueError, match="state from rank 2: expected a SumMetric, got str"):
            distributed.sync(aggregation.SumMetric(), backend=communicator)
        return "raised"

    assert run_ranks(3, work) == ["raised", "raised", None]


def test_other_configuration_names_rank():
    def work(rank, communicator):
        method = "arithmetic" if rank == 0 else "max"
        metric = clustering.NormalizedMutualInfoScore(average_method=method)
        with pytest.raises(ValueError, match=r"state from rank \d") as raised:
            distributed.sync(metric, backend=communicator)
        return str(raised.value)

    messages = run_ranks(2, work)
    assert messages[0].startswith("state from rank 1:")
    assert messages[1].startswith("state from rank 0:")


def test_collection_other_members_names_rank():
    def work(rank, communicator):
        members = [clustering.RandScore()] if rank == 0 else [clustering.MutualInfoScore()]
        with pytest.raises(ValueError, match="state from rank") as raised:
            distributed.sync(MetricCollection(members), backend=communicator)
        return str(raised.value)

    messages = run_ranks(2, work)
    assert "rank 1" in messages[0]
    assert "rank 0" in messages[1]


def test_non_metric_rejected():
    with pytest.raises(TypeError, match="Metric or MetricCollection"):
        distributed.sync([1, 2, 3], backend=ThreadGroup(1).communicator(0))


def test_unknown_backend_name_rejected():
    with pytest.raises(ValueError, match="invalid backend 'nccl'"):
        distributed.sync(aggregation.SumMetric(), backend="nccl")


def test_backend_without_allgather_rejected():
    with pytest.raises(TypeError, match="allgather"):
        distributed.sync(aggregation.SumMetric(), backend=object())


class NoneCommunicator:
    """A communicator whose ``allgather`` forgets to return the gathered objects."""

    def allgather(self, obj: Any) -> None:
        return None


def test_backend_allgather_returning_none_explains():
    with pytest.raises(TypeError, match=r"NoneCommunicator\.allgather.*returned NoneType"):
        distributed.sync(aggregation.SumMetric(), backend=NoneCommunicator())


@pytest.fixture
def no_optional_modules(monkeypatch):
    """Make torch and mpi4py look absent, whether or not they are installed."""
    monkeypatch.setattr(distributed, "_optional_module", lambda name: None)


@pytest.mark.usefixtures("no_optional_modules")
def test_no_backend_installed_explains():
    with pytest.raises(ImportError, match="install mpi4py"):
        distributed.sync(aggregation.SumMetric())


@pytest.mark.usefixtures("no_optional_modules")
@pytest.mark.parametrize("backend", ["torch", "mpi4py"])
def test_named_backend_missing_explains(backend):
    with pytest.raises(ImportError, match=f"backend '{backend}' needs"):
        distributed.sync(aggregation.SumMetric(), backend=backend)


def fake_torch(monkeypatch, size: int, initialized: bool = True) -> List[Any]:
    """Install a stand-in ``torch.distributed`` whose ``all_gather_object`` fills the output
    with pickled copies of the sent object from every rank."""
    calls: List[Any] = []
    torch = types.ModuleType("torch")
    module = types.ModuleType("torch.distributed")
    module.is_available = lambda: True
    module.is_initialized = lambda: initialized
    module.get_world_size = lambda group=None: size

    def all_gather_object(output, obj, group=None):
        calls.append(group)
        for rank in range(len(output)):
            output[rank] = pickle.loads(pickle.dumps(obj))

    module.all_gather_object = all_gather_object
    torch.distributed = module
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch.distributed", module)
    return calls


def test_torch_backend_uses_all_gather_object(monkeypatch):
    calls = fake_torch(monkeypatch, size=3)
    metric = aggregation.SumMetric()
    metric.update(2.0)

    # Every rank of the stand-in sends this rank's state, so the sum triples.
    assert distributed.sync(metric).compute() == 6.0
    assert distributed.sync(metric, backend="torch", group="workers").compute() == 6.0
    assert calls == [None, "workers"]


def test_torch_backend_needs_process_group(monkeypatch):
    fake_torch(monkeypatch, size=2, initialized=False)
    with pytest.raises(RuntimeError, match="init_process_group"):
        distributed.sync(aggregation.SumMetric(), backend="torch")


def test_mpi4py_backend_uses_comm_world(monkeypatch):
    mpi4py = types.ModuleType("mpi4py")
    mpi = types.ModuleType("mpi4py.MPI")
    mpi.COMM_WORLD = ThreadGroup(1).communicator(0)
    mpi4py.MPI = mpi
    monkeypatch.setitem(sys.modules, "mpi4py", mpi4py)
    monkeypatch.setitem(sys.modules, "mpi4py.MPI", mpi)
    monkeypatch.setattr(
        distributed,
        "_optional_module",
        lambda name: None if name.startswith("torch") else sys.modules.get(name),
    )
    metric = aggregation.MaxMetric()
    metric.update(4.0)

    assert distributed.sync(metric).compute() == 4.0
    assert distributed.sync(metric, backend="mpi4py").compute() == 4.0


def test_mean_average_precision_pickles_with_state():
    metric = MeanAveragePrecision(iou_type="bbox", class_metrics=True)
    for preds, target in detection_batches(7, 5):
        metric.update(preds, target)

    restored = pickle.loads(pickle.dumps(metric))
    assert_close(restored.compute(), metric.compute(), rtol=0.0)
    assert restored.update_count == metric.update_count


def test_grouped_collection_pickles_and_merges():
    collection = MetricCollection([clustering.RandScore(), clustering.MutualInfoScore()])
    preds, target = label_batches(8, 1)[0]
    collection.update(preds, target)

    restored = pickle.loads(pickle.dumps(collection))
    assert restored.compute_groups == collection.compute_groups
    assert_close(restored.compute(), collection.compute(), rtol=0.0)

    restored.merge_state(collection)
    expected = MetricCollection([clustering.RandScore(), clustering.MutualInfoScore()])
    expected.update(np.concatenate([preds, preds]), np.concatenate([target, target]))
    assert_close(restored.compute(), expected.compute(), rtol=0.0)


@pytest.mark.parametrize("ranks", [2, 4])
def test_mpi4py_under_mpirun(ranks):
    """Run mpi4py_sync_check.py under mpirun, when mpi4py and mpirun are installed."""
    pytest.importorskip("mpi4py")
    if shutil.which("mpirun") is None:
        pytest.skip("mpirun is not installed")
    script = Path(__file__).resolve().parent / "mpi4py_sync_check.py"
    command = ["mpirun", "--oversubscribe", "-n", str(ranks), sys.executable, str(script)]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=600, env=mpi_environment()
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"mpi4py sync: ok on {ranks} ranks" in result.stdout
