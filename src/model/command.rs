//! The `cellstream train` command: settings from defaults, `--config` and flags, then [`fit`].
use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

use super::config::{ModelConfig, Norm};
use super::data::{load_sequences, split};
use crate::ctc::FrameRange;
use super::train::{fit, RunFiles, Stop};
use super::train_config::TrainConfig;

/// Flags of `cellstream train`; each one given overrides `--config`.
#[derive(Args, Debug, Clone)]
pub struct TrainArgs {
    /// Sequence folders (NN, truth in NN_GT / NN_ST beside it) or dataset folders holding them.
    #[arg(long, num_args = 1.., required_unless_present_any = ["config", "resume"])]
    pub data: Vec<PathBuf>,
    /// The checkpoint to write (MODEL.safetensors); MODEL.toml, MODEL.history.csv,
    /// MODEL.curves.png and MODEL.last.safetensors go beside it.
    #[arg(long)]
    pub out: PathBuf,
    /// Settings file (TOML, keys as in MODEL.toml); flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Continue the run saved at --out (settings from its MODEL.toml unless overridden):
    /// its weights, step count, learning-rate schedule, best score and minutes
    /// so far. Adam's moments and the draw of training crops start afresh, so
    /// the resumed run goes on from where the run stopped without repeating
    /// the steps an uninterrupted run would have taken.
    #[arg(long)]
    pub resume: bool,
    /// Start from this checkpoint's weights instead of random ones (fine-tuning):
    /// a file, or a compiled-in model by name (builtin, fluo, phase, colony,
    /// nuclei); its architecture is taken unless architecture flags are
    /// given, which must match it.
    #[arg(long, value_name = "MODEL|NAME", conflicts_with = "resume")]
    pub init: Option<PathBuf>,
    /// Replace an existing --out instead of refusing.
    #[arg(long)]
    pub overwrite: bool,
    /// Only these frame numbers, e.g. 0-34.
    #[arg(long)]
    pub frames: Option<FrameRange>,
    /// The channel of each frame to train on, counted from 1 (as `track --channel`).
    #[arg(long, value_name = "N", value_parser = crate::cli::channel_number)]
    pub channel: Option<usize>,
    /// The projection of each time point's z slices to train on, `max` or
    /// `mean` (as `track --project`).
    #[arg(long, value_name = "max|mean", value_parser = crate::cli::projection)]
    pub project: Option<crate::ctc::Projection>,
    /// With `--project`: only these z slices, counted from 1 as Fiji counts
    /// them (Fiji's start and stop slice): `2-4`, or `3` for one slice alone.
    #[arg(long, value_name = "A-B", requires = "project", value_parser = crate::cli::slice_range)]
    pub slices: Option<crate::ctc::SliceRange>,
    /// Frames per window (backpropagation span; default 5).
    #[arg(long)]
    pub window: Option<usize>,
    /// Consecutive windows per stream, state carried between them (default 8).
    #[arg(long)]
    pub windows_per_stream: Option<usize>,
    /// Streams in each optimiser step (default 2).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Crop side in pixels, a multiple of 2^depth (default 160).
    #[arg(long)]
    pub crop: Option<usize>,
    /// Optimiser steps at most (default 5000).
    #[arg(long)]
    pub steps: Option<usize>,
    /// End within this many minutes: the run takes another step only while
    /// that step and the validation closing the run fit in the time left,
    /// judged by the steps and the validation before (checkpoint kept for
    /// --resume).
    #[arg(long)]
    pub max_minutes: Option<f64>,
    /// Adam's learning rate at the start (default 1e-3); cut on validation
    /// plateaus, or along --cosine, down to --min-lr (1e-5).
    #[arg(long)]
    pub lr: Option<f64>,
    /// The floor the learning rate falls to, along --cosine or by plateau
    /// cuts (default 1e-5); at most --lr.
    #[arg(long)]
    pub min_lr: Option<f64>,
    /// Let the learning rate fall along a half cosine to min_lr by the end
    /// of the run (--steps or --max-minutes, whichever ends first) instead
    /// of cutting it on validation plateaus.
    #[arg(long)]
    pub cosine: bool,
    /// Use AMSGrad (Reddi et al. 2018) instead of plain Adam.
    #[arg(long)]
    pub amsgrad: bool,
    /// Fraction of each sequence's last frames held out for validation (default 0.15).
    #[arg(long)]
    pub val_fraction: Option<f64>,
    /// Steps between validations (default 50).
    #[arg(long)]
    pub val_every: Option<usize>,
    /// Crop windows of training data whose pooled statistics replace
    /// BatchNorm's running averages before each validation (0 = keep the averages).
    #[arg(long, value_name = "WINDOWS")]
    pub precise_bn: Option<usize>,
    /// Validations without improvement before stopping (0 = never; default 12).
    #[arg(long)]
    pub early_stop: Option<usize>,
    /// Loss weight of the pixels where touching cells meet or nearly meet
    /// (1 weighs them as any other pixel; higher splits touching cells better).
    #[arg(long, value_name = "W")]
    pub interface_weight: Option<f64>,
    /// Number of 2× downsamplings (default 3).
    #[arg(long)]
    pub depth: Option<usize>,
    /// Channels at full resolution (default 8).
    #[arg(long)]
    pub base_width: Option<usize>,
    /// A plain 2D U-Net (no ConvLSTM cells), for the ablation.
    #[arg(long)]
    pub no_lstm: bool,
    /// Train on frames with their grey levels reversed (bright cells for a
    /// model that learned dark ones, e.g. `--init colony` on bright phase
    /// contrast); the checkpoint records it and `track` inverts by itself.
    #[arg(long)]
    pub invert: bool,
    /// Normalisation: pixel, group, batch or none (default batch).
    #[arg(long)]
    pub norm: Option<Norm>,
    /// Seed of the random draws: initial weights, crops, augmentation
    /// (default 0).
    #[arg(long)]
    pub seed: Option<u64>,
    /// auto, cpu, cuda or cuda:N (default auto: CUDA where there is a GPU).
    #[arg(long)]
    pub device: Option<String>,
    /// CPU threads for libtorch.
    #[arg(long)]
    pub threads: Option<usize>,
    /// After each validation, write DIR/epochNNN.png: the prediction on a
    /// fixed validation crop beside its truth.
    #[arg(long, value_name = "DIR")]
    pub preview: Option<PathBuf>,
}

impl TrainArgs {
    /// The run's settings: defaults (or, with --resume, the saved MODEL.toml),
    /// then --config, then the flags.
    pub fn settings(&self) -> Result<TrainConfig> {
        let files = RunFiles::new(&self.out);
        let mut cfg = if self.resume && files.settings.exists() {
            TrainConfig::overlay_file(&TrainConfig::default(), &files.settings)?
        } else {
            TrainConfig::default()
        };
        // The --config file, when it has a [model] table (checked against --init below).
        let mut config_with_model = None;
        if let Some(c) = &self.config {
            let table = TrainConfig::read_table(c)?;
            if table.contains_key("model") {
                config_with_model = Some(c);
            }
            cfg = TrainConfig::overlay(&cfg, table, c)?;
        }
        if !self.data.is_empty() {
            cfg.data = self.data.clone();
        }
        if let Some(init) = &self.init {
            // The starting checkpoint's architecture, before flags that may
            // contradict it; a [model] table in --config must agree with it.
            let model = super::ModelSource::from_arg(init).metadata()?.0;
            // Inverted input is how the data is shown, not architecture: a
            // --config may set it; else the run keeps the checkpoint's.
            if let Some(c) = config_with_model
                && !cfg.model.same_architecture(&model)
            {
                bail!("{}: the [model] settings ({}) differ from the architecture of the --init checkpoint {} ({})", c.display(), cfg.model.describe(), init.display(), model.describe());
            }
            let invert = if config_with_model.is_some() { cfg.model.invert } else { model.invert };
            cfg.model = ModelConfig { invert, ..model };
            cfg.init = Some(init.clone());
        }
        macro_rules! set {
            ($($flag:ident => $field:expr),* $(,)?) => { $( if let Some(v) = &self.$flag { $field = v.clone().into(); } )* };
        }
        set!(frames => cfg.frames, channel => cfg.channel, project => cfg.project, slices => cfg.slices, window => cfg.window, windows_per_stream => cfg.windows_per_stream, batch => cfg.batch,
             crop => cfg.crop, steps => cfg.steps, max_minutes => cfg.max_minutes, lr => cfg.lr, min_lr => cfg.min_lr,
             val_fraction => cfg.val_fraction, val_every => cfg.val_every, precise_bn => cfg.precise_bn, early_stop => cfg.early_stop,
             interface_weight => cfg.interface_weight,
             depth => cfg.model.depth, base_width => cfg.model.base_width, norm => cfg.model.norm, seed => cfg.seed,
             device => cfg.device, threads => cfg.threads, preview => cfg.preview);
        if self.amsgrad {
            cfg.amsgrad = true;
        }
        if self.cosine {
            cfg.cosine = true;
        }
        if self.no_lstm {
            cfg.model.lstm = false;
        }
        if self.invert {
            cfg.model.invert = true;
        }
        if cfg.data.is_empty() {
            bail!("no training data: give --data DIR (or data = [...] in --config)");
        }
        cfg.check()?;
        Ok(cfg)
    }
}

/// Runs `cellstream train`.
pub fn train_command(args: TrainArgs) -> Result<std::process::ExitCode> {
    // Before anything reads the run's files: what a killed run set aside
    // goes back (the preview folder's once the settings name it, below).
    let say = |back: Vec<std::path::PathBuf>| {
        if !back.is_empty() {
            eprintln!(
                "put back {} of an earlier run that a run killed before its first checkpoint had set aside: {}",
                if back.len() == 1 { "a file" } else { "the files" },
                back.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            );
        }
    };
    say(super::train::EarlierRun::recover(&RunFiles::new(&args.out), None));
    let cfg = args.settings()?;
    say(super::train::EarlierRun::recover(&RunFiles::new(&args.out), cfg.preview.as_deref()));
    if !args.resume && !args.overwrite && args.out.exists() {
        bail!("{}: exists; pass --resume to continue that run or --overwrite to replace it", args.out.display());
    }
    if args.out.extension().is_none_or(|e| e != "safetensors") {
        bail!("{}: the checkpoint's name must end in .safetensors", args.out.display());
    }
    if args.out.to_string_lossy().ends_with(".last.safetensors") {
        bail!("{}: names the latest checkpoint of a run (MODEL.last.safetensors beside MODEL.safetensors); name the checkpoint otherwise", args.out.display());
    }
    let files = RunFiles::new(&args.out);
    // The files written beside the checkpoint are the run's too: a settings
    // file of the user's own, or an earlier run's history, is not replaced
    // unasked; and the --config file read is never written over.
    if let Some(c) = &args.config
        && !args.resume
        && std::path::absolute(c).ok() == std::path::absolute(&files.settings).ok()
    {
        bail!("{}: is the settings file this run writes beside {}; copy it, or name the checkpoint otherwise", c.display(), args.out.display());
    }
    if !args.resume
        && !args.overwrite
        && let Some(p) = files.all()[1..].iter().find(|p| p.exists())
    {
        bail!("{}: exists, and this run would write it; pass --overwrite to replace it, --resume to continue that run, or name the checkpoint otherwise", p.display());
    }
    // An earlier run's previews are as much its own as its history.
    if !args.resume
        && !args.overwrite
        && let Some(dir) = &cfg.preview
        && let Some(p) = super::train::preview_pictures(dir)?.first()
    {
        bail!("{}: an earlier run's preview, which this run would replace; pass --overwrite to replace them, or give another --preview folder", p.display());
    }
    // A resumed run goes on with its own data: its best score and checkpoint
    // were chosen on them.
    if args.resume && (args.lr.is_some() || args.min_lr.is_some()) {
        bail!("--resume continues the run's own learning rate (cut on plateaus or along --cosine, down to its min_lr); to train on at another rate, start a new run from its checkpoint: --init {} --lr RATE --out OTHER.safetensors", args.out.display());
    }
    // The run's saved settings, as it started (cfg has this command's flags over them).
    let saved = if args.resume && files.settings.exists() { Some(TrainConfig::overlay_file(&TrainConfig::default(), &files.settings)?) } else { None };
    if let Some(saved) = saved.as_ref().filter(|_| !args.data.is_empty()) {
        let saved = &saved.data;
        // The same sequences, however the folders are spelt (a dataset folder or its sequences).
        let same = |a: &[std::path::PathBuf], b: &[std::path::PathBuf]| {
            let sequences = |v: &[std::path::PathBuf]| -> Option<std::collections::BTreeSet<std::path::PathBuf>> {
                v.iter().map(|d| super::data::sequence_dirs(d).ok()).collect::<Option<Vec<_>>>().map(|s| s.into_iter().flatten().filter_map(|p| p.canonicalize().ok()).collect())
            };
            sequences(a) == sequences(b)
        };
        // Saved paths relative to another folder cannot be compared from here:
        // --data is then how the run finds its data again.
        if !saved.is_empty() && saved.iter().all(|p| p.exists()) && !same(saved, &args.data) {
            bail!(
                "--resume continues the run on its own data ({}), whose validation chose its best checkpoint; to go on training on {}, start a new run from it: --init {} --out OTHER.safetensors",
                saved.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
                args.data.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
                args.out.display()
            );
        }
    }
    // Nor may it choose other frames of them, or hold out others for
    // validation: the best score so far was measured on the run's own.
    if let Some(saved) = &saved {
        let show = |v: &TrainConfig| -> [(&str, String); 6] {
            let opt = |o: Option<String>| o.unwrap_or_else(|| "unset".into());
            [
                ("--frames", opt(v.frames.map(String::from))),
                ("--val-fraction", v.val_fraction.to_string()),
                ("--window", v.window.to_string()),
                ("--channel", opt(v.channel.map(|c| c.to_string()))),
                ("--project", opt(v.project.map(|p| p.name().to_string()))),
                ("--slices", opt(v.slices.map(String::from))),
            ]
        };
        if let Some(((flag, was), (_, now))) = show(saved).into_iter().zip(show(&cfg)).find(|(a, b)| a.1 != b.1) {
            bail!(
                "--resume continues the run on its own frames ({flag} {was}), whose validation chose its best checkpoint; to go on training with {flag} {now}, start a new run from it: --init {} --out OTHER.safetensors",
                args.out.display()
            );
        }
    }
    // A settings file names its data as given where it was written (a run's
    // MODEL.toml, where that run started).
    if let Some(c) = args.config.as_ref().filter(|_| !args.resume && args.data.is_empty())
        && let Some(d) = cfg.data.iter().find(|d| d.is_relative() && !d.exists())
    {
        return Err(not_found_from_here(d, c, "names its data folders relative to the folder it was written for (a run's MODEL.toml: where the run started): run from that folder"));
    }
    // The checkpoint's folder, made here, goes again if the run leaves nothing in it.
    let _made = args.out.parent().filter(|p| !p.as_os_str().is_empty()).map(MadeFolders::create).transpose()?;
    // The saved settings hold the data folders as they were given: a
    // relative one is relative to where the run started, not to the model.
    // So is a relative preview folder: from elsewhere it would be another.
    if args.resume
        && !args.data.is_empty()
        && args.preview.is_none()
        && let Some(p) = cfg.preview.as_ref().filter(|p| p.is_relative())
        && saved.as_ref().is_some_and(|saved| saved.data.iter().any(|d| d.is_relative() && !d.exists()))
    {
        bail!("{}: the preview folder {} names is relative to where the run started; give --preview DIR as well", files.settings.display(), p.display());
    }
    if args.resume
        && args.data.is_empty()
        && let Some(d) = cfg.data.iter().find(|d| d.is_relative() && !d.exists())
    {
        return Err(not_found_from_here(d, &files.settings, "names the training data as given where the run started: continue it from that folder"));
    }
    // The outputs must not lie in the sequences or the truth read.
    let mut inputs = Vec::new();
    for d in &cfg.data {
        for s in super::data::sequence_dirs(d)? {
            let truth = crate::ctc::Sequence::open(&s).map(|q| q.truth_dirs()).unwrap_or_default();
            inputs.push(s);
            inputs.extend(truth);
        }
    }
    if let Some(dir) = &cfg.preview
        && let Some(f) = files.all().into_iter().find(|f| std::path::absolute(f).ok() == std::path::absolute(dir).ok())
    {
        bail!("--preview {}: names {}, a file this run writes (the checkpoint, or one beside it); give the previews a folder of their own", dir.display(), f.display());
    }
    let outputs: Vec<&std::path::Path> = files.all().into_iter().map(|p| p.as_path()).chain(cfg.preview.as_deref()).collect();
    crate::ctc::check_outputs_apart(&outputs, &inputs.iter().map(|p| p.as_path()).collect::<Vec<_>>())?;
    let data = load_sequences(&cfg.data, cfg.frames, cfg.model.invert, cfg.planes())?;
    super::data::check_trainable(&data, cfg.val_fraction, cfg.window)?;
    // A crop larger than every frame is mostly padding, at the cost of its whole area.
    let largest = data.iter().filter_map(|s| s.frames.first()).map(|f| f.dim().0.max(f.dim().1)).max().unwrap_or(0);
    let whole = largest.next_multiple_of(cfg.model.multiple());
    if cfg.crop > whole {
        eprintln!(
            "note: crop {} is larger than the frames (at most {largest} px a side): each crop is mostly padding, and a step costs {:.0}× what --crop {whole} (a whole frame) would",
            cfg.crop,
            (cfg.crop as f64 / whole as f64).powi(2)
        );
    }
    let mut validated = false;
    for s in &data {
        let (gold, silver, tra) = s.truth_counts();
        let (train, val) = split(s.len(), cfg.val_fraction, cfg.window);
        let t = |r: &std::ops::Range<usize>| {
            if r.is_empty() {
                return "none".to_string();
            }
            let annotated = s.truth[r.clone()].iter().filter(|m| m.is_some()).count();
            format!("{}–{} ({annotated} with truth)", s.times[r.start], s.times[r.end - 1])
        };
        eprintln!("{}: {} frames (truth: {gold} GT SEG, {silver} ST SEG, {tra} TRA); training frames {}, validation frames {}", s.name, s.len(), t(&train), t(&val));
        validated |= val.clone().any(|i| s.truth[i].is_some());
    }
    if cfg.val_fraction > 0.0 && !validated {
        eprintln!(
            "warning: no validation frame holds truth (validation takes the last {}% of each sequence's frames, where at least {} frames are left to train on), so nothing is validated: early stopping is off and the best checkpoint is the last; --val-fraction 0 says so, or annotate a frame in the validation block",
            (cfg.val_fraction * 100.0).round(),
            cfg.window
        );
    }
    if cfg.init.is_some() && !args.resume && args.lr.is_none() && cfg.lr == TrainConfig::default().lr {
        eprintln!("note: fine-tuning at the default learning rate {:e}, meant for training from scratch; README's fine-tunes ran at 3e-4 (--lr 3e-4)", cfg.lr);
    }
    // Ctrl-C ends the run after its current step, validated and saved.
    crate::cli::stop_gracefully_on_interrupt("\nstopping: validating and saving the current step for --resume (Ctrl-C again to abandon it)\n");
    // A run that fails before its first checkpoint leaves nothing behind
    // (and an earlier run's files it replaces are put back), so that it can
    // be run again as it was typed.
    let report = fit(&cfg, &data, &args.out, args.resume)?;
    let why = match report.stop {
        Stop::Steps => "step limit reached",
        Stop::TimeLimit if args.resume => "time limit reached (a resumed run counts the minutes it ran before: give a larger --max-minutes to go on)",
        Stop::TimeLimit => "time limit reached",
        Stop::EarlyStop => "validation SEG stopped improving",
        Stop::Interrupted => "interrupted (--resume continues the run)",
    };
    let p = &report.progress;
    eprintln!(
        "{why} after {} steps ({:.1} min, {} parameters); best validation SEG {} at step {}",
        p.step,
        p.seconds / 60.0,
        report.parameters,
        p.best_val_seg.map_or("–".into(), |v| format!("{v:.4}")),
        p.best_step.map_or("–".into(), |s| s.to_string())
    );
    eprintln!("wrote {}, {}, {}, {}, {}", files.best.display(), files.last.display(), files.settings.display(), files.history.display(), files.curves.display());
    if let Some(dir) = cfg.preview.as_ref().filter(|d| std::fs::read_dir(d).is_ok_and(|mut e| e.next().is_some())) {
        eprintln!("previews in {}", dir.display());
    }
    Ok(if report.stop == Stop::Interrupted { std::process::ExitCode::from(crate::cli::INTERRUPTED_STATUS) } else { std::process::ExitCode::SUCCESS })
}

/// A relative data folder of the settings file `settings` that is not found
/// from the current folder: named, with the current folder, what `settings`
/// takes it relative to (`how`), and `--data` as the way out.
fn not_found_from_here(data: &std::path::Path, settings: &std::path::Path, how: &str) -> anyhow::Error {
    let here = std::env::current_dir().map(|c| c.display().to_string()).unwrap_or_else(|_| "the current folder".into());
    anyhow::anyhow!("{}: not found from here ({here}); {} {how}, or give --data", data.display(), settings.display())
}

/// Folders made for a command's output, removed again when dropped where
/// they are still empty (a run that failed before writing anything).
struct MadeFolders(Vec<PathBuf>);

impl MadeFolders {
    /// Makes `dir` and the folders above it that are missing.
    fn create(dir: &std::path::Path) -> Result<MadeFolders> {
        let made: Vec<PathBuf> = dir.ancestors().take_while(|a| !a.as_os_str().is_empty() && !a.exists()).map(PathBuf::from).collect();
        std::fs::create_dir_all(dir).map_err(|e| crate::ctc::CtcError::io(dir, &e))?;
        Ok(MadeFolders(made))
    }
}

impl Drop for MadeFolders {
    fn drop(&mut self) {
        // Innermost first; a folder with anything in it stays, and so do those above it.
        for d in &self.0 {
            if std::fs::remove_dir(d).is_err() {
                break;
            }
        }
    }
}
