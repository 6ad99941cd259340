//! Recomputes a checkpoint's BatchNorm statistics from its training data (precise BatchNorm).
//!
//! `cargo run --release --example precise_bn -- MODEL.safetensors SETTINGS.toml OUT.safetensors`
//!
//! SETTINGS is the run's settings file (written beside every checkpoint);
//! its `data` and `frames` choose the training frames, `precise_bn` how many
//! crop windows to pool. Everything else in the checkpoint is kept.
use std::path::PathBuf;

use cellstream::model::{self, load_sequences, recalibrate_batch_norm, TrainConfig};
use tch::Device;

fn main() -> anyhow::Result<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [model_in, settings, out] = &args[..] else {
        anyhow::bail!("usage: precise_bn MODEL.safetensors SETTINGS.toml OUT.safetensors");
    };
    tch::set_num_threads(2);
    let cfg = TrainConfig::overlay_file(&TrainConfig::default(), settings)?;
    let data = load_sequences(&cfg.data, cfg.frames, cfg.model.invert, cfg.planes())?;
    let loaded = model::load(model_in, Device::Cpu)?;
    recalibrate_batch_norm(&loaded.net, &cfg, &data, Device::Cpu)?;
    let kept: Vec<(&str, String)> = loaded.metadata.iter().filter(|(k, _)| k.as_str() != model::FORMAT_KEY && k.as_str() != model::CONFIG_KEY).map(|(k, v)| (k.as_str(), v.clone())).collect();
    model::save(out, &loaded.vs, loaded.net.config(), &kept)?;
    println!("{}: BatchNorm statistics from {} crop windows of {} sequences", out.display(), cfg.precise_bn, data.len());
    Ok(())
}
