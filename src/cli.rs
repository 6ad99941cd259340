//! The `cellstream` command line: one subcommand per job.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use crate::{ctc, simulate};

#[derive(Parser, Debug)]
#[command(name = "cellstream", version, about = "Segment, track and score cells in CTC time-lapse sequences")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check a CTC result folder (maskTTT.tif + res_track.txt) against every rule of the format.
    Validate {
        /// The result folder, e.g. 01_RES.
        res: PathBuf,
        /// Write the violations as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Score a result (or a dataset of results) against ground truth: SEG, DET, TRA, LNK, CT, TF, BC(i), CHOTA, HOTA, MOTA, IDF1 … (as py-ctcmetrics) and object precision/recall.
    Evaluate(crate::eval::EvaluateArgs),
    /// Segment a sequence (or take another tool's masks), link the cells into tracks and a lineage, and write a CTC result.
    Track(Box<crate::track::TrackArgs>),
    /// Simulate a time-lapse with exact ground truth: OUT/01, OUT/01_GT/SEG, OUT/01_GT/TRA.
    Simulate(simulate::SimulateArgs),
    /// Turn probability or foreground TIFFs made by any tool into instance masks (maskNNN.tif).
    Postprocess(crate::post::command::PostprocessArgs),
    /// Train the ConvLSTM-UNet on CTC sequences with truth (writes MODEL.safetensors and beside it
    /// MODEL.last.safetensors, .toml, .history.csv, .curves.png).
    Train(Box<crate::model::TrainArgs>),
    /// Draw a result: overlay PNGs, a GIF, the lineage (SVG, PNG), cell counts and, with truth, the PR curve.
    Render(crate::render::RenderArgs),
    /// Write one self-contained HTML report: scores, plots, lineage, sample overlays, the run's parameters.
    Report(crate::render::ReportArgs),
    /// Write a result for other tools: napari's tracks table (CSV), a TrackMate XML file, a GEFF graph (motile, ultrack, trackastra), a lineage table.
    Export(crate::export::ExportArgs),
}

/// Lets a closed pipe end the process quietly, as it ends `grep` or `cat`
/// (`cellstream evaluate … | head`). Rust starts programs with SIGPIPE
/// ignored, so a write to a pipe whose reader has gone fails, and `println!`
/// then panics with a backtrace. Every file a command writes is staged and
/// renamed into place whole, so a command ended so leaves nothing half-written.
/// A process-wide setting: call it once at the start, before other threads.
#[cfg(unix)]
pub fn end_quietly_on_closed_pipe() {
    // SAFETY: restoring the default disposition of one signal, before any
    // other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Keeps freed memory in the process for the next frame.
///
/// Each frame allocates buffers of a few MB (post-processing) to a few hundred
/// MB (the network's activations at 1024²). glibc serves blocks that large
/// with fresh `mmap`s and gives them back on `free`, so every frame pays the
/// kernel to map and zero its memory again: a quarter of the time on a
/// 1300×1000 frame in post-processing, and 45% of the network's time at 1024²
/// on the CPU (4.9 million page faults for 16 frames). Raising the mmap and
/// trim thresholds makes glibc reuse blocks up to 32 MB; with mmap off, the
/// main arena serves larger ones from its `brk` heap and keeps them when
/// freed. (A thread's own arena still maps blocks over 64 MB afresh, which is
/// why the pipeline runs the network on the main thread.) The network then
/// runs 1.8× faster (0.41 against 0.75 s a frame) for about 1.3× the peak
/// memory. A process-wide setting: call it once at the start.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn reuse_freed_memory() {
    // SAFETY: mallopt only sets allocator tuning parameters; glibc allows it at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20); // glibc's upper limit on 64-bit
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_MMAP_MAX, 0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn reuse_freed_memory() {}

/// The exit status of a command that Ctrl-C ended early, its output saved:
/// 128 + SIGINT, as a shell reports a command Ctrl-C killed.
pub const INTERRUPTED_STATUS: u8 = 130;

/// Whether Ctrl-C (or SIGTERM) asked the command to stop where it can
/// ([`stop_gracefully_on_interrupt`]).
pub fn interrupted() -> bool {
    ctc::stopped_following()
}

static INTERRUPT_MESSAGE: std::sync::atomic::AtomicPtr<u8> = std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());
static INTERRUPT_MESSAGE_LEN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Files to put back if a second Ctrl-C ends the process: each path in
/// `remove` is removed, then each `(from, to)` renamed.
struct AbortPlan {
    remove: Vec<std::ffi::CString>,
    rename: Vec<(std::ffi::CString, std::ffi::CString)>,
}

static ABORT_PLAN: std::sync::atomic::AtomicPtr<AbortPlan> = std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());
static INTERRUPTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// What a second Ctrl-C does before the process dies, until
/// [`clear_abort_plan`]: remove the files `remove`, then rename each
/// `(from, to)` (unlink(2) and rename(2) are async-signal-safe). `train
/// --overwrite` puts the earlier run's files back this way while they are
/// set aside. Paths that cannot be C strings are left out.
pub fn set_abort_plan(remove: &[PathBuf], rename: &[(PathBuf, PathBuf)]) {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &PathBuf| std::ffi::CString::new(p.as_os_str().as_bytes()).ok();
    let plan = AbortPlan { remove: remove.iter().filter_map(c).collect(), rename: rename.iter().filter_map(|(a, b)| Some((c(a)?, c(b)?))).collect() };
    // The plan it replaces is leaked: a handler may be reading it.
    ABORT_PLAN.store(Box::into_raw(Box::new(plan)), std::sync::atomic::Ordering::SeqCst);
}

/// No files to put back on a second Ctrl-C any more.
pub fn clear_abort_plan() {
    ABORT_PLAN.store(std::ptr::null_mut(), std::sync::atomic::Ordering::SeqCst);
}

/// The first Ctrl-C (SIGINT) or SIGTERM says `message` on stderr and asks the
/// command to stop where it can: [`interrupted`] turns true, and a followed
/// acquisition ends as if no frame had come ([`ctc::stop_following`]). A
/// second one (of either) ends the process at once, by that signal, after
/// carrying out the [`set_abort_plan`] if one is set.
pub fn stop_gracefully_on_interrupt(message: &'static str) {
    use std::sync::atomic::Ordering;
    INTERRUPT_MESSAGE_LEN.store(message.len(), Ordering::SeqCst);
    INTERRUPT_MESSAGE.store(message.as_ptr().cast_mut(), Ordering::SeqCst);
    extern "C" fn on_interrupt(signal: libc::c_int) {
        // Only async-signal-safe calls here: write, unlink, rename, signal,
        // raise; nothing allocates or locks.
        if INTERRUPTS.fetch_add(1, Ordering::SeqCst) == 0 {
            let (text, len) = (INTERRUPT_MESSAGE.load(Ordering::SeqCst), INTERRUPT_MESSAGE_LEN.load(Ordering::SeqCst));
            if !text.is_null() {
                unsafe { libc::write(2, text.cast(), len) };
            }
            ctc::stop_following();
            return;
        }
        let plan = ABORT_PLAN.load(Ordering::SeqCst);
        // SAFETY: a plan once stored is never freed (see set_abort_plan).
        if let Some(plan) = unsafe { plan.as_ref() } {
            for p in &plan.remove {
                unsafe { libc::unlink(p.as_ptr()) };
            }
            for (from, to) in &plan.rename {
                unsafe { libc::rename(from.as_ptr(), to.as_ptr()) };
            }
        }
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
    }
    // SAFETY: a plain sigaction with the handler above.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_interrupt as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut action.sa_mask);
        for signal in [libc::SIGINT, libc::SIGTERM] {
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

pub fn main() -> ExitCode {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().get_matches();
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // `track` refuses the options of the segmenter it does not run, which
    // it can only tell from the options typed, not from their defaults.
    if let (Command::Track(args), Some(("track", sub))) = (&mut cli.command, matches.subcommand()) {
        args.given = sub.ids().filter(|id| sub.value_source(id.as_str()) == Some(clap::parser::ValueSource::CommandLine)).map(|id| id.to_string()).collect();
    }
    // Commands that write their files before they print end quietly when
    // their reader goes. `train` and `track` save their work when
    // interrupted, so a progress line to a closed pipe must not end them
    // (`cellstream train … 2>&1 | tee log`, and Ctrl-C, which ends tee at
    // once): for them SIGPIPE stays ignored, and their progress lines and
    // summaries ignore a failed write.
    #[cfg(unix)]
    if !matches!(cli.command, Command::Train(_) | Command::Track(_)) {
        end_quietly_on_closed_pipe();
    }
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Validate { res, json } => validate(res, json),
        Command::Evaluate(args) => crate::eval::run(args),
        Command::Track(args) => crate::track::run(*args),
        Command::Simulate(args) => simulate::run_cli(&args),
        Command::Postprocess(args) => crate::post::command::run(&args),
        Command::Train(args) => crate::model::train_command(*args),
        Command::Render(args) => crate::render::render_command(args),
        Command::Report(args) => crate::render::report_command(args),
        Command::Export(args) => crate::export::run(args),
    }
}

/// `--position N`: a position of an NDTiff acquisition as its index numbers
/// it (Micro-Manager's `Pos0` is 0).
pub fn position_number(s: &str) -> std::result::Result<i64, String> {
    match s.parse::<i64>() {
        Ok(n) if n >= 0 => Ok(n),
        _ => Err(format!("{s} is not a position: positions are numbered from 0 as the acquisition's index numbers them (Micro-Manager's Pos0 is 0)")),
    }
}

/// `--channel N`: a channel number, counted from 1 as Fiji counts them.
pub fn channel_number(s: &str) -> std::result::Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{s} is not a channel number: channels count from 1 (the first channel is 1, as in Fiji)")),
    }
}

/// `--channel N|NAME`: a channel number, counted from 1 as Fiji counts
/// them, or the name the input gives the channel.
pub fn channel_arg(s: &str) -> std::result::Result<ctc::ChannelArg, String> {
    s.parse()
}

/// `--project max|mean`: how each time point's z slices become one frame.
pub fn projection(s: &str) -> std::result::Result<ctc::Projection, String> {
    s.parse()
}

/// `--slices A-B`: the z slices a projection takes, from 1.
pub fn slice_range(s: &str) -> std::result::Result<ctc::SliceRange, String> {
    s.parse()
}

/// Which planes of `--raw`'s frames `render`, `report` and `export` read
/// beside a result (its channel is each command's own).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct RawPlaneArgs {
    /// Of an NDTiff acquisition of several positions, the one to read, as
    /// its index numbers it (as `track --position`); default: the position
    /// the result was tracked from, as its cellstream.toml records it.
    #[arg(long, value_name = "N", requires = "raw", value_parser = position_number)]
    pub position: Option<i64>,
    /// The projection of the raw frames' z slices to read, `max` or `mean`
    /// (as `track --project`).
    #[arg(long, value_name = "max|mean", requires = "raw", value_parser = projection)]
    pub project: Option<ctc::Projection>,
    /// With `--project`: only these z slices, counted from 1 as Fiji counts
    /// them (Fiji's start and stop slice): `2-4`, or `3` for one slice alone.
    #[arg(long, value_name = "A-B", requires = "project", value_parser = slice_range)]
    pub slices: Option<ctc::SliceRange>,
}

impl RawPlaneArgs {
    /// The planes of `raw` to read, with `channel`, for the result `res`:
    /// the position given, else the one `res` records.
    pub fn planes(&self, res: &std::path::Path, raw: &std::path::Path, channel: Option<usize>) -> Result<ctc::Planes> {
        let position = crate::run_record::raw_position(res, raw, self.position)?;
        Ok(ctc::Planes { channel, project: self.project, slices: self.slices, position })
    }
}

fn validate(res: PathBuf, json: Option<PathBuf>) -> Result<ExitCode> {
    if let Some(j) = &json {
        ctc::check_output_file(j)?;
        ctc::check_outputs_apart(&[j], &[&res])?;
    }
    let violations = ctc::validate_result(&res)?;
    if let Some(j) = json {
        let text = serde_json::to_string_pretty(&violations)?;
        ctc::write_atomic(&j, |w| std::io::Write::write_all(w, text.as_bytes()))
            .with_context(|| "writing the JSON report")?;
    }
    if violations.is_empty() {
        println!("{}: valid CTC result", res.display());
        Ok(ExitCode::SUCCESS)
    } else {
        for v in &violations {
            println!("{}: {v}", res.display());
        }
        println!("{}: {} violation(s)", res.display(), violations.len());
        Ok(ExitCode::FAILURE)
    }
}
