#!/usr/bin/env python3
"""What would pruning brief branches give? A prototype on a finished CTC
result, to measure before `track` does it. For each division of the result
whose one daughter lasts at most N frames, ends before the last frame and
does not divide, while her sister lives on: the brief daughter's pixels are
removed (a piece of a cell cut in two for a moment), and the sister becomes
the mother's continuation (her label replaced by the mother's; her own
daughters become the mother's). Divisions where both daughters are brief
are left alone. Writes a new result folder.

    .pyenv/bin/python scripts/prune-branches-prototype.py RES OUT N
    cellstream validate OUT && cellstream evaluate --gt GT --res OUT
"""
import os
import sys
from collections import defaultdict

import tifffile


def main(res, out, n):
    n = int(n)
    with open(os.path.join(res, "res_track.txt")) as f:
        tracks = {r[0]: r[1:] for r in (list(map(int, line.split())) for line in f if line.strip())}
    masks = sorted(f for f in os.listdir(res) if f.startswith("mask") and f.endswith(".tif"))
    digits = len(masks[0]) - len("mask.tif")
    last = max(e for _, e, _ in tracks.values())
    kids = defaultdict(list)
    for label, (_, _, parent) in tracks.items():
        if parent:
            kids[parent].append(label)

    def brief(c):
        b, e, _ = tracks[c]
        return e - b + 1 <= n and e < last and c not in kids

    drop, rename = set(), {}
    for mother, cs in kids.items():
        if len(cs) != 2 or mother in rename:
            continue
        short = [c for c in cs if brief(c)]
        if len(short) != 1:
            continue
        keep = next(c for c in cs if c != short[0])
        drop.add(short[0])
        rename[keep] = mother

    # Follow chains (a kept daughter that itself continues a renamed track).
    def root(label):
        while label in rename:
            label = rename[label]
        return label

    merged = {}
    for label, (b, e, p) in tracks.items():
        if label in drop:
            continue
        r = root(label)
        if r in merged:
            rb, re_, rp = merged[r]
            merged[r] = (min(rb, b), max(re_, e), rp)
        else:
            merged[r] = (b, e, p if r == label else tracks[r][2])
    for r, (b, e, p) in list(merged.items()):
        if p:
            p = root(p)
            merged[r] = (b, e, 0 if p in drop else p)

    os.makedirs(out, exist_ok=True)
    for name in masks:
        m = tifffile.imread(os.path.join(res, name))
        for label in drop:
            m[m == label] = 0
        for label in rename:
            m[m == label] = root(label)
        tifffile.imwrite(os.path.join(out, name), m)
    with open(os.path.join(out, "res_track.txt"), "w") as f:
        for label in sorted(merged):
            b, e, p = merged[label]
            f.write(f"{label} {b} {e} {p}\n")
    print(f"{len(drop)} brief branches pruned, {len(rename)} daughters joined to their mothers")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
