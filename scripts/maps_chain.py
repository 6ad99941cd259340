"""`track`'s chain on the maps `cellstream track SEQ --save-probabilities PROBS`
saves, for the scripts that try other seeds on them (oracle-seeds.py,
seed-variants.py): the foreground p > 0.5 without components under 20 px
(8-connected), holes filled; markers flooded by a watershed of 1 − seed inside
it; a foreground component no marker reaches is one object of its own.
"""
import glob
import os
import sys

import numpy as np
import tifffile
from scipy import ndimage as ndi
from skimage.measure import label
from skimage.segmentation import watershed


def frames(probs, tool):
    """Yields (t, foreground, seed map) for each saved frame, t as its digits."""
    names = sorted(glob.glob(os.path.join(probs, "foreground", "prob*.tif")))
    if not names:
        sys.exit(f"{tool}: {probs}/foreground holds no probTTT.tif")
    for f in names:
        t = os.path.basename(f)[4:-4]
        fg = tifffile.imread(f) > 0.5
        comps, _ = ndi.label(fg, structure=np.ones((3, 3)))
        sizes = np.bincount(comps.ravel())
        fg = ndi.binary_fill_holes((sizes >= 20)[comps] & fg)
        yield t, fg, seed_map(probs, t)


def seed_map(probs, t):
    return tifffile.imread(os.path.join(probs, "seeds", f"seed{t}.tif")).astype(np.float64)


def flood(seed, markers, fg):
    """The cells: `markers` flooded through 1 − seed inside `fg`, as 16-bit labels."""
    cells = watershed(1 - seed, markers, mask=fg)
    rest = label(fg & (cells == 0))
    return np.where(rest > 0, rest + cells.max(), cells).astype(np.uint16)


def write(out, t, cells):
    tifffile.imwrite(os.path.join(out, f"mask{t}.tif"), cells)
