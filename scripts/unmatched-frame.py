#!/usr/bin/env python3
"""One frame of a result against its truth, with the truth's outlines in green
and the result's unmatched objects (IoU <= 0.5 with every truth object)
filled magenta; prints how many objects of each touch the frame's edge.

    .pyenv/bin/python scripts/unmatched-frame.py RAW_DIR TRUTH_SEG_DIR RES_DIR T out.png

Shows where a result's false positives lie, e.g. cells that the truth leaves
unlabelled because the frame's edge cuts them (`cellstream evaluate
--edge-margin 0` leaves such objects out on both sides).
"""
import sys, os
import numpy as np
import tifffile
from PIL import Image

raw_dir, gt_dir, res_dir, t, out = sys.argv[1:6]
t = int(t)
raw = tifffile.imread(os.path.join(raw_dir, f"t{t:03d}.tif")).astype(float)
truth = tifffile.imread(os.path.join(gt_dir, f"man_seg{t:03d}.tif"))
res = tifffile.imread(os.path.join(res_dir, f"mask{t:03d}.tif"))
lo, hi = np.percentile(raw, [1, 99.5])
grey = np.clip((raw - lo) / max(hi - lo, 1e-9), 0, 1)
rgb = np.stack([grey] * 3, axis=-1)


def edge_labels(m):
    b = np.concatenate([m[0], m[-1], m[:, 0], m[:, -1]])
    return set(np.unique(b[b > 0]).tolist())


unmatched = []
for label in np.unique(res[res > 0]):
    obj = res == label
    area = obj.sum()
    best = 0.0
    for g in np.unique(truth[obj]):
        if g == 0:
            continue
        shared = (truth[obj] == g).sum()
        best = max(best, shared / (area + (truth == g).sum() - shared))
    if best <= 0.5:
        unmatched.append(label)
        rgb[obj] = 0.5 * rgb[obj] + np.array([0.5, 0.0, 0.5])
# inner outline of the truth: a truth pixel with a 4-neighbour of another label
pad = np.pad(truth, 1, mode="edge")
inner = (truth > 0) & (
    (pad[:-2, 1:-1] != truth) | (pad[2:, 1:-1] != truth) | (pad[1:-1, :-2] != truth) | (pad[1:-1, 2:] != truth)
)
rgb[inner] = [0.0, 1.0, 0.0]
Image.fromarray((rgb * 255).astype(np.uint8)).save(out)
edge_res = edge_labels(res)
print(
    f"frame {t}: truth {len(np.unique(truth[truth > 0]))} objects, {len(edge_labels(truth))} on the edge; "
    f"result {len(np.unique(res[res > 0]))}, {len(edge_res)} on the edge; "
    f"unmatched {len(unmatched)}, {len([u for u in unmatched if u in edge_res])} of them on the edge"
)
