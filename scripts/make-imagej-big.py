"""Writes a time-lapse as ImageJ writes stacks over 4 GB: one TIFF page whose
description counts the images, every frame's pixels one after another behind
it (tifffile's truncate=True). Four bright round cells drift across a dim,
noisy field, cell k at frame t centred at (512 + 1024·(k // 2) + 200·sin(t/40 + k),
512 + 1024·(k % 2) + 200·cos(t/40 + k)), radius 30 px.

    .pyenv/bin/python scripts/make-imagej-big.py OUT.tif [FRAMES [SIDE]]

530 frames of 2048² (the default) make 4.4 GB: past the 4 GB that 32-bit
TIFF offsets reach."""
import os
import sys
import numpy as np, tifffile

out = sys.argv[1]
frames = int(sys.argv[2]) if len(sys.argv) > 2 else 530
side = int(sys.argv[3]) if len(sys.argv) > 3 else 2048
rng = np.random.default_rng(0)
yy, xx = np.mgrid[0:side, 0:side]
noise = rng.integers(90, 110, (side, side)).astype(np.uint16)
q = side / 2048


def centres(t):
    return [(q * (512 + 1024 * (k // 2) + 200 * np.sin(t / 40 + k)), q * (512 + 1024 * (k % 2) + 200 * np.cos(t / 40 + k))) for k in range(4)]


def frame(t):
    f = noise.copy()
    for cy, cx in centres(t):
        y0, y1 = int(cy - 40 * q), int(cy + 40 * q) + 1
        x0, x1 = int(cx - 40 * q), int(cx + 40 * q) + 1
        disk = (yy[y0:y1, x0:x1] - cy) ** 2 + (xx[y0:y1, x0:x1] - cx) ** 2 <= (30 * q) ** 2
        f[y0:y1, x0:x1][disk] = 1000
    return f


tifffile.imwrite(out, (frame(t) for t in range(frames)), shape=(frames, side, side), dtype=np.uint16,
                 imagej=True, truncate=True, byteorder=">", metadata={"axes": "TYX"})
with tifffile.TiffFile(out) as t:
    print(f"{out}: {len(t.pages)} TIFF page(s), {t.imagej_metadata['images']} images, {os.path.getsize(out) / 1e9:.2f} GB")
