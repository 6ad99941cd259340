#!/usr/bin/env python3
"""Object precision and recall at IoU 0.5, frame by frame, of one or more results against SEG truth.

Shows whether a result gets worse as a sequence goes on (a recurrent model's
state drifting), which the whole-sequence scores of `cellstream evaluate`
average away. One line per truth frame: the frame, then precision/recall
for each result folder in the order given.

    .pyenv/bin/python scripts/frame-pr.py GT/SEG RES_STATEFUL RES_WINDOW5
"""
import glob
import os
import re
import sys

import numpy as np
import tifffile


def matches(truth, result):
    """True positives: pairs of a truth cell and a result object with IoU > 0.5 (each cell has at most one)."""
    g, r = truth.ravel().astype(np.int64), result.ravel().astype(np.int64)
    both = (g > 0) & (r > 0)
    pairs, overlap = np.unique(np.stack([g[both], r[both]]), axis=1, return_counts=True)
    g_area, r_area = np.bincount(g), np.bincount(r)
    return sum(1 for (a, b), n in zip(pairs.T, overlap) if n / (g_area[a] + r_area[b] - n) > 0.5)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    seg_dir, results = sys.argv[1], sys.argv[2:]
    for path in sorted(glob.glob(os.path.join(seg_dir, "man_seg*.tif"))):
        t = re.search(r"man_seg_?(\d+)\.tif$", path).group(1)
        truth = tifffile.imread(path)
        cells = len(np.unique(truth)) - (truth == 0).any()
        row = [t]
        for res in results:
            mask = tifffile.imread(os.path.join(res, f"mask{t}.tif"))
            objects = len(np.unique(mask)) - (mask == 0).any()
            tp = matches(truth, mask)
            row.append(f"{tp / max(objects, 1):.2f}/{tp / max(cells, 1):.2f}")
        print(" ".join(row))


if __name__ == "__main__":
    main()
