#!/usr/bin/env python3
"""Give the network mirrored context at the frame's edge: pad every frame of a
sequence by P px (numpy's `symmetric` mode: the edge pixel repeated, then the
frame mirrored), run `track --save-probabilities` on the padded copy, and crop
its maps back to the frame.

    .pyenv/bin/python scripts/mirror-pad.py pad SEQ PADDED_SEQ P
    cellstream track PADDED_SEQ --model phase --save-probabilities PADDED_PROBS --out /tmp/ignored
    .pyenv/bin/python scripts/mirror-pad.py crop PADDED_PROBS PROBS P
    # then postprocess, track --masks and evaluate as for scripts/average-probs.py
"""
import glob
import os
import sys

import numpy as np
import tifffile


def main(what, src, dst, p):
    if what == "pad":
        frames = sorted(glob.glob(os.path.join(src, "t*.tif")))
        if not frames:
            sys.exit(f"mirror-pad: {src} holds no tTTT.tif")
        os.makedirs(dst, exist_ok=True)
        for f in frames:
            tifffile.imwrite(os.path.join(dst, os.path.basename(f)), np.pad(tifffile.imread(f), p, mode="symmetric"))
    elif what == "crop":
        for sub in ("foreground", "seeds"):
            os.makedirs(os.path.join(dst, sub), exist_ok=True)
            for f in sorted(os.listdir(os.path.join(src, sub))):
                tifffile.imwrite(os.path.join(dst, sub, f), tifffile.imread(os.path.join(src, sub, f))[p:-p, p:-p])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
