//! Speed of the ConvLSTM-UNet on this machine: ms per training step and per streamed inference frame.
//!
//! `cargo bench --bench model -- [--threads N] [--quick]`
//! Training steps run [`fit`] on a synthetic clip (data sampling, augmentation,
//! forward, backward and Adam included; per-step times from the run's history);
//! inference streams frames through a [`Predictor`] (whole frames, f32,
//! stateful). Medians, since the machine may be shared.
//!
//! `cargo bench --bench model -- --shipped [--frames N] [--side PX] [--rounds R] [--pipeline-only]` instead
//! measures the built-in model on a simulated fluorescence sequence (default
//! 12 frames of 1024²): the network alone streaming the frames (stateful,
//! whole frames; `--window 5`; 512 px tiles; bf16), then R rounds (default 3)
//! of the network alone beside `cellstream track` end to end on the same
//! files (and on their first half, for the steady rate), so that the
//! pipeline's cost shows as a ratio measured under the same load
//! (`--pipeline-only`: the rounds alone). `--baseline BIN` also runs another
//! build's `track` on all the frames in every round, so that a change to the
//! pipeline is compared with the build before it under the same load.
#[path = "../tests/model_support/mod.rs"]
mod model_support;

use std::time::Instant;

use cellstream::model::{self, fit, ConvLstmUNet, DeviceChoice, InferOptions, ModelConfig, Precision, Predictor, Tiles, TrainConfig, TrainSequence};

fn flag<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|s| s.parse().ok())
}

/// Frames per second of the shipped model alone under `options`, over `frames`
/// (normalisation and the network; the first frame, which plans the tiles, untimed).
fn model_fps(frames: &[cellstream::ctc::Frame], options: InferOptions) -> f64 {
    let mut p = cellstream::segment::ModelSource::Builtin.predictor(DeviceChoice::Cpu, options).unwrap();
    p.push(&frames[0]).unwrap();
    let t = Instant::now();
    for f in &frames[1..] {
        p.push(f).unwrap();
    }
    (frames.len() - 1) as f64 / t.elapsed().as_secs_f64()
}

fn shipped(args: &[String]) {
    cellstream::cli::reuse_freed_memory(); // as `track` does
    let n: usize = flag(args, "--frames").unwrap_or(12);
    let side: usize = flag(args, "--side").unwrap_or(1024);
    let bin = env!("CARGO_BIN_EXE_cellstream");
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    let ok = std::process::Command::new(bin)
        .args(["simulate", "--modality", "fluo", "--seed", "3", "--frames", &n.to_string(), "--width", &side.to_string(), "--height", &side.to_string(), "--out"])
        .arg(&sim)
        .status()
        .unwrap();
    assert!(ok.success(), "simulate failed");
    let seq = cellstream::ctc::Sequence::open(&sim.join("01")).unwrap();
    let frames: Vec<_> = seq.frames.files.values().map(|p| cellstream::ctc::read_frame(p).unwrap()).collect();
    println!("shipped model, {n} simulated fluorescence frames of {side}², CPU, libtorch threads {}", tch::get_num_threads());
    let base = InferOptions { tiles: Tiles::Full, precision: Precision::F32, ..Default::default() };
    // `--pipeline-only` skips the network variants and goes straight to the rounds.
    if !args.iter().any(|a| a == "--pipeline-only") {
        let stateful = model_fps(&frames, base);
        println!("  network alone, stateful, whole frames, f32: {stateful:.3} frames/s");
        let window = model_fps(&frames, InferOptions { window: Some(5), ..base });
        println!("  network alone, --window 5:                  {window:.3} frames/s (stateful is {:.2}× faster)", stateful / window);
        let tiled = model_fps(&frames, InferOptions { tiles: Tiles::Size(512), ..base });
        println!("  network alone, 512 px tiles (64 px overlap): {tiled:.3} frames/s");
        let bf16 = model_fps(&frames, InferOptions { precision: Precision::Bf16, ..base });
        println!("  network alone, bf16:                        {bf16:.3} frames/s");
    }
    // `track` on the first half of the frames and on all of them: the
    // difference is the pipeline's steady rate, without process start,
    // model loading and the first frame's planning. Rounds interleave the
    // network alone and `track`, so that both see the same machine load.
    let half = sim.join("half");
    std::fs::create_dir_all(half.join("01")).unwrap();
    for (_, p) in seq.frames.files.iter().take(n / 2) {
        std::fs::copy(p, half.join("01").join(p.file_name().unwrap())).unwrap();
    }
    let baseline: Option<String> = flag(args, "--baseline");
    let run_with = |bin: &str, input: &std::path::Path, res: &str| {
        let out = dir.path().join(res);
        let _ = std::fs::remove_dir_all(&out);
        let t = Instant::now();
        let ok = std::process::Command::new(bin).args(["track", "-q", "--tiles", "full", "--out"]).arg(&out).arg(input).status().unwrap();
        assert!(ok.success(), "{bin} track failed");
        t.elapsed().as_secs_f64()
    };
    let run = |input: &std::path::Path, res: &str| run_with(bin, input, res);
    let rounds: usize = flag(args, "--rounds").unwrap_or(3);
    let (mut whole, mut steady, mut before) = (Vec::new(), Vec::new(), Vec::new());
    for r in 1..=rounds {
        // `track` on all the frames straight after the network alone, so
        // that the ratio compares the two under the closest load.
        let alone = model_fps(&frames, base);
        let t_all = run(&sim.join("01"), "RES");
        let t_half = run(&half.join("01"), "RES_half");
        let (e2e, rate) = (n as f64 / t_all, (n - n / 2) as f64 / (t_all - t_half));
        println!(
            "  round {r}: network alone {alone:.3} frames/s; track end to end {e2e:.3} ({:.2}×); track steady ({} frames more in {:.1} s more) {rate:.3} ({:.2}×)",
            e2e / alone,
            n - n / 2,
            t_all - t_half,
            rate / alone
        );
        whole.push(e2e / alone);
        steady.push(rate / alone);
        if let Some(b) = &baseline {
            let e2e_b = n as f64 / run_with(b, &sim.join("01"), "RES_baseline");
            println!("  round {r}: baseline {b} track end to end {e2e_b:.3} ({:.2}×)", e2e_b / alone);
            before.push(e2e_b / alone);
        }
    }
    // The median (the mean of the middle two for an even count) and the range.
    let summary = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let m = v.len() / 2;
        let median = if v.len().is_multiple_of(2) { (v[m - 1] + v[m]) / 2.0 } else { v[m] };
        format!("{median:.2}× ({:.2}–{:.2}×)", v[0], v[v.len() - 1])
    };
    println!(
        "  median over {rounds} rounds: track end to end (process start, reading, network, watershed, linking, writing) {} the network alone; steady rate {}",
        summary(&mut whole),
        summary(&mut steady)
    );
    if !before.is_empty() {
        println!("  median over {rounds} rounds: the baseline's track end to end {} the network alone", summary(&mut before));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let threads: Option<usize> = flag(&args, "--threads");
    let quick = args.iter().any(|a| a == "--quick");
    if let Some(n) = threads {
        tch::set_num_threads(n as i32);
    }
    if args.iter().any(|a| a == "--shipped") {
        return shipped(&args);
    }
    println!("libtorch threads: {}", tch::get_num_threads());
    let dir = tempfile::tempdir().unwrap();
    for lstm in [true, false] {
        let model = ModelConfig { lstm, ..Default::default() };
        let vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let _net = ConvLstmUNet::new(&vs.root(), &model);
        let params = ConvLstmUNet::parameter_count(&vs);
        let name = if lstm { "ConvLSTM-UNet" } else { "plain U-Net (--no-lstm)" };
        println!("{name}: depth {}, base width {}, {params} parameters", model.depth, model.base_width);

        let (frames, masks) = model_support::disks(288, 288, 12, 40, 3);
        let data = TrainSequence::from_frames("bench", frames, masks.into_iter().map(Some).collect()).unwrap();
        for crop in [160usize, 256] {
            let steps = if quick { 3 } else { 11 };
            let cfg = TrainConfig { model: model.clone(), crop, steps, val_fraction: 0.0, val_every: steps, device: "cpu".into(), threads, ..Default::default() };
            // One warm-up run, then the measured one.
            fit(&TrainConfig { steps: 1, val_every: 1, ..cfg.clone() }, std::slice::from_ref(&data), &dir.path().join("w.safetensors"), false).unwrap();
            fit(&cfg, std::slice::from_ref(&data), &dir.path().join("t.safetensors"), false).unwrap();
            // Per-step times from the run's history (seconds column), steps 2…N.
            let history = std::fs::read_to_string(dir.path().join("t.history.csv")).unwrap();
            let seconds: Vec<f64> = history.lines().skip(1).map(|l| l.rsplit(',').next().unwrap().parse().unwrap()).collect();
            let per_step: Vec<f64> = seconds.windows(2).map(|w| (w[1] - w[0]) * 1000.0).collect();
            println!("  train step, batch {} × window {} × {crop}²: median {:.0} ms/step (min {:.0}, {} steps)", cfg.batch, cfg.window, median(&per_step), min(&per_step), per_step.len());
        }

        let path = dir.path().join("m.safetensors");
        model::save(&path, &vs, &model, &[]).unwrap();
        for side in [256usize, 1024] {
            let n = if quick { 3 } else if side > 512 { 5 } else { 20 };
            let (frames, _) = model_support::disks(side, side, n + 1, side * side / 2000, 9);
            let mut p = Predictor::load(&path, DeviceChoice::Cpu, InferOptions { tiles: Tiles::Full, precision: Precision::F32, ..Default::default() }).unwrap();
            let normalised: Vec<_> = frames.iter().map(|f| model::percentile_normalise(f, 1.0, 99.8)).collect();
            p.push_normalised(&normalised[0]).unwrap();
            let per_frame: Vec<f64> = normalised[1..]
                .iter()
                .map(|f| {
                    let t = Instant::now();
                    p.push_normalised(f).unwrap();
                    t.elapsed().as_secs_f64() * 1000.0
                })
                .collect();
            println!("  inference, whole {side}² frame, stateful: median {:.0} ms/frame (min {:.0}, {n} frames)", median(&per_frame), min(&per_frame));
        }
    }
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}
