//! Streams a CTC sequence through a trained ConvLSTM-UNet and writes `maskTTT.tif` per frame.
//!
//! A stop-gap until the pipeline's segmentation command exists: instances come
//! from `post::instances_from_seeds` with its default parameters, and no
//! `res_track.txt` is written.
//!
//! `cargo run --release --example model_segment -- MODEL.safetensors SEQ_DIR OUT_DIR [--window K] [--tile N] [--overlap N] [--threads N]`
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use cellstream::ctc::{self, Sequence};
use cellstream::model::{DeviceChoice, InferOptions, Predictor, Tiles};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        bail!("usage: model_segment MODEL.safetensors SEQ_DIR OUT_DIR [--window K] [--tile N] [--overlap N] [--threads N] [--device D]");
    }
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let mut options = InferOptions::default();
    if let Some(k) = flag("--window") {
        options.window = Some(k.parse().context("--window")?);
    }
    if let Some(t) = flag("--tile") {
        options.tiles = Tiles::Size(t.parse().context("--tile")?);
    }
    if let Some(o) = flag("--overlap") {
        options.overlap = o.parse().context("--overlap")?;
    }
    if let Some(n) = flag("--threads") {
        tch::set_num_threads(n.parse().context("--threads")?);
    }
    let device: DeviceChoice = flag("--device").unwrap_or_else(|| "auto".into()).parse().map_err(anyhow::Error::msg)?;
    let (model, seq_dir, out) = (PathBuf::from(&args[0]), PathBuf::from(&args[1]), PathBuf::from(&args[2]));
    let seq = Sequence::open(&seq_dir)?;
    let mut predictor = Predictor::load(&model, device, options)?;
    std::fs::create_dir_all(&out)?;
    let started = Instant::now();
    for item in seq.frames() {
        let (t, frame) = item?;
        let probs = predictor.push(&frame)?;
        ctc::write_mask(&out.join(format!("mask{t:0width$}.tif", width = seq.digits())), &probs.instances())?;
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0 / seq.len() as f64;
    eprintln!("{} frames, {ms:.0} ms/frame (inference, instances and writing) on {:?}", seq.len(), predictor.device());
    Ok(())
}
