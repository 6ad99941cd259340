#!/usr/bin/env python3
"""Where do a result's false cells against PhC-C2DL-PSC's silver truth lie?

Silver truth (ST) is a fusion of other tools' results and does not label every
cell. This splits a result's unmatched objects (IoU <= 0.5 with every truth
cell) into those on ground the truth leaves unlabelled (< 10% of their pixels
on any truth cell) and those overlapping a truth cell (splits, merges, poor
outlines), compares the first group's area and contrast with the matched
objects', and writes a montage of both groups' crops with the truth outlined.

    .pyenv/bin/python scripts/psc-unlabelled.py RAW_DIR TRUTH_SEG_DIR RES_DIR [montage.png]

Truth frames without a result mask are skipped, so RAW_DIR and TRUTH_SEG_DIR
may be the whole sequence's folders.
"""
import sys, glob, os, re
import numpy as np
import tifffile
from PIL import Image

raw_dir, gt_dir, res_dir = sys.argv[1:4]
montage_path = sys.argv[4] if len(sys.argv) > 4 else None
unlabelled, overlapping, matched = [], [], []
crops = {"unlabelled": [], "matched": []}
for gt_path in sorted(glob.glob(os.path.join(gt_dir, "man_seg*.tif"))):
    t = re.search(r"(\d+)\.tif$", gt_path).group(1)
    res_path = os.path.join(res_dir, f"mask{t}.tif")
    if not os.path.exists(res_path):
        continue  # truth for a frame the result does not cover
    raw = tifffile.imread(os.path.join(raw_dir, f"t{t}.tif")).astype(float)
    gt = tifffile.imread(gt_path)
    res = tifffile.imread(res_path)
    bg = np.median(raw[(gt == 0) & (res == 0)])
    lo, hi = np.percentile(raw, [1, 99.8])
    for label in np.unique(res)[1:]:
        m = res == label
        area, contrast = int(m.sum()), float(raw[m].mean() - bg)
        under = gt[m]
        if (under > 0).mean() < 0.1:
            unlabelled.append((area, contrast))
            group = "unlabelled"
        else:
            labels, counts = np.unique(under[under > 0], return_counts=True)
            g = gt == labels[counts.argmax()]
            iou = (m & g).sum() / (m | g).sum()
            if iou <= 0.5:
                overlapping.append((area, contrast))
                continue
            matched.append((area, contrast))
            group = "matched"
        ys, xs = np.nonzero(m)
        cy, cx = int(ys.mean()), int(xs.mean())
        y0, x0 = max(cy - 24, 0), max(cx - 24, 0)
        crop = np.clip((raw[y0:y0 + 48, x0:x0 + 48] - lo) / (hi - lo), 0, 1) * 255
        rgb = np.stack([crop] * 3, -1)
        for mask, colour in ((gt[y0:y0 + 48, x0:x0 + 48], (0, 255, 0)), (m[y0:y0 + 48, x0:x0 + 48].astype(int), (255, 0, 255))):
            edge = np.zeros(mask.shape, bool)
            edge[1:] |= mask[1:] != mask[:-1]
            edge[:-1] |= mask[1:] != mask[:-1]
            edge[:, 1:] |= mask[:, 1:] != mask[:, :-1]
            edge[:, :-1] |= mask[:, 1:] != mask[:, :-1]
            rgb[edge & (mask > 0)] = colour
        if rgb.shape[:2] == (48, 48):
            crops[group].append(rgb.astype(np.uint8))

if not matched:
    sys.exit(f"psc-unlabelled: no result mask in {res_dir} matches a truth frame in {gt_dir}")
u, o, mt = np.array(unlabelled), np.array(overlapping), np.array(matched)
n = len(u) + len(o) + len(mt)
print(f"result objects: {n}; matched at IoU > 0.5: {len(mt)} (precision {len(mt) / n:.3f})")
print(f"unmatched on ground the truth leaves unlabelled: {len(u)}; unmatched overlapping a truth cell: {len(o)}")
print(f"median area: unlabelled {np.median(u[:, 0]):.0f} px, matched {np.median(mt[:, 0]):.0f} px")
print(f"median contrast over background: unlabelled {np.median(u[:, 1]):.1f}, matched {np.median(mt[:, 1]):.1f}")
like = ((u[:, 0] > np.percentile(mt[:, 0], 10)) & (u[:, 1] > np.percentile(mt[:, 1], 10))).sum()
print(f"unlabelled objects at least as large and as bright as the 10th percentile of matched ones: {like}")
print(f"precision if those {like} were cells the truth missed: {len(mt) / (n - like):.3f}")
if montage_path:
    rng = np.random.default_rng(0)
    rows = []
    for group in ("unlabelled", "matched"):
        pick = rng.choice(len(crops[group]), size=min(12, len(crops[group])), replace=False)
        row = np.concatenate([np.pad(crops[group][i], ((2, 2), (2, 2), (0, 0)), constant_values=255) for i in sorted(pick)], 1)
        rows.append(row)
    Image.fromarray(np.concatenate(rows, 0)).resize((rows[0].shape[1] * 2, 2 * 2 * 52), Image.NEAREST).save(montage_path)
    print(f"{montage_path}: top row unlabelled objects, bottom row matched ones (magenta: result, green: truth)")
