"""``COCO``: a COCO dataset with the indexes and queries of ``pycocotools.coco.COCO``."""

from __future__ import annotations

import copy
import itertools
import json
import math
import os
from collections import defaultdict
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Union

import numpy as np

from ferrometrics._native import NativeCocoDataset
from ferrometrics.coco import mask as mask_utils

__all__ = ["COCO"]

Annotation = Dict[str, Any]


def _as_list(value: Any) -> List[Any]:
    """Wrap a single id in a list, as pycocotools' queries accept both."""
    if isinstance(value, (list, tuple, set, range, np.ndarray)):
        return list(value)
    return [value]


class COCO:
    """A COCO dataset (images, categories, annotations) with pycocotools' query methods.

    ``annotation_file`` is the path of a COCO JSON file or an already loaded dict. Without it the
    dataset is empty: set ``dataset`` and call ``createIndex``, as with pycocotools. Nothing is
    printed while loading.

    A file path is parsed in Rust, and ``COCOeval`` evaluates that native copy directly. The
    Python views (``dataset``, ``anns``, ``imgs``, ``cats``, ``imgToAnns``, ``catToImgs``) are
    built from the file on first access. From then on ``COCOeval`` reads the Python views, so
    edits to them count, as with pycocotools.
    """

    def __init__(self, annotation_file: Union[str, os.PathLike, Dict[str, Any], None] = None):
        self._dataset: Dict[str, Any] = {}
        self._anns: Dict[Any, Annotation] = {}
        self._cats: Dict[Any, Dict[str, Any]] = {}
        self._imgs: Dict[Any, Dict[str, Any]] = {}
        self._img_to_anns: Dict[Any, List[Annotation]] = defaultdict(list)
        self._cat_to_imgs: Dict[Any, List[Any]] = defaultdict(list)
        self._result_entries: Optional[List[Annotation]] = None
        # The dataset parsed in Rust, while the Python views are not built, and the function
        # that builds them. The function gets the instance as its argument, because a closure
        # over it would form a reference cycle that keeps the native dataset alive until the
        # garbage collector runs.
        self._native: Optional[NativeCocoDataset] = None
        self._build_views: Optional[Callable[["COCO"], None]] = None
        if annotation_file is None:
            return
        if isinstance(annotation_file, dict):
            self._set_dataset(annotation_file)
            return
        path = os.fspath(annotation_file)
        try:
            native = NativeCocoDataset.from_path(path)
        except ValueError:
            # pycocotools loads any JSON object and fails later, in the evaluation, on what it
            # cannot use. The Python loader keeps that behaviour; the evaluation then reports
            # the problem.
            self._set_dataset(_read_json(path))
            return
        self._native = native
        self._build_views = lambda coco: coco._set_dataset(_read_json(path))

    def __getstate__(self) -> Dict[str, Any]:
        """Return the state for pickling and copying, with the Python views built, because the
        native copy and the view builder cannot be pickled."""
        self._views()
        return dict(self.__dict__)

    def _set_dataset(self, dataset: Any) -> None:
        if not isinstance(dataset, dict):
            raise ValueError(
                f"invalid input `annotation_file`: the top level must be an object with "
                f"'images', 'categories' and 'annotations', got {type(dataset).__name__}"
            )
        self._dataset = dataset
        self.createIndex()

    def _views(self) -> None:
        """Build the Python views from the source, once, and stop using the native copy."""
        build = self._build_views
        if build is not None:
            self._build_views = None
            self._native = None
            build(self)

    @property
    def native(self) -> Optional[NativeCocoDataset]:
        """The dataset parsed in Rust, or ``None`` once the Python views are in use."""
        return self._native

    @property
    def dataset(self) -> Dict[str, Any]:
        self._views()
        return self._dataset

    @dataset.setter
    def dataset(self, value: Dict[str, Any]) -> None:
        self._build_views = None
        self._native = None
        self._dataset = value

    @property
    def anns(self) -> Dict[Any, Annotation]:
        self._views()
        return self._anns

    @anns.setter
    def anns(self, value: Dict[Any, Annotation]) -> None:
        self._views()
        self._anns = value

    @property
    def imgs(self) -> Dict[Any, Dict[str, Any]]:
        self._views()
        return self._imgs

    @imgs.setter
    def imgs(self, value: Dict[Any, Dict[str, Any]]) -> None:
        self._views()
        self._imgs = value

    @property
    def cats(self) -> Dict[Any, Dict[str, Any]]:
        self._views()
        return self._cats

    @cats.setter
    def cats(self, value: Dict[Any, Dict[str, Any]]) -> None:
        self._views()
        self._cats = value

    @property
    def imgToAnns(self) -> Dict[Any, List[Annotation]]:  # noqa: N802 (pycocotools' name)
        self._views()
        return self._img_to_anns

    @imgToAnns.setter
    def imgToAnns(self, value: Dict[Any, List[Annotation]]) -> None:  # noqa: N802
        self._views()
        self._img_to_anns = value

    @property
    def catToImgs(self) -> Dict[Any, List[Any]]:  # noqa: N802 (pycocotools' name)
        self._views()
        return self._cat_to_imgs

    @catToImgs.setter
    def catToImgs(self, value: Dict[Any, List[Any]]) -> None:  # noqa: N802
        self._views()
        self._cat_to_imgs = value

    def createIndex(self) -> None:  # noqa: N802 (pycocotools' name)
        """Build the id indexes ``anns``, ``imgs``, ``cats``, ``imgToAnns`` and ``catToImgs``."""
        self._views()
        self._native = None
        anns: Dict[Any, Annotation] = {}
        cats: Dict[Any, Dict[str, Any]] = {}
        imgs: Dict[Any, Dict[str, Any]] = {}
        img_to_anns: Dict[Any, List[Annotation]] = defaultdict(list)
        cat_to_imgs: Dict[Any, List[Any]] = defaultdict(list)
        dataset = self._dataset
        for ann in dataset.get("annotations", []):
            img_to_anns[ann["image_id"]].append(ann)
            anns[ann["id"]] = ann
        for img in dataset.get("images", []):
            imgs[img["id"]] = img
        for cat in dataset.get("categories", []):
            cats[cat["id"]] = cat
        if "annotations" in dataset and "categories" in dataset:
            for ann in dataset["annotations"]:
                cat_to_imgs[ann["category_id"]].append(ann["image_id"])
        self._anns, self._imgs, self._cats = anns, imgs, cats
        self._img_to_anns, self._cat_to_imgs = img_to_anns, cat_to_imgs

    def info(self) -> None:
        """Print the dataset's ``info`` entries."""
        for key, value in self.dataset.get("info", {}).items():
            print(f"{key}: {value}")

    def getAnnIds(  # noqa: N802
        self,
        imgIds: Any = (),  # noqa: N803
        catIds: Any = (),  # noqa: N803
        areaRng: Sequence[float] = (),  # noqa: N803
        iscrowd: Optional[Any] = None,
    ) -> List[Any]:
        """Return the ids of the annotations of the given images and categories, with an area
        strictly inside ``areaRng`` and the given crowd flag. An empty filter keeps all."""
        img_ids = _as_list(imgIds)
        cat_ids = set(_as_list(catIds))
        area_range = list(areaRng)
        if img_ids:
            anns: Iterable[Annotation] = itertools.chain.from_iterable(
                self.imgToAnns[i] for i in img_ids if i in self.imgToAnns
            )
        else:
            anns = self.dataset.get("annotations", [])
        if cat_ids:
            anns = [ann for ann in anns if ann["category_id"] in cat_ids]
        if area_range:
            low, high = area_range[0], area_range[1]
            anns = [ann for ann in anns if low < ann["area"] < high]
        if iscrowd is not None:
            return [ann["id"] for ann in anns if ann.get("iscrowd", 0) == iscrowd]
        return [ann["id"] for ann in anns]

    def getCatIds(  # noqa: N802
        self,
        catNms: Any = (),  # noqa: N803
        supNms: Any = (),  # noqa: N803
        catIds: Any = (),  # noqa: N803
    ) -> List[Any]:
        """Return the ids of the categories with the given names, supercategories and ids. An
        empty filter keeps all."""
        names = _as_list(catNms)
        supercategories = _as_list(supNms)
        ids = _as_list(catIds)
        if not names and not supercategories and not ids and self._native is not None:
            return self._native.category_ids()
        cats = self.dataset.get("categories", [])
        if names:
            cats = [cat for cat in cats if cat.get("name") in names]
        if supercategories:
            cats = [cat for cat in cats if cat.get("supercategory") in supercategories]
        if ids:
            cats = [cat for cat in cats if cat["id"] in ids]
        return [cat["id"] for cat in cats]

    def getImgIds(self, imgIds: Any = (), catIds: Any = ()) -> List[Any]:  # noqa: N802, N803
        """Return the ids of the given images that contain every given category. With no
        images given, return all images that contain every category."""
        img_ids = _as_list(imgIds)
        cat_ids = _as_list(catIds)
        if not img_ids and not cat_ids:
            if self._native is not None:
                # The native loader rejects repeated ids, so this is the order of `imgs`' keys.
                return self._native.image_ids()
            return list(self.imgs.keys())
        ids = set(img_ids)
        for index, cat_id in enumerate(cat_ids):
            if index == 0 and not ids:
                ids = set(self.catToImgs[cat_id])
            else:
                ids &= set(self.catToImgs[cat_id])
        return list(ids)

    def loadAnns(self, ids: Any = ()) -> List[Annotation]:  # noqa: N802
        """Return the annotations with the given ids."""
        return [self.anns[i] for i in _as_list(ids)]

    def loadCats(self, ids: Any = ()) -> List[Dict[str, Any]]:  # noqa: N802
        """Return the categories with the given ids."""
        return [self.cats[i] for i in _as_list(ids)]

    def loadImgs(self, ids: Any = ()) -> List[Dict[str, Any]]:  # noqa: N802
        """Return the images with the given ids."""
        return [self.imgs[i] for i in _as_list(ids)]

    def loadRes(self, resFile: Any) -> "COCO":  # noqa: N802, N803
        """Load detections as a ``COCO`` dataset over this dataset's images and categories.

        ``resFile`` is a JSON file path, a list of result dicts, or an ``(N, 7)`` array of rows
        ``[image_id, x, y, width, height, score, category_id]``. If the first result has a
        non-empty ``bbox``, every result is a box: its area is ``width * height`` and its
        segmentation the box's polygon. Otherwise every result needs a ``segmentation``, whose
        mask area is the area and whose tight box is the ``bbox`` unless one is given. Results
        get ids 1, 2, ... and are never crowds.
        """
        if isinstance(resFile, (str, os.PathLike)):
            path = os.fspath(resFile)
            native = self._native_results(lambda native: native.load_results_path(path))
            if native is not None:
                return self._lazy_results(native, lambda: _read_json(path))
            anns = _read_json(path)
        elif isinstance(resFile, np.ndarray):
            anns = self.loadNumpyAnnotations(resFile)
        else:
            anns = resFile
        if isinstance(anns, list):
            entries = anns
            native = self._native_results(
                lambda native: native.load_results_json(_to_json(entries))
            )
            if native is not None:
                return self._lazy_results(native, lambda: entries)
        results = COCO()
        self._python_results(anns, results)
        return results

    def _native_results(
        self, load: Callable[[NativeCocoDataset], NativeCocoDataset]
    ) -> Optional[NativeCocoDataset]:
        """Load results in Rust against the native ground truth, or return ``None`` if there is
        none or the native loader rejects the results.

        On ``None`` the Python loader takes over. It raises pycocotools' error, or accepts what
        only fails later in the evaluation.
        """
        if self._native is None:
            return None
        try:
            return load(self._native)
        except (ValueError, TypeError):
            return None

    def _lazy_results(self, native: NativeCocoDataset, entries: Callable[[], Any]) -> "COCO":
        """Return results held in Rust, whose Python views are built from ``entries()`` on first
        access."""
        results = COCO()
        results._native = native
        results._build_views = lambda target: self._python_results(entries(), target)
        return results

    def _python_results(self, anns: Any, results: "COCO") -> None:
        """Fill ``results`` with the detections ``anns`` over this dataset's images and
        categories, adding the fields that pycocotools' ``loadRes`` adds."""
        if not isinstance(anns, list):
            raise ValueError(
                f"invalid input `resFile`: results must be a list of dicts, got "
                f"{type(anns).__name__}"
            )
        for index, ann in enumerate(anns):
            score = ann.get("score") if isinstance(ann, dict) else None
            if isinstance(score, (int, float, np.floating)) and not math.isfinite(score):
                # pycocotools accepts such a score, but no ranking of detections follows from it.
                raise ValueError(
                    f"invalid input `resFile`: result {index} has score {score}; give every "
                    "result a finite score"
                )
        known = set(self.getImgIds())
        unknown = {ann["image_id"] for ann in anns} - known
        if unknown:
            example = sorted(unknown, key=str)[:5]
            raise ValueError(
                f"invalid input `resFile`: results of images {example} that are not in the "
                "ground truth; evaluate against the dataset the detections were made on"
            )

        # The engine of COCOeval derives areas and boxes from the results as given, so it reads
        # these copies, taken before the fields below are added.
        results._result_entries = [dict(ann) for ann in anns]
        dataset: Dict[str, Any] = {
            "images": list(self.dataset.get("images", [])),
            "categories": copy.deepcopy(self.dataset.get("categories", [])),
        }
        if anns and "bbox" in anns[0] and len(anns[0]["bbox"]) > 0:
            for index, ann in enumerate(anns):
                x, y, width, height = ann["bbox"]
                if "segmentation" not in ann:
                    ann["segmentation"] = [
                        [x, y, x, y + height, x + width, y + height, x + width, y]
                    ]
                ann["area"] = width * height
                ann["id"] = index + 1
                ann["iscrowd"] = 0
        elif anns and "segmentation" in anns[0]:
            for index, ann in enumerate(anns):
                rle = self._result_rle(ann)
                ann["area"] = mask_utils.area(rle)
                if "bbox" not in ann:
                    ann["bbox"] = mask_utils.toBbox(rle)
                ann["id"] = index + 1
                ann["iscrowd"] = 0
        elif anns:
            raise ValueError(
                "invalid input `resFile`: the first result has neither a non-empty 'bbox' nor a "
                "'segmentation'; captions and keypoints are not supported"
            )
        dataset["annotations"] = anns
        results._dataset = dataset
        results.createIndex()

    def _result_rle(self, ann: Annotation) -> Dict[str, Any]:
        segmentation = ann["segmentation"]
        if isinstance(segmentation, dict):
            return segmentation
        img = self.imgs[ann["image_id"]]
        return mask_utils.merge(mask_utils.frPyObjects(segmentation, img["height"], img["width"]))

    def loadNumpyAnnotations(self, data: np.ndarray) -> List[Annotation]:  # noqa: N802
        """Convert rows ``[image_id, x, y, width, height, score, category_id]`` to result
        dicts."""
        array = np.asarray(data)
        if array.ndim != 2 or array.shape[1] != 7:
            raise ValueError(
                f"invalid input `data`: expected shape (N, 7), got shape {array.shape}"
            )
        return [
            {
                "image_id": int(row[0]),
                "bbox": [float(row[1]), float(row[2]), float(row[3]), float(row[4])],
                "score": float(row[5]),
                "category_id": int(row[6]),
            }
            for row in array
        ]

    def annToRLE(self, ann: Annotation) -> Dict[str, Any]:  # noqa: N802
        """Return the annotation's segmentation as one RLE: polygons are rasterized at the
        image's size and merged, uncompressed RLEs are compressed."""
        img = self.imgs[ann["image_id"]]
        height, width = img["height"], img["width"]
        segmentation = ann["segmentation"]
        if isinstance(segmentation, list):
            return mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
        if isinstance(segmentation["counts"], list):
            return mask_utils.frPyObjects(segmentation, height, width)
        return segmentation

    def annToMask(self, ann: Annotation) -> np.ndarray:  # noqa: N802
        """Return the annotation's binary mask ``(H, W)`` as uint8."""
        return mask_utils.decode(self.annToRLE(ann))


def _read_json(path: Union[str, os.PathLike]) -> Any:
    with open(path, "r", encoding="utf-8") as handle:
        return json.load(handle)


def _to_json(value: Any) -> str:
    """Write COCO data as JSON, with numpy numbers and arrays as plain ones and RLE bytes as
    text."""
    return json.dumps(value, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("ascii")
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write a {type(value).__name__} to COCO JSON")
