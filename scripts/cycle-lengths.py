#!/usr/bin/env python3
"""Cell cycle lengths from `cellstream export --lineage` tables, side by side.

For each table: the number of whole cell cycles (tracks born by a division
that divide in view), their mean, quartiles and range in frames; and, after
the first table (the truth), the mean's difference and the largest gap
between the two empirical distributions (the Kolmogorov–Smirnov statistic).

    cellstream export GT_AS_RES --lineage truth.csv     # the truth's TRA masks and man_track.txt as a result folder
    cellstream export 01_RES --lineage ours.csv
    .pyenv/bin/python scripts/cycle-lengths.py truth.csv ours.csv
"""
import sys

import numpy as np
import pandas as pd


def cycles(path):
    c = pd.read_csv(path)["cycle_frames"].dropna().to_numpy(dtype=float)
    return np.sort(c)


def ks(a, b):
    grid = np.union1d(a, b)
    fa = np.searchsorted(a, grid, side="right") / len(a)
    fb = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.abs(fa - fb).max())


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    first = None
    print("| table | whole cycles | mean | quartiles | range | mean − first's | KS against first |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for path in sys.argv[1:]:
        c = cycles(path)
        if len(c) == 0:
            print(f"| {path} | 0 | – | – | – | – | – |")
            first = c if first is None else first
            continue
        q = np.percentile(c, [25, 50, 75])
        extra = "| – | – |"
        if first is not None and len(first) > 0:
            extra = f"| {c.mean() - first.mean():+.2f} | {ks(first, c):.3f} |"
        elif first is None:
            first = c
        print(f"| {path} | {len(c)} | {c.mean():.2f} | {q[0]:g} / {q[1]:g} / {q[2]:g} | {c.min():g}–{c.max():g} {extra}")


if __name__ == "__main__":
    main()
