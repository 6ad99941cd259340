#!/usr/bin/env python3
"""Other seeds for the model's own maps (`cellstream track SEQ --save-probabilities
PROBS`), flooded as `track`'s chain floods its seeds (foreground p > 0.5 without
components under 20 px, holes filled; watershed of 1 − seed inside it; a
foreground component no seed reaches is one object):

    maxima H    one marker per regional maximum of the seed map of dynamic ≥ H
                (the h-maxima: regional maxima of its reconstruction by dilation
                from seed − H, 8-connected), grown over its seed region
                (seed > 0.5); seed regions with no such maximum stay one marker.
                H ≥ 0.5 gives `track`'s own seeds.
    from PROBS2 the markers of another model's seed map (seed > 0.5), flooded
                through PROBS's own foreground and seed maps.

    .pyenv/bin/python scripts/seed-variants.py PROBS OUT maxima 0.2
    .pyenv/bin/python scripts/seed-variants.py PROBS OUT from PROBS2
    cellstream track --masks OUT --split-merges on --out RES && cellstream evaluate --gt GT --res RES
"""
import os
import sys

import numpy as np
from skimage.measure import label
from skimage.morphology import local_maxima, reconstruction
from skimage.segmentation import watershed

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import maps_chain  # noqa: E402


def main(probs, out, mode, arg):
    os.makedirs(out, exist_ok=True)
    for t, fg, seed in maps_chain.frames(probs, "seed-variants"):
        region = (seed > 0.5) & fg
        if mode == "maxima":
            h = float(arg)
            rec = reconstruction(np.maximum(seed - h, 0), seed, method="dilation", footprint=np.ones((3, 3)))
            tops = label(local_maxima(rec, connectivity=2, allow_borders=True) & region, connectivity=2)
            markers = watershed(-seed, tops, mask=region)
            rest = label(region & (markers == 0), connectivity=2)
            markers = np.where(rest > 0, rest + markers.max(), markers)
        elif mode == "from":
            markers = label((maps_chain.seed_map(arg, t) > 0.5) & fg, connectivity=2)
        else:
            sys.exit(__doc__)
        maps_chain.write(out, t, maps_chain.flood(seed, markers, fg))


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
