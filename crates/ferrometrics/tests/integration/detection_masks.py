"""Write random polygons and boxes with pycocotools' RLEs of them, for detection_masks.rs.

Usage: python detection_masks.py OUT_DIR
Needs pycocotools 2.0.11 and numpy. Coordinates reach outside the canvas and repeat vertices,
so that the clipping and degenerate-edge paths of the rasterizer are exercised.
"""

import json
import random
import sys

import numpy as np
import pycocotools.mask as mask_utils


def main():
    rng = random.Random(3)
    cases = []
    for i in range(300):
        height, width = rng.randint(1, 60), rng.randint(1, 80)
        points = rng.randint(3, 12)
        polygon = []
        for _ in range(points):
            x = round(rng.uniform(-10, width + 10), rng.choice([0, 1, 2, 3]))
            y = round(rng.uniform(-10, height + 10), rng.choice([0, 1, 2, 3]))
            polygon += [x, y]
        if i % 7 == 0:
            polygon += polygon[-2:]
        second = [round(v * 0.5 + 3, 2) for v in polygon]
        polygons = [polygon] if i % 3 else [polygon, second]
        rles = mask_utils.frPyObjects(polygons, height, width)
        merged = mask_utils.merge(rles)
        box = [round(rng.uniform(-5, width), 2), round(rng.uniform(-5, height), 2),
               round(rng.uniform(0, width), 2), round(rng.uniform(0, height), 2)]
        box_rle = mask_utils.frPyObjects(np.array([box], dtype=np.float64), height, width)[0]
        cases.append({
            "height": height, "width": width, "polygons": polygons,
            "counts": merged["counts"].decode(), "area": int(mask_utils.area(merged)),
            "bbox": [float(v) for v in mask_utils.toBbox(merged)],
            "box": box, "box_counts": box_rle["counts"].decode(),
        })
    with open(f"{sys.argv[1]}/polygons.json", "w") as f:
        json.dump(cases, f)


if __name__ == "__main__":
    main()
