#!/usr/bin/env python3
"""Speed and agreement of `cellstream postprocess` with the same chain in scikit-image/scipy.

Generates frames of a few hundred touching cells with noise (float32 probability
TIFFs), then, on the same frames and in the same run:

  scikit-image / scipy, one frame after another (read TIFF, chain, write TIFF):
      fg = prob > threshold
      fg = skimage.morphology.binary_closing(fg, disk(closing_radius))
      fg = remove_small_objects(fg, max_size=min_area - 1, connectivity=2)
      fg = scipy.ndimage.binary_fill_holes(fg)
      dist = scipy.ndimage.distance_transform_edt(fg)
      peaks = peak_local_max(dist, min_distance, labels=label(fg, connectivity=2),
                             exclude_border=False)
      labels = watershed(-dist, markers(peaks), mask=fg, connectivity=2)
  cellstream postprocess --threads 1 with the same parameters.

Prints ms/frame of each (best of --rounds runs; both include reading and writing
the TIFFs, neither includes starting Python or the binary, which is shown apart),
their ratio, the same for CPU time (steadier than wall time on a shared machine),
and the agreement: for each scikit-image object, the IoU with the cellstream object
that overlaps it most, averaged over all objects of all frames.

    .pyenv/bin/python scripts/compare-post.py            # 1300x1000, 400 cells, 8 frames
    .pyenv/bin/python scripts/compare-post.py --width 300 --height 250 --cells 30 --frames 2 --json out.json
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402
import tifffile  # noqa: E402
from scipy import ndimage as ndi  # noqa: E402
from skimage.feature import peak_local_max  # noqa: E402
from skimage.measure import label  # noqa: E402
from skimage.morphology import binary_closing, disk, remove_small_objects  # noqa: E402
from skimage.segmentation import watershed  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def synthetic(h, w, cells, rng):
    """Probability map of `cells` random ellipses (semi-axes 10-24 px, many touching)
    with soft edges and uniform noise of amplitude 0.25, clipped to [0, 1]."""
    p = np.zeros((h, w), np.float32)
    for _ in range(cells):
        cy, cx = rng.random() * h, rng.random() * w
        a, b, t = 12 + rng.random() * 12, 10 + rng.random() * 8, rng.random() * np.pi
        r = max(a, b) + 4
        y0, y1 = int(max(cy - r, 0)), int(min(cy + r + 1, h))
        x0, x1 = int(max(cx - r, 0)), int(min(cx + r + 1, w))
        yy, xx = np.mgrid[y0:y1, x0:x1]
        dy, dx = yy - cy, xx - cx
        u, v = dx * np.cos(t) + dy * np.sin(t), -dx * np.sin(t) + dy * np.cos(t)
        e = np.sqrt((u / a) ** 2 + (v / b) ** 2)
        q = 1 / (1 + np.exp((e - 1) * 8))
        p[y0:y1, x0:x1] = np.maximum(p[y0:y1, x0:x1], q)
    noise = (rng.random(p.shape, dtype=np.float32) - 0.5) * 0.5
    return np.clip(p + noise, 0, 1).astype(np.float32)


def skimage_chain(prob, a):
    fg = prob > a.threshold
    if a.closing_radius > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # deprecated in 0.26, same result as closing(mode="ignore")
            fg = binary_closing(fg, disk(a.closing_radius))
    if a.min_area > 1:
        fg = remove_small_objects(fg, max_size=a.min_area - 1, connectivity=2)
    fg = ndi.binary_fill_holes(fg)
    dist = ndi.distance_transform_edt(fg)
    components = label(fg, connectivity=2)
    peaks = peak_local_max(dist, min_distance=a.min_distance, labels=components, exclude_border=False)
    markers = np.zeros(fg.shape, np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    return watershed(-dist, markers, mask=fg, connectivity=2)


def mean_best_iou(ref, ours):
    """For each object of `ref`, the IoU with the object of `ours` overlapping it most;
    returns the list of these IoUs (0 for a ref object no object overlaps)."""
    ref, ours = ref.astype(np.int64).ravel(), ours.astype(np.int64).ravel()
    nr, no = int(ref.max()), int(ours.max())
    if nr == 0:
        return []
    area_r = np.bincount(ref, minlength=nr + 1)
    area_o = np.bincount(ours, minlength=no + 1)
    both = (ref > 0) & (ours > 0)
    pairs, inter = np.unique(ref[both] * (no + 1) + ours[both], return_counts=True)
    r, o = pairs // (no + 1), pairs % (no + 1)
    iou = inter / (area_r[r] + area_o[o] - inter)
    best = np.zeros(nr + 1)
    np.maximum.at(best, r, iou)
    present = np.flatnonzero(area_r[1:]) + 1
    return list(best[present])


def run_skimage(files, out_dir, a):
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    t0, c0 = time.perf_counter(), time.process_time()
    for i, f in enumerate(files):
        lab = skimage_chain(tifffile.imread(f), a)
        tifffile.imwrite(out_dir / f"mask{i:03d}.tif", lab.astype(np.uint16))
        results.append(lab)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return results, wall * 1e3 / len(files), cpu * 1e3 / len(files)


def run_cellstream(binary, in_dir, out_dir, a):
    cmd = [str(binary), "postprocess", "--input", str(in_dir), "--out", str(out_dir), "--threads", "1",
           "--threshold", str(a.threshold), "--closing-radius", str(a.closing_radius),
           "--min-area", str(a.min_area), "--min-distance", str(a.min_distance), "--connectivity", "8"]
    env = dict(os.environ, RAYON_NUM_THREADS="1")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"cellstream failed ({' '.join(cmd)}):\n{p.stderr}")
    m = re.search(r"\(([\d.]+) ms/frame, ([\d.]+) ms CPU/frame, 1 thread\)", p.stdout)
    if not m:
        sys.exit(f"unexpected cellstream output: {p.stdout}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return float(m.group(1)), float(m.group(2)), wall * 1e3, cpu * 1e3, cmd


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--width", type=int, default=1300)
    ap.add_argument("--height", type=int, default=1000)
    ap.add_argument("--cells", type=int, default=400)
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3, help="runs of each side; the fastest is reported")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--closing-radius", type=int, default=3)
    ap.add_argument("--min-area", type=int, default=40)
    ap.add_argument("--min-distance", type=int, default=7)
    ap.add_argument("--binary", type=Path, default=ROOT / "target" / "release" / "cellstream")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    ap.add_argument("--keep", type=Path, help="keep inputs and both outputs in this folder")
    a = ap.parse_args()
    if not a.binary.is_file():
        sys.exit(f"{a.binary} not found; build it with `cargo build --release`")

    tmp = tempfile.TemporaryDirectory()
    work = a.keep or Path(tmp.name)
    in_dir, sk_dir, cs_dir = work / "prob", work / "skimage", work / "cellstream"
    in_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    files = []
    for i in range(a.frames):
        f = in_dir / f"prob_{i:03d}.tif"
        tifffile.imwrite(f, synthetic(a.height, a.width, a.cells, rng))
        files.append(f)

    sk_ms, sk_cpu, cs_ms, cs_inproc_cpu, cs_wall, cs_cpu = [], [], [], [], [], []
    for _ in range(a.rounds):
        ref, ms, cpu = run_skimage(files, sk_dir, a)
        sk_ms.append(ms)
        sk_cpu.append(cpu)
        ms, inproc_cpu, wall, cpu, cmd = run_cellstream(a.binary, in_dir, cs_dir, a)
        cs_ms.append(ms)
        cs_inproc_cpu.append(inproc_cpu)
        cs_wall.append(wall / a.frames)
        cs_cpu.append(cpu / a.frames)

    ious, n_sk, n_cs = [], 0, 0
    for i, lab in enumerate(ref):
        ours = tifffile.imread(cs_dir / f"mask{i:03d}.tif")
        ious += mean_best_iou(lab, ours)
        n_sk += int(lab.max())
        n_cs += int(ours.max())
    agreement = float(np.mean(ious)) if ious else float("nan")
    figures = {
        "width": a.width, "height": a.height, "cells": a.cells, "frames": a.frames, "rounds": a.rounds,
        "params": {"threshold": a.threshold, "closing_radius": a.closing_radius, "min_area": a.min_area,
                   "min_distance": a.min_distance, "connectivity": 8},
        "skimage_ms_per_frame": min(sk_ms), "skimage_cpu_ms_per_frame": min(sk_cpu),
        "cellstream_ms_per_frame": min(cs_ms),
        "cellstream_cpu_ms_per_frame": min(cs_inproc_cpu),
        "cellstream_ms_per_frame_with_process_start": min(cs_wall),
        "cellstream_cpu_ms_per_frame_with_process_start": min(cs_cpu),
        "ratio": min(sk_ms) / min(cs_ms),
        "cpu_ratio": min(sk_cpu) / min(cs_inproc_cpu),
        "median_round_ratio": float(np.median([s / c for s, c in zip(sk_ms, cs_ms)])),
        "median_round_cpu_ratio": float(np.median([s / c for s, c in zip(sk_cpu, cs_inproc_cpu)])),
        "mean_best_iou": agreement,
        "skimage_objects_per_frame": n_sk / a.frames, "cellstream_objects_per_frame": n_cs / a.frames,
        "cellstream_command": " ".join(cmd),
    }
    print(f"{a.frames} frames of {a.width}x{a.height}, {a.cells} cells drawn, best of {a.rounds} runs, one thread each")
    print(f"scikit-image/scipy : {min(sk_ms):8.1f} ms/frame   (CPU {min(sk_cpu):.1f} ms/frame; runs: "
          + ", ".join(f"{x:.1f}" for x in sk_ms) + ")")
    print(f"cellstream         : {min(cs_ms):8.1f} ms/frame   (CPU {min(cs_inproc_cpu):.1f} ms/frame; runs: "
          + ", ".join(f"{x:.1f}" for x in cs_ms)
          + f"; with process start {min(cs_wall):.1f} ms/frame wall, {min(cs_cpu):.1f} CPU)")
    print(f"ratio              : {figures['ratio']:8.1f}x wall, {figures['cpu_ratio']:.1f}x CPU (best against best)")
    print(f"ratio, per round   : {figures['median_round_ratio']:8.1f}x wall, {figures['median_round_cpu_ratio']:.1f}x CPU "
          "(median over rounds of the two runs made side by side; steadier on a shared machine)")
    print(f"agreement          : mean best IoU {agreement:.4f} over {len(ious)} scikit-image objects "
          f"({n_sk / a.frames:.1f} vs {n_cs / a.frames:.1f} objects/frame)")
    if a.json:
        a.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
