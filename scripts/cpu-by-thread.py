#!/usr/bin/env python3
"""Runs a command and prints the CPU seconds each of its threads used, by
thread name (cellstream names its pipeline threads cs-reader, cs-post-N,
cs-linker, ...; libtorch's threads keep the process's name). Polled from
/proc every 50 ms, so a thread's last 50 ms may be missed.

    python3 scripts/cpu-by-thread.py target/release/cellstream track SEQ --out RES -q
"""
import os, subprocess, sys, time, collections
tick = os.sysconf("SC_CLK_TCK")
if len(sys.argv) < 2:
    sys.exit(__doc__)
p = subprocess.Popen(sys.argv[1:])
seen = {}
t0 = time.time()
while p.poll() is None:
    try:
        for tid in os.listdir(f"/proc/{p.pid}/task"):
            try:
                comm = open(f"/proc/{p.pid}/task/{tid}/comm").read().strip()
                f = open(f"/proc/{p.pid}/task/{tid}/stat").read().rsplit(")", 1)[1].split()
                seen[tid] = (comm, (int(f[11]) + int(f[12])) / tick)
            except OSError:
                pass
    except OSError:
        pass
    time.sleep(0.05)
wall = time.time() - t0
by = collections.defaultdict(float)
for comm, cpu in seen.values():
    by[comm] += cpu
tot = sum(by.values()) or 1e-9
for comm, cpu in sorted(by.items(), key=lambda x: -x[1]):
    print(f"{comm:16s} {cpu:7.2f} s  {100*cpu/tot:5.1f}%")
print(f"{'all':16s} {tot:7.2f} s, wall {wall:.2f} s")
sys.exit(p.returncode)
