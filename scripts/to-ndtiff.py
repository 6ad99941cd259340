#!/usr/bin/env python3
"""Writes a CTC sequence folder as a Micro-Manager 2 NDTiff dataset, with Micro-Manager's own `ndtiff` package.

    python -m venv /tmp/ndv && /tmp/ndv/bin/pip install ndtiff==3.1.0 tifffile
    /tmp/ndv/bin/python scripts/to-ndtiff.py SEQ OUT

OUT/NAME (ndtiff names the folder NAME_1) holds one 16-bit image per frame
tTTT.tif of SEQ, axes {"time": t, "channel": "DAPI"}. `cellstream track OUT/NAME_1`
tracks it as it tracks SEQ.
"""
import glob
import os
import sys

import numpy as np
import tifffile
from ndtiff import NDTiffDataset


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    seq, out = sys.argv[1], sys.argv[2]
    frames = sorted(glob.glob(os.path.join(seq, "t*.tif")))
    name = os.path.basename(os.path.normpath(seq))
    ds = NDTiffDataset(out, name=name, writable=True, summary_metadata={"PixelType": "GRAY16"})
    for t, f in enumerate(frames):
        image = tifffile.imread(f).astype(np.uint16)
        ds.put_image({"time": t, "channel": "DAPI"}, image, {"PixelType": "GRAY16", "Width": image.shape[1], "Height": image.shape[0]})
    ds.finish()
    ds.close()


if __name__ == "__main__":
    main()
