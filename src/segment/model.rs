//! The model segmenter: a trained ConvLSTM-UNet streams frames to class probabilities, the post chain turns them into cells.
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::ctc::{Frame, Mask};
use crate::model::{DeviceChoice, InferOptions, Predictor, Probabilities};
use crate::post::PostParams;

/// The model that ships with cellstream, compiled into the binary: trained
/// by `scripts/train-sim-model` on simulated fluorescence, phase-contrast and
/// colony sequences, 60 minutes from scratch and 60 more fine-tuned from
/// there (README, "The built-in model").
pub const BUILTIN_MODEL: &[u8] = include_bytes!("../../models/sim120.safetensors");
/// How the compiled-in model is named in messages.
pub const BUILTIN_MODEL_NAME: &str = "models/sim120.safetensors (built in)";

/// The per-modality fine-tunes of the built-in model, compiled in as well
/// (`models/M.safetensors`; README, "Models per modality"): each is better
/// than the built-in model on its own modality and worse on the others.
/// `nuclei` is `fluo` trained with a fine random texture on every frame, for
/// real fluorescent nuclei whose mottled insides the simulations lack
/// (README, "On real fluorescent nuclei").
pub const MODALITY_MODELS: [(&str, &[u8]); 4] = [
    ("fluo", include_bytes!("../../models/fluo.safetensors")),
    ("phase", include_bytes!("../../models/phase.safetensors")),
    ("colony", include_bytes!("../../models/colony.safetensors")),
    ("nuclei", include_bytes!("../../models/nuclei.safetensors")),
];

/// Which weights to load.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ModelSource {
    /// [`BUILTIN_MODEL`].
    #[default]
    Builtin,
    /// One of [`MODALITY_MODELS`], by name.
    Modality(&'static str),
    /// A checkpoint written by `cellstream train`.
    File(PathBuf),
}

impl ModelSource {
    /// What `--model VALUE` names: the file when one exists at that path,
    /// else the compiled-in model of that name (`fluo`, `phase`,
    /// `colony`, `nuclei`), else the path (which loading then reports missing).
    pub fn from_arg(value: &Path) -> ModelSource {
        match MODALITY_MODELS.iter().find(|(name, _)| Path::new(name) == value) {
            Some((name, _)) if !value.exists() => ModelSource::Modality(name),
            _ => ModelSource::File(value.to_path_buf()),
        }
    }

    /// How the weights are named in messages and run records.
    pub fn name(&self) -> String {
        match self {
            ModelSource::Builtin => BUILTIN_MODEL_NAME.to_string(),
            ModelSource::Modality(m) => format!("models/{m}.safetensors (built in)"),
            ModelSource::File(p) => p.display().to_string(),
        }
    }

    /// The network ready to stream frames on `device`.
    pub fn predictor(&self, device: DeviceChoice, options: InferOptions) -> Result<Predictor> {
        match self {
            ModelSource::Builtin => Predictor::from_bytes(Path::new(BUILTIN_MODEL_NAME), BUILTIN_MODEL, device, options),
            ModelSource::Modality(m) => {
                let bytes = MODALITY_MODELS.iter().find(|(name, _)| name == m).map(|(_, b)| *b).expect("a known modality");
                Predictor::from_bytes(Path::new(&self.name()), bytes, device, options)
            }
            ModelSource::File(p) if !p.exists() => {
                let names: Vec<&str> = MODALITY_MODELS.iter().map(|(n, _)| *n).collect();
                anyhow::bail!("{}: no such checkpoint (--model takes a file from `cellstream train` or one of {})", p.display(), names.join(", "))
            }
            ModelSource::File(p) => Predictor::load(p, device, options),
        }
    }
}

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
