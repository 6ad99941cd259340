//! Segmenters: from a raw frame to a foreground probability or instance mask.
//!
//! The classical segmenter (background correction, threshold, the post chain)
//! needs no weights; the model segmenter wraps the ConvLSTM-UNet.
mod background;
mod classical;
mod filter;
mod maps;
mod model;
mod threshold;

pub use classical::{contrast_image, foreground, segment_classical, ClassicalParams, Polarity, ThresholdMethod};
pub use background::{estimate_background, fill_non_finite, percentile, percentile_normalise, percentile_normalise_frame, subtract_background, PERCENTILES};
pub use filter::{box_mean, gaussian_blur, gaussian_kernel, integral_image};
pub use maps::{MapWriter, FOREGROUND_DIR, SEEDS_DIR};
pub use model::{instances_from_model, model_post_params, segment_with_model};
/// The weights live with the network (`model::shipped`); the segmenter names them too.
pub use crate::model::{ModelSource, BUILTIN_ARG, BUILTIN_MODEL, BUILTIN_MODEL_NAME, MODALITY_MODELS};
pub use threshold::{otsu_threshold, sauvola_threshold};
