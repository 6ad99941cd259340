#!/usr/bin/env python3
"""Splits the objects of a result whose solidity is under S (and area at least A px):
markers from the maxima of the distance transform inside each (at least D px apart),
a watershed of -distance. A test of whether shape alone finds merged cells.

    .pyenv/bin/python scripts/solidity-split.py RES OUT S D A
    cellstream track --masks OUT --out OUT_RES && cellstream evaluate --gt GT --res OUT_RES
"""
import sys, glob, os, numpy as np, tifffile
from scipy import ndimage as ndi
from skimage.measure import regionprops
from skimage.segmentation import watershed
from skimage.feature import peak_local_max
res, out, S, D, A = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
os.makedirs(out, exist_ok=True)
nsplit = 0
for f in sorted(glob.glob(f"{res}/mask*.tif")):
    m = tifffile.imread(f).astype(np.int32)
    nxt = m.max() + 1
    for r in regionprops(m):
        if r.solidity >= S or r.area < A: continue
        y0, x0, y1, x1 = r.bbox
        obj = np.pad(r.image, 1)
        d = ndi.distance_transform_edt(obj)
        pk = peak_local_max(d, min_distance=D, labels=obj.astype(int), exclude_border=False)
        if len(pk) < 2: continue
        mk = np.zeros(obj.shape, np.int32)
        for i, (py, px) in enumerate(pk): mk[py, px] = i + 1
        w = watershed(-d, mk, mask=obj)[1:-1, 1:-1]
        sub = m[y0:y1, x0:x1]
        inside = r.image
        sub[inside] = np.where(w[inside] == 1, r.label, w[inside] + nxt)
        nxt += len(pk)
        nsplit += 1
    tifffile.imwrite(f"{out}/{os.path.basename(f)}", m.astype(np.uint16))
print("split", nsplit, file=sys.stderr)
