"""Wrappers that change how a metric accumulates or reports, with TorchMetrics' names and arguments.

Each wrapper takes any ferrometrics metric, including another wrapper, and is a ``Metric``
itself: it merges with ``merge_state``, serializes with ``state_dict`` and pickling, and sits in
a ``MetricCollection``, whose duplicate-key rule applies to its dict outputs. ``forward``
accumulates the batch like ``update`` does, so two ``forward`` calls then ``compute`` give the
value of two ``update`` calls then ``compute``. ``MetricTracker`` keeps one copy of a metric or
collection per step and is not a metric.
"""

from ferrometrics.wrappers.bootstrapping import BootStrapper
from ferrometrics.wrappers.classwise import ClasswiseWrapper
from ferrometrics.wrappers.minmax import MinMaxMetric
from ferrometrics.wrappers.multioutput import MultioutputWrapper
from ferrometrics.wrappers.multitask import MultitaskWrapper
from ferrometrics.wrappers.running import Running
from ferrometrics.wrappers.tracker import MetricTracker

__all__ = [
    "BootStrapper",
    "ClasswiseWrapper",
    "MetricTracker",
    "MinMaxMetric",
    "MultioutputWrapper",
    "MultitaskWrapper",
    "Running",
]
