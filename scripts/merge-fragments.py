#!/usr/bin/env python3
"""Merges each object smaller than F × the frame's median object area into the neighbour it shares the most border with.

An experiment on result masks (not part of `track`): small objects that touch
a larger one are mostly pieces of its rim; those that touch none are removed.
Objects are taken smallest first. Writes maskTTT.tif into OUT and copies
res_track.txt unchanged (so score segmentation only: a truth folder with SEG
alone).

    .pyenv/bin/python scripts/merge-fragments.py RES OUT 0.2
"""
import glob
import os
import shutil
import sys

import numpy as np
import tifffile


def merge_fragments(mask, fraction):
    labels, areas = np.unique(mask[mask > 0], return_counts=True)
    if len(labels) == 0:
        return mask, 0, 0
    limit = fraction * np.median(areas)
    merged = dropped = 0
    for label in labels[np.argsort(areas, kind="stable")]:
        inside = mask == label
        if inside.sum() >= limit:
            continue  # large from the start, or grown by a merge
        shared = {}
        for axis in (0, 1):
            for step in (1, -1):
                next_to = np.roll(inside, step, axis=axis) & ~inside
                for v, n in zip(*np.unique(mask[next_to], return_counts=True)):
                    if v:
                        shared[v] = shared.get(v, 0) + n
        if shared:
            mask[inside] = max(shared, key=shared.get)
            merged += 1
        else:
            mask[inside] = 0
            dropped += 1
    return mask, merged, dropped


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    src, dst, fraction = sys.argv[1], sys.argv[2], float(sys.argv[3])
    os.makedirs(dst, exist_ok=True)
    merged = dropped = 0
    for path in sorted(glob.glob(os.path.join(src, "mask*.tif"))):
        mask = tifffile.imread(path)
        mask, m, d = merge_fragments(mask.astype(np.uint32), fraction)
        merged, dropped = merged + m, dropped + d
        tifffile.imwrite(os.path.join(dst, os.path.basename(path)), mask.astype(np.uint16))
    if os.path.exists(os.path.join(src, "res_track.txt")):
        shutil.copy(os.path.join(src, "res_track.txt"), dst)
    print(f"merged {merged}, removed {dropped}")


if __name__ == "__main__":
    main()
