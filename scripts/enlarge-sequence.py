#!/usr/bin/env python3
"""Enlarges a CTC sequence and its truth K times, to train or score a model on cells K times their size.

    .pyenv/bin/python scripts/enlarge-sequence.py 2 target/sim-train/phase-11 target/sim-x2/phase-11

Reads SRC/01/tTTT.tif and SRC/01_GT/{SEG,TRA}; writes the frames enlarged by
bilinear interpolation between pixel centres (as `track --scale` resizes), in
their own integer type, and the truth masks by repeating each pixel K×K times
(labels stay whole), with man_track.txt as it is. Every sequence folder NN in
SRC is enlarged.
"""
import glob
import os
import shutil
import sys

import numpy as np
import tifffile
from skimage.transform import rescale


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    k, src, dst = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    seqs = sorted(d for d in os.listdir(src) if d.isdigit() and os.path.isdir(os.path.join(src, d)))
    if not seqs:
        sys.exit(f"{src}: no sequence folder (NN)")
    for nn in seqs:
        os.makedirs(os.path.join(dst, nn), exist_ok=True)
        for f in sorted(glob.glob(os.path.join(src, nn, "t*.tif"))):
            a = tifffile.imread(f)
            b = rescale(a.astype(np.float32), k, order=1, preserve_range=True, anti_aliasing=False)
            if np.issubdtype(a.dtype, np.integer):
                b = np.clip(np.round(b), 0, np.iinfo(a.dtype).max)
            tifffile.imwrite(os.path.join(dst, nn, os.path.basename(f)), b.astype(a.dtype))
        for kind in ("SEG", "TRA"):
            gt = os.path.join(src, f"{nn}_GT", kind)
            if not os.path.isdir(gt):
                continue
            out = os.path.join(dst, f"{nn}_GT", kind)
            os.makedirs(out, exist_ok=True)
            for f in sorted(glob.glob(os.path.join(gt, "*.tif"))):
                m = tifffile.imread(f)
                tifffile.imwrite(os.path.join(out, os.path.basename(f)), np.kron(m, np.ones((k, k), m.dtype)))
            for t in glob.glob(os.path.join(gt, "*.txt")):
                shutil.copy(t, out)


if __name__ == "__main__":
    main()
