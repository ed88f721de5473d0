"""``COCOeval``: pycocotools' evaluation interface, computed by ferrometrics' COCO engine.

The numbers (``stats``, ``eval["precision"]``, ``eval["recall"]``, ``eval["scores"]``) are those
of ``pycocotools.cocoeval.COCOeval`` to the bit for ``"bbox"`` and ``"segm"``.
"""

from __future__ import annotations

import copy
import datetime
import json
from typing import Any, Dict, List, Optional

import numpy as np

from ferrometrics._native import (
    NativeCocoEvaluation,
    coco_evaluation_details,
    coco_summarize,
)
from ferrometrics.coco.coco import COCO, _to_json

__all__ = ["COCOeval", "Params"]

_IOU_TYPES = ("bbox", "segm")


class Params:
    """Evaluation parameters with pycocotools' attribute names and defaults."""

    def __init__(self, iouType: str = "segm") -> None:  # noqa: N803 (pycocotools' name)
        if iouType == "keypoints":
            raise ValueError(
                "invalid value for `iouType`: keypoint evaluation is not supported; "
                "use \"bbox\" or \"segm\""
            )
        if iouType not in _IOU_TYPES:
            raise ValueError(
                f"invalid value for `iouType`: {iouType!r} is not an IoU type; "
                "use \"bbox\" or \"segm\""
            )
        self.imgIds: List[Any] = []
        self.catIds: List[Any] = []
        self.iouThrs = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1)
        self.recThrs = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1)
        self.maxDets = [1, 10, 100]
        self.areaRng = [[0.0, 1e5**2], [0.0, 32.0**2], [32.0**2, 96.0**2], [96.0**2, 1e5**2]]
        self.areaRngLbl = ["all", "small", "medium", "large"]
        self.useCats = 1
        self.iouType = iouType


class COCOeval:
    """Evaluate detections ``cocoDt`` against ground truth ``cocoGt``, as pycocotools does.

    Set ``params`` (``imgIds``, ``catIds``, ``iouThrs``, ``recThrs``, ``maxDets``,
    ``areaRng``, ``areaRngLbl``, ``useCats``), then call ``evaluate``, ``accumulate`` and
    ``summarize``. ``summarize`` prints pycocotools' twelve lines and sets ``stats``.
    ``evaluate`` releases the GIL while it runs.

    After ``evaluate``, ``ious`` and ``evalImgs`` hold pycocotools' per-image IoU matrices and
    match records. They are built on first access, with a second pass over the data, so an
    evaluation that reads only the summary does not pay for them.
    """

    def __init__(
        self,
        cocoGt: Optional[COCO] = None,  # noqa: N803
        cocoDt: Optional[COCO] = None,  # noqa: N803
        iouType: str = "segm",  # noqa: N803
    ) -> None:
        self.cocoGt = cocoGt
        self.cocoDt = cocoDt
        self._details_settings: Optional[tuple] = None
        self.evalImgs: List[Any] = []
        self.eval: Dict[str, Any] = {}
        self.params = Params(iouType=iouType)
        self._paramsEval: Optional[Params] = None
        self.stats: Any = []
        self.ious: Dict[Any, Any] = {}
        self._native: Optional[NativeCocoEvaluation] = None
        self._accumulated = False
        if cocoGt is not None:
            self.params.imgIds = sorted(cocoGt.getImgIds())
            self.params.catIds = sorted(cocoGt.getCatIds())

    def evaluate(self) -> None:
        """Match the detections of every image and category to the ground truth."""
        if self.cocoGt is None or self.cocoDt is None:
            raise ValueError("COCOeval needs `cocoGt` and `cocoDt` before evaluate()")
        p = self.params
        if p.iouType not in _IOU_TYPES:
            raise ValueError(
                f"invalid value for `iouType`: {p.iouType!r} is not an IoU type; "
                "use \"bbox\" or \"segm\""
            )
        p.imgIds = list(np.unique(p.imgIds))
        if p.useCats:
            p.catIds = list(np.unique(p.catIds))
        elif len(set(p.catIds)) != len(p.catIds):
            raise ValueError(
                f"invalid value for `catIds`: {list(p.catIds)!r} repeats a category id, which "
                "with useCats=0 would pool its annotations twice; remove the repeated ids"
            )
        # NOTE: with useCats=0, pycocotools pools the categories in the order of `catIds`, and
        # the native engine in ascending id order. Only detections of equal score in one image
        # are ordered differently when `catIds` is not sorted.
        p.maxDets = sorted(p.maxDets)
        if len(p.areaRng) != len(p.areaRngLbl):
            raise ValueError(
                f"invalid value for `areaRngLbl`: {len(p.areaRngLbl)} labels for "
                f"{len(p.areaRng)} area ranges; give one label per range"
            )

        settings = (
            p.iouType,
            [float(t) for t in p.iouThrs],
            [float(t) for t in p.recThrs],
            [int(m) for m in p.maxDets],
            [(str(label), float(r[0]), float(r[1])) for label, r in zip(p.areaRngLbl, p.areaRng)],
            bool(p.useCats),
        )
        evaluated = copy.deepcopy(p)
        self._native = self._evaluate_native(evaluated, settings)
        self._accumulated = False
        self._paramsEval = evaluated
        self.eval = {}
        self._details_settings = settings
        self._evalImgs = None
        self._ious = None

    def _evaluate_native(self, p: Params, settings: tuple) -> NativeCocoEvaluation:
        """Match and accumulate natively the images and categories of ``p``."""
        truth_native, results_native = self.cocoGt.native, self.cocoDt.native
        if truth_native is not None and results_native is not None:
            return NativeCocoEvaluation.from_datasets(
                truth_native,
                results_native,
                *settings,
                [int(i) for i in p.imgIds],
                [int(c) for c in p.catIds],
            )
        # NOTE: datasets built from Python dicts reach the native engine as JSON text, which
        # on large result sets takes most of evaluate()'s time.
        truth, results = self._selected_datasets(p)
        return NativeCocoEvaluation(_to_json(truth), _to_json(results), *settings)

    @property
    def evalImgs(self) -> List[Any]:  # noqa: N802 (pycocotools' name)
        """Per category, area range and image (in that nesting), pycocotools' ``evaluateImg``
        dict, or None for an image without ground truth and detections of the category."""
        if self._evalImgs is None:
            self._load_details()
        return self._evalImgs

    @evalImgs.setter
    def evalImgs(self, value: List[Any]) -> None:  # noqa: N802
        self._evalImgs = value

    @property
    def ious(self) -> Dict[Any, Any]:
        """The IoU matrix of every ``(imgId, catId)``: detections (highest score first, cut at
        the largest ``maxDets``) by ground truth, or an empty list where a side is empty."""
        if self._ious is None:
            self._load_details()
        return self._ious

    @ious.setter
    def ious(self, value: Dict[Any, Any]) -> None:
        self._ious = value

    def _load_details(self) -> None:
        """Compute ``ious`` and ``evalImgs`` for the parameters of the last ``evaluate``."""
        # The details come from the selected datasets as JSON, built only when they are read.
        truth, results = self._selected_datasets(self._paramsEval)
        ious, records = coco_evaluation_details(
            _to_json(truth), _to_json(results), *self._details_settings
        )
        p = self._paramsEval
        # The ids are returned as the objects of params (numpy integers after evaluate's
        # np.unique), as pycocotools returns them.
        image_ids = {_plain(i): i for i in p.imgIds}
        category_ids = {_plain(c): c for c in p.catIds} if p.useCats else {-1: -1}
        for record in records:
            if record is not None:
                record["image_id"] = image_ids[record["image_id"]]
                record["category_id"] = category_ids[record["category_id"]]
                record["aRng"] = p.areaRng[record["aRng"]]
        self._ious = {
            (image_ids[image_id], category_ids[category_id]): value
            for image_id, category_id, value in ious
        }
        self._evalImgs = records

    def _selected_datasets(self, p: Params) -> tuple:
        """Restrict the ground truth and results to the ``imgIds`` and ``catIds`` of ``p``.

        pycocotools pools only the categories in ``catIds`` when ``useCats`` is 0, too.
        """
        image_ids = {_plain(i) for i in p.imgIds}
        category_ids = {_plain(c) for c in p.catIds}

        def keep(ann: Dict[str, Any]) -> bool:
            return ann["image_id"] in image_ids and ann["category_id"] in category_ids

        gt = self.cocoGt.dataset
        categories = [cat for cat in gt.get("categories", []) if cat["id"] in category_ids]
        truth = {
            "images": [img for img in gt.get("images", []) if img["id"] in image_ids],
            "categories": categories,
            "annotations": [ann for ann in gt.get("annotations", []) if keep(ann)],
        }
        # Building the views of results loaded in Rust also keeps their entries as given.
        detections = self.cocoDt.dataset
        results = self.cocoDt._result_entries
        if results is None:
            # NOTE: a cocoDt that loadRes did not build gets its areas and boxes derived again
            # with loadRes' rules, where pycocotools would read its stored `area` fields.
            results = [_result_entry(ann) for ann in detections.get("annotations", [])]
        return truth, [entry for entry in results if keep(entry)]

    def accumulate(self, p: Optional[Params] = None) -> None:
        """Build the precision and recall arrays of ``eval`` over all evaluated images.

        ``eval["precision"]`` and ``eval["scores"]`` have shape ``(T, R, K, A, M)`` and
        ``eval["recall"]`` shape ``(T, K, A, M)``: IoU thresholds, recall thresholds,
        categories, area ranges, max detections. Undefined entries are -1.
        """
        if self._native is None:
            raise ValueError("evaluate() has not run; call it before accumulate()")
        if p is not None:
            # NOTE: pycocotools can accumulate a subset of the evaluated parameters; here only
            # the evaluated parameters themselves are accepted.
            raise NotImplementedError(
                "accumulate(p) with other parameters is not supported; set params before "
                "evaluate() instead"
            )
        if self._accumulated:
            # The arrays of the first call belong to the caller, who may have changed them, so
            # the curves are computed again rather than copied.
            self._native = self._evaluate_native(self._paramsEval, self._details_settings)
        precision, recall, scores = self._native.accumulate()
        self._accumulated = True
        params = self._paramsEval
        self.eval = {
            "params": params,
            "counts": list(precision.shape),
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            "precision": precision,
            "recall": recall,
            "scores": scores,
        }

    def summarize(self) -> None:
        """Compute and print the twelve COCO summary numbers, and store them in ``stats``.

        The numbers are read from ``eval["precision"]`` and ``eval["recall"]`` as they are now,
        so changes made to them after ``accumulate`` show, as in pycocotools.

        NOTE: the first line (``stats[0]``) reads the largest of ``maxDets``. pycocotools 2.0.11
        reads 100 there, so it gives -1 when 100 is not among ``maxDets``, where this gives the
        AP at the largest count. The other lines read the third of ``maxDets`` in both.
        """
        if not self.eval:
            raise ValueError("accumulate() has not run; call it before summarize()")
        precision = np.ascontiguousarray(self.eval["precision"], dtype=np.float64)
        recall = np.ascontiguousarray(self.eval["recall"], dtype=np.float64)
        if precision.ndim != 5 or recall.ndim != 4:
            raise ValueError(
                f"invalid shapes of `eval['precision']` {precision.shape} and `eval['recall']` "
                f"{recall.shape}: expected 5 and 4 dimensions; call accumulate() again"
            )
        stats, text = coco_summarize(precision, recall, *self._details_settings[1:])
        print(text, end="")
        self.stats = np.array(stats, dtype=np.float64)

    def __str__(self) -> str:
        self.summarize()
        return ""


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _result_entry(ann: Dict[str, Any]) -> Dict[str, Any]:
    """Select the fields of a detection that the engine reads, so that ``loadRes``' additions (area,
    id, box polygons) are recomputed by the engine with the same rules."""
    entry = {
        "image_id": ann["image_id"],
        "category_id": ann["category_id"],
        "score": ann.get("score", 1.0),
    }
    if "bbox" in ann:
        entry["bbox"] = ann["bbox"]
    if "segmentation" in ann:
        entry["segmentation"] = ann["segmentation"]
    return entry
