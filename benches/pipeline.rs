//! The streaming pipeline end to end: throughput against its slowest stage
//! alone, and peak memory on a long against a short sequence.
//!
//! `cargo bench --bench pipeline [-- SHORT LONG]` (default 200 and 2000 frames)
//! builds a sequence by repeating the bundled 256² fluorescence sample
//! (hard links, so it costs no disk), then:
//! 1. times each stage alone over the short sequence, with the threads it gets
//!    in the pipeline: reading, the classical segmenter on the pool, linking,
//!    writing;
//! 2. times the `track` command (in this process, so libtorch's start-up is
//!    not counted) on the same frames and prints its throughput as a fraction
//!    of the slowest stage's;
//! 3. runs `cellstream track` on both lengths under `/usr/bin/time -v` and
//!    prints the peak resident memory of each and their ratio.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use cellstream::ctc::{self, Mask};
use cellstream::link::{LinkConfig, Linker};
use cellstream::segment::{segment_classical, ClassicalParams};
use rayon::prelude::*;

fn make_sequence(dir: &Path, frames: usize) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sequences/fluo/01");
    let seq = dir.join(format!("len{frames}/01"));
    std::fs::create_dir_all(&seq).unwrap();
    let sample: Vec<PathBuf> = (0..40).map(|t| src.join(format!("t{t:03}.tif"))).collect();
    for t in 0..frames {
        // Play the sample forwards then backwards so motion stays smooth.
        let k = t % 78;
        let i = if k < 40 { k } else { 78 - k };
        std::fs::hard_link(&sample[i], seq.join(format!("t{t:04}.tif"))).unwrap();
    }
    seq
}

fn per_second(n: usize, secs: f64) -> f64 {
    n as f64 / secs.max(1e-9)
}

fn peak_rss_kib(args: &[&Path]) -> (f64, u64) {
    let bin = env!("CARGO_BIN_EXE_cellstream");
    let start = Instant::now();
    let out = Command::new("/usr/bin/time").arg("-v").arg(bin).args(["track", "-q", "--segmenter", "classical"]).args(args).output().expect("/usr/bin/time");
    let secs = start.elapsed().as_secs_f64();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    let kib = err
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes): "))
        .and_then(|v| v.trim().parse().ok())
        .expect("peak RSS from /usr/bin/time -v");
    (secs, kib)
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let short = args.first().copied().unwrap_or(200);
    let long = args.get(1).copied().unwrap_or(2000);
    let tmp = tempfile::tempdir().unwrap();
    let seq = make_sequence(tmp.path(), short);
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    println!("pipeline bench: {short} frames of 256×256 (bundled fluo sample repeated), {threads} post threads");

    // 1. Each stage alone.
    let sequence = ctc::Sequence::open(&seq).unwrap();
    let t0 = Instant::now();
    let frames: Vec<ctc::Frame> = sequence.frames().map(|r| r.unwrap().1).collect();
    let read = t0.elapsed().as_secs_f64();
    let params = ClassicalParams::default();
    let t0 = Instant::now();
    let masks: Vec<Mask> = frames.par_iter().map(|f| segment_classical(f, &params)).collect();
    let segment = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    let mut linker = Linker::new(LinkConfig::default());
    let mut linked = Vec::new();
    for (t, m) in masks.iter().enumerate() {
        linked.extend(linker.push(t, m).unwrap());
    }
    let (rest, lineage) = linker.finish();
    linked.extend(rest);
    let link = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    let w = ctc::ResultWriter::create(&tmp.path().join("alone_RES"), 4).unwrap();
    for (t, m) in &linked {
        w.write_mask(*t, m).unwrap();
    }
    w.finish(&cellstream::link::track_records(&lineage)).unwrap();
    let write = t0.elapsed().as_secs_f64();
    let stages = [("read", read), ("segment+post (pool)", segment), ("link", link), ("write", write)];
    for (name, s) in stages {
        println!("  stage alone: {name:<20} {:8.1} frames/s", per_second(short, s));
    }
    let slowest = stages.iter().map(|s| per_second(short, s.1)).fold(f64::INFINITY, f64::min);
    drop((frames, masks, linked));

    // 2. End to end.
    let out = tmp.path().join("e2e_RES");
    let cli = <cellstream::cli::Cli as clap::Parser>::try_parse_from([
        "cellstream".as_ref(), "track".as_ref(), "-q".as_ref(), "--segmenter".as_ref(), "classical".as_ref(), seq.as_os_str(),
        "--out".as_ref(), out.as_os_str(),
    ] as [&std::ffi::OsStr; 8]).unwrap();
    let t0 = Instant::now();
    cellstream::cli::run(cli).unwrap();
    let e2e = per_second(short, t0.elapsed().as_secs_f64());
    println!("  end to end (the track command in this process): {e2e:.1} frames/s = {:.2}× the slowest stage alone", e2e / slowest);
    let (_, rss_short) = peak_rss_kib(&[&seq, Path::new("--out"), &tmp.path().join("short_RES")]);

    // 3. Memory, long against short.
    let seq_long = make_sequence(tmp.path(), long);
    let out_long = tmp.path().join("long_RES");
    let (secs_long, rss_long) = peak_rss_kib(&[&seq_long, Path::new("--out"), &out_long]);
    println!(
        "  peak RSS: {short} frames {:.1} MiB, {long} frames {:.1} MiB ({:.1} frames/s): ratio {:.3}",
        rss_short as f64 / 1024.0,
        rss_long as f64 / 1024.0,
        per_second(long, secs_long),
        rss_long as f64 / rss_short as f64
    );
}
