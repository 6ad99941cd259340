//! Segmentation by a ConvLSTM-UNet (Arbelle & Raviv 2019): network, training, streamed inference.
//!
//! The network sees one frame at a time and carries a recurrent [`State`]
//! from frame to frame; it predicts three classes (background, cell, cell
//! boundary) so that touching cells come apart. [`train`] fits it to CTC
//! sequences; [`Predictor`] streams frames through it, tile by tile.
mod checkpoint;
mod config;
mod device;
mod net;

pub use checkpoint::{load, read_metadata, save, Loaded, CONFIG_KEY, FORMAT, FORMAT_KEY, TRAINING_KEY};
pub use config::{ModelConfig, Norm, CLASSES};
pub use device::DeviceChoice;
pub use net::{probabilities, ConvLstmUNet, State};
