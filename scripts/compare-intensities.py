#!/usr/bin/env python3
"""Speed and agreement of `cellstream export --raw` with scikit-image's regionprops.

On a CTC result and its raw frames (a sequence folder of tTTT.tif, grayscale),
in the same run:

  scikit-image / numpy, one frame after another: read the mask and the frame,
      regionprops_table(mask, frame, properties=(label, intensity_mean,
      intensity_min, intensity_max, intensity_std)), each label's median
      and sum with numpy (ndimage.median and ndimage.sum_labels), rows
      joined with each label's track, and a CSV written;
  cellstream export RES --raw RAW --napari OUT.csv (which also reads the
      track file, checks it against the masks, and writes the centroid and
      area of each cell).

Prints the wall time of each (best of --rounds, each started as its own
process, so both include starting up and importing), their ratio, and the
largest relative difference between the two tables' values.

    .pyenv/bin/python scripts/compare-intensities.py RES RAW [--rounds 3]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SKIMAGE = r'''
import sys, glob, os, numpy as np, pandas as pd, tifffile
from scipy import ndimage
from skimage.measure import regionprops_table
res, raw, out = sys.argv[1:4]
rows = []
for m in sorted(glob.glob(os.path.join(res, "mask*.tif"))):
    t = int(os.path.basename(m)[4:-4])
    mask = tifffile.imread(m).astype(np.int64)
    frame = tifffile.imread(os.path.join(raw, f"t{t:03d}.tif")).astype(np.float64)
    p = regionprops_table(mask, frame, properties=("label", "intensity_mean", "intensity_min", "intensity_max", "intensity_std"))
    labels = p["label"]
    p["median"] = ndimage.median(frame, mask, labels)
    p["total"] = ndimage.sum_labels(frame, mask, labels)
    d = pd.DataFrame(p)
    d.insert(0, "t", t)
    rows.append(d)
pd.concat(rows).to_csv(out, index=False)
'''


def timed(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("res")
    ap.add_argument("raw")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--binary", default=str(ROOT / "target/release/cellstream"))
    a = ap.parse_args()
    import pandas as pd

    with tempfile.TemporaryDirectory() as d:
        ours, theirs = os.path.join(d, "cellstream.csv"), os.path.join(d, "skimage.csv")
        t_ours, t_theirs = [], []
        for _ in range(a.rounds):
            t_ours.append(timed([a.binary, "export", a.res, "--raw", a.raw, "--napari", ours]))
            t_theirs.append(timed([sys.executable, "-c", SKIMAGE, a.res, a.raw, theirs]))
        o = pd.read_csv(ours).set_index(["t", "track_id"]).sort_index()
        s = pd.read_csv(theirs).rename(columns={"label": "track_id"}).set_index(["t", "track_id"]).sort_index()
        assert len(o) == len(s), (len(o), len(s))
        pairs = [("mean_intensity_ch1", "intensity_mean"), ("min_intensity_ch1", "intensity_min"), ("max_intensity_ch1", "intensity_max"),
                 ("std_intensity_ch1", "intensity_std"), ("median_intensity_ch1", "median"), ("total_intensity_ch1", "total")]
        worst = max(float(((o[a_] - s[b]).abs() / s[b].abs().clip(lower=1.0)).max()) for a_, b in pairs)
    print(f"{len(o)} cells in {o.index.get_level_values(0).nunique()} frames")
    print(f"cellstream export --raw: best {min(t_ours):.2f} s (rounds: {', '.join(f'{t:.2f}' for t in t_ours)})")
    print(f"scikit-image regionprops: best {min(t_theirs):.2f} s (rounds: {', '.join(f'{t:.2f}' for t in t_theirs)})")
    print(f"ratio (best against best): {min(t_theirs) / min(t_ours):.1f}x; largest relative difference {worst:.2e}")


if __name__ == "__main__":
    main()
