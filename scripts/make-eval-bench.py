#!/usr/bin/env python3
"""Writes a deterministic synthetic CTC truth and result for timing evaluators.

    make-eval-bench.py OUT [--frames 50] [--width 1300] [--height 1000] [--seed 1]

OUT/GT/TRA (man_trackTTT.tif + man_track.txt), OUT/GT/SEG (man_segTTT.tif,
every frame) and OUT/RES (maskTTT.tif + res_track.txt). The truth has 300
elliptic cells on a jittered 20 × 15 grid that drift from frame to frame; 12
of them divide. The result is the truth redrawn with damage: every object's
centre and radii perturbed by up to 2 px, 3 % of the tracks dropped, 10 short
false-positive tracks, a third of the division links broken, and every label
renamed. Needs numpy and tifffile (the .pyenv of scripts/setup has both).
"""
import argparse
import os

import numpy as np
import tifffile

COLS, ROWS = 20, 15


def ellipse(mask, cy, cx, a, b, angle, label):
    """Draws a filled ellipse (semi-axes a, b, rotated by angle) into mask."""
    h, w = mask.shape
    r = int(np.ceil(max(a, b))) + 1
    y0, y1 = max(int(cy) - r, 0), min(int(cy) + r + 1, h)
    x0, x1 = max(int(cx) - r, 0), min(int(cx) + r + 1, w)
    if y0 >= y1 or x0 >= x1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1]
    dy, dx = yy - cy, xx - cx
    c, s = np.cos(angle), np.sin(angle)
    u, v = dx * c + dy * s, -dx * s + dy * c
    inside = (u / a) ** 2 + (v / b) ** 2 <= 1.0
    mask[y0:y1, x0:x1][inside] = label


def simulate(frames, width, height, rng):
    """Track records and per-frame ellipses (label, cy, cx, a, b, angle)."""
    sy, sx = height / ROWS, width / COLS
    tracks = []  # [label, begin, end, parent]
    objects = [[] for _ in range(frames)]
    label = 0
    divide_at = dict(zip(rng.choice(COLS * ROWS, 12, replace=False), rng.integers(5, frames - 5, 12)))
    for k in range(COLS * ROWS):
        gy, gx = (k // COLS + 0.5) * sy, (k % COLS + 0.5) * sx
        cy, cx = gy + rng.uniform(-5, 5), gx + rng.uniform(-5, 5)
        a, b, ang = rng.uniform(12, 18), rng.uniform(10, 16), rng.uniform(0, np.pi)
        label += 1
        parent = label
        t_div = divide_at.get(k, frames)
        for t in range(frames):
            cy = float(np.clip(cy + rng.uniform(-2, 2), gy - 12, gy + 12))
            cx = float(np.clip(cx + rng.uniform(-2, 2), gx - 12, gx + 12))
            if t <= t_div:
                objects[t].append([parent, cy, cx, a, b, ang])
            else:
                off = a / 2
                for d, sign in enumerate((-1, 1)):
                    objects[t].append([parent + 1 + d, cy + sign * off * np.sin(ang), cx + sign * off * np.cos(ang), a / 2, b * 0.8, ang])
        if t_div < frames - 1:
            tracks.append([parent, 0, t_div, 0])
            tracks.append([parent + 1, t_div + 1, frames - 1, parent])
            tracks.append([parent + 2, t_div + 1, frames - 1, parent])
            label += 2
        else:
            tracks.append([parent, 0, frames - 1, 0])
    return tracks, objects


def damage(tracks, objects, width, height, rng):
    """The result: perturbed objects, dropped and extra tracks, broken links, new labels."""
    labels = [t[0] for t in tracks]
    dropped = set(rng.choice(labels, len(labels) * 3 // 100, replace=False).tolist())
    # Keep a division only if neither the parent nor a daughter is dropped.
    res_tracks = []
    for lab, b, e, p in tracks:
        if lab in dropped:
            continue
        if p in dropped or (p and rng.uniform() < 1 / 3):
            p = 0
        res_tracks.append([lab, b, e, p])
    res_objects = []
    for objs in objects:
        frame = []
        for lab, cy, cx, a, b, ang in objs:
            if lab in dropped:
                continue
            frame.append([lab, cy + rng.uniform(-2, 2), cx + rng.uniform(-2, 2), a + rng.uniform(-2, 2), b + rng.uniform(-2, 2), ang])
        res_objects.append(frame)
    # False positives: small blobs on grid corners for 1-3 frames.
    next_label = max(labels) + 1
    sy, sx = height / ROWS, width / COLS
    for _ in range(10):
        t0 = int(rng.integers(0, len(objects) - 3))
        n = int(rng.integers(1, 4))
        gy, gx = int(rng.integers(1, ROWS)) * sy, int(rng.integers(1, COLS)) * sx
        for t in range(t0, t0 + n):
            res_objects[t].append([next_label, gy, gx, 3.0, 3.0, 0.0])
        res_tracks.append([next_label, t0, t0 + n - 1, 0])
        next_label += 1
    # Rename every label (the matching must not depend on label values).
    old = [t[0] for t in res_tracks]
    new = (rng.permutation(len(old)) + 1000).tolist()
    ren = dict(zip(old, new))
    res_tracks = [[ren[l], b, e, ren.get(p, 0)] for l, b, e, p in res_tracks]
    res_objects = [[[ren[o[0]]] + o[1:] for o in objs] for objs in res_objects]
    return res_tracks, res_objects


def write(folder, name, objects_per_frame, shape):
    os.makedirs(folder, exist_ok=True)
    for t, objs in enumerate(objects_per_frame):
        m = np.zeros(shape, np.uint16)
        for lab, cy, cx, a, b, ang in objs:
            ellipse(m, cy, cx, a, b, ang, lab)
        tifffile.imwrite(os.path.join(folder, f"{name}{t:03d}.tif"), m)


def write_tracks(path, tracks):
    with open(path, "w") as f:
        for t in sorted(tracks):
            f.write(" ".join(str(int(x)) for x in t) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--frames", type=int, default=50)
    ap.add_argument("--width", type=int, default=1300)
    ap.add_argument("--height", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    shape = (args.height, args.width)
    tracks, objects = simulate(args.frames, args.width, args.height, rng)
    res_tracks, res_objects = damage(tracks, objects, args.width, args.height, rng)
    write(os.path.join(args.out, "GT", "TRA"), "man_track", objects, shape)
    write(os.path.join(args.out, "GT", "SEG"), "man_seg", objects, shape)
    write_tracks(os.path.join(args.out, "GT", "TRA", "man_track.txt"), tracks)
    write(os.path.join(args.out, "RES"), "mask", res_objects, shape)
    write_tracks(os.path.join(args.out, "RES", "res_track.txt"), res_tracks)
    n = sum(len(o) for o in objects) / len(objects)
    print(f"{args.out}: {args.frames} frames {args.width}x{args.height}, {n:.0f} cells a frame, "
          f"{len(tracks)} truth tracks, {len(res_tracks)} result tracks")


if __name__ == "__main__":
    main()
