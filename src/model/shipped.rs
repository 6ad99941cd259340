//! The weights that ship, compiled into the binary, and how a model named on the command line is found.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use tch::Device;

use super::checkpoint::{self, Loaded};
use super::config::ModelConfig;
use super::device::DeviceChoice;
use super::infer::{InferOptions, Predictor};

/// The model that ships with cellstream, compiled into the binary: trained
/// by `scripts/train-sim-model` on simulated fluorescence, phase-contrast and
/// colony sequences, 60 minutes from scratch and 60 more fine-tuned from
/// there (README, "The built-in model").
pub const BUILTIN_MODEL: &[u8] = include_bytes!("../../models/sim120.safetensors");
/// How the compiled-in model is named in messages.
pub const BUILTIN_MODEL_NAME: &str = "models/sim120.safetensors (built in)";
/// What `--model` and `train --init` call the built-in model.
pub const BUILTIN_ARG: &str = "builtin";

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
    /// What `--model VALUE` (or `train --init VALUE`) names: the file when
    /// one exists at that path, else the compiled-in model of that name
    /// (`builtin`, `fluo`, `phase`, `colony`, `nuclei`), else the path (which
    /// loading then reports missing). A folder of that name (a sequence
    /// called `fluo`, say) is not a checkpoint and does not hide the model.
    pub fn from_arg(value: &Path) -> ModelSource {
        if value.is_file() {
            return ModelSource::File(value.to_path_buf());
        }
        if value == Path::new(BUILTIN_ARG) {
            return ModelSource::Builtin;
        }
        match MODALITY_MODELS.iter().find(|(name, _)| Path::new(name) == value) {
            Some((name, _)) => ModelSource::Modality(name),
            None => ModelSource::File(value.to_path_buf()),
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

    /// Where the checkpoint's bytes are: a file that exists (else refused,
    /// with the names a user may give instead) or compiled in.
    fn stored(&self) -> Result<Stored<'_>> {
        match self {
            ModelSource::Builtin => Ok(Stored::CompiledIn(BUILTIN_MODEL)),
            ModelSource::Modality(m) => Ok(Stored::CompiledIn(MODALITY_MODELS.iter().find(|(name, _)| name == m).map(|(_, b)| *b).expect("a compiled-in name"))),
            ModelSource::File(p) if !p.exists() => {
                if let Some(aside) = set_aside_by_a_killed_run(p) {
                    anyhow::bail!(
                        "{}: no such checkpoint; a `cellstream train --overwrite` run killed before its first checkpoint set the earlier one aside as {}: the next `cellstream train --out {}` puts it back, or rename it",
                        p.display(),
                        aside.display(),
                        p.display()
                    )
                }
                let names: Vec<&str> = std::iter::once(BUILTIN_ARG).chain(MODALITY_MODELS.iter().map(|(n, _)| *n)).collect();
                anyhow::bail!("{}: no such checkpoint (give a file from `cellstream train` or one of {})", p.display(), names.join(", "))
            }
            ModelSource::File(p) => Ok(Stored::File(p)),
        }
    }

    /// The network ready to stream frames on `device`.
    pub fn predictor(&self, device: DeviceChoice, options: InferOptions) -> Result<Predictor> {
        match self.stored()? {
            Stored::File(p) => Predictor::load(p, device, options),
            Stored::CompiledIn(bytes) => Predictor::from_bytes(Path::new(&self.name()), bytes, device, options),
        }
    }

    /// The network and all the checkpoint's metadata on `device` (to train on from there).
    pub fn load(&self, device: Device) -> Result<Loaded> {
        match self.stored()? {
            Stored::File(p) => checkpoint::load(p, device),
            Stored::CompiledIn(bytes) => checkpoint::load_bytes(Path::new(&self.name()), bytes, device),
        }
    }

    /// The architecture and metadata only, without building the network.
    pub fn metadata(&self) -> Result<(ModelConfig, HashMap<String, String>)> {
        match self.stored()? {
            Stored::File(p) => checkpoint::read_metadata(p),
            Stored::CompiledIn(bytes) => checkpoint::metadata_of(Path::new(&self.name()), bytes),
        }
    }
}

/// A checkpoint's bytes: in a file, or compiled into the binary.
enum Stored<'a> {
    File(&'a Path),
    CompiledIn(&'static [u8]),
}

/// The file a training run set `path` aside as (`.NAME.earlier-PID` beside
/// it, see `train::EarlierRun`), where the run was killed before putting it
/// back or replacing it.
fn set_aside_by_a_killed_run(path: &Path) -> Option<std::path::PathBuf> {
    let name = path.file_name()?.to_string_lossy().into_owned();
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let prefix = format!(".{name}.earlier-");
    std::fs::read_dir(dir).ok()?.flatten().map(|e| e.path()).find(|p| {
        p.file_name().is_some_and(|n| n.to_string_lossy().strip_prefix(&prefix).is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_a_killed_run_set_aside_is_named() {
        let d = tempfile::tempdir().unwrap();
        let model = d.path().join("m.safetensors");
        let e = ModelSource::File(model.clone()).stored().err().unwrap().to_string();
        assert!(e.contains("no such checkpoint (give a file"), "{e}");
        std::fs::write(d.path().join(".m.safetensors.earlier-4242"), b"weights").unwrap();
        let e = ModelSource::File(model.clone()).stored().err().unwrap().to_string();
        assert!(e.contains("set the earlier one aside as") && e.contains(".m.safetensors.earlier-4242") && e.contains("puts it back, or rename it"), "{e}");
        // Another model's, or another file's, is not taken for it.
        let e = ModelSource::File(d.path().join("other.safetensors")).stored().err().unwrap().to_string();
        assert!(!e.contains("aside"), "{e}");
    }

    #[test]
    fn names_resolve_to_compiled_in_models_unless_a_file_is_there() {
        assert_eq!(ModelSource::from_arg(Path::new("builtin")), ModelSource::Builtin);
        assert_eq!(ModelSource::from_arg(Path::new("nuclei")), ModelSource::Modality("nuclei"));
        assert_eq!(ModelSource::from_arg(Path::new("m.safetensors")), ModelSource::File("m.safetensors".into()));
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("fluo");
        std::fs::write(&file, b"").unwrap();
        assert_eq!(ModelSource::from_arg(&file), ModelSource::File(file.clone()));
    }

    #[test]
    fn every_compiled_in_model_reads_and_a_missing_file_is_named() {
        let sources = std::iter::once(ModelSource::Builtin).chain(MODALITY_MODELS.iter().map(|(n, _)| ModelSource::Modality(n)));
        for s in sources {
            let (config, meta) = s.metadata().unwrap();
            assert_eq!(config.base_width, 8, "{}", s.name());
            assert!(meta.contains_key(checkpoint::TRAINING_KEY), "{}", s.name());
        }
        let err = ModelSource::from_arg(Path::new("nope.safetensors")).metadata().unwrap_err().to_string();
        assert!(err.contains("nope.safetensors") && err.contains("builtin, fluo, phase, colony, nuclei"), "{err}");
    }
}

