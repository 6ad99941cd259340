//! Tiled against whole-frame inference, per normalisation: BatchNorm (the default, running statistics at inference) and per-pixel LayerNorm are tile-safe, GroupNorm is not.
//!
//! Trains the tiny test model (depth 2, width 8, 200 steps on a 64² synthetic
//! clip) once per normalisation, then streams 20 frames of 112×144 whole and in
//! 64² tiles (overlap 24) and prints how far the two disagree. GroupNorm's
//! statistics depend on the tile's extent; BatchNorm's (at inference) and per-pixel LayerNorm's do not.
//!
//! `cargo run --release --example model_norm_tiling`
#[path = "../tests/model_support/mod.rs"]
mod model_support;

use cellstream::model::*;

fn main() -> anyhow::Result<()> {
    tch::set_num_threads(1);
    let dir = tempfile::tempdir()?;
    let (clip, masks) = model_support::disks(64, 64, 6, 4, 11);
    let (frames, _) = model_support::disks(112, 144, 20, 9, 5);
    for norm in [Norm::Pixel, Norm::Group, Norm::Batch] {
        let data = TrainSequence::from_frames("clip", clip.clone(), masks.iter().cloned().map(Some).collect())?;
        let cfg = TrainConfig {
            model: ModelConfig { depth: 2, base_width: 8, norm, ..Default::default() },
            window: 3,
            windows_per_stream: 2,
            crop: 64,
            steps: 200,
            lr: 3e-3,
            val_fraction: 0.0,
            val_every: 200,
            device: "cpu".into(),
            augment: AugmentConfig { cell_crop: 1.0, ..AugmentConfig::none() },
            ..Default::default()
        };
        let path = dir.path().join(format!("{norm:?}.safetensors"));
        fit(&cfg, &[data], &path, false)?;
        let load = |tiles| Predictor::load(&path, DeviceChoice::Cpu, InferOptions { tiles, overlap: 24, precision: Precision::F32, ..Default::default() });
        let (mut whole, mut tiled) = (load(Tiles::Full)?, load(Tiles::Size(64))?);
        let (mut max, mut mean, mut seg) = (0f32, 0f64, 0f64);
        for f in &frames {
            let f = cellstream::ctc::Frame::F32(f.clone());
            let (a, b) = (whole.push(&f)?, tiled.push(&f)?);
            for (x, y) in a.cell.iter().zip(b.cell.iter()) {
                max = max.max((x - y).abs());
                mean += (x - y).abs() as f64 / (a.cell.len() * frames.len()) as f64;
            }
            seg += model_support::seg(&a.instances(), &b.instances()) / frames.len() as f64;
        }
        println!("{norm:?}: tiled vs whole frame over {} frames: max |Δp(cell)| {max:.3}, mean {mean:.5}, SEG {seg:.4}", frames.len());
    }
    Ok(())
}
