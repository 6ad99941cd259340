//! Segmentation by a ConvLSTM-UNet (Arbelle & Raviv, ISBI 2019): network, training, streamed inference.
//!
//! The network ([`ConvLstmUNet`]) sees one frame at a time and carries a
//! recurrent [`State`] from frame to frame; it predicts three classes
//! (background, cell interior, cell boundary, see [`class_map`]) so that
//! touching cells come apart. [`fit`] trains it on CTC sequences
//! (`cellstream train`, [`TrainArgs`]) with streams of windows and truncated
//! backpropagation through time; [`Predictor`] streams frames through a
//! checkpoint, each tile keeping its state, and [`Probabilities::instances`]
//! turns the output into cells with the `post` stage.
//!
//! Files along the data's path: `data` (sequences and truth, normalised per
//! frame by [`percentile_normalise`]), `augment` (crops and transforms), `targets`, `net`, `loss`, `train`
//! (+ `train_config`, `command`, `history`, `preview`), `checkpoint`, `device`, `tiles`, `infer`.
mod augment;
mod checkpoint;
mod command;
mod config;
mod data;
mod device;
mod history;
mod infer;
mod loss;
mod net;
mod preview;
mod targets;
mod tiles;
mod train;
mod train_config;

pub use crate::segment::{PERCENTILES, percentile, percentile_normalise};
pub use augment::AugmentConfig;
pub use checkpoint::{
    CONFIG_KEY, FORMAT, FORMAT_KEY, Loaded, TRAINING_KEY, load, load_bytes, read_metadata, save,
};
pub use command::{TrainArgs, train_command};
pub use config::{CLASSES, ModelConfig, Norm};
pub use data::{FrameRange, TrainSequence, TruthSource, load_sequences, sequence_dirs, split};
pub use device::DeviceChoice;
pub use history::{
    CURVES_SIZE, HISTORY_HEADER, HistoryRow, parse_history, read_history, write_curves,
};
pub use infer::{
    AUTO_TILE, FULL_FRAME_MAX_PIXELS, InferOptions, Precision, Predictor, Probabilities, Tiles,
};
pub use loss::loss;
pub use net::{ConvLstmUNet, PreciseBatchNorm, State, probabilities};
pub use preview::{PREVIEW_SIDE, Preview, PreviewCrop, write_preview};
pub use targets::{BACKGROUND, BOUNDARY, CELL, class_map, interface_map};
pub use tiles::Tiling;
pub use train::{Progress, RunFiles, Stop, TrainReport, fit, recalibrate_batch_norm};
pub use train_config::TrainConfig;
