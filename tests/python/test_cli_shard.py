"""``ferrometrics ... --shard`` under mpirun prints what one process prints, and for the COCO
val2014 sample the twelve numbers of pycocotools.

Runs only when ``FERROMETRICS_MPI_CLI`` names a CLI built with ``--features mpi`` and
``mpirun`` is on the PATH; scripts/test-mpi.sh sets both up. The COCO tests also need
``FERROMETRICS_COCO_DATA``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import List, Sequence

import pytest

from conftest import mpi_environment
from test_coco import GROUND_TRUTH, PYCOCOTOOLS_STATS, RESULTS
from test_detection import SUMMARY_KEYS

REPOSITORY = Path(__file__).resolve().parents[2]
WINE = REPOSITORY / "examples" / "wine_kmeans.csv"
RANK_COUNTS = [1, 2, 4]


def mpi_cli() -> str:
    cli = os.environ.get("FERROMETRICS_MPI_CLI")
    if not cli or shutil.which("mpirun") is None:
        pytest.skip("set FERROMETRICS_MPI_CLI to a CLI built with --features mpi, with mpirun")
    return cli


def coco_data() -> Path:
    folder = os.environ.get("FERROMETRICS_COCO_DATA")
    if not folder:
        pytest.skip("set FERROMETRICS_COCO_DATA to the folder of the COCO val2014 sample files")
    return Path(folder)


def run(args: Sequence[str], ranks: int = 0) -> subprocess.CompletedProcess:
    """Run the MPI-enabled CLI, under ``mpirun -n ranks`` when ``ranks`` is positive."""
    command: List[str] = [mpi_cli(), *args]
    if ranks:
        command = ["mpirun", "--oversubscribe", "-n", str(ranks), *command, "--shard"]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=600, env=mpi_environment()
    )


def assert_sharded_equal(args: Sequence[str], ranks: int) -> str:
    single = run(args)
    assert single.returncode == 0, single.stderr
    sharded = run(args, ranks)
    assert sharded.returncode == 0, sharded.stderr
    assert sharded.stdout == single.stdout
    return sharded.stdout


@pytest.mark.parametrize("ranks", RANK_COUNTS)
@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_detection_shard_equals_pycocotools(iou_type, ranks):
    folder = coco_data()
    args = [
        "detection",
        "--gt", str(folder / GROUND_TRUTH),
        "--dt", str(folder / RESULTS[iou_type]),
        "--iou-type", iou_type,
        "--format", "json",
    ]
    report = json.loads(assert_sharded_equal(args, ranks))
    assert [report[key] for key in SUMMARY_KEYS] == PYCOCOTOOLS_STATS[iou_type]


@pytest.mark.parametrize("ranks", RANK_COUNTS)
def test_detection_shard_micro_per_class(ranks):
    folder = coco_data()
    args = [
        "detection",
        "--gt", str(folder / GROUND_TRUTH),
        "--dt", str(folder / RESULTS["bbox"]),
        "--average", "micro",
        "--per-class",
    ]
    assert "Average Precision" in assert_sharded_equal(args, ranks)


def test_detection_shard_more_ranks_than_images():
    folder = coco_data()
    # 3 images over 4 ranks, so one rank has no image.
    args = [
        "detection",
        "--gt", str(folder / "gt_dataset.json"),
        "--dt", str(folder / "dt_dataset.json"),
        "--format", "json",
    ]
    assert_sharded_equal(args, 4)


@pytest.mark.parametrize("ranks", RANK_COUNTS)
def test_clustering_shard_equals_one_process(ranks):
    args = ["clustering", str(WINE), "--target", "target", "--preds", "preds", "--all-features"]
    stdout = assert_sharded_equal(args, ranks)
    assert "n = 178" in stdout


def test_shard_error_printed_once():
    result = run(["detection", "--gt", "missing.json", "--dt", "missing.json"], 2)
    assert result.returncode != 0
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if "ferrometrics: error:" in line]
    assert len(errors) == 1, result.stderr
    assert "missing.json" in errors[0]
