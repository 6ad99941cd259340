//! Segmenters: from a raw frame to a foreground probability or instance mask.
//!
//! The classical segmenter (background correction, threshold, the post chain)
//! needs no weights; the model segmenter wraps the ConvLSTM-UNet.
mod background;
mod classical;
mod filter;
mod model;
mod threshold;

pub use background::{
    PERCENTILES, estimate_background, percentile, percentile_normalise, percentile_normalise_frame,
    subtract_background,
};
pub use classical::{
    ClassicalParams, Polarity, ThresholdMethod, contrast_image, foreground, segment_classical,
};
pub use filter::{box_mean, gaussian_blur, gaussian_kernel, integral_image};
pub use model::{
    BUILTIN_MODEL, BUILTIN_MODEL_NAME, MODALITY_MODELS, ModelSource, instances_from_model,
    model_post_params, segment_with_model,
};
pub use threshold::{otsu_threshold, sauvola_threshold};
