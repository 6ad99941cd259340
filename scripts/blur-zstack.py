"""Turn a 2D sequence into z-stacks of 5 slices, to time reading and projecting them.

Usage: .pyenv/bin/python scripts/blur-zstack.py SEQ OUT

Each frame tTTT.tif of SEQ becomes OUT/tTTT.tif of 5 pages: the frame in the
middle, copies blurred by a Gaussian of sigma 2 px (times 0.8) beside it and
of sigma 4 px (times 0.5) at either end. No truth is made; README's timing of
`track --project max` on HeLa 02 used it.
"""
import pathlib
import sys

import numpy as np
import tifffile
from scipy.ndimage import gaussian_filter

seq, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
for p in sorted(seq.glob("t*.tif")):
    f = tifffile.imread(p).astype(np.float64)
    near, far = gaussian_filter(f, 2) * 0.8, gaussian_filter(f, 4) * 0.5
    slices = [far, near, f, near, far]
    tifffile.imwrite(out / p.name, np.stack([np.clip(np.rint(s), 0, 65535).astype(np.uint16) for s in slices]), photometric="minisblack")
