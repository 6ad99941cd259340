#!/usr/bin/env python3
"""Average the saved maps of several models (an ensemble, as Cellpose's
net_avg): each PROBS folder is one `cellstream track SEQ --model M
--save-probabilities PROBS` of the same sequence. The foreground and seed maps
are linear in the class probabilities, so their mean is the mean model's.

    .pyenv/bin/python scripts/average-probs.py OUT PROBS1 PROBS2 [...]
    cellstream postprocess --input OUT/foreground --seeds OUT/seeds --closing-radius 0 --min-area 20 \\
        --seed-threshold 0.5 --out MASKS      # track's own chain, as README shows
    cellstream track --masks MASKS --split-merges on --out RES && cellstream evaluate --gt GT --res RES
"""
import os
import sys

import numpy as np
import tifffile


def main(out, dirs):
    for sub in ("foreground", "seeds"):
        names = sorted(os.listdir(os.path.join(dirs[0], sub)))
        if not names:
            sys.exit(f"average-probs: {dirs[0]}/{sub} is empty")
        os.makedirs(os.path.join(out, sub), exist_ok=True)
        for f in names:
            maps = [tifffile.imread(os.path.join(d, sub, f)).astype(np.float32) for d in dirs]
            tifffile.imwrite(os.path.join(out, sub, f), np.mean(maps, axis=0).astype(np.float32))


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
