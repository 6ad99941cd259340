#!/usr/bin/env python3
"""How much SEG does one pixel of outline cost? Writes the truth itself, every
cell grown (or shrunk) by one pixel, as a result folder for `cellstream evaluate`.

    .pyenv/bin/python scripts/outline-ceiling.py sequences/phase/01_GT/SEG /tmp/grown grow
    ./target/release/cellstream evaluate --gt sequences/phase/01_GT --res /tmp/grown

`grow` adds the 4-connected ring outside each cell (scipy's binary_dilation
with its default cross), onto background only, so cells never overlap;
`shrink` removes each cell's 4-connected inner rim (binary_erosion). The
score of such a result is the SEG of a segmentation whose every outline is
exact but for one pixel, all the way round.
"""
import glob
import os
import sys

import numpy as np
import tifffile
from scipy import ndimage as ndi


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in ("grow", "shrink"):
        sys.exit("usage: outline-ceiling.py GT_SEG_DIR OUT_DIR grow|shrink")
    src, dst, op = sys.argv[1:]
    files = sorted(glob.glob(os.path.join(src, "man_seg*.tif")))
    if not files:
        sys.exit(f"{src}: no man_segTTT.tif files")
    os.makedirs(dst, exist_ok=True)
    for f in files:
        truth = tifffile.imread(f)
        out = np.zeros_like(truth) if op == "shrink" else truth.copy()
        for label in np.unique(truth)[1:]:
            cell = truth == label
            if op == "grow":
                out[ndi.binary_dilation(cell) & (truth == 0) & (out == 0)] = label
            else:
                out[ndi.binary_erosion(cell)] = label
        t = os.path.basename(f)[len("man_seg"):-len(".tif")]
        tifffile.imwrite(os.path.join(dst, f"mask{t}.tif"), out)
    print(f"{dst}: {len(files)} masks, every cell {'grown' if op == 'grow' else 'shrunk'} by one pixel")


if __name__ == "__main__":
    main()
