"""Turn a simulated 2D sequence into a time-lapse of z-stacks, each cell in focus in its own slice.

Usage: .pyenv/bin/python scripts/make-zstack.py SEQ GT OUT [SLICES] [widefield|confocal]

SEQ is a 2D sequence folder (tTTT.tif) and GT its truth (GT/TRA/man_trackTTT.tif,
which the simulator draws as full cell masks). Each track is given a depth, one
of SLICES slices (default 5), by its label; slice z of frame t is the frame's
background plus every cell's pixels blurred by defocus, a Gaussian of
sigma 2·|z - depth| px (in focus: unblurred), over the background level. In
`widefield` (the default) a slice keeps all of each cell's light; in `confocal`
the pinhole rejects most of it away from focus: the light falls by
exp(-(z - depth)²/2), to 61% one slice away and 14% two. Writes:
  OUT/01/tTTT.tif      the z-stacks, one frame file of SLICES pages each (CTC's 3D layout)
  OUT/mid/tTTT.tif     the middle slice alone, what keeping one slice would give
The truth of SEQ scores results from either (`cellstream evaluate --gt GT`).
"""
import pathlib
import sys

import numpy as np
import tifffile
from scipy.ndimage import gaussian_filter

seq, gt, out = (pathlib.Path(a) for a in sys.argv[1:4])
slices = int(sys.argv[4]) if len(sys.argv) > 4 else 5
confocal = len(sys.argv) > 5 and sys.argv[5] == "confocal"
(out / "01").mkdir(parents=True, exist_ok=True)
(out / "mid").mkdir(parents=True, exist_ok=True)
for frame_path in sorted(seq.glob("t*.tif")):
    t = frame_path.stem[1:]
    frame = tifffile.imread(frame_path).astype(np.float64)
    labels = tifffile.imread(gt / "TRA" / f"man_track{t}.tif")
    # Track labels spread over the depths: label 1 at depth 1, 2 at 3, ...
    depth = np.where(labels > 0, (labels * 2 - 1) % slices, -1)
    # The background level stays where it is; a cell's light above it is what defocus blurs.
    level = np.median(frame[labels == 0])
    background = np.where(labels == 0, frame, level)
    stack = []
    for z in range(slices):
        plane = background.copy()
        for d in range(slices):
            light = np.where(depth == d, frame - level, 0.0)
            sigma = 2.0 * abs(z - d)
            kept = np.exp(-((z - d) ** 2) / 2) if confocal else 1.0
            plane += kept * (gaussian_filter(light, sigma) if sigma > 0 else light)
        stack.append(np.clip(np.rint(plane), 0, 65535).astype(np.uint16))
    stack = np.stack(stack)
    tifffile.imwrite(out / "01" / f"t{t}.tif", stack, photometric="minisblack")
    tifffile.imwrite(out / "mid" / f"t{t}.tif", stack[slices // 2])
