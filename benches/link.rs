//! Linking speed and memory: 1000 frames of about 500 moving (and a few dividing)
//! disks, generated in memory frame by frame; only `Linker::push`/`finish` is timed.
//!
//! `cargo bench --bench link [-- FRAMES CELLS]` prints the seconds spent linking
//! and the peak resident memory (VmHWM) after 10%, 50% and 100% of the frames.
//!
//! With `--tiffs`, the same frames are then written as 16-bit mask TIFFs into a
//! temporary folder (untimed) and linked end to end from them by
//! `track --masks` (reading, linking and writing the CTC result, pipelined).
#[path = "../tests/link_support/mod.rs"]
mod link_support;

use std::time::{Duration, Instant};

use cellstream::link::{track_records, LinkConfig, Linker};
use link_support::{DiskSim, SimConfig};

/// A field of `/proc/self/status` in KiB (Linux), e.g. "VmHWM".
fn status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

fn sim(cells: usize) -> DiskSim {
    DiskSim::new(SimConfig {
        shape: (1024, 1024),
        cells: cells * 24 / 25,
        radius: 8.0,
        step: 1.5,
        cycle: Some((150, 400)),
        max_cells: cells * 26 / 25,
        seed: 42,
    })
}

/// Links the same sequence from TIFF files with `track --masks`.
fn from_tiffs(frames: usize, cells: usize) {
    let dir = std::env::temp_dir().join(format!("cellstream-link-bench-{}", std::process::id()));
    let masks = dir.join("masks");
    std::fs::create_dir_all(&masks).expect("temporary folder");
    let mut sim = sim(cells);
    for t in 0..frames {
        cellstream::ctc::write_mask(&masks.join(format!("mask{t:04}.tif")), &sim.frame()).expect("writing a mask");
    }
    let bytes: u64 = std::fs::read_dir(&masks).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();
    let start = Instant::now();
    let s = cellstream::track::track_masks(&masks, &dir.join("RES"), LinkConfig::default()).expect("track --masks");
    let secs = start.elapsed().as_secs_f64();
    println!(
        "from TIFFs ({:.1} GB of masks): {} frames read, linked and written as a CTC result in {secs:.2} s ({:.2} ms a frame, {:.0} frames/s); {} tracks, {} divisions; peak RSS {}",
        bytes as f64 / 1e9,
        s.frames,
        secs * 1e3 / frames as f64,
        frames as f64 / secs,
        s.tracks,
        s.divisions,
        mib(status_kib("VmHWM"))
    );
    std::fs::remove_dir_all(&dir).expect("removing the temporary folder");
}

fn main() {
    let tiffs = std::env::args().any(|a| a == "--tiffs");
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let frames: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let cells: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(500);
    println!("before linking:      peak RSS {} (the binary and its libraries)", mib(status_kib("VmHWM")));
    let mut sim = sim(cells);
    let mut linker = Linker::new(LinkConfig::default());
    let (mut linking, mut objects, mut checksum) = (Duration::ZERO, 0usize, 0u64);
    let wall = Instant::now();
    for t in 0..frames {
        let mask = sim.frame();
        objects += sim.tracks.values().filter(|r| r.end == t).count();
        let start = Instant::now();
        let out = linker.push(t, &mask).expect("frames in order");
        linking += start.elapsed();
        checksum += out.iter().map(|(_, m)| m[[512, 512]] as u64).sum::<u64>();
        if [frames / 10, frames / 2].contains(&(t + 1)) {
            println!("after {:>5} frames: peak RSS {}", t + 1, mib(status_kib("VmHWM")));
        }
    }
    let start = Instant::now();
    let (_, lineage) = linker.finish();
    let records = track_records(&lineage);
    linking += start.elapsed();
    println!("after {frames:>5} frames: peak RSS {}", mib(status_kib("VmHWM")));
    println!(
        "linked {frames} frames of 1024×1024, {:.0} objects a frame on average: {:.2} s linking ({:.2} ms a frame), {:.2} s wall with the simulation",
        objects as f64 / frames as f64,
        linking.as_secs_f64(),
        linking.as_secs_f64() * 1e3 / frames as f64,
        wall.elapsed().as_secs_f64()
    );
    println!(
        "{} tracks, {} divisions found ({} simulated); checksum {checksum}",
        records.len(),
        lineage.divisions().len(),
        sim.divisions().len()
    );
    if tiffs {
        from_tiffs(frames, cells);
    }
}
