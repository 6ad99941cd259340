#!/usr/bin/env python3
"""What would perfect seeding give? The model's own foreground and seed maps
(`cellstream track SEQ --save-probabilities PROBS`), but one marker per truth
cell (its core: the pixels at least 2 px inside it, within the foreground),
flooded by watershed(1 - seed) inside the foreground, as `track`'s chain does
(foreground = p > 0.5, components under 20 px removed, holes filled). Parts of
the foreground no truth cell reaches stay objects of their own. Merges and
splits are then gone, and what SEG still loses is the probabilities' outlines.

    cellstream track SEQ --model M --save-probabilities PROBS --out RES
    .pyenv/bin/python scripts/oracle-seeds.py PROBS GT OUT      # GT: the folder holding SEG/
    cellstream track --masks OUT --out OUT_RES && cellstream evaluate --gt GT --res OUT_RES
"""
import os
import sys

import numpy as np
import tifffile
from scipy import ndimage as ndi

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import maps_chain  # noqa: E402


def main(probs, gt, out):
    os.makedirs(out, exist_ok=True)
    for t, fg, seed in maps_chain.frames(probs, "oracle-seeds"):
        truth = tifffile.imread(os.path.join(gt, "SEG", f"man_seg{t}.tif"))
        markers = np.zeros(truth.shape, np.int32)
        for lab in np.unique(truth):
            if lab == 0:
                continue
            cell = truth == lab
            core = ndi.distance_transform_edt(cell) >= 2
            markers[(core if core.any() else cell) & fg] = lab
        maps_chain.write(out, t, maps_chain.flood(seed, markers, fg))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
