//! Times the host's share of streaming one frame through the network, on the
//! network's own thread: reading, percentile normalisation, the frame into a
//! tensor, softmax, and the three class maps out of it. On a GPU these run
//! serially beside the network, so they bound a frame's rate whatever the
//! device's speed. The copies are timed both as `Streamer::push` made them
//! before session 19 (through an intermediate `Vec` each way, then one more
//! copy per class) and as it makes them now (the padded frame itself into the
//! tensor, each class straight from the tensor into its array).
//! `cargo run --release --example host_steps -- FRAME.tif [REPS]`
use std::time::Instant;

use ndarray::{s, Array2, Array4};
use tch::{Device, Kind, Tensor};

fn ms(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let t = Instant::now();
    for _ in 0..reps {
        f();
    }
    t.elapsed().as_secs_f64() * 1e3 / reps as f64
}

fn main() {
    cellstream::cli::reuse_freed_memory(); // as `track` does
    let args: Vec<String> = std::env::args().collect();
    let path = std::path::PathBuf::from(args.get(1).expect("usage: host_steps FRAME.tif [REPS]"));
    let reps: usize = args.get(2).map_or(20, |r| r.parse().expect("REPS: a number"));
    let frame = cellstream::ctc::read_frame(&path).unwrap();
    let (h, w) = frame.dim();
    let (ih, iw) = (h as i64, w as i64);
    println!("{}: {w}×{h}, {reps} repetitions, libtorch threads {}", path.display(), tch::get_num_threads());
    println!("  read:                          {:.2} ms", ms(reps, || drop(cellstream::ctc::read_frame(&path).unwrap())));
    let n = cellstream::segment::percentile_normalise_frame(&frame, 1.0, 99.8);
    println!("  normalise:                     {:.2} ms", ms(reps, || drop(cellstream::segment::percentile_normalise_frame(&frame, 1.0, 99.8))));
    let before = ms(reps, || {
        let data: Vec<f32> = n.slice(s![.., ..]).iter().copied().collect();
        drop(Tensor::from_slice(&data).view([1, 1, ih, iw]));
    });
    let now = ms(reps, || drop(Tensor::from_slice(n.as_slice().unwrap()).view([1, 1, ih, iw])));
    println!("  frame into a tensor:           {before:.2} ms before session 19, {now:.2} ms now");
    let logits = Tensor::randn([1, 3, ih, iw], (Kind::Float, Device::Cpu));
    let before = ms(reps, || {
        let probs = tch::no_grad(|| cellstream::model::probabilities(&logits).to_device(Device::Cpu).contiguous());
        let values = Vec::<f32>::try_from(probs.view(-1)).unwrap();
        let probs = Array4::from_shape_vec((1, 3, h, w), values).unwrap();
        let class = |c: usize| probs.slice(s![0, c, .., ..]).to_owned();
        drop((class(0), class(1), class(2)));
    });
    let now = ms(reps, || {
        let probs = tch::no_grad(|| cellstream::model::probabilities(&logits));
        let class = |c: i64| {
            let mut a = Array2::<f32>::zeros((h, w));
            probs.get(0).get(c).copy_data(a.as_slice_mut().unwrap(), h * w);
            a
        };
        drop((class(0), class(1), class(2)));
    });
    println!("  softmax and the maps out:      {before:.2} ms before session 19, {now:.2} ms now");
    println!("  softmax alone:                 {:.2} ms", ms(reps, || drop(tch::no_grad(|| cellstream::model::probabilities(&logits)))));
}
