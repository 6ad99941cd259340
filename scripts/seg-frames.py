#!/usr/bin/env python3
"""SEG of result masks against truth SEG masks over a range of frames, computed by py-ctcmetrics.

`ctc_evaluate` needs a TRA ground truth and a complete result; this scores
segmentation alone on chosen frames (e.g. a held-out block of time):

    .pyenv/bin/python scripts/seg-frames.py --gt ../shared/data/ctc/PhC-C2DL-PSC/02_ST --res OUT --frames 35-49
"""
import argparse
import glob
import os
import re

import tifffile
from ctc_metrics.metrics import seg
from ctc_metrics.scripts.evaluate import match_computed_to_reference_masks


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gt", required=True, help="truth folder holding SEG/man_segTTT.tif")
    ap.add_argument("--res", required=True, help="result folder holding maskTTT.tif")
    ap.add_argument("--frames", required=True, help="inclusive range A-B")
    a = ap.parse_args()
    first, last = (int(x) for x in a.frames.split("-"))
    ref, comp = [], []
    for path in sorted(glob.glob(os.path.join(a.gt, "SEG", "man_seg*.tif"))):
        t = int(re.search(r"man_seg_?(\d+)\.tif$", path).group(1))
        if first <= t <= last:
            digits = len(re.search(r"(\d+)\.tif$", path).group(1))
            res = os.path.join(a.res, f"mask{t:0{digits}d}.tif")
            if not os.path.exists(res):
                raise SystemExit(f"{res}: missing")
            ref.append(path)
            comp.append(res)
    if not ref:
        raise SystemExit(f"{a.gt}/SEG: no truth in frames {a.frames}")
    m = match_computed_to_reference_masks(ref, comp, threads=1)
    print(f"SEG {seg(m['labels_ref'], m['ious']):.6f} over {len(ref)} frames, {sum(len(x) for x in m['labels_ref'])} reference objects")


if __name__ == "__main__":
    main()
