#!/usr/bin/env python3
"""The prototype of `track --split-merges` (post::split_merges), in
scikit-image, on a result folder: each object that holds at least COVER of
each of two or more cells of the frame before (each at least SIZE × that
frame's median area, together at most 1/0.8 of the object) is split by a
watershed of its distance transform, marked by those cells eroded ERODE px.
With `prop` the frame before is the split result (a lasting merge is split
in every frame; what cellstream does), with `raw` the result as it was;
MAX_AGE (default: no limit) stops carrying a split more than that many frames
past the last frame whose segmentation held the cells apart. Session 18
chose cellstream's defaults (0.7, 0.6, prop, 1, 5) with it on the training
sequences 11 and 12 of the three simulated modalities.

    cellstream track SEQ --split-merges off --out RES
    .pyenv/bin/python scripts/split-merges-prototype.py RES OUT COVER SIZE prop|raw ERODE [MAX_AGE]
    cellstream track --masks OUT --out OUT_RES && cellstream evaluate --gt GT --res OUT_RES
"""
import glob
import os
import sys

import numpy as np
import tifffile
from scipy import ndimage as ndi
from skimage.segmentation import watershed


def main(res, out, cover, size, prop, erode, K):
    os.makedirs(out, exist_ok=True)
    prev, split = None, 0
    age_prev = {}
    frames = sorted(glob.glob(os.path.join(res, "mask*.tif")))
    if not frames:
        sys.exit(f"split-merges-prototype: {res} holds no maskTTT.tif")
    for f in frames:
        m = tifffile.imread(f).astype(np.int32)
        raw = m.copy()
        age = {}
        if prev is not None and prev.max() > 0:
            labels, areas = np.unique(prev[prev > 0], return_counts=True)
            area = dict(zip(labels.tolist(), areas.tolist()))
            median = np.median(areas)
            nxt = m.max() + 1
            for c in np.unique(m):
                if c == 0:
                    continue
                o = m == c
                inside, counts = np.unique(prev[o], return_counts=True)
                cells = [int(q) for q, n in zip(inside, counts) if q and n >= cover * area[int(q)] and area[int(q)] >= size * median]
                if any(age_prev.get(q, 0) >= K for q in cells):
                    continue
                if len(cells) < 2 or o.sum() < 0.8 * sum(area[q] for q in cells):
                    continue
                markers = np.zeros_like(m)
                for i, q in enumerate(cells):
                    core = ndi.binary_erosion(prev == q, iterations=erode) if erode else prev == q
                    markers[o & core] = i + 1
                parts = watershed(-ndi.distance_transform_edt(o), markers, mask=o)
                a = 1 + max(age_prev.get(q, 0) for q in cells)
                age[int(c)] = a
                for i in range(2, len(cells) + 1):
                    m[parts == i] = nxt
                    age[int(nxt)] = a
                    nxt += 1
                split += 1
        tifffile.imwrite(os.path.join(out, os.path.basename(f)), m.astype(np.uint16))
        prev = m if prop else raw
        age_prev = age
    print(f"{split} objects split", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) not in (7, 8) or sys.argv[5] not in ("prop", "raw"):
        sys.exit(__doc__)
    a = sys.argv
    main(a[1], a[2], float(a[3]), float(a[4]), a[5] == "prop", int(a[6]), int(a[7]) if len(a) == 8 else 1 << 30)
