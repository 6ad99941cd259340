//! Times the built-in model and its post-processing frame by frame on a sequence:
//! `cargo run --release --example stage_times -- SEQ [--device D] [--precision P] [--tiles T]`
//! (defaults: cpu, f32, full). The first frame (planning, kernel warm-up) is
//! printed but left out of the means.
use std::time::Instant;

use cellstream::model::{DeviceChoice, InferOptions, Precision, Tiles};

fn flag<T: std::str::FromStr>(args: &[String], name: &str, default: &str) -> T
where
    T::Err: std::fmt::Display,
{
    let v = args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map_or(default, |s| s.as_str());
    v.parse().unwrap_or_else(|e| panic!("{name} {v}: {e}"))
}

fn main() {
    cellstream::cli::reuse_freed_memory();
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).expect("usage: stage_times SEQ [--device D] [--precision P] [--tiles T]");
    let device: DeviceChoice = flag(&args, "--device", "cpu");
    let precision: Precision = flag(&args, "--precision", "f32");
    let tiles: Tiles = flag(&args, "--tiles", "full");
    let seq = cellstream::ctc::Sequence::open(std::path::Path::new(dir)).unwrap();
    let frames: Vec<_> = seq.frames.files.values().map(|p| cellstream::ctc::read_frame(p).unwrap()).collect();
    let mut p = cellstream::segment::ModelSource::Builtin.predictor(device, InferOptions { tiles, precision, ..Default::default() }).unwrap();
    let params = cellstream::model::Probabilities::post_params();
    let (mut tn, mut tp) = (0.0, 0.0);
    for (i, f) in frames.iter().enumerate() {
        let t = Instant::now();
        let pr = p.push(f).unwrap();
        let a = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let m = pr.instances_with(&params);
        let b = t.elapsed().as_secs_f64();
        if i > 0 {
            tn += a;
            tp += b;
        }
        println!("frame {i}: network {a:.4} s, post {b:.4} s, {} cells", m.iter().max().unwrap());
    }
    let n = (frames.len() - 1) as f64;
    println!(
        "{:?} {precision:?} {tiles}: mean network {:.4} s ({:.1} frames/s), post {:.4} s",
        p.device(),
        tn / n,
        n / tn,
        tp / n
    );
}
