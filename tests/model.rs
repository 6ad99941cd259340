//! The ConvLSTM-UNet end to end on synthetic clips: it learns, it streams, its modes agree.
mod model_support;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cellstream::model::{
    self, fit, AugmentConfig, ConvLstmUNet, DeviceChoice, InferOptions, ModelConfig, Precision, Predictor, Probabilities, Tiles, TrainConfig, TrainSequence,
};
use ndarray::Array2;
use tch::{nn, Device};

use model_support::{dice, disks, seg};

/// A 64² clip of 6 frames: the training data of the shared model.
fn clip() -> (Vec<Array2<f32>>, Vec<cellstream::ctc::Mask>) {
    disks(64, 64, 6, 4, 11)
}

fn tiny_config() -> TrainConfig {
    TrainConfig {
        model: ModelConfig { depth: 2, base_width: 8, ..Default::default() },
        window: 3,
        windows_per_stream: 2,
        batch: 2,
        crop: 64,
        steps: 200,
        lr: 1e-2,
        val_fraction: 0.0,
        val_every: 100,
        device: "cpu".into(),
        augment: AugmentConfig { cell_crop: 1.0, ..AugmentConfig::none() },
        ..Default::default()
    }
}

/// libtorch's random generator is one per process, and the tests of this
/// binary run in parallel: whatever seeds it or draws from it (training,
/// fresh weights) holds this, so that a seeded run draws what it seeded.
/// Never held while calling [`trained`], which takes it itself.
fn torch_rng() -> std::sync::MutexGuard<'static, ()> {
    static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());
    RNG.lock().unwrap_or_else(|e| e.into_inner())
}

/// The model every inference test uses: trained once per test binary.
fn trained() -> &'static Path {
    static MODEL: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = MODEL.get_or_init(|| {
        let _rng = torch_rng();
        tch::set_num_threads(1);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        let (frames, masks) = clip();
        let data = TrainSequence::from_frames("clip", frames, masks.into_iter().map(Some).collect()).unwrap();
        let report = fit(&tiny_config(), &[data], &path, false).unwrap();
        assert_eq!(report.progress.step, 200);
        (dir, path)
    });
    path
}

fn stream(p: &mut Predictor, frames: &[Array2<f32>]) -> Vec<Probabilities> {
    let frames = frames.iter().map(|f| model::percentile_normalise(f, 1.0, 99.8));
    frames.map(|f| p.push_normalised(&f).unwrap()).collect()
}

/// Per pixel, the largest difference between `a` and `b` over the three class probabilities.
fn pixel_diff(a: &Probabilities, b: &Probabilities) -> Array2<f32> {
    let mut d = Array2::<f32>::zeros(a.cell.dim());
    for (x, y) in [(&a.background, &b.background), (&a.cell, &b.cell), (&a.boundary, &b.boundary)] {
        ndarray::Zip::from(&mut d).and(x).and(y).for_each(|d, &u, &v| *d = d.max((u - v).abs()));
    }
    d
}

fn max_diff(a: &Probabilities, b: &Probabilities) -> f32 {
    pixel_diff(a, b).fold(0.0, |m, &v| m.max(v))
}

/// The share of pixels where any class probability of `a` and `b` differs by more than `tol`.
fn far_apart(a: &Probabilities, b: &Probabilities, tol: f32) -> f64 {
    let d = pixel_diff(a, b);
    d.iter().filter(|&&v| v > tol).count() as f64 / d.len() as f64
}

fn cpu(options: InferOptions) -> InferOptions {
    InferOptions { precision: Precision::F32, ..options }
}

#[test]
fn training_overfits_a_small_clip() {
    let (frames, masks) = clip();
    let mut p = Predictor::load(trained(), DeviceChoice::Cpu, cpu(InferOptions::default())).unwrap();
    let out = stream(&mut p, &frames);
    let dices: Vec<f64> = out.iter().zip(&masks).map(|(o, m)| dice(m, &o.instances())).collect();
    let mean = dices.iter().sum::<f64>() / dices.len() as f64;
    eprintln!("foreground Dice per frame {dices:.3?}; SEG per frame {:.3?}", out.iter().zip(&masks).map(|(o, m)| seg(m, &o.instances())).collect::<Vec<_>>());
    assert!(mean >= 0.9, "mean Dice {mean:.3} after 200 steps");
    for o in &out {
        let sum = &o.background + &o.cell + &o.boundary;
        assert!(sum.iter().all(|s| (s - 1.0).abs() < 1e-4));
    }
}

#[test]
fn save_load_and_infer_give_identical_output() {
    let (frames, _) = clip();
    let opts = cpu(InferOptions::default());
    let a = stream(&mut Predictor::load(trained(), DeviceChoice::Cpu, opts).unwrap(), &frames);
    // Save the loaded weights again and stream through the copy.
    let loaded = model::load(trained(), Device::Cpu).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.safetensors");
    model::save(&copy, &loaded.vs, loaded.net.config(), &[]).unwrap();
    let b = stream(&mut Predictor::load(&copy, DeviceChoice::Cpu, opts).unwrap(), &frames);
    assert_eq!(a, b);
}

#[test]
fn output_depends_on_the_previous_frame_only_with_lstm() {
    let (frames, _) = clip();
    let (other, _) = disks(64, 64, 2, 3, 99);
    let altered = [frames[0].clone(), other[1].clone(), frames[2].clone()];
    let opts = cpu(InferOptions::default());
    let mut p = Predictor::load(trained(), DeviceChoice::Cpu, opts).unwrap();
    let a = stream(&mut p, &frames[..3]);
    p.reset();
    let b = stream(&mut p, &altered);
    let d = max_diff(&a[2], &b[2]);
    assert!(d > 1e-3, "frame 2's output ignores frame 1 (max diff {d})");

    // The same network without LSTM cells (untrained weights suffice): no memory.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.safetensors");
    let cfg = ModelConfig { depth: 2, base_width: 8, lstm: false, ..Default::default() };
    let vs = nn::VarStore::new(Device::Cpu);
    let rng = torch_rng();
    let _net = ConvLstmUNet::new(&vs.root(), &cfg);
    drop(rng);
    model::save(&path, &vs, &cfg, &[]).unwrap();
    let mut p = Predictor::load(&path, DeviceChoice::Cpu, opts).unwrap();
    let a = stream(&mut p, &frames[..3]);
    p.reset();
    let b = stream(&mut p, &altered);
    assert_eq!(max_diff(&a[2], &b[2]), 0.0);
    assert!(max_diff(&a[1], &b[1]) > 0.0);
}

#[test]
fn long_window_reproduces_the_stateful_stream() {
    let (frames, _) = clip();
    let stateful = stream(&mut Predictor::load(trained(), DeviceChoice::Cpu, cpu(InferOptions::default())).unwrap(), &frames);
    let long = cpu(InferOptions { window: Some(frames.len()), ..Default::default() });
    let windowed = stream(&mut Predictor::load(trained(), DeviceChoice::Cpu, long).unwrap(), &frames);
    for (t, (a, b)) in stateful.iter().zip(&windowed).enumerate() {
        let d = max_diff(a, b);
        assert!(d <= 1e-5, "frame {t}: window differs from stateful by {d}");
    }
    // A short window forgets: frames after the window differ.
    let short = cpu(InferOptions { window: Some(2), ..Default::default() });
    let w2 = stream(&mut Predictor::load(trained(), DeviceChoice::Cpu, short).unwrap(), &frames);
    assert!(max_diff(&w2[1], &stateful[1]) <= 1e-5);
    assert!(max_diff(&w2[4], &stateful[4]) > 1e-4);
}

#[test]
fn tiles_agree_with_the_whole_frame() {
    let (frames, _) = disks(112, 144, 4, 9, 5);
    let full = stream(&mut Predictor::load(trained(), DeviceChoice::Cpu, cpu(InferOptions { tiles: Tiles::Full, ..Default::default() })).unwrap(), &frames);
    let tiled_opts = cpu(InferOptions { tiles: Tiles::Size(64), overlap: 32, tile_batch: 3, ..Default::default() });
    let tiled = stream(&mut Predictor::load(trained(), DeviceChoice::Cpu, tiled_opts).unwrap(), &frames);
    for (t, (a, b)) in full.iter().zip(&tiled).enumerate() {
        let (ia, ib) = (a.instances(), b.instances());
        let s = seg(&ia, &ib);
        let d = max_diff(a, b);
        let mean = a.cell.iter().zip(b.cell.iter()).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.cell.len() as f32;
        let off = far_apart(a, b, 0.05);
        eprintln!("frame {t}: SEG(tiled vs full) {s:.4}, max |Δp| {d:.4}, mean |Δp(cell)| {mean:.6}, pixels off by > 0.05: {off:.5}");
        // 0.990–0.996 on the CPUs seen: this model is trained here, so the
        // issue's SEG ≥ 0.99 is held by the shipped model's test below,
        // whose weights are the same everywhere.
        assert!(s >= 0.97, "frame {t}: SEG of tiled against full-frame {s}");
        // Tiles see zero padding where the whole frame sees neighbours; the
        // blend keeps that to a few seam pixels (0.01–0.64% of them
        // off by over 0.05, the largest 0.07–0.12 depending on the CPU that
        // trained the clip's model). Tiles that do not overlap put 8% of the
        // pixels that far off, at their seams, and fail here.
        // Each tile also carries its own recurrent state, which drifts from
        // the whole frame's by under a thousandth a frame on this clip.
        assert!(off < 0.01, "frame {t}: {:.2}% of the pixels differ by over 0.05 between tiled and full frame (largest {d})", off * 100.0);
        assert!(mean < 5e-3, "frame {t}: tiled and full-frame cell probabilities differ by {mean} on average");
    }
}

/// The shipped model, tiled and whole, on the first frames of the bundled
/// fluorescence sample: its weights are fixed, so unlike the clip's model
/// (trained in this binary, differently on each CPU) it gives the same
/// probabilities on any machine to float rounding. Measured: SEG
/// 0.9987–0.9998, no pixel off by over 0.05; without overlap, SEG 0.985 and
/// 2.6% of the pixels off at the seams, which fails.
#[test]
fn shipped_model_tiles_agree_with_the_whole_frame() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sequences/fluo/01");
    let frames: Vec<Array2<f32>> = (0..4).map(|t| cellstream::ctc::read_frame(&dir.join(format!("t{t:03}.tif"))).unwrap().to_f32()).collect();
    let load = |o: InferOptions| cellstream::segment::ModelSource::Builtin.predictor(DeviceChoice::Cpu, cpu(o)).unwrap();
    let full = stream(&mut load(InferOptions { tiles: Tiles::Full, ..Default::default() }), &frames);
    let tiled = stream(&mut load(InferOptions { tiles: Tiles::Size(128), overlap: 64, ..Default::default() }), &frames);
    for (t, (a, b)) in full.iter().zip(&tiled).enumerate() {
        let s = seg(&a.instances(), &b.instances());
        let (d, off) = (max_diff(a, b), far_apart(a, b, 0.05));
        eprintln!("frame {t}: SEG(tiled vs full) {s:.4}, max |Δp| {d:.4}, pixels off by > 0.05: {off:.5}");
        assert!(s >= 0.99, "frame {t}: SEG of tiled against full-frame {s}");
        assert!(off < 0.01, "frame {t}: {:.2}% of the pixels differ by over 0.05 (largest {d})", off * 100.0);
    }
}

#[test]
fn bf16_stays_close_to_f32() {
    let (frames, _) = clip();
    let f32s = stream(&mut Predictor::load(trained(), DeviceChoice::Cpu, cpu(InferOptions::default())).unwrap(), &frames);
    let bf = InferOptions { precision: Precision::Bf16, ..Default::default() };
    let bf16s = stream(&mut Predictor::load(trained(), DeviceChoice::Cpu, bf).unwrap(), &frames);
    for (a, b) in f32s.iter().zip(&bf16s) {
        assert!(seg(&a.instances(), &b.instances()) > 0.9);
    }
}

#[test]
fn cuda_request_without_cuda_is_an_error() {
    let n = if tch::Cuda::is_available() { tch::Cuda::device_count() as usize } else { 0 };
    let e = Predictor::load(trained(), DeviceChoice::Cuda(n), InferOptions::default()).err().expect("no such CUDA device");
    assert!(e.to_string().contains(&format!("cuda:{n}")), "{e}");
    let e = Predictor::load(trained(), DeviceChoice::Cpu, InferOptions { precision: Precision::Autocast, ..Default::default() }).err().unwrap();
    assert!(e.to_string().contains("needs a CUDA device"), "{e}");
}

#[test]
fn frames_of_another_size_need_a_reset() {
    let (frames, _) = clip();
    let (big, _) = disks(72, 80, 1, 3, 2);
    let mut p = Predictor::load(trained(), DeviceChoice::Cpu, cpu(InferOptions::default())).unwrap();
    p.push_normalised(&frames[0]).unwrap();
    let e = p.push_normalised(&big[0]).unwrap_err().to_string();
    assert!(e.contains("80×72") && e.contains("64×64"), "{e}");
    p.reset();
    assert_eq!(p.push_normalised(&big[0]).unwrap().cell.dim(), (72, 80));
}

#[test]
fn training_is_reproducible_from_its_seed() {
    let _rng = torch_rng();
    let (frames, masks) = clip();
    let data = [TrainSequence::from_frames("clip", frames, masks.into_iter().map(Some).collect()).unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let cfg = TrainConfig { steps: 3, val_every: 3, augment: AugmentConfig::default(), threads: Some(1), ..tiny_config() };
    let run = |name: &str, seed: u64| {
        let path = dir.path().join(name);
        fit(&TrainConfig { seed, ..cfg.clone() }, &data, &path, false).unwrap();
        model::load(&path, Device::Cpu).unwrap().vs.variables()
    };
    let (a, b, c) = (run("a.safetensors", 1), run("b.safetensors", 1), run("c.safetensors", 2));
    assert!(a.iter().all(|(k, t)| t.equal(&b[k])), "same seed, different weights");
    assert!(a.iter().any(|(k, t)| !t.equal(&c[k])), "different seeds, same weights");
}

#[test]
fn precise_batch_norm_statistics_are_what_validation_saw() {
    let _rng = torch_rng();
    let (frames, masks) = clip();
    let data = [TrainSequence::from_frames("clip", frames, masks.into_iter().map(Some).collect()).unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.safetensors");
    let cfg = TrainConfig { steps: 4, val_every: 2, val_fraction: 0.34, precise_bn: 16, threads: Some(1), ..tiny_config() };
    fit(&cfg, &data, &path, false).unwrap();
    let last = model::RunFiles::new(&path).last;
    let saved = model::load(&last, Device::Cpu).unwrap();
    let stats = |vs: &nn::VarStore| -> Vec<(String, tch::Tensor)> {
        let mut v: Vec<_> = vs.variables().into_iter().filter(|(k, _)| k.contains("running_")).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    let before = stats(&saved.vs);
    assert!(!before.is_empty(), "the default network has BatchNorm layers");
    // Pooling again over the same windows at the same weights gives the
    // same statistics; the running averages of a run without it differ.
    model::recalibrate_batch_norm(&saved.net, &cfg, &data, Device::Cpu).unwrap();
    for ((k, a), (_, b)) in before.iter().zip(stats(&saved.vs)) {
        let d = f64::try_from((a - &b).abs().max()).unwrap();
        assert!(d < 1e-5, "{k}: saved and recomputed statistics differ by {d}");
    }
    let plain = dir.path().join("q.safetensors");
    fit(&TrainConfig { precise_bn: 0, ..cfg.clone() }, &data, &plain, false).unwrap();
    let other = stats(&model::load(&model::RunFiles::new(&plain).last, Device::Cpu).unwrap().vs);
    assert!(before.iter().zip(&other).any(|((_, a), (_, b))| !a.equal(b)), "precise statistics equal the running averages");
}

#[test]
fn mirror_averaging_mirrors_exactly_with_the_sequence() {
    let (frames, _) = clip();
    let flip = |a: &Array2<f32>| a.slice(ndarray::s![.., ..;-1]).to_owned();
    let flip_p = |p: &Probabilities| Probabilities { background: flip(&p.background), cell: flip(&p.cell), boundary: flip(&p.boundary) };
    let flipped: Vec<Array2<f32>> = frames.iter().map(flip).collect();
    // 64² frames need no padding, so whole frames see the same context mirrored.
    let plain = cpu(InferOptions { tiles: Tiles::Full, ..Default::default() });
    let tta = InferOptions { mirrors: true, ..plain };
    let a = stream(&mut Predictor::load(trained(), DeviceChoice::Cpu, tta).unwrap(), &frames);
    let b = stream(&mut Predictor::load(trained(), DeviceChoice::Cpu, tta).unwrap(), &flipped);
    for (t, (a, b)) in a.iter().zip(&b).enumerate() {
        let d = max_diff(&flip_p(a), b);
        assert!(d < 1e-5, "frame {t}: the average over mirrors is off by {d} on the mirrored sequence");
    }
    // The network alone is not mirror-symmetric, so the test can tell.
    let c = stream(&mut Predictor::load(trained(), DeviceChoice::Cpu, plain).unwrap(), &frames);
    let e = stream(&mut Predictor::load(trained(), DeviceChoice::Cpu, plain).unwrap(), &flipped);
    let asymmetry = c.iter().zip(&e).map(|(c, e)| max_diff(&flip_p(c), e)).fold(0.0, f32::max);
    assert!(asymmetry > 1e-4, "the plain network is mirror-symmetric to {asymmetry}");
    assert!(max_diff(&a[3], &c[3]) > 1e-4, "averaging over mirrors changed nothing");
    let sum = &a[3].background + &a[3].cell + &a[3].boundary;
    assert!(sum.iter().all(|s| (s - 1.0).abs() < 1e-4), "the average is still a distribution");
}

/// Every model that ships (the built-in one and each one `--model NAME`
/// loads) keeps its recipe beside it: `models/NAME.toml` holds valid
/// training settings whose architecture is the checkpoint's own, and
/// `models/NAME.history.csv` is the run that chose it (its best validation SEG
/// is the one the checkpoint records). README documents every name.
#[test]
fn every_shipped_model_keeps_its_settings_and_history_beside_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (models, readme) = (root.join("models"), std::fs::read_to_string(root.join("README.md")).unwrap());
    let names = std::iter::once("sim120").chain(cellstream::segment::MODALITY_MODELS.iter().map(|(n, _)| *n));
    for name in names {
        let weights = models.join(format!("{name}.safetensors"));
        let settings = TrainConfig::overlay_file(&TrainConfig::default(), &models.join(format!("{name}.toml"))).unwrap();
        let (config, metadata) = model::read_metadata(&weights).unwrap();
        assert_eq!(settings.model, config, "{name}: models/{name}.toml describes another architecture than the checkpoint");
        let progress: model::Progress = serde_json::from_str(&metadata[model::TRAINING_KEY]).unwrap();
        let recorded = progress.best_val_seg.unwrap();
        let history = model::read_history(&models.join(format!("{name}.history.csv"))).unwrap();
        let best = history.iter().filter_map(|r| r.val_seg).fold(f64::NEG_INFINITY, f64::max);
        assert!((best - recorded).abs() < 1e-4, "{name}: the history's best validation SEG {best} is not the checkpoint's {recorded}");
        if name != "sim120" {
            assert!(readme.contains(&format!("--model {name}")), "README does not show `--model {name}`");
        }
    }
}

/// A model trained on inverted frames inverts at inference by itself, and
/// `--invert` (InferOptions::invert) then undoes it.
#[test]
fn a_model_trained_on_inverted_frames_inverts_its_input_itself() {
    let loaded = model::load(trained(), Device::Cpu).unwrap();
    let d = tempfile::tempdir().unwrap();
    let inverted_model = d.path().join("inverted.safetensors");
    model::save(&inverted_model, &loaded.vs, &ModelConfig { invert: true, ..loaded.net.config().clone() }, &[]).unwrap();
    let predictor = |path: &Path, invert: bool| {
        model::ModelSource::File(path.to_path_buf()).predictor(DeviceChoice::Cpu, InferOptions { invert, ..InferOptions::default() }).unwrap()
    };
    let (frames, _) = clip();
    let raw: Vec<cellstream::ctc::Frame> = frames.into_iter().map(cellstream::ctc::Frame::F32).collect();
    let run = |p: &mut Predictor, frames: &[cellstream::ctc::Frame]| frames.iter().map(|f| p.push(f).unwrap()).collect::<Vec<_>>();
    let flipped: Vec<_> = raw.iter().map(model::invert).collect();
    let plain_on_flipped = run(&mut predictor(trained(), false), &flipped);
    assert_eq!(run(&mut predictor(&inverted_model, false), &raw), plain_on_flipped, "the model inverts what it is given");
    assert_eq!(run(&mut predictor(&inverted_model, true), &raw), run(&mut predictor(trained(), false), &raw), "--invert undoes it");
    assert_ne!(run(&mut predictor(trained(), false), &raw), plain_on_flipped);
}
