#!/usr/bin/env python3
"""Sizes of a result's false objects (IoU ≤ 0.5 with every truth cell) against its true ones, and how many touch another object.

    .pyenv/bin/python scripts/false-objects.py GT/SEG RES
"""
import glob
import os
import re
import sys

import numpy as np
import tifffile
from scipy.ndimage import binary_dilation
from skimage.measure import regionprops


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    seg_dir, res = sys.argv[1], sys.argv[2]
    truth_areas, true_areas, false_areas, touching = [], [], [], 0
    for path in sorted(glob.glob(os.path.join(seg_dir, "man_seg*.tif"))):
        t = re.search(r"man_seg_?(\d+)\.tif$", path).group(1)
        truth = tifffile.imread(path)
        result = tifffile.imread(os.path.join(res, f"mask{t}.tif"))
        truth_areas += [r.area for r in regionprops(truth)]
        for r in regionprops(result):
            inside = result[r.slice] == r.label
            under = truth[r.slice][inside]
            best = 0.0
            for label in np.unique(under[under > 0]):
                overlap = (under == label).sum()
                best = max(best, overlap / (r.area + (truth == label).sum() - overlap))
            if best > 0.5:
                true_areas.append(r.area)
                continue
            false_areas.append(r.area)
            y0, x0, y1, x1 = r.bbox
            y0, x0 = max(y0 - 1, 0), max(x0 - 1, 0)
            around = result[y0:y1 + 1, x0:x1 + 1]
            ring = binary_dilation(around == r.label) & (around != r.label)
            touching += bool((around[ring] != 0).any())
    false_areas, true_areas = np.array(false_areas), np.array(true_areas)
    print(f"truth cells: {len(truth_areas)}, median area {np.median(truth_areas):.0f} px")
    print(f"true objects: {len(true_areas)}, median area {np.median(true_areas):.0f} px")
    print(f"false objects: {len(false_areas)}, median area {np.median(false_areas):.0f} px, {touching} touch another object")
    for limit in (30, 50, 100, 150):
        print(f"under {limit} px: {(false_areas < limit).sum()} false, {(true_areas < limit).sum()} true")


if __name__ == "__main__":
    main()
