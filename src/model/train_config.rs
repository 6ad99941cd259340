//! Training settings: defaults, a TOML file, command-line flags, and the record written beside the checkpoint.
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::augment::AugmentConfig;
use crate::ctc;
use super::config::ModelConfig;
use crate::ctc::FrameRange;
use super::device::DeviceChoice;

/// Everything a training run depends on; written to `MODEL.toml` beside
/// the checkpoint. Missing keys in a file take these defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Sequence folders (`NN`) or dataset folders holding them.
    pub data: Vec<PathBuf>,
    /// Only these frame numbers are used (training and validation).
    pub frames: Option<FrameRange>,
    /// The channel of each frame to train on, counted from 1 (`--channel`,
    /// as `track --channel`); unset: the frames are grayscale.
    pub channel: Option<usize>,
    /// How each time point's z slices become one frame (`--project`, as
    /// `track --project`): `max` or `mean`; unset: the frames are 2D.
    pub project: Option<ctc::Projection>,
    /// The z slices `project` takes, from 1 (`--slices`, as `track
    /// --slices`): `"2-4"`, or `"3"`; unset: all of them.
    pub slices: Option<ctc::SliceRange>,
    /// Frames per window: the span of backpropagation through time.
    pub window: usize,
    /// Consecutive windows a training stream runs through, its recurrent
    /// state carried (detached) from one window to the next; 1 resets the
    /// state at every window.
    pub windows_per_stream: usize,
    /// Streams per step.
    pub batch: usize,
    /// Crop side in pixels (a multiple of 2^depth).
    pub crop: usize,
    /// Optimiser steps at most.
    pub steps: usize,
    /// Wall-clock limit of the run, in minutes, that its last step and
    /// validation end within (see `train::TimeBudget`).
    pub max_minutes: Option<f64>,
    pub lr: f64,
    /// Learning rate along a half cosine from `lr` down to `min_lr` over the
    /// run (Loshchilov & Hutter 2017, without restarts), ending with
    /// `steps` or `max_minutes`, whichever comes first; plateau cuts are then off.
    pub cosine: bool,
    pub amsgrad: bool,
    pub weight_decay: f64,
    /// Gradient norm clip (0 = off).
    pub grad_clip: f64,
    /// Cross-entropy weights of background, cell, boundary.
    pub class_weights: [f64; 3],
    /// Weight of the cell-class Dice term.
    pub dice_weight: f64,
    /// Weight of a soft Dice term on the foreground, `1 − p(background)`
    /// against every labelled pixel: the cells' whole area, boundary ring
    /// included, which is the mask `track` draws and SEG scores. 0 (the
    /// default) leaves the outline to the cross-entropy alone.
    pub foreground_dice_weight: f64,
    /// Pixel weight in the loss (the cross-entropy, on top of the class
    /// weight, and the Dice term's sums) of the pixels where touching cells
    /// meet or nearly meet ([`crate::model::interface_map`]): above 1 teaches the network to split touching cells
    /// (after U-Net's weight map); 1 weighs them as any other pixel.
    pub interface_weight: f64,
    /// Width in pixels of the boundary class where a cell touches another
    /// ([`crate::model::class_map_with_interfaces`]): 1 (the default) is the
    /// cell's own edge ring everywhere; more widens it only at the
    /// interfaces, so that the seeds of touching cells (cell minus
    /// boundary) lie further apart while outlines against the background
    /// stay as they are.
    pub interface_ring: usize,
    /// Last fraction of each sequence's frames held out for validation.
    pub val_fraction: f64,
    /// Steps between validations (an "epoch" in the history).
    pub val_every: usize,
    /// Crop windows of training streams run before each validation to replace
    /// the BatchNorm running statistics with precise ones
    /// ([`crate::model::PreciseBatchNorm`]); 0 (the default) keeps the running
    /// averages. No effect on other normalisations.
    pub precise_bn: usize,
    /// Validations without improvement before the learning rate is cut.
    pub plateau_patience: usize,
    pub plateau_factor: f64,
    pub min_lr: f64,
    /// Validations without improvement before training stops (0 = never).
    pub early_stop: usize,
    pub seed: u64,
    /// `auto`, `cpu`, `cuda` or `cuda:N`.
    pub device: String,
    /// CPU threads for libtorch (unset: libtorch's default).
    pub threads: Option<usize>,
    /// Folder for a picture of the prediction on a fixed validation crop
    /// after each validation (`epochNNN.png`); none when unset.
    pub preview: Option<PathBuf>,
    /// Checkpoint whose weights a fresh run starts from (fine-tuning, as
    /// Cellpose's `--pretrained_model`), or the name of a compiled-in model
    /// ([`crate::model::ModelSource::from_arg`]); its architecture must be `model`.
    /// Step count, schedule and best score start afresh. None: random weights.
    pub init: Option<PathBuf>,
    pub model: ModelConfig,
    pub augment: AugmentConfig,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            data: vec![],
            frames: None,
            channel: None,
            project: None,
            slices: None,
            window: 5,
            windows_per_stream: 8,
            batch: 2,
            crop: 160,
            steps: 5000,
            max_minutes: None,
            lr: 1e-3,
            cosine: false,
            amsgrad: false,
            weight_decay: 0.0,
            grad_clip: 5.0,
            class_weights: [1.0, 1.0, 3.0],
            dice_weight: 1.0,
            foreground_dice_weight: 0.0,
            interface_ring: 1,
            interface_weight: 1.0,
            val_fraction: 0.15,
            val_every: 50,
            precise_bn: 0,
            plateau_patience: 4,
            plateau_factor: 0.5,
            min_lr: 1e-5,
            early_stop: 12,
            seed: 0,
            device: "auto".into(),
            threads: None,
            preview: None,
            init: None,
            model: ModelConfig::default(),
            augment: AugmentConfig::default(),
        }
    }
}

impl TrainConfig {
    /// The planes of each frame file to train on: `channel`, `project` and `slices`.
    pub fn planes(&self) -> ctc::Planes {
        ctc::Planes { channel: self.channel, project: self.project, slices: self.slices, position: None }
    }

    /// Refuses settings training cannot run with.
    pub fn check(&self) -> Result<()> {
        if self.channel == Some(0) {
            bail!("channel = 0: channels count from 1 (the first channel is 1, as in Fiji)");
        }
        if self.slices.is_some() && self.project.is_none() {
            bail!("slices = {:?} names the z slices of a projection; set project too (\"max\" or \"mean\")", self.slices.map(String::from).unwrap_or_default());
        }
        self.model.check().map_err(anyhow::Error::msg)?;
        let m = self.model.multiple();
        let positive = [("window", self.window), ("windows_per_stream", self.windows_per_stream), ("batch", self.batch), ("val_every", self.val_every), ("augment.max_stride", self.augment.max_stride)];
        for (name, v) in positive {
            if v == 0 {
                bail!("{name} must be at least 1");
            }
        }
        if self.crop == 0 || !self.crop.is_multiple_of(m) {
            bail!("crop {} must be a positive multiple of {m} (2^depth for depth {})", self.crop, self.model.depth);
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            bail!("lr (--lr) must be a number above 0, not {}", self.lr);
        }
        if !(self.min_lr.is_finite() && self.min_lr >= 0.0) {
            bail!("min_lr (--min-lr) must be a number ≥ 0, not {}", self.min_lr);
        }
        if self.min_lr > self.lr {
            let how = if self.cosine { "--cosine would raise the rate from" } else { "the first cut on a plateau would raise the rate from" };
            bail!(
                "lr {} is below min_lr {}, the floor the rate falls to: {how} {} to {}; give --min-lr at most {}",
                self.lr, self.min_lr, self.lr, self.min_lr, self.lr
            );
        }
        if !(0.0..1.0).contains(&self.val_fraction) {
            bail!("val_fraction (--val-fraction) must lie in [0, 1), not {}: the fraction of each sequence's last frames held out for validation", self.val_fraction);
        }
        if !(0.0..1.0).contains(&self.plateau_factor) {
            bail!("plateau_factor must lie in [0, 1), not {}: what a plateau multiplies the rate by", self.plateau_factor);
        }
        let non_negative = [("weight_decay", self.weight_decay), ("grad_clip", self.grad_clip), ("dice_weight", self.dice_weight), ("foreground_dice_weight", self.foreground_dice_weight)];
        for (name, v) in non_negative.into_iter().chain(self.class_weights.map(|v| ("class_weights", v))) {
            if !(v.is_finite() && v >= 0.0) {
                bail!("{name} must be a number ≥ 0, not {v}");
            }
        }
        if self.interface_ring == 0 {
            bail!("interface_ring must be at least 1 (pixels of boundary where cells touch)");
        }
        if !(self.interface_weight.is_finite() && self.interface_weight > 0.0) {
            bail!("interface_weight must be a positive number, not {}", self.interface_weight);
        }
        if self.max_minutes.is_some_and(|m| m.is_nan() || m <= 0.0) {
            bail!("max_minutes must be positive");
        }
        if self.steps == 0 {
            bail!("steps must be at least 1");
        }
        if self.preview.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
            bail!("preview must name a folder (leave it out for no previews)");
        }
        if self.threads == Some(0) {
            bail!("threads must be at least 1 (unset: libtorch's default, one a core)");
        }
        self.device_choice()?;
        Ok(())
    }

    pub fn device_choice(&self) -> Result<DeviceChoice> {
        self.device.parse().map_err(anyhow::Error::msg)
    }

    /// Settings from a TOML file laid over `base` (keys the file leaves out keep `base`'s value).
    pub fn overlay_file(base: &TrainConfig, path: &Path) -> Result<TrainConfig> {
        TrainConfig::overlay(base, TrainConfig::read_table(path)?, path)
    }

    /// The TOML table of a settings file, unchecked against the settings.
    pub fn read_table(path: &Path) -> Result<toml::Table> {
        let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read the settings file", path.display()))?;
        text.parse().map_err(|e| anyhow!("{}: not valid TOML: {e}", path.display()))
    }

    /// `file`, the table read from `path` (named in errors), laid over `base`.
    pub fn overlay(base: &TrainConfig, file: toml::Table, path: &Path) -> Result<TrainConfig> {
        let mut merged = toml::Table::try_from(base)?;
        merge(&mut merged, file);
        merged.try_into().map_err(|e: toml::de::Error| anyhow!("{}: {}", path.display(), in_words(&e.to_string())))
    }

    /// The settings as TOML.
    pub fn to_toml(&self) -> Result<String> {
        Ok(toml::to_string_pretty(self)?)
    }
}

/// A TOML decoding message with Rust's type names put in words.
fn in_words(message: &str) -> String {
    [("expected f64", "expected a number"), ("expected f32", "expected a number"), ("expected usize", "expected a whole number ≥ 0"), ("expected u64", "expected a whole number ≥ 0"), ("expected u32", "expected a whole number ≥ 0")]
        .iter()
        .fold(message.to_string(), |m, (rust, words)| m.replace(rust, words))
}

fn merge(into: &mut toml::Table, from: toml::Table) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(toml::Value::Table(a)), toml::Value::Table(b)) => merge(a, b),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_round_trip_and_overlay() {
        let c = TrainConfig { frames: Some("0-34".parse().unwrap()), max_minutes: Some(10.0), ..Default::default() };
        let text = c.to_toml().unwrap();
        let back: TrainConfig = toml::from_str(&text).unwrap();
        assert_eq!(back, c);
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("s.toml");
        std::fs::write(&f, "crop = 64\n[model]\ndepth = 2\n[augment]\nnoise = 0.0\n").unwrap();
        let o = TrainConfig::overlay_file(&c, &f).unwrap();
        assert_eq!((o.crop, o.model.depth, o.augment.noise), (64, 2, 0.0));
        assert_eq!((o.model.base_width, o.frames, o.augment.flips), (c.model.base_width, c.frames, true));
        // A projection is written and read by its name.
        let z = TrainConfig { project: Some(ctc::Projection::Mean), ..Default::default() };
        assert!(z.to_toml().unwrap().contains("project = \"mean\""));
        std::fs::write(&f, "project = \"max\"\n").unwrap();
        assert_eq!(TrainConfig::overlay_file(&c, &f).unwrap().planes(), ctc::Planes { project: Some(ctc::Projection::Max), ..ctc::Planes::default() });
        std::fs::write(&f, "project = \"sum\"\n").unwrap();
        assert!(TrainConfig::overlay_file(&c, &f).is_err());
        std::fs::write(&f, "project = \"max\"\nslices = \"2-4\"\n").unwrap();
        let o = TrainConfig::overlay_file(&c, &f).unwrap();
        assert_eq!(o.planes().slices, Some(ctc::SliceRange { first: 2, last: 4 }));
        assert!(o.check().is_ok() && o.to_toml().unwrap().contains("slices = \"2-4\""));
        let e = TrainConfig { slices: o.slices, ..Default::default() }.check().unwrap_err().to_string();
        assert!(e.contains("set project"), "{e}");
    }

    #[test]
    fn bad_settings_are_named() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("s.toml");
        std::fs::write(&f, "crop = 64\ncorp = 3\n").unwrap();
        let e = TrainConfig::overlay_file(&TrainConfig::default(), &f).unwrap_err().to_string();
        assert!(e.contains("s.toml") && e.contains("corp"), "{e}");
        std::fs::write(&f, "crop = [").unwrap();
        assert!(TrainConfig::overlay_file(&TrainConfig::default(), &f).unwrap_err().to_string().contains("not valid TOML"));
        // A value of the wrong type is named, its type in words.
        std::fs::write(&f, "lr = \"fast\"\n").unwrap();
        let e = TrainConfig::overlay_file(&TrainConfig::default(), &f).unwrap_err().to_string();
        assert!(e.contains("s.toml") && e.contains("expected a number") && e.contains("lr"), "{e}");
        std::fs::write(&f, "crop = 1.5\n").unwrap();
        let e = TrainConfig::overlay_file(&TrainConfig::default(), &f).unwrap_err().to_string();
        assert!(e.contains("expected a whole number ≥ 0") && e.contains("crop"), "{e}");
        let e = TrainConfig { crop: 100, ..Default::default() }.check().unwrap_err().to_string();
        assert!(e.contains("multiple of 8"), "{e}");
        assert!(TrainConfig { device: "tpu".into(), ..Default::default() }.check().is_err());
        assert!(TrainConfig { window: 0, ..Default::default() }.check().is_err());
        let e = TrainConfig { interface_weight: 0.0, ..Default::default() }.check().unwrap_err().to_string();
        assert!(e.contains("interface_weight"), "{e}");
        let e = TrainConfig { foreground_dice_weight: -1.0, ..Default::default() }.check().unwrap_err().to_string();
        assert!(e.contains("foreground_dice_weight"), "{e}");
        assert!(TrainConfig::default().check().is_ok());
        // Each setting at fault is named, with the flag that sets it.
        let e = TrainConfig { lr: 0.0, ..Default::default() }.check().unwrap_err().to_string();
        assert!(e.starts_with("lr (--lr) must be a number above 0, not 0"), "{e}");
        let e = TrainConfig { val_fraction: 1.0, ..Default::default() }.check().unwrap_err().to_string();
        assert!(e.starts_with("val_fraction (--val-fraction) must lie in [0, 1), not 1"), "{e}");
        for (c, name) in [
            (TrainConfig { dice_weight: -1.0, ..Default::default() }, "dice_weight"),
            (TrainConfig { grad_clip: -0.5, ..Default::default() }, "grad_clip"),
            (TrainConfig { class_weights: [1.0, f64::NAN, 1.0], ..Default::default() }, "class_weights"),
        ] {
            let e = c.check().unwrap_err().to_string();
            assert!(e.starts_with(&format!("{name} must be a number ≥ 0")), "{e}");
        }
        // A starting rate below the floor would rise, not fall: refused, for
        // --cosine and plateau cuts alike, and --min-lr lowers the floor.
        let e = TrainConfig { lr: 5e-6, cosine: true, ..Default::default() }.check().unwrap_err().to_string();
        assert!(e.contains("lr 0.000005 is below min_lr 0.00001") && e.contains("--cosine would raise") && e.contains("--min-lr at most 0.000005"), "{e}");
        let e = TrainConfig { lr: 5e-6, ..Default::default() }.check().unwrap_err().to_string();
        assert!(e.contains("the first cut on a plateau would raise"), "{e}");
        assert!(TrainConfig { lr: 5e-6, min_lr: 1e-6, cosine: true, ..Default::default() }.check().is_ok());
    }
}
