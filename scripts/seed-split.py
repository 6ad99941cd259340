#!/usr/bin/env python3
"""Can merges be split after the network? Redoes the model's post chain in
scikit-image on saved probabilities (foreground 1 − p(background) > 0.5
without components under 20 px, holes filled; seeds p(cell) − p(boundary) > T, watershed of 1 − seed inside the
foreground; a seedless component is one object), with the seeds opened or
eroded by a disk of radius 1, or split at the h-maxima of their distance
transform (h = 1, 2), and prints the SEG of each variant per sequence.
SEG here is the CTC measure (mean IoU over truth cells of the object
covering more than half of each, 0 where none does).

    cargo run --release --example dump_probs -- SEQ PROBS --model MODEL
    .pyenv/bin/python scripts/seed-split.py GT_DIR PROBS [GT_DIR PROBS ...]   # GT_DIR holding SEG/man_segTTT.tif
"""
import glob
import os
import sys
import warnings

import numpy as np
import tifffile
from scipy import ndimage as ndi
from skimage.measure import label
from skimage.morphology import disk, binary_erosion, binary_opening, h_maxima
from skimage.segmentation import watershed

warnings.filterwarnings("ignore", category=FutureWarning)


def seg(truth, result):
    """Sum of the matched IoUs and the number of truth cells."""
    total, cells = 0.0, 0
    for cell in np.unique(truth)[1:]:
        m = truth == cell
        cells += 1
        labels, counts = np.unique(result[m], return_counts=True)
        keep = labels > 0
        if not keep.any():
            continue
        best, c = labels[keep][counts[keep].argmax()], counts[keep].max()
        if c > 0.5 * m.sum():
            total += c / (m.sum() + (result == best).sum() - c)
    return total, cells


def post(p, variant, seed_threshold):
    comps = label((1 - p[0]) > 0.5, connectivity=2)
    sizes = np.bincount(comps.ravel())
    fg = ndi.binary_fill_holes((sizes[comps] >= 20) & (comps > 0))
    sp = np.clip(p[1] - p[2], 0, 1)
    seeds = (sp > seed_threshold) & fg
    kind, k = variant
    if kind == "open":
        seeds = binary_opening(seeds, disk(k))
    elif kind == "erode":
        seeds = binary_erosion(seeds, disk(k))
    if kind == "h-maxima":
        d = ndi.distance_transform_edt(seeds)
        markers = watershed(-d, label(h_maxima(d, k) & seeds, connectivity=2), mask=seeds)
    else:
        markers = label(seeds, connectivity=2)
    comps = label(fg, connectivity=2)
    nxt = markers.max()
    for c in range(1, comps.max() + 1):
        inside = comps == c
        if not markers[inside].any():
            nxt += 1
            markers[inside] = nxt
    return watershed(1 - sp, markers, mask=fg)


def main():
    pairs = list(zip(sys.argv[1::2], sys.argv[2::2]))
    if not pairs:
        sys.exit(__doc__)
    variants = [("as is", 0), ("open", 1), ("erode", 1), ("h-maxima", 1), ("h-maxima", 2)]
    print("| seed threshold | seeds | " + " | ".join(os.path.basename(os.path.dirname(g.rstrip("/"))) or g for g, _ in pairs) + " |")
    print("| --- | --- |" + " --- |" * len(pairs))
    for st in (0.5, 0.7):
        for v in variants:
            scores = []
            for gt, probs in pairs:
                total = cells = 0
                for f in sorted(glob.glob(os.path.join(gt, "SEG", "man_seg*.tif"))):
                    t = int(os.path.basename(f)[len("man_seg"):-len(".tif")])
                    g = tifffile.imread(f)
                    p = np.fromfile(os.path.join(probs, f"probs{t:03d}.bin"), "<f4").reshape(3, *g.shape)
                    s, n = seg(g, post(p, v, st))
                    total, cells = total + s, cells + n
                scores.append(total / cells)
            name = v[0] if v[0] in ("as is",) else f"{v[0]} {v[1]}"
            print(f"| {st} | {name} | " + " | ".join(f"{x:.3f}" for x in scores) + " |", flush=True)


if __name__ == "__main__":
    main()
