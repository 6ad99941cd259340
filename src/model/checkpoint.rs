//! Checkpoints: the weights in safetensors, with the model configuration (JSON) in the file's metadata.
use std::collections::HashMap;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use tch::{nn, Device, Kind, Tensor};

use super::config::ModelConfig;
use super::net::ConvLstmUNet;
use crate::ctc;

/// Metadata key naming the format; refuses files written by something else.
pub const FORMAT_KEY: &str = "format";
pub const FORMAT: &str = "cellstream-convlstm-unet/1";
/// Metadata key holding [`ModelConfig`] as JSON.
pub const CONFIG_KEY: &str = "config";
/// Metadata key holding the training progress as JSON (for `--resume`).
pub const TRAINING_KEY: &str = "training";

/// A network with its variables, on one device.
pub struct Loaded {
    pub vs: nn::VarStore,
    pub net: ConvLstmUNet,
    /// All metadata of the file (format, config, training, …).
    pub metadata: HashMap<String, String>,
}

/// Writes every variable of `vs` as little-endian f32 (whatever the device
/// and kind), with the configuration and any `extra` entries as metadata.
/// The file is replaced atomically.
pub fn save(path: &Path, vs: &nn::VarStore, config: &ModelConfig, extra: &[(&str, String)]) -> Result<()> {
    let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    let mut bytes = Vec::with_capacity(vars.len());
    for (name, t) in &vars {
        let flat = t.detach().to_device(Device::Cpu).to_kind(Kind::Float).contiguous().view(-1);
        let values = Vec::<f32>::try_from(&flat).with_context(|| format!("reading variable {name}"))?;
        let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
        bytes.push((name.clone(), shape, values.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>()));
    }
    let views = bytes
        .iter()
        .map(|(name, shape, data)| Ok((name.as_str(), TensorView::new(Dtype::F32, shape.clone(), data)?)))
        .collect::<std::result::Result<Vec<_>, safetensors::SafeTensorError>>()?;
    let mut meta = HashMap::from([
        (FORMAT_KEY.to_string(), FORMAT.to_string()),
        (CONFIG_KEY.to_string(), serde_json::to_string(config)?),
    ]);
    for (k, v) in extra {
        meta.insert(k.to_string(), v.clone());
    }
    let blob = safetensors::serialize(views, Some(meta))?;
    ctc::write_atomic(path, |w| std::io::Write::write_all(w, &blob))?;
    Ok(())
}

/// Reads only the metadata and configuration of a checkpoint.
pub fn read_metadata(path: &Path) -> Result<(ModelConfig, HashMap<String, String>)> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read the checkpoint", path.display()))?;
    metadata_of(path, &bytes)
}

/// [`read_metadata`] from the bytes of a checkpoint; `path` names it in errors.
pub(crate) fn metadata_of(path: &Path, bytes: &[u8]) -> Result<(ModelConfig, HashMap<String, String>)> {
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| {
        // What it is instead, where the first bytes tell.
        let what = if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") || bytes.starts_with(b"II+\0") || bytes.starts_with(b"MM\0+") {
            "a TIFF image, not a model checkpoint: give the .safetensors file `cellstream train` wrote".to_string()
        } else if path.extension().is_some_and(|x| x == "toml") {
            "a settings file, not a model checkpoint: give the .safetensors file beside it".to_string()
        } else {
            format!("not a safetensors file ({e})")
        };
        anyhow!("{}: {what}", path.display())
    })?;
    let meta = meta.metadata().clone().unwrap_or_default();
    match meta.get(FORMAT_KEY) {
        Some(f) if f == FORMAT => {}
        Some(f) => bail!("{}: checkpoint format {f:?}, expected {FORMAT:?}", path.display()),
        None => bail!("{}: safetensors file without cellstream metadata (no {FORMAT_KEY:?} entry); not a cellstream model", path.display()),
    }
    let json = meta.get(CONFIG_KEY).ok_or_else(|| anyhow!("{}: metadata has no {CONFIG_KEY:?} entry", path.display()))?;
    let config: ModelConfig = serde_json::from_str(json).map_err(|e| anyhow!("{}: model configuration in the metadata is invalid: {e}", path.display()))?;
    config.check().map_err(|e| anyhow!("{}: {e}", path.display()))?;
    Ok((config, meta))
}

/// Builds the network a checkpoint describes on `device` and fills in its weights.
/// Every variable must be present with its shape, and nothing else.
pub fn load(path: &Path, device: Device) -> Result<Loaded> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read the checkpoint", path.display()))?;
    load_bytes(path, &bytes, device)
}

/// [`load`] from the bytes of a checkpoint (such as one compiled into the
/// binary); `path` names it in errors.
pub fn load_bytes(path: &Path, bytes: &[u8], device: Device) -> Result<Loaded> {
    let (config, metadata) = metadata_of(path, bytes)?;
    let st = SafeTensors::deserialize(bytes).map_err(|e| anyhow!("{}: corrupt safetensors file ({e})", path.display()))?;
    let vs = nn::VarStore::new(device);
    // Its initial weights, overwritten below, still draw from torch's
    // generator: not while a training run seeds and draws its own.
    let net = {
        let _guard = super::net::torch_rng();
        ConvLstmUNet::new(&vs.root(), &config)
    };
    let vars = vs.variables();
    for name in st.names() {
        if !vars.contains_key(name) {
            bail!("{}: holds tensor {name:?}, which the configured network does not have", path.display());
        }
    }
    for (name, var) in &vars {
        let view = st.tensor(name).map_err(|_| anyhow!("{}: missing tensor {name:?}", path.display()))?;
        let want: Vec<usize> = var.size().iter().map(|&d| d as usize).collect();
        if view.shape() != want.as_slice() {
            bail!("{}: tensor {name:?} has shape {:?}, the network needs {want:?}", path.display(), view.shape());
        }
        if view.dtype() != Dtype::F32 {
            bail!("{}: tensor {name:?} is {:?}, expected F32", path.display(), view.dtype());
        }
        let values: Vec<f32> = view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let src = Tensor::from_slice(&values).view(var.size().as_slice()).to_device(device);
        tch::no_grad(|| var.shallow_clone().copy_(&src));
    }
    Ok(Loaded { vs, net, metadata })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::config::Norm;

    #[test]
    fn loading_waits_for_torchs_generator() {
        // A fresh network's initial weights draw from torch's one generator,
        // so loading must not draw while a training run seeds and draws.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        let cfg = ModelConfig { depth: 1, base_width: 4, ..Default::default() };
        let vs = nn::VarStore::new(Device::Cpu);
        let _net = ConvLstmUNet::new(&vs.root(), &cfg);
        save(&path, &vs, &cfg, &[]).unwrap();
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            let guard = crate::model::net::torch_rng();
            let loader = s.spawn(|| {
                let loaded = load(&path, Device::Cpu);
                done.store(true, std::sync::atomic::Ordering::SeqCst);
                loaded
            });
            std::thread::sleep(std::time::Duration::from_millis(300));
            assert!(!done.load(std::sync::atomic::Ordering::SeqCst), "loading drew while the generator was held");
            drop(guard);
            assert_eq!(loader.join().unwrap().unwrap().net.config(), &cfg);
        });
    }

    #[test]
    fn round_trip_keeps_weights_and_config() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        let cfg = ModelConfig { depth: 1, base_width: 4, norm: Norm::Batch, ..Default::default() };
        tch::manual_seed(3);
        let vs = nn::VarStore::new(Device::Cpu);
        let _net = ConvLstmUNet::new(&vs.root(), &cfg);
        save(&path, &vs, &cfg, &[("training", "{\"step\":7}".into())]).unwrap();
        let loaded = load(&path, Device::Cpu).unwrap();
        assert_eq!(loaded.net.config(), &cfg);
        assert_eq!(loaded.metadata["training"], "{\"step\":7}");
        let a = vs.variables();
        let b = loaded.vs.variables();
        assert_eq!(a.len(), b.len());
        for (k, t) in &a {
            assert!(t.equal(&b[k]), "{k} differs");
        }
    }

    #[test]
    fn foreign_and_mismatched_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.safetensors");
        std::fs::write(&junk, b"not a model").unwrap();
        let e = load(&junk, Device::Cpu).err().unwrap().to_string();
        assert!(e.contains("junk.safetensors") && e.contains("not a safetensors"), "{e}");
        // A frame or a settings file given for a model says what it is.
        let frame = dir.path().join("t000.tif");
        ctc::write_frame(&frame, &ctc::Frame::U8(ndarray::Array2::zeros((4, 4)))).unwrap();
        let e = load(&frame, Device::Cpu).err().unwrap().to_string();
        assert!(e.ends_with("t000.tif: a TIFF image, not a model checkpoint: give the .safetensors file `cellstream train` wrote"), "{e}");
        let settings = dir.path().join("model.toml");
        std::fs::write(&settings, "lr = 0.001\n").unwrap();
        let e = load(&settings, Device::Cpu).err().unwrap().to_string();
        assert!(e.contains("model.toml: a settings file, not a model checkpoint"), "{e}");

        let plain = dir.path().join("plain.safetensors");
        Tensor::write_safetensors(&[("x", Tensor::zeros([2], (Kind::Float, Device::Cpu)))], &plain).unwrap();
        let e = load(&plain, Device::Cpu).err().unwrap().to_string();
        assert!(e.contains("not a cellstream model"), "{e}");

        // Config says depth 2 but the weights are of a depth-1 network.
        let cfg = ModelConfig { depth: 1, base_width: 4, ..Default::default() };
        let vs = nn::VarStore::new(Device::Cpu);
        let _net = ConvLstmUNet::new(&vs.root(), &cfg);
        let lying = dir.path().join("lying.safetensors");
        save(&lying, &vs, &ModelConfig { depth: 2, ..cfg.clone() }, &[]).unwrap();
        let e = load(&lying, Device::Cpu).err().unwrap().to_string();
        assert!(e.contains("missing tensor"), "{e}");
        assert!(load(&dir.path().join("absent.safetensors"), Device::Cpu).is_err());
    }
}
