#!/usr/bin/env python3
"""Would a confidence threshold remove false cells? For every object of a
result, its mean foreground probability (1 − p(background)), its mean and
largest seed probability (p(cell) − p(boundary), clipped at 0), its mean
p(cell) and its area; then the median and the 10% / 90% quantiles of each,
apart for true objects (IoU > 0.5 with a truth cell) and false ones. Where
the two overlap, no threshold on that measure raises precision without
costing recall (StarDist's `prob_thresh`, Cellpose's `cellprob_threshold`).

    cargo run --release --example dump_probs -- SEQ PROBS --model MODEL
    cellstream track SEQ --model MODEL --out RES
    .pyenv/bin/python scripts/object-confidence.py GT/SEG RES PROBS
"""
import glob
import os
import sys

import numpy as np
import tifffile


def objects(gt_dir, res_dir, probs_dir):
    rows = []
    masks = sorted(glob.glob(os.path.join(res_dir, "mask*.tif")))
    if not masks:
        sys.exit(f"{res_dir}: no maskTTT.tif files")
    for f in masks:
        t = os.path.basename(f)[len("mask"):-len(".tif")]
        truth_file = os.path.join(gt_dir, f"man_seg{t}.tif")
        if not os.path.exists(truth_file):
            continue
        res, truth = tifffile.imread(f), tifffile.imread(truth_file)
        probs = np.fromfile(os.path.join(probs_dir, f"probs{t}.bin"), "<f4").reshape(3, *res.shape)
        fg, seed = 1 - probs[0], np.clip(probs[1] - probs[2], 0, 1)
        areas = np.bincount(truth.ravel())
        for label in np.unique(res)[1:]:
            o = res == label
            area = o.sum()
            hit, counts = np.unique(truth[o], return_counts=True)
            iou = max((c / (areas[h] + area - c) for h, c in zip(hit, counts) if h != 0), default=0.0)
            rows.append((fg[o].mean(), seed[o].mean(), seed[o].max(), probs[1][o].mean(), area, iou))
    return np.array(rows)


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: object-confidence.py GT_SEG_DIR RES_DIR PROBS_DIR")
    r = objects(*sys.argv[1:])
    true = r[:, 5] > 0.5
    print(f"{len(r)} objects: {true.sum()} true, {(~true).sum()} false (precision at IoU 0.5: {true.mean():.3f})")
    print("| measure | true: median (10%–90%) | false: median (10%–90%) |")
    print("| --- | --- | --- |")
    for k, name in enumerate(["mean foreground", "mean seed", "largest seed", "mean p(cell)", "area (px)"]):
        q = lambda v: f"{np.median(v):.3f} ({np.quantile(v, 0.1):.3f}–{np.quantile(v, 0.9):.3f})"
        print(f"| {name} | {q(r[true, k])} | {q(r[~true, k])} |")


if __name__ == "__main__":
    main()
