//! The model segmenter: a trained ConvLSTM-UNet streams frames to class probabilities, the post chain turns them into cells.
use anyhow::Result;

use crate::ctc::{Frame, Mask};
use crate::model::{Predictor, Probabilities};
use crate::post::PostParams;

/// Post-processing defaults for the model's output ([`Probabilities::post_params`]).
pub fn model_post_params() -> PostParams {
    Probabilities::post_params()
}

/// Cells of one frame from the model's probabilities
/// ([`Probabilities::instances_with`]): the seeded watershed of the post chain.
pub fn instances_from_model(probabilities: &Probabilities, params: &PostParams) -> Mask {
    probabilities.instances_with(params)
}

/// Streams a whole sequence through `predictor` and returns each frame's cells:
/// the model segmenter without the pipeline (for tests and scripts).
pub fn segment_with_model(predictor: &mut Predictor, frames: impl IntoIterator<Item = Frame>, params: &PostParams) -> Result<Vec<Mask>> {
    frames.into_iter().map(|f| Ok(instances_from_model(&predictor.push(&f)?, params))).collect()
}
