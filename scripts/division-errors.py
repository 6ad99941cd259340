#!/usr/bin/env python3
"""What became of each division of the truth in a result: for every mother
of GT/TRA/man_track.txt, the result's object that covers most of her in her
last frame, and the result's objects that cover most of each daughter in
the daughters' first frame (with the share of the daughter they cover), and
the result's track of each. Two daughters covered by one object are
daughters the segmentation has not yet parted; the result's division then
comes later, if at all. Last, how many of the result's own divisions have
a daughter that vanishes within 3 frames (a cell cut in two for a moment).

    .pyenv/bin/python scripts/division-errors.py GT RES    # GT holding TRA/, RES a CTC result
"""
import os
import sys
from collections import defaultdict

import numpy as np
import tifffile


def tracks(path):
    with open(path) as f:
        rows = [list(map(int, line.split())) for line in f if line.strip()]
    return {label: (begin, end, parent) for label, begin, end, parent in rows}


def main(gt, res):
    truth = tracks(os.path.join(gt, "TRA", "man_track.txt"))
    result = tracks(os.path.join(res, "res_track.txt"))
    digits = len(next(f for f in os.listdir(res) if f.startswith("mask"))) - len("mask.tif")

    def cover(t, label):
        g = tifffile.imread(os.path.join(gt, "TRA", f"man_track{t:0{digits}d}.tif"))
        r = tifffile.imread(os.path.join(res, f"mask{t:0{digits}d}.tif"))
        inside = r[g == label]
        if inside.size == 0:
            return None, "absent from the truth"
        labels, counts = np.unique(inside[inside > 0], return_counts=True)
        if labels.size == 0:
            return None, "missed"
        i = counts.argmax()
        return int(labels[i]), f"covers {counts[i] / inside.size:.2f}"

    children = defaultdict(list)
    for label, (_, _, parent) in truth.items():
        if parent:
            children[parent].append(label)
    merged = 0
    for mother, daughters in sorted(children.items(), key=lambda kv: truth[kv[0]][1]):
        t = truth[mother][1]
        m = cover(t, mother)
        ds = [cover(t + 1, d) for d in daughters]
        if len(ds) == 2 and ds[0][0] is not None and ds[0][0] == ds[1][0]:
            merged += 1
        spans = [result.get(d[0]) for d in ds]
        print(f"mother {mother} (last frame {t}): result {m[0]} ({m[1]}, track {result.get(m[0])}); "
              f"daughters {daughters} in frame {t + 1}: " + "; ".join(f"result {d[0]} ({d[1]}, track {s})" for d, s in zip(ds, spans)))
    two = sum(len(d) == 2 for d in children.values())
    print(f"{two} divisions (and {len(children) - two} single-child links); in {merged} of the divisions one object of the result covers both daughters in their first frame")
    # The result's own divisions: those with a daughter that ends within 3
    # frames, before the sequence does, without dividing, are mostly a cell
    # cut in two for a frame or two (real daughters do not vanish).
    kids = defaultdict(list)
    for label, (_, _, parent) in result.items():
        if parent:
            kids[parent].append(label)
    last = max(end for _, end, _ in result.values())
    found = [c for c in kids.values() if len(c) == 2]
    brief = sum(any(result[c][1] < last and result[c][1] - result[c][0] < 3 and c not in kids for c in cs) for cs in found)
    print(f"the result has {len(found)} divisions; in {brief} of them a daughter ends within 3 frames, before the last frame, without dividing")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])
