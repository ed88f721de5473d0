"""A drop-in for pycocotools: ``COCO``, ``COCOeval`` and ``mask``, computed in Rust.

``from ferrometrics.coco import COCO, COCOeval, mask`` replaces ``pycocotools.coco.COCO``,
``pycocotools.cocoeval.COCOeval`` and ``pycocotools.mask``, and the submodules
``ferrometrics.coco.coco`` and ``ferrometrics.coco.cocoeval`` mirror pycocotools' layout. The
summary numbers equal pycocotools' to the bit for ``"bbox"`` and ``"segm"``.
"""

from ferrometrics.coco import mask
from ferrometrics.coco.coco import COCO
from ferrometrics.coco.cocoeval import COCOeval, Params

__all__ = ["COCO", "COCOeval", "Params", "mask"]
