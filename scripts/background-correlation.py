#!/usr/bin/env python3
"""How much of a sequence's background persists from frame to frame: the correlation of its fine structure over time lags.

Fine structure is each frame minus its Gaussian blur (σ 5 px); the
background is every pixel farther than 10 px from any cell in any frame of
the truth. Prints the mean Pearson correlation of the two frames' fine
structure for lags 1, 5 and 10. Fresh noise every frame gives 0.

    .pyenv/bin/python scripts/background-correlation.py SEQ TRUTH_SEG_DIR
"""
import glob
import os
import re
import sys

import numpy as np
import tifffile
from scipy.ndimage import binary_dilation, gaussian_filter


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    seq, truth = sys.argv[1], sys.argv[2]
    paths = sorted(glob.glob(os.path.join(seq, "t*.tif")))
    fine = []
    background = None
    for p in paths:
        t = re.search(r"t(\d+)\.tif$", p).group(1)
        frame = tifffile.imread(p).astype(np.float64)
        fine.append(frame - gaussian_filter(frame, 5))
        found = [n for n in (f"man_seg{t}.tif", f"mask{t}.tif") if os.path.exists(os.path.join(truth, n))]
        if found:
            far = ~binary_dilation(tifffile.imread(os.path.join(truth, found[0])) > 0, iterations=10)
            background = far if background is None else background & far
    for lag in (1, 5, 10):
        if lag < len(fine):
            r = [np.corrcoef(fine[t][background], fine[t + lag][background])[0, 1] for t in range(len(fine) - lag)]
            print(f"lag {lag:2}: {np.mean(r):.2f}")


if __name__ == "__main__":
    main()
