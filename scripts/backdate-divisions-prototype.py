#!/usr/bin/env python3
"""What would moving late divisions back a frame give? A prototype on a
finished CTC result, to measure before `track` does it.

A streaming segmenter often draws the two daughters of a division as one
object in their first frame (they touch, and nothing in that frame parts
them), so the result divides a frame late. For each division of the result
(mother M, two daughters starting the frame after M's last), M's last
object O is split between the daughters when:
  - O covers at least COVER of each daughter's first object (the daughters
    were born inside it), and
  - M's object the frame before was round (its major axis, from its second
    moments, at most ROUND times its minor one: a dividing animal cell rounds
    up; rods never do, so their divisions are left alone), and
  - O is elongated: its axis ratio is at least ELONG, and at least GROW
    times the ratio of M's object the frame before (two daughters side by
    side make a long object).
Each pixel of O goes to the daughter whose first object is nearest. M then
ends a frame earlier and the daughters begin a frame earlier; this repeats
up to K frames back. Writes a new result folder.

    .pyenv/bin/python scripts/backdate-divisions-prototype.py RES OUT [K ELONG GROW COVER ROUND]
    cellstream validate OUT && cellstream evaluate --gt GT --res OUT
"""
import os
import sys

import numpy as np
import tifffile
from scipy import ndimage as ndi


def axis_ratio(mask):
    ys, xs = np.nonzero(mask)
    if len(ys) < 5:
        return 1.0
    c = np.cov(np.stack([ys, xs]).astype(float))
    ev = np.sort(np.linalg.eigvalsh(c))
    return float(np.sqrt(ev[1] / max(ev[0], 1e-6)))


def main(res, out, k="1", elong="1.5", grow="1.2", cover="0.6", round_="2.0"):
    k, elong, grow, cover, round_ = int(k), float(elong), float(grow), float(cover), float(round_)
    with open(os.path.join(res, "res_track.txt")) as f:
        tracks = {r[0]: r[1:] for r in (list(map(int, line.split())) for line in f if line.strip())}
    names = sorted(f for f in os.listdir(res) if f.startswith("mask") and f.endswith(".tif"))
    masks = [tifffile.imread(os.path.join(res, n)) for n in names]
    kids = {}
    for label, (_, _, parent) in tracks.items():
        if parent:
            kids.setdefault(parent, []).append(label)
    moved = 0
    for mother, cs in sorted(kids.items()):
        if len(cs) != 2:
            continue
        d1, d2 = cs
        for _ in range(k):
            b, e, p = tracks[mother]
            s = e + 1
            if e - b < 1 or tracks[d1][0] != s or tracks[d2][0] != s:
                break
            o = masks[e] == mother
            a1, a2 = masks[s] == d1, masks[s] == d2
            if (o & a1).sum() < cover * a1.sum() or (o & a2).sum() < cover * a2.sum():
                break
            r, before = axis_ratio(o), axis_ratio(masks[e - 1] == mother)
            if before > round_ or r < elong or r < grow * before:
                break
            near1 = ndi.distance_transform_edt(~a1)
            near2 = ndi.distance_transform_edt(~a2)
            part1 = o & (near1 <= near2)
            part2 = o & ~part1
            if part1.sum() < 10 or part2.sum() < 10:
                break
            masks[e][part1] = d1
            masks[e][part2] = d2
            tracks[mother] = (b, e - 1, p)
            tracks[d1] = (e, tracks[d1][1], mother)
            tracks[d2] = (e, tracks[d2][1], mother)
            moved += 1
    os.makedirs(out, exist_ok=True)
    for n, m in zip(names, masks):
        tifffile.imwrite(os.path.join(out, n), m)
    with open(os.path.join(out, "res_track.txt"), "w") as f:
        for label in sorted(tracks):
            b, e, p = tracks[label]
            f.write(f"{label} {b} {e} {p}\n")
    print(f"{moved} frames of {len(kids)} divisions split between the daughters", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) not in (3, 7, 8):
        sys.exit(__doc__)
    main(*sys.argv[1:])
