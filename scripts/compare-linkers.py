#!/usr/bin/env python3
"""Linking the same label masks with `cellstream track --masks` and with laptrack, scored alike.

For each case (a folder of label masks, one per frame, and the truth to score
against), in the same run:

  cellstream  `cellstream track --masks MASKS --out RES` with its defaults
              (max displacement 25 px, gaps of up to 2 frames, divisions);
  laptrack    the masks read with tifffile, each object's centroid from
              scikit-image's regionprops, then laptrack's LapTrack (the LAP
              tracker of Jaqaman et al. 2008, as in TrackMate) with the same
              limits: cutoff 25² (squared Euclidean), gap closing 25² over up
              to 2 frames, no merging, and the splitting cutoff of 15², 25²,
              40² or 60² that scores best on the case itself (BC(0), then
              TRA: tuned on the truth, so laptrack's best); its tracks written back
              as a CTC result (a track segment that skips frames continues
              under a new label whose parent is the part before, as CTC
              forbids holes; a split's children take the parent's last label).

Both results pass `cellstream validate`, and both are scored by `cellstream
evaluate` (whose every measure equals py-ctcmetrics' to 1e-6). Times are wall
clock of the whole job each: for cellstream the process (start, reading,
linking, writing), for laptrack reading, centroids, tracking and writing,
not counting Python's start and imports (shown apart). Each case runs
--rounds times, alternating, and the best of each is kept.

    .pyenv/bin/python scripts/compare-linkers.py                 # the cases below that exist here
    .pyenv/bin/python scripts/compare-linkers.py --rounds 1 --json out.json
    .pyenv/bin/python scripts/compare-linkers.py --only "truth masks" --binary PATH   # some cases, another build

Cases: the truth tracking masks of the simulated colony and fluorescence
samples (labels shuffled, so only the positions and shapes are given), the
modality models' segmentations of the held-out phase-contrast and
fluorescence samples (imperfect masks, as a tracker meets them), the truth
masks of 64 simulated fluorescence frames of 1024² (about 430 cells each,
as the speed benchmark's), and Fluo-N2DH-SIM+ 01's truth masks when
../shared is there.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

t_import = time.perf_counter()
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tifffile  # noqa: E402
from laptrack import LapTrack  # noqa: E402
from skimage.measure import regionprops_table  # noqa: E402

IMPORT_S = time.perf_counter() - t_import
ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "target" / "release" / "cellstream"  # --binary picks another


def numbered_tiffs(folder):
    """The TIFFs of a folder by the number at the end of their names."""
    out = {}
    for p in Path(folder).iterdir():
        if p.suffix.lower() not in (".tif", ".tiff"):
            continue
        digits = ""
        for ch in reversed(p.stem):
            if not ch.isdigit():
                break
            digits = ch + digits
        if digits:
            out[int(digits)] = p
    return [out[t] for t in sorted(out)]


def laptrack_ctc(masks_dir, out_dir, splitting, max_disp=25.0, max_gap=2):
    """Links the masks of `masks_dir` with laptrack (splitting cutoff `splitting`
    pixels) and writes a CTC result to `out_dir`."""
    files = numbered_tiffs(masks_dir)
    masks = [tifffile.imread(f) for f in files]
    rows = []
    for t, m in enumerate(masks):
        props = regionprops_table(m, properties=("label", "centroid"))
        for lab, y, x in zip(props["label"], props["centroid-0"], props["centroid-1"]):
            rows.append((t, int(lab), y, x))
    df = pd.DataFrame(rows, columns=["frame", "label", "y", "x"])
    cutoff = max_disp**2
    lt = LapTrack(
        cutoff=cutoff,
        gap_closing_cutoff=cutoff,
        gap_closing_max_frame_count=max_gap,
        splitting_cutoff=splitting**2,
        merging_cutoff=False,
    )
    track_df, split_df, _ = lt.predict_dataframe(df, coordinate_cols=["y", "x"], only_coordinate_cols=False)
    # Each laptrack segment (track_id) as CTC tracks: a new label after every gap.
    new_label = {}  # (frame, input label) -> CTC label
    records = {}  # CTC label -> [begin, end, parent]
    first_label, last_label = {}, {}
    next_label = 1
    for tid, seg in track_df.sort_values("frame").groupby("track_id", sort=True):
        prev_t, cur = None, None
        for t, lab in zip(seg["frame"], seg["label"]):
            if cur is None or t != prev_t + 1:
                parent = cur if cur is not None else 0
                cur = next_label
                next_label += 1
                records[cur] = [t, t, parent]
                first_label.setdefault(tid, cur)
            records[cur][1] = t
            new_label[(t, lab)] = cur
            prev_t = t
        last_label[tid] = cur
    splits = zip(split_df["parent_track_id"], split_df["child_track_id"]) if len(split_df) else []
    for parent_tid, child_tid in splits:
        child = first_label[child_tid]
        parent = last_label[parent_tid]
        if records[child][2] == 0 and records[parent][1] < records[child][0]:
            records[child][2] = parent
    if next_label > 65536:
        raise SystemExit(f"{masks_dir}: laptrack's result needs {next_label - 1} labels, more than 16 bits hold")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for t, m in enumerate(masks):
        lut = np.zeros(int(m.max()) + 1, dtype=np.uint16)
        for lab in np.unique(m):
            if lab:
                lut[lab] = new_label.get((t, int(lab)), 0)
        tifffile.imwrite(out_dir / f"mask{t:03d}.tif", lut[m])
    with open(out_dir / "res_track.txt", "w") as f:
        for lab in sorted(records):
            b, e, p = records[lab]
            f.write(f"{lab} {b} {e} {p}\n")
    return len(records), len(split_df)


def run(*args, **kw):
    return subprocess.run([str(BIN), *map(str, args)], check=True, capture_output=True, text=True, **kw)


def scores(gt, res):
    with tempfile.TemporaryDirectory() as d:
        j = Path(d) / "s.json"
        run("validate", res)
        run("evaluate", "--gt", gt, "--res", res, "--json", j)
        s = json.loads(j.read_text())
    return {k: s.get(k) for k in ("TRA", "LNK", "BC(0)", "BC(2)", "DET")}


def shuffled_copy(masks_dir, out, seed=1):
    """The masks with each frame's labels replaced by a random permutation (positions kept)."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True)
    for t, f in enumerate(numbered_tiffs(masks_dir)):
        m = tifffile.imread(f)
        labs = np.unique(m)
        labs = labs[labs > 0]
        lut = np.zeros(int(m.max()) + 1, dtype=np.uint16)
        lut[labs] = rng.permutation(len(labs)) + 1
        tifffile.imwrite(out / f"mask{t:03d}.tif", lut[m])
    return out


def cases(work):
    """(name, make) for each case; make() prepares it and returns (masks, truth)."""
    seqs = ROOT / "sequences"
    for m in ("colony", "fluo"):
        yield f"{m} sample, truth masks shuffled", lambda m=m: (shuffled_copy(seqs / m / "01_GT" / "TRA", work / f"{m}-truth"), seqs / m / "01_GT")

    def model_masks(m):
        res = work / f"{m}-model"
        run("track", seqs / m / "01", "--model", m, "--out", res, "-q")
        return res, seqs / m / "01_GT"

    for m in ("phase", "fluo"):
        yield f"{m} sample, `--model {m}`'s masks", lambda m=m: model_masks(m)

    def big():
        sim = work / "big"
        run("simulate", "--modality", "fluo", "--seed", "3", "--frames", "64", "--width", "1024", "--height", "1024", "--out", sim)
        return shuffled_copy(sim / "01_GT" / "TRA", work / "big-truth"), sim / "01_GT"

    yield "fluo 1024², 64 frames (~430 cells a frame), truth masks shuffled", big
    sim = ROOT.parent / "shared" / "data" / "ctc" / "Fluo-N2DH-SIM+" / "01_GT"
    if sim.is_dir():
        yield "Fluo-N2DH-SIM+ 01, truth masks shuffled", lambda: (shuffled_copy(sim / "TRA", work / "simplus-truth"), sim)
    else:
        print(f"skipping Fluo-N2DH-SIM+: {sim} is absent", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json")
    ap.add_argument("--splitting", default="15,25,40,60", help="laptrack splitting cutoffs to try, in pixels")
    ap.add_argument("--only", help="run only the cases whose name holds this text")
    ap.add_argument("--binary", help="the cellstream binary (default target/release/cellstream)")
    a = ap.parse_args()
    global BIN
    if a.binary:
        BIN = Path(a.binary)
    if not BIN.exists():
        raise SystemExit(f"{BIN} is missing: cargo build --release")
    out = []
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        for name, make in cases(work):
            if a.only and a.only not in name:
                continue
            masks, gt = make()
            n = len(numbered_tiffs(masks))
            tried = {}
            for sc in map(float, a.splitting.split(",")):
                laptrack_ctc(masks, work / f"lt-grid-{sc}", sc)
                s = scores(gt, work / f"lt-grid-{sc}")
                tried[sc] = s
            sc = max(tried, key=lambda k: (tried[k]["BC(0)"] or 0, tried[k]["TRA"] or 0))
            best = {"cellstream": float("inf"), "laptrack": float("inf")}
            for r in range(a.rounds):
                res_cs, res_lt = work / f"cs-{r}", work / f"lt-{r}"
                t0 = time.perf_counter()
                run("track", "--masks", masks, "--out", res_cs, "-q")
                best["cellstream"] = min(best["cellstream"], time.perf_counter() - t0)
                t0 = time.perf_counter()
                n_tracks, n_splits = laptrack_ctc(masks, res_lt, sc)
                best["laptrack"] = min(best["laptrack"], time.perf_counter() - t0)
            row = {
                "case": name,
                "frames": n,
                "cellstream": scores(gt, res_cs),
                "laptrack": scores(gt, res_lt),
                "cellstream_s": best["cellstream"],
                "laptrack_s": best["laptrack"],
                "laptrack_tracks": n_tracks,
                "laptrack_splits": n_splits,
                "laptrack_splitting_cutoff": sc,
                "laptrack_by_cutoff": {str(k): v for k, v in tried.items()},
            }
            out.append(row)
            f = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
            print(f"{name} ({n} frames)", flush=True)
            for tool in ("cellstream", "laptrack"):
                s = row[tool]
                print(f"  {tool:<10}  TRA {f(s['TRA'])}  LNK {f(s['LNK'])}  BC(0) {f(s['BC(0)'])}  BC(2) {f(s['BC(2)'])}  {row[tool + '_s']:.2f} s", flush=True)
            print(f"  (laptrack's splitting cutoff {sc:g} px; BC(0) by cutoff: " + ", ".join(f"{k:g}: {f(v['BC(0)'])}" for k, v in tried.items()) + ")", flush=True)
            print(f"  laptrack / cellstream time: {best['laptrack'] / best['cellstream']:.1f}×", flush=True)
    print(f"(Python imports for laptrack, once: {IMPORT_S:.2f} s, not counted)")
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
