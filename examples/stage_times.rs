use std::time::Instant;
use cellstream::model::{DeviceChoice, InferOptions, Precision, Tiles};
fn main() {
    cellstream::post::command::reuse_freed_memory();
    let dir = std::env::args().nth(1).unwrap();
    let seq = cellstream::ctc::Sequence::open(std::path::Path::new(&dir)).unwrap();
    let frames: Vec<_> = seq.frames.files.iter().map(|(_, p)| cellstream::ctc::read_frame(p).unwrap()).collect();
    let mut p = cellstream::segment::ModelSource::Builtin.predictor(DeviceChoice::Cpu, InferOptions { tiles: Tiles::Full, precision: Precision::F32, ..Default::default() }).unwrap();
    let params = cellstream::model::Probabilities::post_params();
    let (mut tn, mut tp) = (0.0, 0.0);
    for (i, f) in frames.iter().enumerate() {
        let t = Instant::now();
        let pr = p.push(f).unwrap();
        let a = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let m = pr.instances_with(&params);
        let b = t.elapsed().as_secs_f64();
        if i > 0 { tn += a; tp += b; }
        println!("frame {i}: network {a:.3} s, post {b:.3} s, {} cells", m.iter().max().unwrap());
    }
    println!("mean network {:.3} s, post {:.3} s", tn / (frames.len() - 1) as f64, tp / (frames.len() - 1) as f64);
}
