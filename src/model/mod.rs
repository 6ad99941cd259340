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
//! (+ `train_config`, `command`, `history`, `preview`), `checkpoint`, `device`, `tiles`, `infer`, `shipped` (the compiled-in weights).
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
mod resample;
mod shipped;
mod targets;
mod tiles;
mod train;
mod train_config;

pub use augment::AugmentConfig;
pub use checkpoint::{load, load_bytes, read_metadata, save, Loaded, CONFIG_KEY, FORMAT, FORMAT_KEY, TRAINING_KEY};
pub use command::{train_command, TrainArgs};
pub use config::{ModelConfig, Norm, CLASSES};
pub use data::{load_sequences, sequence_dirs, split, TrainSequence, TruthSource};
pub use crate::ctc::FrameRange;
pub use device::DeviceChoice;
pub use history::{parse_history, read_history, write_curves, HistoryRow, CURVES_SIZE, HISTORY_HEADER};
pub use infer::{invert, InferOptions, Precision, Predictor, Probabilities, Tiles, AUTO_TILE, FULL_FRAME_MAX_PIXELS};
pub use loss::loss;
pub use net::{probabilities, ConvLstmUNet, PreciseBatchNorm, State};
pub use shipped::{ModelSource, BUILTIN_ARG, BUILTIN_MODEL, BUILTIN_MODEL_NAME, MODALITY_MODELS};
pub use resample::{resize, scaled_dim};
pub use preview::{write_preview, Preview, PreviewCrop, PREVIEW_SIDE};
pub use crate::segment::{percentile, percentile_normalise, PERCENTILES};
pub use targets::{class_map, class_map_with_interfaces, interface_map, BACKGROUND, BOUNDARY, CELL};
pub use tiles::Tiling;
pub use train::{fit, recalibrate_batch_norm, Progress, RunFiles, Stop, TrainReport};
pub use train_config::TrainConfig;
