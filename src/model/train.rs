//! Fitting the network: streams of windows with truncated backpropagation through time, validation by SEG.
//!
//! Inference carries the recurrent state over hundreds of frames, so training
//! does too, in part: each batch item is a *stream* that runs through
//! `windows_per_stream` consecutive windows of `window` frames of one
//! sequence, under one crop and augmentation. The state passes from window to
//! window but is detached between them (truncated backpropagation through
//! time, Williams & Peng 1990), so gradients span one window while the network
//! learns to work from states built over many frames. A stream starts from
//! zero state, as inference does at frame 0, and turns back in time at either
//! end of the training frames (ping-pong), so that it can run for longer than
//! the sequence: with only 30 training frames of PSC, streams cut at the
//! sequence's end left the state of later frames untrained, and stateful
//! inference fell behind window mode after about 10 frames.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;
use rand_pcg::Pcg64Mcg as TrainRng;
use serde::{Deserialize, Serialize};
use tch::{nn, nn::OptimizerConfig, Device, Kind, Tensor};

use super::augment::{apply_texture, random_cell_pixel, PersistentPattern, View};
use super::checkpoint::{self, TRAINING_KEY};
use super::data::{split, TrainSequence};
use super::history::{open_history, read_history, write_curves, HistoryRow};
use super::infer::{InferOptions, Precision, Streamer, Tiles};
use super::loss::loss;
use super::config::Norm;
use super::net::{ConvLstmUNet, PreciseBatchNorm, State};
use super::preview::{write_preview, Preview, PreviewCrop};
use super::tiles::reflect;
use super::train_config::TrainConfig;
use crate::eval::{seg_score, SegScore};

/// Where a run's files go, all beside the checkpoint `MODEL.safetensors`.
#[derive(Debug, Clone)]
pub struct RunFiles {
    /// Best weights by validation SEG (the latest when there is no validation).
    pub best: PathBuf,
    /// Latest weights, for `--resume`.
    pub last: PathBuf,
    /// The settings used (`MODEL.toml`).
    pub settings: PathBuf,
    /// One row per step: epoch, step, loss, val_seg, lr, seconds.
    pub history: PathBuf,
    /// The history drawn ([`crate::render::plots::draw_training_curves`]).
    pub curves: PathBuf,
}

impl RunFiles {
    pub fn new(out: &Path) -> RunFiles {
        let stem = out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "model".into());
        let sibling = |suffix: &str| out.with_file_name(format!("{stem}{suffix}"));
        RunFiles { best: out.to_path_buf(), last: sibling(".last.safetensors"), settings: sibling(".toml"), history: sibling(".history.csv"), curves: sibling(".curves.png") }
    }

    /// Every file of the run: best and latest checkpoints, settings, history, curves.
    pub fn all(&self) -> [&PathBuf; 5] {
        [&self.best, &self.last, &self.settings, &self.history, &self.curves]
    }
}

/// Progress saved in every checkpoint, so that `--resume` continues the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Steps done.
    pub step: usize,
    pub lr: f64,
    pub best_val_seg: Option<f64>,
    pub best_step: Option<usize>,
    /// Validations since the last improvement.
    pub stale: usize,
    pub seconds: f64,
    /// Validation periods completed (the step-0 validation of `--init` not
    /// counted): the history's epoch and the previews' `epochNNN`, which
    /// stay in order when a resumed run changes `val_every`.
    #[serde(default)]
    pub validations: usize,
}

impl Progress {
    /// Books a validation score: a new best resets the plateau count; each
    /// `plateau_patience` validations without one cut the learning rate by
    /// `plateau_factor` (down to `min_lr`). A plateau is counted only once
    /// some cell has been found: early on, SEG sits at 0 while the loss still
    /// falls. Returns whether the score is a new best.
    pub fn record(&mut self, val_seg: Option<f64>, cfg: &TrainConfig) -> bool {
        let improved = match (val_seg, self.best_val_seg) {
            (Some(v), Some(b)) => v > b + 1e-4,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if improved {
            self.best_val_seg = val_seg;
            self.best_step = Some(self.step);
            self.stale = 0;
        } else if self.best_val_seg.is_some_and(|b| b > 0.0) {
            self.stale += 1;
            if !cfg.cosine && self.stale.is_multiple_of(cfg.plateau_patience.max(1)) {
                self.lr = (self.lr * cfg.plateau_factor).max(cfg.min_lr);
            }
        }
        improved
    }

    /// Whether early stopping ends the run.
    pub fn should_stop(&self, cfg: &TrainConfig) -> bool {
        cfg.early_stop > 0 && self.stale >= cfg.early_stop
    }
}

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Steps,
    TimeLimit,
    EarlyStop,
    /// Ctrl-C ([`crate::cli::interrupted`]): the last step validated and saved, for `--resume`.
    Interrupted,
}

/// The outcome of [`fit`].
#[derive(Debug, Clone)]
pub struct TrainReport {
    pub progress: Progress,
    pub stop: Stop,
    /// Mean loss over the last `val_every` steps.
    pub recent_loss: Option<f64>,
    pub parameters: i64,
}

/// A batch item: one crop of one sequence, walked forward (or backward) in time.
struct Stream {
    seq: usize,
    /// Frame indices in the order the stream visits them.
    order: Vec<usize>,
    next: usize,
    windows_left: usize,
    view: View,
    /// [`super::augment::AugmentConfig::persistent_noise`]'s pattern, carried through the stream.
    pattern: Option<PersistentPattern>,
}

/// Trains a network on `data` (validation on the last `val_fraction` of each
/// sequence's frames) and writes the checkpoints and records of [`RunFiles`],
/// the curves redrawn after each validation; with [`TrainConfig::preview`],
/// also a [`write_preview`] picture after each validation.
/// With `resume`, continues from `RunFiles::last` (weights, step, learning
/// rate, best score; the optimiser's moments restart).
pub fn fit(cfg: &TrainConfig, data: &[TrainSequence], out: &Path, resume: bool) -> Result<TrainReport> {
    cfg.check()?;
    let files = RunFiles::new(out);
    let device = cfg.device_choice()?.resolve().map_err(anyhow::Error::msg)?;
    if let Some(n) = cfg.threads {
        tch::set_num_threads(n as i32);
    }
    let (splits, trainable) = training_frames(cfg, data)?;

    let preview = match &cfg.preview {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create the preview folder", dir.display()))?;
            let crop = PreviewCrop::choose(data, &splits);
            if let Some(c) = crop.as_ref().filter(|c| !c.held_out) {
                eprintln!(
                    "no validation frame has truth: the previews in {} show training frame {} of {}, which the network learns from",
                    dir.display(),
                    data[c.seq].times[c.frames.end - 1],
                    data[c.seq].name
                );
            }
            crop.map(|crop| Preview { dir: dir.clone(), crop })
        }
        None => None,
    };

    // A fresh run's files are its own: an earlier run's (`--overwrite`) are
    // set aside, and put back if this run fails before its first checkpoint.
    // The starting weights are read first: --init may name the checkpoint
    // that --overwrite sets aside (a model fine-tuned in place).
    let (vs, net, mut progress) = start_run(cfg, &files, device, resume)?;
    let mut earlier = if resume { None } else { Some(EarlierRun::set_aside(&files, cfg.preview.as_deref())?) };
    // All later randomness comes from this generator; a resumed run draws
    // fresh samples, its seed moved on by the step count.
    let mut rng = TrainRng::seed_from_u64(cfg.seed.wrapping_add(progress.step as u64));
    let mut opt = nn::Adam { wd: cfg.weight_decay, amsgrad: cfg.amsgrad, ..Default::default() }.build(&vs, progress.lr)?;
    let parameters = ConvLstmUNet::parameter_count(&vs);

    std::fs::write(&files.settings, cfg.to_toml()?).with_context(|| format!("{}: cannot write the settings", files.settings.display()))?;
    let mut history = open_history(&files.history, resume, progress.step)?;

    let bar = if progress.step < cfg.steps { ProgressBar::new(cfg.steps as u64) } else { ProgressBar::hidden() };
    bar.set_style(ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")?.progress_chars("=> "));
    bar.set_position(progress.step as u64);

    let started = Instant::now();
    let seconds_before = progress.seconds;
    // A fine-tune is first scored as it starts: its starting model is then a
    // candidate for best, and the history shows what the training added.
    let mut initial_validation = None;
    if !resume && cfg.init.is_some() && progress.step == 0 {
        let validation_started = Instant::now();
        let val_seg = validate_as_trained(&net, cfg, device, data, &splits, &trainable)?;
        if val_seg.is_some() {
            progress.record(val_seg, cfg);
            let meta = serde_json::to_string(&progress)?;
            checkpoint::save(&files.last, &vs, &cfg.model, &[(TRAINING_KEY, meta.clone())])?;
            checkpoint::save(&files.best, &vs, &cfg.model, &[(TRAINING_KEY, meta)])?;
            // The earlier run stays aside until this one has trained a step.
            let line = format!("step      0  val SEG {} (the --init model, before training)", fmt(val_seg));
            say(&bar, line);
            let row = HistoryRow { epoch: 0, step: 0, loss: None, val_seg, lr: progress.lr, seconds: seconds_before };
            writeln!(history, "{}", row.to_csv())?;
            history.flush()?;
            if let Some(p) = &preview {
                write_preview(p, &net, device, data, 0, 0, val_seg)?;
            }
            write_curves(&files.curves, &read_history(&files.history)?)?;
            initial_validation = Some(validation_started.elapsed().as_secs_f64());
        }
    }
    let mut streams: Vec<Option<Stream>> = (0..cfg.batch).map(|_| None).collect();
    let mut state = State::new();
    let mut recent: Vec<f64> = Vec::new();
    let mut saved_at = None;
    // A resumed run's limit counts the minutes it ran before, and so does its schedule.
    let mut budget = TimeBudget::new(cfg.max_minutes.map(|m| m - seconds_before / 60.0));
    if let Some(seconds) = initial_validation {
        budget.validation_done(seconds);
    }
    // A resumed run whose minutes are spent takes no step.
    let mut time_up = resume && !budget.another_step_fits(started.elapsed().as_secs_f64());
    let stop = loop {
        if progress.step >= cfg.steps {
            break Stop::Steps;
        }
        if time_up {
            break if crate::cli::interrupted() { Stop::Interrupted } else { Stop::TimeLimit };
        }
        let step_started = Instant::now();
        refill_streams(cfg, data, &splits, &trainable, &mut streams, &mut state, true, &mut rng);
        if cfg.cosine {
            progress.lr = cosine_lr(cfg, progress.step, seconds_before + started.elapsed().as_secs_f64());
            opt.set_lr(progress.lr);
        }
        let loss_value = train_step(&net, &mut opt, &mut state, cfg, window_batch(cfg, data, &mut streams, device, &mut rng))?;
        if let Some(v) = loss_value {
            if !v.is_finite() {
                bail!("the loss became {v} at step {}; lower the learning rate (--lr)", progress.step + 1);
            }
            recent.push(v);
        }
        state.detach();
        progress.step += 1;
        bar.set_position(progress.step as u64);
        budget.step_done(step_started.elapsed().as_secs_f64());

        let mut val_seg = None;
        // The last step validates too, whether the step count or the time
        // limit ends the run: the checkpoint kept as best is then scored.
        // Under --max-minutes the run ends on the step after which another
        // step and its validation would no longer fit in the limit.
        // Ctrl-C ends the run as the time limit does, after this step.
        let out_of_time = !budget.another_step_fits(started.elapsed().as_secs_f64()) || crate::cli::interrupted();
        let validate_now = progress.step % cfg.val_every == 0 || progress.step == cfg.steps || out_of_time;
        let validation_started = Instant::now();
        if validate_now {
            val_seg = validate_as_trained(&net, cfg, device, data, &splits, &trainable)?;
            progress.validations += 1;
            let improved = progress.record(val_seg, cfg);
            opt.set_lr(progress.lr);
            progress.seconds = seconds_before + started.elapsed().as_secs_f64();
            let meta = serde_json::to_string(&progress)?;
            checkpoint::save(&files.last, &vs, &cfg.model, &[(TRAINING_KEY, meta.clone())])?;
            saved_at = Some(progress.step);
            if let Some(e) = earlier.take() {
                e.discard();
            }
            if improved || val_seg.is_none() {
                checkpoint::save(&files.best, &vs, &cfg.model, &[(TRAINING_KEY, meta)])?;
            }
            let mean = mean(&recent);
            bar.set_message(format!("loss {} val SEG {} lr {:.1e}", fmt(mean), fmt(val_seg), progress.lr));
            let line = format!(
                "step {:>6}  loss {}  val SEG {}  best {}  lr {:.1e}  {:.0} ms/step",
                progress.step,
                fmt(mean),
                fmt(val_seg),
                fmt(progress.best_val_seg),
                progress.lr,
                1000.0 * budget.mean_step_seconds()
            );
            say(&bar, line);
        }
        let seconds = seconds_before + started.elapsed().as_secs_f64();
        let epoch = if validate_now { progress.validations } else { progress.validations + 1 };
        let row = HistoryRow { epoch, step: progress.step, loss: loss_value, val_seg, lr: progress.lr, seconds };
        writeln!(history, "{}", row.to_csv())?;
        if validate_now {
            history.flush()?;
            write_curves(&files.curves, &read_history(&files.history)?)?;
            if let Some(p) = &preview {
                write_preview(p, &net, device, data, epoch, progress.step, val_seg)?;
            }
            budget.validation_done(validation_started.elapsed().as_secs_f64());
            if progress.should_stop(cfg) {
                break Stop::EarlyStop;
            }
            recent.clear();
        }
        // A Ctrl-C during the validation stops the run now that it is saved.
        time_up = out_of_time || (validate_now && (crate::cli::interrupted() || !budget.another_step_fits(started.elapsed().as_secs_f64())));
    };
    bar.finish_and_clear();
    history.flush()?;
    write_curves(&files.curves, &read_history(&files.history)?)?;
    progress.seconds = seconds_before + started.elapsed().as_secs_f64();
    if saved_at != Some(progress.step) {
        // The run stopped between validations: keep its latest weights for --resume.
        checkpoint::save(&files.last, &vs, &cfg.model, &[(TRAINING_KEY, serde_json::to_string(&progress)?)])?;
        if !files.best.exists() {
            checkpoint::save(&files.best, &vs, &cfg.model, &[(TRAINING_KEY, serde_json::to_string(&progress)?)])?;
        }
    }
    if let Some(e) = earlier.take() {
        e.discard();
    }
    Ok(TrainReport { progress, stop, recent_loss: mean(&recent), parameters })
}

/// Validation SEG of the network as training left it: with batch
/// normalisation, its statistics made precise on training windows first
/// ([`precise_batch_norm`]), then [`validate`].
fn validate_as_trained(net: &ConvLstmUNet, cfg: &TrainConfig, device: Device, data: &[TrainSequence], splits: &Splits, trainable: &[usize]) -> Result<Option<f64>> {
    if cfg.model.norm == Norm::Batch {
        precise_batch_norm(net, cfg, data, splits, trainable, device);
    }
    validate(net, device, data, splits)
}

/// An earlier run's files that a fresh run replaces (`--overwrite`): its
/// checkpoints, settings, history and curves, and the `epochNNN.png` in the
/// preview folder. They are renamed aside (`.NAME.earlier-PID`, beside
/// each) as the run starts, so that no earlier weights pose as the new
/// run's; removed once the new run has written its first checkpoint
/// ([`EarlierRun::discard`]); and put back, the new run's files removed,
/// if it fails before that (on drop).
pub(crate) struct EarlierRun {
    /// (where the file was, where it is now).
    aside: Vec<(PathBuf, PathBuf)>,
    /// The files the new run writes, removed before the earlier ones return.
    written: Vec<PathBuf>,
    preview: Option<PathBuf>,
}

impl EarlierRun {
    fn set_aside(files: &RunFiles, preview: Option<&Path>) -> Result<EarlierRun> {
        let written: Vec<PathBuf> = files.all().into_iter().cloned().collect();
        let mut run = EarlierRun { aside: Vec::new(), written: written.clone(), preview: preview.map(Path::to_path_buf) };
        let mut earlier: Vec<PathBuf> = written.into_iter().filter(|p| p.exists()).collect();
        if let Some(dir) = preview {
            earlier.extend(preview_pictures(dir)?);
        }
        for p in earlier {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let to = p.with_file_name(format!(".{name}.earlier-{}", std::process::id()));
            // On failure, the drop puts back what was set aside so far.
            std::fs::rename(&p, &to).with_context(|| format!("{}: cannot set the earlier run's file aside", p.display()))?;
            run.aside.push((p, to));
        }
        // A second Ctrl-C, which ends the process at once, puts them back too.
        let back: Vec<(PathBuf, PathBuf)> = run.aside.iter().map(|(from, to)| (to.clone(), from.clone())).collect();
        crate::cli::set_abort_plan(&run.written, &back);
        Ok(run)
    }

    /// Puts back what a run killed outright (SIGKILL, a power cut) left set
    /// aside: `.NAME.earlier-PID` of a process that is gone, beside the
    /// files of `files` and in `preview`. That run never checkpointed a
    /// trained step (it would have removed them), so the files at those
    /// names are its own and worth nothing; they are replaced. Returns the
    /// files put back.
    pub(crate) fn recover(files: &RunFiles, preview: Option<&Path>) -> Vec<PathBuf> {
        let mut folders: Vec<PathBuf> = vec![files.best.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf()];
        folders.extend(preview.map(Path::to_path_buf));
        let names: Vec<String> = files
            .all()
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        let mut back = Vec::new();
        for dir in folders {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for e in entries.flatten() {
                let hidden = e.file_name().to_string_lossy().into_owned();
                let Some((name, pid)) = hidden.strip_prefix('.').and_then(|h| h.rsplit_once(".earlier-")) else { continue };
                let ours = names.iter().any(|n| n == name) || (Some(dir.as_path()) == preview && name.starts_with("epoch") && name.ends_with(".png"));
                let Some(pid) = pid.parse::<i32>().ok().filter(|_| ours) else { continue };
                if pid == std::process::id() as i32 || crate::ctc::process_alive(pid) {
                    continue;
                }
                let to = dir.join(name);
                if std::fs::rename(e.path(), &to).is_ok() {
                    back.push(to);
                }
            }
        }
        back
    }

    /// The new run has its own checkpoint: the earlier files go.
    fn discard(mut self) {
        crate::cli::clear_abort_plan();
        for (_, to) in std::mem::take(&mut self.aside) {
            let _ = std::fs::remove_file(to);
        }
        self.written.clear();
        self.preview = None;
    }
}

impl Drop for EarlierRun {
    /// The run failed before its first checkpoint: its own files go (so
    /// that it can be run again as typed) and the earlier run's come back.
    fn drop(&mut self) {
        crate::cli::clear_abort_plan();
        let mut new: Vec<PathBuf> = std::mem::take(&mut self.written);
        if let Some(dir) = &self.preview {
            new.extend(preview_pictures(dir).unwrap_or_default());
        }
        for p in new {
            let _ = std::fs::remove_file(p);
        }
        for (from, to) in std::mem::take(&mut self.aside) {
            let _ = std::fs::rename(to, from);
        }
    }
}

/// The `epochNNN.png` pictures [`write_preview`] leaves in `dir`.
pub(crate) fn preview_pictures(dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("{}: cannot read the preview folder", dir.display()))?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.strip_prefix("epoch").and_then(|r| r.strip_suffix(".png")).is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())) {
            out.push(e.path());
        }
    }
    Ok(out)
}

/// When a run under `--max-minutes` must stop so that it ends within the
/// limit: it takes another step only while that step and the validation
/// that would then close the run fit in the time left, each judged by the
/// mean of this run's steps so far and by its latest validation (with the
/// curves and preview drawn after it). Before the first validation its cost
/// is unknown and counted as nothing, so only a run too short to validate
/// once before its end can overrun, by that one validation.
#[derive(Debug, Clone)]
struct TimeBudget {
    /// The limit in seconds, if any.
    limit: Option<f64>,
    steps: usize,
    step_seconds: f64,
    validation_seconds: Option<f64>,
}

impl TimeBudget {
    fn new(max_minutes: Option<f64>) -> TimeBudget {
        TimeBudget { limit: max_minutes.map(|m| m * 60.0), steps: 0, step_seconds: 0.0, validation_seconds: None }
    }

    fn step_done(&mut self, seconds: f64) {
        self.steps += 1;
        self.step_seconds += seconds;
    }

    fn validation_done(&mut self, seconds: f64) {
        self.validation_seconds = Some(seconds);
    }

    /// The mean time of this run's steps so far, validations left out.
    fn mean_step_seconds(&self) -> f64 {
        if self.steps == 0 { 0.0 } else { self.step_seconds / self.steps as f64 }
    }

    /// Whether, `elapsed` seconds into the run, one more step and the
    /// validation after it still end within the limit.
    fn another_step_fits(&self, elapsed: f64) -> bool {
        let Some(limit) = self.limit else { return true };
        elapsed + self.mean_step_seconds() + self.validation_seconds.unwrap_or(0.0) <= limit
    }
}

/// The network and progress a run starts from: the last checkpoint with
/// `resume`, else [`TrainConfig::init`]'s weights or fresh ones drawn from
/// the seed, with fresh progress (earlier files removed).
fn start_run(cfg: &TrainConfig, files: &RunFiles, device: Device, resume: bool) -> Result<(nn::VarStore, ConvLstmUNet, Progress)> {
    if resume {
        let from = if files.last.exists() { &files.last } else { &files.best };
        let loaded = checkpoint::load(from, device).with_context(|| "resuming")?;
        if loaded.net.config() != &cfg.model {
            bail!("{}: the checkpoint's model ({}) differs from the settings' ({})", from.display(), loaded.net.config().describe(), cfg.model.describe());
        }
        let progress: Progress = match loaded.metadata.get(TRAINING_KEY) {
            Some(j) => serde_json::from_str(j).with_context(|| format!("{}: training progress in the metadata", from.display()))?,
            None => bail!("{}: no training progress in the metadata; cannot resume", from.display()),
        };
        // A checkpoint from before `validations` was kept: as it would have counted.
        let progress = if progress.validations == 0 && progress.step > 0 { Progress { validations: progress.step.div_ceil(cfg.val_every), ..progress } } else { progress };
        return Ok((loaded.vs, loaded.net, progress));
    }
    if let Some(init) = &cfg.init {
        let loaded = super::ModelSource::from_arg(init).load(device).with_context(|| "--init")?;
        // The architecture must match; whether frames are inverted may change (`--invert`).
        if !cfg.model.same_architecture(loaded.net.config()) {
            bail!("{}: the checkpoint's model ({}) differs from the settings' ({})", init.display(), loaded.net.config().describe(), cfg.model.describe());
        }
        return Ok((loaded.vs, loaded.net, Progress { lr: cfg.lr, ..Default::default() }));
    }
    let vs = nn::VarStore::new(device);
    let net = {
        // Torch's generator is global: hold it while seeding and drawing the
        // initial weights, so concurrent runs cannot interleave.
        let _guard = super::net::torch_rng();
        tch::manual_seed(cfg.seed as i64);
        ConvLstmUNet::new(&vs.root(), &cfg.model)
    };
    Ok((vs, net, Progress { lr: cfg.lr, ..Default::default() }))
}

/// The learning rate of [`TrainConfig::cosine`] after `step` steps and
/// `seconds` of this run: `min_lr + (lr − min_lr)·(1 + cos πf)/2`, `f` the
/// fraction of the run done by steps or by time, whichever is further.
fn cosine_lr(cfg: &TrainConfig, step: usize, seconds: f64) -> f64 {
    let by_steps = step as f64 / cfg.steps.max(1) as f64;
    let by_time = cfg.max_minutes.map_or(0.0, |m| seconds / (m * 60.0));
    let f = by_steps.max(by_time).clamp(0.0, 1.0);
    cfg.min_lr + (cfg.lr - cfg.min_lr) * 0.5 * (1.0 + (std::f64::consts::PI * f).cos())
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn fmt(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.4}"))
}

/// One optimiser step on a window batch (see [`window_batch`]), the
/// state carried in from the previous window; the loss, if any pixel had truth.
fn train_step(net: &ConvLstmUNet, opt: &mut nn::Optimizer, state: &mut State, cfg: &TrainConfig, (xs, classes, weights): (Tensor, Tensor, Tensor)) -> Result<Option<f64>> {
    let logits: Vec<Tensor> = (0..cfg.window as i64).map(|t| net.forward_step(&xs.select(0, t), state, true)).collect();
    let Some(l) = loss(&Tensor::cat(&logits, 0), &classes.flatten(0, 1), &weights.flatten(0, 1), &cfg.class_weights, cfg.dice_weight, cfg.foreground_dice_weight) else {
        return Ok(None);
    };
    opt.zero_grad();
    l.backward();
    if cfg.grad_clip > 0.0 {
        opt.clip_grad_norm(cfg.grad_clip);
    }
    opt.step();
    Ok(Some(f64::try_from(&l)?))
}

/// Starts a new stream in each slot whose stream has run out (or never
/// started), and zeroes those items' recurrent state. With `stagger`, the
/// very first streams run a random number of windows so that later restarts
/// spread out.
#[allow(clippy::too_many_arguments)]
fn refill_streams(cfg: &TrainConfig, data: &[TrainSequence], splits: &[(std::ops::Range<usize>, std::ops::Range<usize>)], trainable: &[usize], streams: &mut [Option<Stream>], state: &mut State, stagger: bool, rng: &mut TrainRng) {
    let mut keep = vec![1.0f32; streams.len()];
    for (b, s) in streams.iter_mut().enumerate() {
        if s.as_ref().is_none_or(|s| s.windows_left == 0) {
            *s = Some(new_stream(cfg, data, splits, trainable, stagger && s.is_none(), rng));
            keep[b] = 0.0;
        }
    }
    if !state.is_zero() {
        state.reset_items(&Tensor::from_slice(&keep));
    }
}

/// Starts a stream: a sequence (chance proportional to its training frames),
/// a stride and direction, a start frame, and one view for all its windows.
fn new_stream(cfg: &TrainConfig, data: &[TrainSequence], splits: &[(std::ops::Range<usize>, std::ops::Range<usize>)], trainable: &[usize], stagger: bool, rng: &mut TrainRng) -> Stream {
    let total: usize = trainable.iter().map(|&i| splits[i].0.len()).sum();
    let mut pick = rng.random_range(0..total);
    let seq = *trainable
        .iter()
        .find(|&&i| {
            let n = splits[i].0.len();
            if pick < n {
                true
            } else {
                pick -= n;
                false
            }
        })
        .expect("pick < total");
    let range = splits[seq].0.clone();
    let a = &cfg.augment;
    let mut stride = if a.max_stride > 1 && rng.random::<f32>() < a.stride_chance { rng.random_range(2..=a.max_stride) } else { 1 };
    while stride > 1 && (cfg.window - 1) * stride >= range.len() {
        stride -= 1;
    }
    let mut frames: Vec<usize> = range.collect();
    if rng.random::<f32>() < a.reverse {
        frames.reverse();
    }
    // The first streams end at staggered times, so that later restarts spread out.
    let windows = if stagger { rng.random_range(1..=cfg.windows_per_stream) } else { cfg.windows_per_stream };
    // Ping-pong: at either end of the training frames the stream turns back
    // in time, so a stream (and its state) can outlast the sequence.
    let phase = rng.random_range(0..stride);
    let lane: Vec<usize> = frames[phase..].iter().copied().step_by(stride).collect();
    let start = rng.random_range(0..lane.len());
    let order: Vec<usize> = (0..windows * cfg.window).map(|j| lane[reflect(start + j, lane.len())]).collect();
    let s = &data[seq];
    let annotated = order.iter().take(cfg.window).find_map(|&i| s.truth[i].as_ref());
    let cell = annotated.and_then(|m| random_cell_pixel(m, rng));
    let view = View::sample(a, s.frames[0].dim(), cell, rng);
    let pattern = (a.persistent_noise > 0.0).then(|| PersistentPattern::sample(a.persistent_noise, cfg.crop, rng));
    Stream { seq, order, next: 0, windows_left: windows, view, pattern }
}

/// The next window of every stream: inputs `[T, B, 1, C, C]`, classes
/// `[T, B, C, C]` (i64) and pixel weights `[T, B, C, C]` (0 where unannotated).
fn window_batch(cfg: &TrainConfig, data: &[TrainSequence], streams: &mut [Option<Stream>], device: Device, rng: &mut TrainRng) -> (Tensor, Tensor, Tensor) {
    let (k, b, c) = (cfg.window, streams.len(), cfg.crop);
    let mut xs = vec![0f32; k * b * c * c];
    let mut cls = vec![0i64; k * b * c * c];
    let mut ws = vec![0f32; k * b * c * c];
    for (bi, s) in streams.iter_mut().enumerate() {
        let s = s.as_mut().expect("filled");
        let seq = &data[s.seq];
        for t in 0..k {
            let i = s.order[s.next + t];
            let at = (t * b + bi) * c * c;
            let crop = &mut xs[at..at + c * c];
            crop.copy_from_slice(s.view.image(&seq.frames[i], c).as_slice().expect("standard layout"));
            if s.view.texture.0 > 0.0 {
                apply_texture(crop, s.view.texture.0, s.view.texture.1, rng);
            }
            if s.view.noise > 0.0 {
                crop.iter_mut().for_each(|v| *v += s.view.noise * rng.sample::<f32, _>(StandardNormal));
            }
            if let Some(p) = &mut s.pattern {
                p.apply_and_step(crop, rng);
            }
            if let Some(mask) = &seq.truth[i] {
                let (classes, weight): (Array2<u8>, Array2<f32>) = s.view.target(mask, c, cfg.interface_weight as f32, cfg.interface_ring);
                for (j, (&cl, &w)) in classes.iter().zip(weight.iter()).enumerate() {
                    cls[at + j] = cl as i64;
                    ws[at + j] = w;
                }
            }
        }
        s.next += k;
        s.windows_left -= 1;
    }
    let shape = [k as i64, b as i64, c as i64, c as i64];
    (
        Tensor::from_slice(&xs).view([k as i64, b as i64, 1, c as i64, c as i64]).to_device(device),
        Tensor::from_slice(&cls).view(shape).to_device(device),
        Tensor::from_slice(&ws).view(shape).to_device(device).to_kind(Kind::Float),
    )
}

type Splits = Vec<(std::ops::Range<usize>, std::ops::Range<usize>)>;

/// Each sequence's training and validation frames, and the sequences that
/// can give a training window.
fn training_frames(cfg: &TrainConfig, data: &[TrainSequence]) -> Result<(Splits, Vec<usize>)> {
    let splits: Splits = data.iter().map(|s| split(s.len(), cfg.val_fraction, cfg.window)).collect();
    let trainable: Vec<usize> = (0..data.len()).filter(|&i| splits[i].0.len() >= cfg.window && data[i].truth[splits[i].0.clone()].iter().any(Option::is_some)).collect();
    if trainable.is_empty() {
        super::data::check_trainable(data, cfg.val_fraction, cfg.window)?;
        bail!("no sequence has {} consecutive training frames with truth among them (window {})", cfg.window, cfg.window);
    }
    Ok((splits, trainable))
}

/// Recomputes the BatchNorm statistics of a trained `net` as training's
/// validations do ([`TrainConfig::precise_bn`] crop windows of the training
/// frames of `data`), e.g. for a checkpoint saved before precise statistics
/// existed.
pub fn recalibrate_batch_norm(net: &ConvLstmUNet, cfg: &TrainConfig, data: &[TrainSequence], device: Device) -> Result<()> {
    let (splits, trainable) = training_frames(cfg, data)?;
    precise_batch_norm(net, cfg, data, &splits, &trainable, device);
    Ok(())
}

/// Replaces `net`'s BatchNorm running statistics with statistics pooled over
/// `cfg.precise_bn` crop windows of training streams ([`PreciseBatchNorm`]),
/// 8 streams at a time, each carrying its state through 2 windows. They are
/// drawn as training draws its streams but from a generator of their own, the
/// same at every validation, so training's random sequence is untouched.
fn precise_batch_norm(net: &ConvLstmUNet, cfg: &TrainConfig, data: &[TrainSequence], splits: &[(std::ops::Range<usize>, std::ops::Range<usize>)], trainable: &[usize], device: Device) {
    let pcfg = TrainConfig { batch: 8, windows_per_stream: 2, ..cfg.clone() };
    let mut rng = TrainRng::seed_from_u64(cfg.seed ^ 0x5052_4543_4953_4542);
    let mut streams: Vec<Option<Stream>> = (0..pcfg.batch).map(|_| None).collect();
    let mut state = State::new();
    let mut precise = PreciseBatchNorm::new();
    for _ in 0..cfg.precise_bn.div_ceil(pcfg.batch) {
        refill_streams(&pcfg, data, splits, trainable, &mut streams, &mut state, false, &mut rng);
        let (xs, _, _) = window_batch(&pcfg, data, &mut streams, device, &mut rng);
        for t in 0..pcfg.window as i64 {
            precise.step(net, &xs.select(0, t), &mut state);
        }
    }
    precise.finish(net);
}

/// SEG over the validation blocks: each block streamed from zero state,
/// whole frames, every annotated frame scored. `None` without any block.
fn validate(net: &ConvLstmUNet, device: Device, data: &[TrainSequence], splits: &[(std::ops::Range<usize>, std::ops::Range<usize>)]) -> Result<Option<f64>> {
    let mut score = SegScore::default();
    let options = InferOptions { tiles: Tiles::Auto, precision: Precision::F32, ..Default::default() };
    for (s, (_, val)) in data.iter().zip(splits) {
        if val.is_empty() {
            continue;
        }
        let mut streamer = Streamer::new(options, net.config(), device)?;
        for i in val.clone() {
            let p = streamer.push(net, device, &s.frames[i])?;
            if let Some(truth) = &s.truth[i] {
                score += seg_score(truth, &p.instances());
            }
        }
    }
    Ok(score.value())
}

/// A line of the run's progress, above the bar or alone where the bar is
/// hidden. A closed stderr (`train … 2>&1 | tee log`, tee ended by the same
/// Ctrl-C) is ignored: the run goes on to save its work.
fn say(bar: &ProgressBar, line: String) {
    if bar.is_hidden() {
        let _ = writeln!(std::io::stderr(), "{line}");
    } else {
        bar.println(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AugmentConfig;

    #[test]
    fn streams_stay_in_training_frames_and_bounce() {
        let frames = vec![Array2::<f32>::zeros((8, 8)); 10];
        let truth = (0..10).map(|_| Some(crate::ctc::Mask::from_elem((8, 8), 1))).collect();
        let data = [TrainSequence::from_frames("s", frames, truth).unwrap()];
        let cfg = TrainConfig { window: 3, windows_per_stream: 6, crop: 8, val_fraction: 0.2, augment: AugmentConfig::default(), ..Default::default() };
        let splits = vec![split(10, cfg.val_fraction, cfg.window)];
        assert_eq!(splits[0], (0..8, 8..10));
        let mut rng = TrainRng::seed_from_u64(4);
        for _ in 0..50 {
            let s = new_stream(&cfg, &data, &splits, &[0], false, &mut rng);
            assert_eq!(s.order.len(), 18, "6 windows of 3 frames, longer than the 8 training frames");
            assert!(s.order.iter().all(|&i| i < 8), "validation frame in {:?}", s.order);
            let steps: Vec<usize> = s.order.windows(2).map(|w| w[0].abs_diff(w[1])).collect();
            let stride = steps[0];
            assert!((1..=2).contains(&stride) && steps.iter().all(|&d| d == stride), "{:?}", s.order);
        }
        let staggered: Vec<usize> = (0..20).map(|_| new_stream(&cfg, &data, &splits, &[0], true, &mut rng).windows_left).collect();
        assert!(staggered.iter().all(|&w| (1..=6).contains(&w)) && staggered.iter().any(|&w| w < 6));
    }

    #[test]
    fn a_time_limited_run_stops_while_its_last_step_and_validation_still_fit() {
        let unlimited = TimeBudget::new(None);
        assert!(unlimited.another_step_fits(1e9));
        let mut b = TimeBudget::new(Some(1.0));
        assert!(b.another_step_fits(0.0) && !b.another_step_fits(60.5), "no step measured yet: only the limit itself");
        b.step_done(2.0);
        b.step_done(4.0);
        assert!(b.another_step_fits(57.0), "57 s + a 3 s step = 60 s");
        assert!(!b.another_step_fits(57.5));
        b.validation_done(10.0);
        assert!(b.another_step_fits(47.0) && !b.another_step_fits(47.5), "a step of 3 s and a validation of 10 s must fit");
        b.validation_done(1.0);
        assert!(b.another_step_fits(56.0), "the latest validation's cost counts");
    }

    #[test]
    fn cosine_rate_falls_from_lr_to_min_lr_by_steps_or_time() {
        let cfg = TrainConfig { cosine: true, lr: 1e-3, min_lr: 1e-5, steps: 100, max_minutes: Some(1.0), ..Default::default() };
        assert!((cosine_lr(&cfg, 0, 0.0) - 1e-3).abs() < 1e-12);
        let mid = 1e-5 + (1e-3 - 1e-5) * 0.5;
        assert!((cosine_lr(&cfg, 50, 0.0) - mid).abs() < 1e-12, "half the steps: half way");
        assert!((cosine_lr(&cfg, 10, 30.0) - mid).abs() < 1e-12, "half the time: half way, though few steps ran");
        assert!((cosine_lr(&cfg, 100, 0.0) - 1e-5).abs() < 1e-12);
        assert!((cosine_lr(&cfg, 10, 600.0) - 1e-5).abs() < 1e-12, "past the time limit it stays at min_lr");
        let mut p = Progress { lr: 1e-3, ..Default::default() };
        for v in [0.5, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4] {
            p.record(Some(v), &cfg);
        }
        assert_eq!(p.lr, 1e-3, "no plateau cuts under the cosine schedule");
        assert_eq!(p.stale, 8, "but plateaus still count towards early stopping");
    }

    #[test]
    fn plateaus_cut_the_rate_and_stop_the_run() {
        let cfg = TrainConfig { lr: 1e-3, plateau_patience: 2, plateau_factor: 0.5, min_lr: 3e-4, early_stop: 5, ..Default::default() };
        let mut p = Progress { lr: cfg.lr, ..Default::default() };
        // SEG stuck at 0 before any cell is found: no plateau.
        for _ in 0..4 {
            p.record(Some(0.0), &cfg);
        }
        assert_eq!((p.stale, p.lr), (0, 1e-3));
        p.step = 7;
        assert!(p.record(Some(0.5), &cfg));
        assert_eq!((p.best_val_seg, p.best_step), (Some(0.5), Some(7)));
        let lrs: Vec<f64> = (0..5).map(|_| { assert!(!p.record(Some(0.45), &cfg)); p.lr }).collect();
        assert_eq!(lrs, vec![1e-3, 5e-4, 5e-4, 3e-4, 3e-4]);
        assert!(p.should_stop(&cfg));
        assert!(p.record(Some(0.6), &cfg) && p.stale == 0 && !p.should_stop(&cfg));
    }
}

