#!/usr/bin/env python3
"""A Micro-Manager 2.0 folder of one file a plane, to time reading by a pattern.

    .pyenv/bin/python scripts/make-micromanager.py OUT T [C Z SIZE]

writes OUT/img_channelCCC_position000_timeTTTTTTTTT_zZZZ.tif for T time
points, C channels (default 2) and Z slices (default 10) of SIZE² pixels
(default 64): a noisy background and one bright block that moves a pixel a
time point, brightest in the middle slice. Track it with
`cellstream track 'OUT/img_channel000_position000_time{t}_z{z}.tif' --project max --segmenter classical`.
"""
import os
import sys

import numpy as np
import tifffile


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, n = sys.argv[1], int(sys.argv[2])
    channels = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    slices = int(sys.argv[4]) if len(sys.argv) > 4 else 10
    size = int(sys.argv[5]) if len(sys.argv) > 5 else 64
    os.makedirs(out, exist_ok=True)
    base = (np.random.default_rng(0).random((size, size)) * 100).astype(np.uint16)
    for t in range(n):
        for c in range(channels):
            for z in range(slices):
                a = base.copy()
                x = t % (size // 2) + 5
                a[20:30, x:x + 10] += 1000 if z == slices // 2 else 200
                tifffile.imwrite(os.path.join(out, f"img_channel{c:03}_position000_time{t:09}_z{z:03}.tif"), a)


if __name__ == "__main__":
    main()
