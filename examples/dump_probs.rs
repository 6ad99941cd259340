//! Writes the model's class probabilities for every frame of a sequence, for
//! trying other post-processing outside cellstream:
//! `cargo run --release --example dump_probs -- SEQ OUT [--model FILE]`
//! writes OUT/probsTTT.bin, each three f32 planes (background, cell,
//! boundary) of the frame's height × width, little-endian, row-major; numpy:
//! `np.fromfile(p, '<f4').reshape(3, H, W)`.
use std::io::Write;

use cellstream::model::{DeviceChoice, InferOptions};
use cellstream::segment::ModelSource;

fn main() {
    cellstream::cli::reuse_freed_memory();
    let args: Vec<String> = std::env::args().collect();
    let (dir, out) = match (args.get(1), args.get(2)) {
        (Some(d), Some(o)) => (d, std::path::Path::new(o)),
        _ => panic!("usage: dump_probs SEQ OUT [--model FILE]"),
    };
    let source = match args.iter().position(|a| a == "--model").and_then(|i| args.get(i + 1)) {
        Some(m) => ModelSource::File(m.into()),
        None => ModelSource::Builtin,
    };
    let seq = cellstream::ctc::Sequence::open(std::path::Path::new(dir)).unwrap();
    std::fs::create_dir_all(out).unwrap();
    let mut p = source.predictor(DeviceChoice::Cpu, InferOptions::default()).unwrap();
    for (t, path) in &seq.frames.files {
        let pr = p.push(&cellstream::ctc::read_frame(path).unwrap()).unwrap();
        let mut f = std::io::BufWriter::new(std::fs::File::create(out.join(format!("probs{t:03}.bin"))).unwrap());
        for plane in [&pr.background, &pr.cell, &pr.boundary] {
            for v in plane.iter() {
                f.write_all(&v.to_le_bytes()).unwrap();
            }
        }
    }
}
