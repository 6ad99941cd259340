#!/usr/bin/env python3
"""Where does a result's SEG go? Sorts every truth cell by what happened to it.

SEG is the mean, over truth cells, of the IoU with the result object that
covers more than half of the cell, and 0 where no object does. This counts
the truth cells of each kind and the SEG each kind loses (1 − its IoU, summed
and divided by the number of truth cells), so that the losses add up to
1 − SEG:

- matched: an object covers more than half of it, and no more than 30% of
  any other truth cell; it loses only its outline's error;
- merged: an object covers more than half of it and more than 30% of another
  truth cell as well (scored, at a low IoU);
- split: no object covers half of it, and two or more each cover 20%;
- outline: no object covers half of it, and at most one covers 20% (too
  small or shifted);
- missed: no result object touches it.

It also counts result objects on ground the truth leaves empty (under 20% of
their pixels on any truth cell), and splits the loss by where the truth cells
lie: cut by the frame's edge (under 60 px, the slivers of cells entering or
leaving the frame, or larger) or inside it, touching another truth cell
(8-connected) or apart from every other.

    .pyenv/bin/python scripts/seg-errors.py GT_DIR RES_DIR     # GT_DIR holding SEG/man_segTTT.tif
"""
import glob
import os
import sys

import numpy as np
import tifffile


def overlaps(g, r):
    """{(truth label, result label): pixels} over the pixels either labels."""
    m = (g > 0) | (r > 0)
    pairs, counts = np.unique(np.stack([g[m], r[m]]).astype(np.int64), axis=1, return_counts=True)
    return {(int(a), int(b)): int(c) for (a, b), c in zip(pairs.T, counts)}


def touching(g):
    """The truth labels with a pixel 8-adjacent to a pixel of another truth label."""
    out = set()
    # each pixel against its right, lower, lower-right and lower-left neighbour
    for a, b in ((g[:, :-1], g[:, 1:]), (g[:-1, :], g[1:, :]), (g[:-1, :-1], g[1:, 1:]), (g[:-1, 1:], g[1:, :-1])):
        m = (a > 0) & (b > 0) & (a != b)
        out.update(np.unique(a[m]).tolist())
        out.update(np.unique(b[m]).tolist())
    return out


def main():
    gt_dir, res_dir = sys.argv[1:3]
    kinds = {k: [0, 0.0] for k in ("matched", "merged", "split", "outline", "missed")}
    background_objects, objects = 0, 0
    places = {k: [0, 0.0] for k in ("edge, under 60 px", "edge, 60 px or more", "inside, touching another", "inside, apart")}
    for p in sorted(glob.glob(os.path.join(gt_dir, "SEG", "man_seg*.tif"))):
        t = os.path.basename(p)[len("man_seg"):-len(".tif")]
        g = tifffile.imread(p)
        r = tifffile.imread(os.path.join(res_dir, f"mask{t}.tif"))
        rim = np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])
        on_edge = set(np.unique(rim[rim > 0]).tolist())
        touch = touching(g)
        ov = overlaps(g, r)
        g_area = dict(zip(*np.unique(g[g > 0], return_counts=True)))
        r_area = dict(zip(*np.unique(r[r > 0], return_counts=True)))
        for cell, area in g_area.items():
            hits = {b: c for (a, b), c in ov.items() if a == cell and b}
            if not hits:
                kind, iou = "missed", 0.0
            else:
                best, c = max(hits.items(), key=lambda x: x[1])
                if c > 0.5 * area:
                    iou = c / (area + r_area[best] - c)
                    merged = any(a and a != cell and c2 > 0.3 * g_area[a] for (a, b), c2 in ov.items() if b == best)
                    kind = "merged" if merged else "matched"
                else:
                    iou = 0.0
                    kind = "split" if sum(c2 > 0.2 * area for c2 in hits.values()) > 1 else "outline"
            kinds[kind][0] += 1
            kinds[kind][1] += 1.0 - iou
            if cell in on_edge:
                place = "edge, under 60 px" if area < 60 else "edge, 60 px or more"
            else:
                place = "inside, touching another" if cell in touch else "inside, apart"
            places[place][0] += 1
            places[place][1] += 1.0 - iou
        for obj, area in r_area.items():
            objects += 1
            on_cells = sum(c for (a, b), c in ov.items() if b == obj and a)
            background_objects += on_cells < 0.2 * area
    n = sum(k[0] for k in kinds.values())
    seg = 1.0 - sum(k[1] for k in kinds.values()) / n
    print(f"{n} truth cells, SEG {seg:.3f}")
    print("| truth cells | count | share | SEG lost |")
    print("| --- | --- | --- | --- |")
    for k, (c, lost) in kinds.items():
        print(f"| {k} | {c} | {c / n:.1%} | {lost / n:.3f} |")
    print(f"result objects on empty ground: {background_objects} of {objects}")
    print("| truth cells | count | share | mean IoU | SEG lost |")
    print("| --- | --- | --- | --- | --- |")
    for k, (c, lost) in places.items():
        mean = f"{1.0 - lost / c:.3f}" if c else "–"
        print(f"| {k} | {c} | {c / n:.1%} | {mean} | {lost / n:.3f} |")


if __name__ == "__main__":
    main()
