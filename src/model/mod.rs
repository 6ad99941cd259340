//! Segmentation by a ConvLSTM-UNet (Arbelle & Raviv 2019): network, training, streamed inference.
//!
//! The network sees one frame at a time and carries a recurrent [`State`]
//! from frame to frame; it predicts three classes (background, cell, cell
//! boundary) so that touching cells come apart. [`train`] fits it to CTC
//! sequences; [`Predictor`] streams frames through it, tile by tile.
mod augment;
mod checkpoint;
mod command;
mod config;
mod data;
mod device;
mod infer;
mod loss;
mod net;
mod normalise;
mod targets;
mod tiles;
mod train;
mod train_config;

pub use checkpoint::{load, read_metadata, save, Loaded, CONFIG_KEY, FORMAT, FORMAT_KEY, TRAINING_KEY};
pub use config::{ModelConfig, Norm, CLASSES};
pub use device::DeviceChoice;
pub use infer::{InferOptions, Precision, Predictor, Probabilities, Tiles, AUTO_TILE, FULL_FRAME_MAX_PIXELS};
pub use net::{probabilities, ConvLstmUNet, State};
pub use normalise::{percentile, percentile_normalise, PERCENTILES};
pub use targets::{class_map, BACKGROUND, BOUNDARY, CELL};
pub use tiles::Tiling;
pub use augment::AugmentConfig;
pub use data::{load_sequences, sequence_dirs, split, FrameRange, TrainSequence, TruthSource};
pub use loss::loss;
pub use train::{fit, Progress, RunFiles, Stop, TrainReport};
pub use train_config::TrainConfig;
pub use command::{train_command, TrainArgs};
