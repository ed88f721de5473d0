"""Machine-learning evaluation metrics with TorchMetrics' Python API, computed in Rust.

Porting code from TorchMetrics means changing the import: ``ferrometrics.clustering.RandScore``,
``ferrometrics.functional.clustering.rand_score``,
``ferrometrics.regression.PearsonCorrCoef``, ``ferrometrics.aggregation.MeanMetric`` and
``ferrometrics.MetricCollection`` take the same arguments. Inputs may be numpy arrays, Python
sequences or CPU torch tensors. Results are Python floats, numpy arrays and dicts of them.
"""

from ferrometrics import (
    aggregation,
    classification,
    clustering,
    detection,
    distributed,
    functional,
    regression,
    wrappers,
)
from ferrometrics._native import __version__
from ferrometrics.collection import MetricCollection
from ferrometrics.metric import Metric

__all__ = [
    "Metric",
    "MetricCollection",
    "__version__",
    "aggregation",
    "classification",
    "clustering",
    "detection",
    "distributed",
    "functional",
    "regression",
    "wrappers",
]
