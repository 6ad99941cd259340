#!/usr/bin/env bash
# Times `cellstream render` (overlays, GIF, lineage, plots, with raw frames
# and truth) on a simulated 50-frame 1000×1000 sequence tracked by
# `cellstream track`, and its peak memory on the first 25 frames against all
# 50 (and 10), next to the binary's own baseline (`cellstream validate`).
# Needs GNU time (/usr/bin/time; Debian package `time`).
# Usage: scripts/bench-render.sh [WORK_DIR]   (default: a temporary folder)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
B=$PWD/target/release/cellstream
D=${1:-$(mktemp -d)}
mkdir -p "$D"
[ -d "$D/01" ] || "$B" simulate --out "$D" --width 1000 --height 1000 --frames 50 --seed 3
[ -d "$D/01_RES" ] || "$B" track "$D/01" --out "$D/01_RES" -q

# The first N frames as a result of their own (tracks cut at frame N − 1).
for n in 10 25 50; do
    rm -rf "$D/res$n" && mkdir -p "$D/res$n"
    for t in $(seq 0 $((n - 1))); do ln -s "$D/01_RES/$(printf 'mask%03d.tif' "$t")" "$D/res$n/"; done
    awk -v last=$((n - 1)) '$2 <= last { e = $3 > last ? last : $3; print $1, $2, e, $4 }' \
        "$D/01_RES/res_track.txt" > "$D/res$n/res_track.txt"
done

measure() { # label, command…: prints wall seconds and peak RSS
    local label=$1; shift
    /usr/bin/time -f "%e %M" -o "$D/time.txt" "$@" > /dev/null
    read -r wall rss < "$D/time.txt"
    printf '%-34s wall %6.2f s   peak RSS %6.1f MiB\n' "$label" "$wall" "$(awk -v r="$rss" 'BEGIN { print r / 1024 }')"
}
echo "cores: $(nproc); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
measure "baseline (validate, 50 frames)" "$B" validate "$D/01_RES"
for run in 1 2; do
    for n in 10 25 50; do
        rm -rf "$D/render$n"
        measure "render $n frames (run $run)" "$B" render --res "$D/res$n" --raw "$D/01" --gt "$D/01_GT" --out "$D/render$n"
    done
done
du -sh "$D/render50/overlays" "$D/render50/sequence.gif" "$D/render50/lineage.png"
