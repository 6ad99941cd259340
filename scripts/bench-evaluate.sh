#!/usr/bin/env bash
# Times `cellstream evaluate` against py-ctcmetrics' `ctc_evaluate` on one
# synthetic input (scripts/make-eval-bench.py: 50 frames of 1300×1000, about
# 300 cells a frame, divisions, a damaged result), in the same run, and prints
# the ratio. Both compute DET, SEG, TRA, LNK, CT, TF, BC(0..3), CCA, BIO,
# CHOTA, HOTA, MOTA, IDF1, MT/ML and FAF on every frame (ALL=0: the first
# seven alone, as before session 25); cellstream also computes its object measures. Each is timed RUNS
# times (default 3) as a whole command, process start included; the best
# time counts. Finally the shared measures of the two are compared.
#
#   scripts/bench-evaluate.sh [DATA_DIR]      (default: $TMPDIR/cellstream-eval-bench)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-${TMPDIR:-/tmp}/cellstream-eval-bench}"
runs="${RUNS:-3}"
py="$root/.pyenv/bin"
bin="$root/target/release/cellstream"
[ -x "$py/ctc_evaluate" ] || { echo "bench-evaluate: $py/ctc_evaluate missing; run scripts/setup" >&2; exit 1; }
(cd "$root" && cargo build --release --quiet)
if [ ! -f "$dir/.complete" ]; then
    rm -rf "$dir"
    "$py/python" "$root/scripts/make-eval-bench.py" "$dir"
    touch "$dir/.complete"
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

best() { # best wall time in seconds of RUNS runs of "$@"
    local b="" s e t
    for _ in $(seq "$runs"); do
        s=$(date +%s.%N)
        "$@" > /dev/null
        e=$(date +%s.%N)
        t=$(awk "BEGIN {print $e - $s}")
        if [ -z "$b" ] || awk "BEGIN {exit !($t < $b)}"; then b=$t; fi
    done
    printf '%.3f' "$b"
}

echo "machine: $(nproc) cores; input: $dir ($(ls "$dir/RES" | grep -c mask) frames)"
extra=(--cca --chota --hota --mota --idf1 --mtml --faf)
[ "${ALL:-1}" = 1 ] || extra=()
t_py=$(best "$py/ctc_evaluate" --gt "$dir/GT" --res "$dir/RES" --det --seg --tra --lnk --ct --tf --bc 3 "${extra[@]}" \
    --csv-file "$out/py.csv")
echo "ctc_evaluate (py-ctcmetrics $("$py/python" -c 'import importlib.metadata as m; print(m.version("py-ctcmetrics"))')): ${t_py} s"
t_cs=$(best "$bin" evaluate --gt "$dir/GT" --res "$dir/RES" --json "$out/cs.json")
echo "cellstream evaluate: ${t_cs} s"
echo "ratio: $(awk "BEGIN {printf \"%.1f\", $t_py / $t_cs}")x faster"

"$py/python" - "$out/py.csv" "$out/cs.json" <<'EOF'
import csv, json, sys
py = next(csv.DictReader(open(sys.argv[1]), delimiter=";"))
cs = json.load(open(sys.argv[2]))
worst, n = 0.0, 0
for k, v in py.items():
    key = k[5:] if k.startswith("AOGM_") and k != "AOGM_0" else k
    # MOTA's counts: TP, FP, FN, Precision, Recall in py-ctcmetrics, MOTA_… in cellstream.
    key = {"TP": "MOTA_TP", "FP": "MOTA_FP", "FN": "MOTA_FN", "Precision": "MOTA_precision", "Recall": "MOTA_recall"}.get(k, key)
    if key not in cs:
        continue
    a = None if v == "None" else float(v)
    b = cs[key]
    n += 1
    if (a is None) != (b is None):
        sys.exit(f"{k}: py-ctcmetrics {a}, cellstream {b}")
    if a is not None:
        worst = max(worst, abs(a - b))
print(f"shared measures: {n}, largest difference {worst:.2e}")
EOF
