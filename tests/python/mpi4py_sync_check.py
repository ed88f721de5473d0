"""Run under ``mpirun -n N python mpi4py_sync_check.py``: every rank syncs metrics of each
domain over mpi4py and checks that the synced value equals one process's value over all the
data, for every shard layout of test_distributed. Exits nonzero, through an assertion, on the
first mismatch."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mpi4py import MPI  # noqa: E402

from ferrometrics import MetricCollection, aggregation, clustering  # noqa: E402
from ferrometrics.detection import MeanAveragePrecision  # noqa: E402
from ferrometrics.distributed import sync  # noqa: E402
from test_distributed import (  # noqa: E402
    assert_close,
    detection_batches,
    label_batches,
    layouts,
)


def check(make, batches, update, tolerance):
    rank, size = MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size()
    single = make()
    for batch in batches:
        update(single, batch)
    expected = single.compute()
    for shards in layouts(len(batches), size):
        local = make()
        for batch in batches[shards[rank]]:
            update(local, batch)
        synced = sync(local, backend="mpi4py")
        assert_close(synced.compute(), expected, tolerance, f"{type(local).__name__}, rank {rank}")


def check_garbage():
    rank, size = MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size()
    if size == 1:
        return
    if rank == size - 1:
        MPI.COMM_WORLD.allgather("not a metric")
        return
    try:
        sync(aggregation.SumMetric(), backend="mpi4py")
    except ValueError as error:
        assert str(error).startswith(f"state from rank {size - 1}:"), error
    else:
        raise AssertionError("a garbage state was merged")


def main():
    rng = np.random.default_rng(1)
    values = [(rng.normal(size=5), rng.uniform(0.1, 2.0, size=5)) for _ in range(13)]
    check(aggregation.MeanMetric, values, lambda m, b: m.update(b[0], b[1]), 1e-12)
    check(aggregation.CatMetric, [v for v, _ in values], lambda m, b: m.update(b), 0.0)

    labels = label_batches(3, 11)
    check(clustering.AdjustedRandScore, labels, lambda m, b: m.update(*b), 0.0)
    check(MeanAveragePrecision, detection_batches(5, 24), lambda m, b: m.update(*b), 0.0)
    check(
        lambda: MetricCollection([clustering.RandScore(), clustering.MutualInfoScore()]),
        labels,
        lambda m, b: m.update(*b),
        0.0,
    )
    check_garbage()
    if MPI.COMM_WORLD.Get_rank() == 0:
        print(f"mpi4py sync: ok on {MPI.COMM_WORLD.Get_size()} ranks")


if __name__ == "__main__":
    main()
