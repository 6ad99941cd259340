//! The network's shape: depth, width, recurrence and normalisation, stored with every checkpoint.
use serde::{Deserialize, Serialize};

/// Output classes, in channel order: background, cell interior, cell boundary
/// (the ring inside each cell and the interfaces between touching cells).
pub const CLASSES: i64 = 3;

/// Feature normalisation after each convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    /// Layer normalisation over the channels of each pixel (as in ConvNeXt,
    /// Liu et al. 2022). Independent of batch size *and* of the image extent,
    /// so tiles and whole frames see the same statistics; but right after the
    /// first convolution it divides out each pixel's brightness, and it
    /// trained far slower than [`Norm::Batch`] here (validation SEG 0.05
    /// against 0.58 after 90 s on simulated nuclei).
    Pixel,
    /// GroupNorm (Wu & He 2018): statistics over channel groups and the whole
    /// image, so a tile's output depends on the tile's extent.
    Group,
    /// BatchNorm (Ioffe & Szegedy 2015), the default: batch statistics in
    /// training, running statistics at inference, so that tiles and whole
    /// frames see the same normalisation.
    Batch,
    None,
}

impl std::str::FromStr for Norm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "pixel" => Ok(Norm::Pixel),
            "group" => Ok(Norm::Group),
            "batch" => Ok(Norm::Batch),
            "none" => Ok(Norm::None),
            _ => Err(format!("unknown normalisation {s:?}; expected pixel, group, batch or none")),
        }
    }
}

/// The ConvLSTM-UNet's configuration; saved as JSON in every checkpoint's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// Number of 2× downsamplings; frames are padded to a multiple of 2^depth.
    pub depth: usize,
    /// Channels at full resolution, doubling at each level.
    pub base_width: usize,
    /// Convolutional LSTM cells at the head of each encoder level; `false`
    /// gives a plain 2D U-Net (a convolution in the cell's place).
    pub lstm: bool,
    pub norm: Norm,
    /// Largest number of groups for [`Norm::Group`].
    pub groups: usize,
    /// The network learned from frames with their grey levels reversed
    /// (`train --invert`); inference reverses every frame the same way
    /// before it, so the model is used as it is (`track --invert` then
    /// undoes it). Written only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub invert: bool,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig { depth: 3, base_width: 8, lstm: true, norm: Norm::Batch, groups: 4, invert: false }
    }
}

impl ModelConfig {
    /// The architecture in words, for messages: `depth 3, base width 8,
    /// ConvLSTM cells, batch norm`.
    pub fn describe(&self) -> String {
        let norm = match self.norm {
            Norm::Pixel => "pixel norm",
            Norm::Group => "group norm",
            Norm::Batch => "batch norm",
            Norm::None => "no norm",
        };
        let cells = if self.lstm { "ConvLSTM cells" } else { "no ConvLSTM cells (plain U-Net)" };
        let inverted = if self.invert { ", inverted frames" } else { "" };
        format!("depth {}, base width {}, {cells}, {norm}{inverted}", self.depth, self.base_width)
    }

    /// Channels at level `l` (0 = full resolution).
    pub fn width(&self, level: usize) -> usize {
        self.base_width << level
    }

    /// Whether `other` builds the same network: every setting but
    /// [`ModelConfig::invert`], which is how frames are shown to it, agrees.
    pub fn same_architecture(&self, other: &ModelConfig) -> bool {
        *self == ModelConfig { invert: self.invert, ..other.clone() }
    }

    /// Frames and tiles must be a multiple of this many pixels on each side.
    pub fn multiple(&self) -> usize {
        1 << self.depth
    }

    /// Refuses shapes the network cannot be built with.
    pub fn check(&self) -> Result<(), String> {
        if self.depth == 0 || self.depth > 6 {
            return Err(format!("depth {} is out of range 1–6", self.depth));
        }
        if self.base_width == 0 || self.base_width > 256 {
            return Err(format!("base_width {} is out of range 1–256", self.base_width));
        }
        if self.norm == Norm::Group && self.groups == 0 {
            return Err("groups must be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_and_defaults() {
        let c = ModelConfig { depth: 2, base_width: 4, lstm: false, norm: Norm::Group, groups: 2, invert: false };
        let j = serde_json::to_string(&c).unwrap();
        assert!(!j.contains("invert"), "the default is not written: {j}");
        assert_eq!(serde_json::from_str::<ModelConfig>(&j).unwrap(), c);
        let inverted = ModelConfig { invert: true, ..c.clone() };
        assert!(inverted.same_architecture(&c) && c.same_architecture(&inverted));
        assert!(!c.same_architecture(&ModelConfig { base_width: 8, ..inverted.clone() }));
        assert_eq!(serde_json::from_str::<ModelConfig>(&serde_json::to_string(&inverted).unwrap()).unwrap(), inverted);
        let partial: ModelConfig = serde_json::from_str(r#"{"depth": 2}"#).unwrap();
        assert_eq!(partial.base_width, ModelConfig::default().base_width);
        assert!(serde_json::from_str::<ModelConfig>(r#"{"dept": 2}"#).is_err());
        assert_eq!(c.multiple(), 4);
        assert_eq!(c.width(2), 16);
    }

    #[test]
    fn bad_shapes_are_refused() {
        assert!(ModelConfig { depth: 0, ..Default::default() }.check().is_err());
        assert!(ModelConfig { base_width: 0, ..Default::default() }.check().is_err());
        assert!(ModelConfig::default().check().is_ok());
        assert!("layer".parse::<Norm>().is_err());
    }
}
