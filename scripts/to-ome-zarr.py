"""Writes a CTC sequence folder (tTTT.tif) as an OME-Zarr image: NGFF 0.4 on
Zarr v2 (or 0.5 on Zarr v3 with --v3), axes t, y, x, one Blosc/LZ4 (v3:
Zstandard) chunk a time point, as napari and the NGFF converters write them;
--chunk-t K puts K time points in each chunk, --gzip compresses with gzip.

    .pyenv/bin/python scripts/to-ome-zarr.py SEQ OUT.zarr [--v3] [--chunk-t K] [--gzip]
"""
import glob
import shutil
import sys

import numcodecs
import numpy as np
import tifffile
import zarr
from zarr.codecs import GzipCodec, ZstdCodec

seq, out = sys.argv[1], sys.argv[2]
v3 = "--v3" in sys.argv
chunk_t = int(sys.argv[sys.argv.index("--chunk-t") + 1]) if "--chunk-t" in sys.argv else 1
frames = np.stack([tifffile.imread(p) for p in sorted(glob.glob(f"{seq}/t*.tif"))])
axes = [{"name": "t", "type": "time"}, {"name": "y", "type": "space"}, {"name": "x", "type": "space"}]
version = "0.5" if v3 else "0.4"
multiscales = [{"version": version, "axes": axes, "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1.0, 1.0, 1.0]}]}]}]
shutil.rmtree(out, ignore_errors=True)
root = zarr.open_group(out, mode="w", zarr_format=3 if v3 else 2)
if v3:
    root.attrs["ome"] = {"version": version, "multiscales": multiscales}
    codec = GzipCodec(level=5) if "--gzip" in sys.argv else ZstdCodec(level=3)
    root.create_array("0", data=frames, chunks=(chunk_t,) + frames.shape[1:], compressors=codec, dimension_names=["t", "y", "x"])
else:
    root.attrs["multiscales"] = multiscales
    codec = numcodecs.GZip(level=5) if "--gzip" in sys.argv else numcodecs.Blosc(cname="lz4", clevel=5)
    root.create_array("0", data=frames, chunks=(chunk_t,) + frames.shape[1:], compressors=codec)
print(f"{out}: {frames.shape[0]} time points of {frames.shape[2]}×{frames.shape[1]} {frames.dtype}, NGFF {version}, {chunk_t} a chunk")
