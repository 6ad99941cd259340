#!/usr/bin/env python3
"""Blurs or rescales every frame of a sequence, to ask what in an image a model reacts to.

    .pyenv/bin/python scripts/resample-frames.py blur 2 SEQ OUT            # Gaussian blur, σ 2 px
    .pyenv/bin/python scripts/resample-frames.py scale 0.78 SEQ OUT        # bilinear, anti-aliased
    .pyenv/bin/python scripts/resample-frames.py unscale 700x1100 RES OUT  # result masks back to 700 rows × 1100 columns

`blur` and `scale` read SEQ/tTTT.tif and write OUT/tTTT.tif in the frame's
own integer type. `unscale HxW` brings a result folder made on scaled frames
back to the original size for scoring: its maskTTT.tif by nearest neighbour,
its res_track.txt as it is.
"""
import glob
import os
import shutil
import sys

import numpy as np
import tifffile
from skimage.filters import gaussian
from skimage.transform import rescale, resize


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("blur", "scale", "unscale"):
        sys.exit(__doc__)
    op, arg, src, dst = sys.argv[1:]
    pattern = "mask*.tif" if op == "unscale" else "t*.tif"
    files = sorted(glob.glob(os.path.join(src, pattern)))
    if not files:
        sys.exit(f"{src}: no {pattern} files")
    os.makedirs(dst, exist_ok=True)
    for f in files:
        a = tifffile.imread(f)
        if op == "blur":
            b = gaussian(a.astype(np.float32), float(arg), preserve_range=True)
        elif op == "scale":
            b = rescale(a.astype(np.float32), float(arg), order=1, preserve_range=True, anti_aliasing=True)
        else:
            h, w = (int(v) for v in arg.split("x"))
            b = resize(a, (h, w), order=0, preserve_range=True, anti_aliasing=False)
        if np.issubdtype(a.dtype, np.integer):
            b = np.clip(np.rint(b), np.iinfo(a.dtype).min, np.iinfo(a.dtype).max)
        tifffile.imwrite(os.path.join(dst, os.path.basename(f)), b.astype(a.dtype))
    if op == "unscale":
        shutil.copy(os.path.join(src, "res_track.txt"), dst)


if __name__ == "__main__":
    main()
