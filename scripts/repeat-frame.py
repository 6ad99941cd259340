#!/usr/bin/env python3
"""Makes a sequence of one frame repeated N times, with its truth, to see what a recurrent model's state adds to a scene that does not change.

Writes OUT/01/tTTT.tif (frame T of SEQ, N times; with --noise S, fresh
Gaussian noise of standard deviation S in raw units added to each copy) and
OUT/01_GT/SEG/man_segTTT.tif (the truth of that frame, N times). Track
OUT/01, then compare frames with scripts/frame-pr.py.

    .pyenv/bin/python scripts/repeat-frame.py SEQ TRUTH_SEG_DIR OUT 20 [--frame 0] [--noise 23]
"""
import argparse
import os

import numpy as np
import tifffile


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seq", help="sequence folder holding tTTT.tif")
    ap.add_argument("truth", help="folder holding man_segTTT.tif, or CTC baseline maskTTT.tif")
    ap.add_argument("out")
    ap.add_argument("n", type=int)
    ap.add_argument("--frame", type=int, default=0)
    ap.add_argument("--noise", type=float, default=0.0)
    a = ap.parse_args()
    frame = tifffile.imread(os.path.join(a.seq, f"t{a.frame:03d}.tif"))
    name = next(n for n in (f"man_seg{a.frame:03d}.tif", f"mask{a.frame:03d}.tif") if os.path.exists(os.path.join(a.truth, n)))
    truth = tifffile.imread(os.path.join(a.truth, name))
    os.makedirs(os.path.join(a.out, "01"), exist_ok=True)
    os.makedirs(os.path.join(a.out, "01_GT", "SEG"), exist_ok=True)
    rng = np.random.default_rng(0)
    top = np.iinfo(frame.dtype).max if frame.dtype.kind in "ui" else None
    for t in range(a.n):
        f = frame
        if a.noise > 0:
            f = frame.astype(np.float64) + a.noise * rng.standard_normal(frame.shape)
            f = np.clip(np.round(f), 0, top).astype(frame.dtype) if top else f.astype(frame.dtype)
        tifffile.imwrite(os.path.join(a.out, "01", f"t{t:03d}.tif"), f)
        tifffile.imwrite(os.path.join(a.out, "01_GT", "SEG", f"man_seg{t:03d}.tif"), truth)


if __name__ == "__main__":
    main()
