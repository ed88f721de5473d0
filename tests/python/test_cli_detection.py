"""Compare `ferrometrics detection` with pycocotools on the COCO val2014 sample of 100 images.

The binary is $FERROMETRICS_CLI when set, else target/release/ferrometrics, else
target/debug/ferrometrics. The data folder is $FERROMETRICS_COCO_DATA, which must contain
instances_val2014_100.json, instances_val2014_fakebbox100_results.json and
instances_val2014_fakesegm100_results.json (the test files of the cocoapi repository). The tests
are skipped when either is missing.

The expected numbers are pycocotools 2.0.11's `COCOeval.stats`, pasted below so that the tests
do not need pycocotools. They were produced in a venv with pycocotools and numpy by:

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    gt = COCO(f"{data}/instances_val2014_100.json")
    for kind in ["bbox", "segm"]:
        dt = gt.loadRes(f"{data}/instances_val2014_fake{kind}100_results.json")
        e = COCOeval(gt, dt, kind)
        e.params.useCats = 1  # 0 for the micro average
        e.params.catIds = [1]  # per-class values only: one evaluation per category
        e.evaluate(); e.accumulate(); e.summarize()
        print(kind, e.stats.tolist())  # per class: e.stats[0], e.stats[8]
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

TRUTH = "instances_val2014_100.json"
RESULTS = {
    "bbox": "instances_val2014_fakebbox100_results.json",
    "segm": "instances_val2014_fakesegm100_results.json",
}

KEYS = [
    "map",
    "map_50",
    "map_75",
    "map_small",
    "map_medium",
    "map_large",
    "mar_1",
    "mar_10",
    "mar_100",
    "mar_small",
    "mar_medium",
    "mar_large",
]

# pycocotools 2.0.11 COCOeval(...).stats with the default parameters.
PYCOCOTOOLS_STATS = {
    "bbox": [
        0.5045806987249628,
        0.6969727247299577,
        0.5729816669904824,
        0.5856257209410443,
        0.5193996948036719,
        0.5013978986347466,
        0.38681277964578054,
        0.5936795762842003,
        0.595352982877607,
        0.6398109626113442,
        0.5664205978994309,
        0.5642905982905982,
    ],
    "segm": [
        0.3195452758576433,
        0.5622883972521636,
        0.29892653412086784,
        0.3873740315997837,
        0.31018272403369485,
        0.3269339071005138,
        0.2682297225711534,
        0.41544868114906375,
        0.4168394992198818,
        0.4694498622754236,
        0.37675922666197265,
        0.3814715099715099,
    ],
}

# The same with params.useCats = 0, which pools all categories (TorchMetrics' average="micro").
PYCOCOTOOLS_STATS_MICRO = {
    "bbox": [
        0.5952384471295459,
        0.8801081126055128,
        0.6678978279400766,
        0.5934831511276096,
        0.6089303842909735,
        0.6036353185164051,
        0.09048192771084337,
        0.5066265060240964,
        0.6780722891566265,
        0.6658476658476659,
        0.6900000000000001,
        0.6907103825136612,
    ],
    "segm": [
        0.3248515106600995,
        0.6887488500981657,
        0.25248073360554335,
        0.35216060520202813,
        0.30320644226236415,
        0.33368731280224495,
        0.05879518072289157,
        0.355421686746988,
        0.48180722891566263,
        0.5049140049140048,
        0.4658333333333333,
        0.45136612021857914,
    ],
}

# (stats[0], stats[8]) of pycocotools with params.catIds = [category], the evaluation that
# TorchMetrics runs per class. Category 11 has detections but no ground truth, so both are -1.
PYCOCOTOOLS_PER_CLASS = {
    "bbox": {
        1: (0.5326060142444453, 0.604),
        11: (-1.0, -1.0),
        18: (0.6336633663366337, 0.6333333333333334),
    },
    "segm": {
        1: (0.2698816207265341, 0.4096),
        11: (-1.0, -1.0),
        18: (0.2, 0.2333333333333333),
    },
}

# pycocotools' summary line layout, from COCOeval.summarize.
LINE_FORMAT = " {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}"
LINE_SPECS = [
    ("Average Precision", "(AP)", "0.50:0.95", "all", 100),
    ("Average Precision", "(AP)", "0.50", "all", 100),
    ("Average Precision", "(AP)", "0.75", "all", 100),
    ("Average Precision", "(AP)", "0.50:0.95", "small", 100),
    ("Average Precision", "(AP)", "0.50:0.95", "medium", 100),
    ("Average Precision", "(AP)", "0.50:0.95", "large", 100),
    ("Average Recall", "(AR)", "0.50:0.95", "all", 1),
    ("Average Recall", "(AR)", "0.50:0.95", "all", 10),
    ("Average Recall", "(AR)", "0.50:0.95", "all", 100),
    ("Average Recall", "(AR)", "0.50:0.95", "small", 100),
    ("Average Recall", "(AR)", "0.50:0.95", "medium", 100),
    ("Average Recall", "(AR)", "0.50:0.95", "large", 100),
]


def find_cli():
    if os.environ.get("FERROMETRICS_CLI"):
        candidates = [Path(os.environ["FERROMETRICS_CLI"])]
    else:
        candidates = [
            REPO / "target" / "release" / "ferrometrics",
            REPO / "target" / "debug" / "ferrometrics",
        ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def find_data():
    folder = os.environ.get("FERROMETRICS_COCO_DATA")
    if not folder:
        return None
    return Path(folder)


CLI = find_cli()
DATA = find_data()
pytestmark = [
    pytest.mark.skipif(
        CLI is None,
        reason="ferrometrics binary not found: set FERROMETRICS_CLI or run "
        "`cargo build -p ferrometrics-cli`",
    ),
    pytest.mark.skipif(
        DATA is None,
        reason="FERROMETRICS_COCO_DATA is not set: point it to a folder with "
        f"{TRUTH} and the fake bbox and segm results files",
    ),
]


def run_cli(kind, *extra):
    truth = DATA / TRUTH
    results = DATA / RESULTS[kind]
    for path in (truth, results):
        if not path.is_file():
            pytest.skip(f"{path.name} is not in FERROMETRICS_COCO_DATA")
    completed = subprocess.run(
        [str(CLI), "detection", "--gt", str(truth), "--dt", str(results), "--iou-type", kind]
        + list(extra),
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    return completed.stdout


@pytest.mark.parametrize("kind", ["bbox", "segm"])
def test_json_equals_pycocotools_stats(kind):
    output = json.loads(run_cli(kind, "--format", "json"))

    assert list(output) == KEYS
    for key, expected in zip(KEYS, PYCOCOTOOLS_STATS[kind]):
        assert output[key] == expected, f"{key}: {output[key]!r} != {expected!r}"


@pytest.mark.parametrize("kind", ["bbox", "segm"])
def test_json_micro_equals_pycocotools_pooled(kind):
    output = json.loads(run_cli(kind, "--format", "json", "--average", "micro"))

    for key, expected in zip(KEYS, PYCOCOTOOLS_STATS_MICRO[kind]):
        assert output[key] == expected, f"{key}: {output[key]!r} != {expected!r}"


@pytest.mark.parametrize("kind", ["bbox", "segm"])
def test_json_per_class_equals_pycocotools(kind):
    output = json.loads(run_cli(kind, "--format", "json", "--per-class"))
    classes = output["classes"]

    assert list(output) == KEYS + ["map_per_class", "mar_100_per_class", "classes"]
    assert classes == sorted(classes)
    assert len(output["map_per_class"]) == len(classes)
    assert len(output["mar_100_per_class"]) == len(classes)
    for category, (expected_ap, expected_ar) in PYCOCOTOOLS_PER_CLASS[kind].items():
        position = classes.index(category)
        assert output["map_per_class"][position] == expected_ap, category
        assert output["mar_100_per_class"][position] == expected_ar, category


@pytest.mark.parametrize("kind", ["bbox", "segm"])
def test_table_has_pycocotools_summary_lines(kind):
    lines = run_cli(kind).splitlines()
    expected = [
        LINE_FORMAT.format(title, short, iou, area, max_dets, value)
        for (title, short, iou, area, max_dets), value in zip(LINE_SPECS, PYCOCOTOOLS_STATS[kind])
    ]

    assert lines[0].startswith(f"{kind} evaluation of ")
    assert lines[1] == ""
    assert lines[2:14] == expected


def test_table_per_class_names_categories():
    lines = run_cli("bbox", "--per-class").splitlines()
    rows = [line for line in lines if line.startswith("|") and "person" in line]

    assert len(rows) == 1
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert cells == ["1", "person", "0.533", "0.604"]
