"""Classification metrics with TorchMetrics' class names and arguments.

Every family has one class per task (``BinaryAccuracy``, ``MulticlassAccuracy``,
``MultilabelAccuracy``) and a dispatcher (``Accuracy(task="multiclass", num_classes=3)``)
that returns an instance of the task's class, as TorchMetrics does. ``preds`` are integer labels
or float scores (probabilities or logits) and ``target`` contains integer labels. Curves return
numpy arrays: ``(precision, recall, thresholds)`` for a binary curve and lists of per-class
arrays for the other tasks. ``validate_args`` is accepted and has no effect, because every
batch is validated.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ferrometrics.metric import Metric

_REQUIRED = object()

_TASK_ARGUMENTS = {
    "binary": (),
    "multiclass": (("num_classes", _REQUIRED),),
    "multilabel": (("num_labels", _REQUIRED),),
}

_STAT_FAMILIES = (
    "StatScores",
    "Accuracy",
    "Precision",
    "Recall",
    "F1Score",
    "Specificity",
    "NegativePredictiveValue",
    "HammingDistance",
)
_ZERO_DIVISION = {
    "Precision",
    "Recall",
    "F1Score",
    "FBetaScore",
    "Specificity",
    "NegativePredictiveValue",
    "JaccardIndex",
}
_CURVE_FAMILIES = ("PrecisionRecallCurve", "ROC")
_POINT_FAMILIES = {
    "RecallAtFixedPrecision": "min_precision",
    "PrecisionAtFixedRecall": "min_recall",
    "SensitivityAtSpecificity": "min_specificity",
    "SpecificityAtSensitivity": "min_sensitivity",
}


# The value each family computes, for the docstrings of the classes, the dispatchers, the
# functional forms and the type stubs.
_DESCRIPTIONS = {
    "StatScores": "The counts ``[tp, fp, tn, fn, support]``, per class or reduced by ``average``.",
    "Accuracy": "The fraction of correct predictions: ``(tp + tn) / (tp + fp + tn + fn)`` for "
    "binary and multilabel entries, the mean per-class recall under ``average='macro'``.",
    "Precision": "Precision ``tp / (tp + fp)``: the fraction of positive predictions that are "
    "correct.",
    "Recall": "Recall (sensitivity) ``tp / (tp + fn)``: the fraction of positives found.",
    "F1Score": "The F1 score ``2 tp / (2 tp + fp + fn)``, the harmonic mean of precision and "
    "recall.",
    "FBetaScore": "The F-beta score ``(1 + beta^2) tp / ((1 + beta^2) tp + beta^2 fn + fp)``, "
    "which weighs recall ``beta`` times as much as precision.",
    "Specificity": "Specificity ``tn / (tn + fp)``: the fraction of negatives predicted "
    "negative.",
    "NegativePredictiveValue": "The negative predictive value ``tn / (tn + fn)``: the fraction of "
    "negative predictions that are correct.",
    "HammingDistance": "The Hamming distance: the fraction of wrong predictions, "
    "``1 - accuracy``.",
    "JaccardIndex": "The Jaccard index (intersection over union) ``tp / (tp + fp + fn)``.",
    "ExactMatch": "The fraction of samples whose every label or position is predicted "
    "correctly.",
    "ConfusionMatrix": "The confusion matrix, rows are targets and columns predictions: "
    "``(2, 2)`` binary, ``(C, C)`` multiclass, ``(L, 2, 2)`` multilabel, optionally normalized.",
    "CohenKappa": "Cohen's kappa: agreement between predictions and targets beyond chance, "
    "optionally with linear or quadratic weights.",
    "MatthewsCorrCoef": "The Matthews correlation coefficient of the confusion matrix, from -1 "
    "to 1.",
    "AUROC": "The area under the ROC curve, exact or on binned thresholds.",
    "AveragePrecision": "Average precision: the precision-recall curve summarized as "
    "``sum((R_n - R_{n-1}) P_n)``, exact or on binned thresholds.",
    "PrecisionRecallCurve": "The precision-recall curve: ``(precision, recall, thresholds)``.",
    "ROC": "The ROC curve: ``(fpr, tpr, thresholds)``.",
    "RecallAtFixedPrecision": "The largest recall with precision at least ``min_precision``, and "
    "its threshold.",
    "PrecisionAtFixedRecall": "The largest precision with recall at least ``min_recall``, and "
    "its threshold.",
    "SensitivityAtSpecificity": "The largest sensitivity with specificity at least "
    "``min_specificity``, and its threshold.",
    "SpecificityAtSensitivity": "The largest specificity with sensitivity at least "
    "``min_sensitivity``, and its threshold.",
    "CalibrationError": "The calibration error over ``n_bins`` equal-width confidence bins, in "
    "the ``l1`` (expected), ``l2`` or ``max`` norm. The confidence is the positive-class "
    "probability (binary) or the top-class probability (multiclass).",
    "HingeLoss": "The mean hinge loss of the scores, optionally squared.",
    "LogAUC": "The area under the ROC curve with the false positive rate on a log10 scale, over "
    "``fpr_range``, normalized to [0, 1].",
    "EER": "The equal error rate: the point of the ROC curve where the false positive rate "
    "equals the false negative rate.",
    "CoverageError": "The coverage error: how far down the score ranking one must go, on "
    "average, to cover every true label.",
    "RankingAveragePrecision": "The label ranking average precision: for each true label, the "
    "fraction of labels ranked at or above it that are true, averaged.",
    "RankingLoss": "The label ranking loss: the fraction of (true, false) label pairs ranked in "
    "the wrong order, averaged over samples.",
}


def _parameters(task: str, family: str) -> Tuple[Tuple[str, Any], ...]:
    """Return the ``(name, default)`` parameters of a task's class in TorchMetrics' order."""
    head = _TASK_ARGUMENTS[task]
    threshold = (("threshold", 0.5),) if task != "multiclass" else ()
    average = (("average", "macro"),) if task != "binary" else ()
    tail = (("ignore_index", None), ("validate_args", True))
    zero = (("zero_division", 0.0),) if family in _ZERO_DIVISION else ()

    if family in _STAT_FAMILIES or family == "FBetaScore":
        beta = (("beta", _REQUIRED),) if family == "FBetaScore" else ()
        top_k = (("top_k", 1),) if task == "multiclass" else ()
        middle = top_k + average + (("multidim_average", "global"),)
        return beta + head + threshold + middle + tail + zero
    if family == "JaccardIndex":
        return head + threshold + average + tail + zero
    if family == "ExactMatch":
        return head + threshold + (("multidim_average", "global"),) + tail
    if family == "ConfusionMatrix":
        return (
            head
            + threshold
            + (("ignore_index", None), ("normalize", None), ("validate_args", True))
        )
    if family == "CohenKappa":
        return (
            head + threshold + (("ignore_index", None), ("weights", None), ("validate_args", True))
        )
    if family == "MatthewsCorrCoef":
        return head + threshold + tail
    if family == "AUROC":
        first = (("max_fpr", None),) if task == "binary" else average
        return head + first + (("thresholds", None),) + tail
    if family == "AveragePrecision":
        return head + average + (("thresholds", None),) + tail
    if family in _CURVE_FAMILIES or family == "EER":
        return head + (("thresholds", None),) + tail
    if family in _POINT_FAMILIES:
        return head + ((_POINT_FAMILIES[family], _REQUIRED), ("thresholds", None)) + tail
    if family == "CalibrationError":
        return head + (("n_bins", 15), ("norm", "l1")) + tail
    if family == "HingeLoss":
        mode = (("multiclass_mode", "crammer-singer"),) if task == "multiclass" else ()
        return head + (("squared", False),) + mode + tail
    if family == "LogAUC":
        return head + (("fpr_range", (0.001, 0.1)),) + average + (("thresholds", None),) + tail
    return head + tail


def _bind(
    name: str, parameters: Sequence[Tuple[str, Any]], args: Tuple[Any, ...], kwargs: Dict[str, Any]
) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """Bind positional and keyword arguments to the parameters, returning the native options and
    the keywords that are no parameter."""
    if len(args) > len(parameters):
        raise TypeError(
            f"{name} takes at most {len(parameters)} positional arguments, got {len(args)}"
        )
    values: Dict[str, Any] = {}
    for (parameter, _), value in zip(parameters, args):
        values[parameter] = value
    rest = dict(kwargs)
    for parameter, default in parameters:
        if parameter in rest:
            if parameter in values:
                raise TypeError(f"{name} got two values for `{parameter}`")
            values[parameter] = rest.pop(parameter)
        elif parameter not in values:
            if default is _REQUIRED:
                raise TypeError(f"{name} is missing the required argument `{parameter}`")
            values[parameter] = default

    options = {key: value for key, value in values.items() if key != "validate_args"}
    if "average" in options and options["average"] is None:
        options["average"] = "none"
    thresholds = options.get("thresholds")
    if isinstance(thresholds, np.integer):
        options["thresholds"] = int(thresholds)
    elif isinstance(thresholds, (list, tuple, np.ndarray)) or hasattr(thresholds, "tolist"):
        # Tensors and arrays become a list of floats, the form the native parser reads.
        options["thresholds"] = [float(x) for x in np.asarray(thresholds).ravel()]
    return options, rest


class _ClassificationMetric(Metric):
    """A classification metric over predictions ``preds`` and integer targets ``target``."""

    _family = ""
    _task = ""

    def update(self, preds: Any, target: Any) -> None:
        """Add a batch of predictions and targets."""
        self._update(preds, target)

    def forward(self, preds: Any, target: Any) -> Any:
        """Return the batch's own value and add the batch to the state."""
        return self._shape_output(self._forward(preds, target))

    def compute(self) -> Any:
        """Compute the value from every batch since the last reset."""
        return self._shape_output(super().compute())

    def _evaluate(self, preds: Any, target: Any) -> Any:
        """Return the value of one batch on its own, leaving the state unchanged."""
        self._validate_batch(preds, target)
        value = self._native.evaluate(preds, target)
        return self._shape_output(self._finish_output(value, self._native))

    def _shape_output(self, value: Any) -> Any:
        """Return curves and operating points as TorchMetrics' tuples."""
        if self._family in _CURVE_FAMILIES:
            parts = list(value.values())
            if self._task == "binary":
                return tuple(parts)
            return tuple([part[key] for key in sorted(part, key=int)] for part in parts)
        if self._family in _POINT_FAMILIES:
            return tuple(value.values())
        return value


def _make_class(task: str, family: str) -> type:
    name = task.capitalize() + family
    parameters = _parameters(task, family)

    def __init__(self: Metric, *args: Any, **kwargs: Any) -> None:
        options, rest = _bind(name, parameters, args, kwargs)
        Metric.__init__(self, options, rest)

    probe = {key: 2 for key, _ in _TASK_ARGUMENTS[task]}
    probe.update(
        {key: 0.5 for key, default in parameters if default is _REQUIRED and key not in probe}
    )
    signature = ", ".join(
        key if default is _REQUIRED else f"{key}={default!r}" for key, default in parameters
    )
    doc = (
        f"{_DESCRIPTIONS[family]}\n\n"
        f"TorchMetrics' ``{name}({signature})``. "
        f"See ``ferrometrics.classification`` for the input formats."
    )
    return type(
        name,
        (_ClassificationMetric,),
        {
            "__init__": __init__,
            "__doc__": doc,
            "__module__": __name__,
            "_native_name": name,
            "_probe_options": probe,
            "_family": family,
            "_task": task,
        },
    )


_FAMILY_TASKS = {
    **{family: ("binary", "multiclass", "multilabel") for family in _STAT_FAMILIES},
    "FBetaScore": ("binary", "multiclass", "multilabel"),
    "JaccardIndex": ("binary", "multiclass", "multilabel"),
    "ExactMatch": ("multiclass", "multilabel"),
    "ConfusionMatrix": ("binary", "multiclass", "multilabel"),
    "CohenKappa": ("binary", "multiclass"),
    "MatthewsCorrCoef": ("binary", "multiclass", "multilabel"),
    "AUROC": ("binary", "multiclass", "multilabel"),
    "AveragePrecision": ("binary", "multiclass", "multilabel"),
    "PrecisionRecallCurve": ("binary", "multiclass", "multilabel"),
    "ROC": ("binary", "multiclass", "multilabel"),
    **{family: ("binary", "multiclass", "multilabel") for family in _POINT_FAMILIES},
    "CalibrationError": ("binary", "multiclass"),
    "HingeLoss": ("binary", "multiclass"),
    "LogAUC": ("binary", "multiclass", "multilabel"),
    "EER": ("binary", "multiclass", "multilabel"),
    "CoverageError": ("multilabel",),
    "RankingAveragePrecision": ("multilabel",),
    "RankingLoss": ("multilabel",),
}

# The average of each dispatcher, which TorchMetrics sets apart from the task classes.
_DISPATCH_AVERAGE = {family: "micro" for family in _STAT_FAMILIES + ("FBetaScore",)}

_CLASSES: Dict[str, type] = {}
for _family, _tasks in _FAMILY_TASKS.items():
    for _task in _tasks:
        _cls = _make_class(_task, _family)
        _CLASSES[_cls.__name__] = _cls
        globals()[_cls.__name__] = _cls


def _make_dispatcher(family: str) -> type:
    tasks = _FAMILY_TASKS[family]

    def __new__(cls: type, task: str, *args: Any, **kwargs: Any) -> Metric:
        if task not in tasks:
            raise ValueError(
                f"invalid value for `task`: {task!r} is not one of {', '.join(map(repr, tasks))}"
            )
        target_class = _CLASSES[task.capitalize() + family]
        accepted = {key for key, _ in _parameters(task, family)}
        if family in _DISPATCH_AVERAGE and task != "binary":
            kwargs.setdefault("average", _DISPATCH_AVERAGE[family])
        chosen = {
            key: value
            for key, value in kwargs.items()
            if key in accepted or key not in _ALL_PARAMETERS
        }
        return target_class(*args, **chosen)

    return type(
        family,
        (),
        {
            "__new__": __new__,
            "__doc__": (
                f"Return the ``{family}`` metric of ``task``: one of {', '.join(tasks)}.\n\n"
                f"{_DESCRIPTIONS[family]}"
            ),
            "__module__": __name__,
        },
    )


_ALL_PARAMETERS = {
    key
    for family, tasks in _FAMILY_TASKS.items()
    for task in tasks
    for key, _ in _parameters(task, family)
}

for _family, _tasks in _FAMILY_TASKS.items():
    if len(_tasks) > 1:
        globals()[_family] = _make_dispatcher(_family)

__all__ = sorted(
    list(_CLASSES) + [family for family, tasks in _FAMILY_TASKS.items() if len(tasks) > 1]
)


class _GroupMetric(Metric):
    """A binary metric over predictions, targets and the group of each sample.

    Group metrics take three inputs, so they cannot join a ``MetricCollection``.
    """

    def update(self, preds: Any, target: Any, groups: Any) -> None:
        """Add a batch of predictions, targets and integer groups in ``[0, num_groups)``."""
        self._native.update(preds, target, groups)
        self._update_count += 1

    def forward(self, preds: Any, target: Any, groups: Any) -> Any:
        """Return the batch's own value and add the batch to the state."""
        value = self._native.forward(preds, target, groups)
        self._update_count += 1
        return value


class BinaryGroupStatRates(_GroupMetric):
    """The rates ``[tp, fp, tn, fn] / n_i`` of each group ``i``, as ``{"group_i": rates}``.

    TorchMetrics' ``BinaryGroupStatRates(num_groups, threshold=0.5, ignore_index=None,
    validate_args=True)``.
    """

    _native_name = "BinaryGroupStatRates"

    def __init__(
        self,
        num_groups: int,
        threshold: float = 0.5,
        ignore_index: Optional[int] = None,
        validate_args: bool = True,
        **kwargs: Any,
    ) -> None:
        del validate_args
        options = {"num_groups": num_groups, "threshold": threshold, "ignore_index": ignore_index}
        super().__init__(options, kwargs)


class BinaryFairness(_GroupMetric):
    """Demographic parity ``DP_{min}_{max}`` and equal opportunity ``EO_{min}_{max}``, each the
    lowest group rate over the highest.

    TorchMetrics' ``BinaryFairness(num_groups, task="all", threshold=0.5, ignore_index=None,
    validate_args=True)``.
    """

    _native_name = "BinaryFairness"

    def __init__(
        self,
        num_groups: int,
        task: str = "all",
        threshold: float = 0.5,
        ignore_index: Optional[int] = None,
        validate_args: bool = True,
        **kwargs: Any,
    ) -> None:
        del validate_args
        options = {
            "num_groups": num_groups,
            "task": task,
            "threshold": threshold,
            "ignore_index": ignore_index,
        }
        super().__init__(options, kwargs)


__all__ = sorted(__all__ + ["BinaryFairness", "BinaryGroupStatRates"])
