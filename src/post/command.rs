//! `cellstream postprocess`: a folder of probability or foreground TIFFs → instance masks.
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use ndarray::Array2;
use rayon::prelude::*;

use super::chain::{instances_from_probability, instances_from_seeds, PostParams, SeedMode};
use super::region_labelling::Connectivity;
use super::threshold::probability_map;
use crate::ctc::{self, CtcError, Frame, ResultWriter};

/// Options of `cellstream postprocess`.
#[derive(Args, Debug, Clone)]
pub struct PostprocessArgs {
    /// Folder of probability or foreground TIFFs, numbered by the last number in their
    /// names (`prob_007.tif`, `t007.tif`, …). Float TIFFs are probabilities in [0, 1];
    /// 8- and 16-bit TIFFs are divided by 255 or 65535; 1-bit TIFFs (boolean masks) are 0 or 1.
    #[arg(long)]
    pub input: PathBuf,
    /// Output folder for `maskNNN.tif` (created or replaced as a whole).
    #[arg(long)]
    pub out: PathBuf,
    /// Foreground is probability > THRESHOLD (use 0 for 0/1 masks stored as 8 or 16 bits).
    #[arg(long, default_value_t = 0.5, value_parser = unit_interval)]
    pub threshold: f32,
    /// Radius in pixels of the disk used to close the foreground (0: no closing).
    #[arg(long, default_value_t = 2)]
    pub closing_radius: usize,
    /// Remove foreground components of fewer pixels.
    #[arg(long, default_value_t = 30)]
    pub min_area: usize,
    /// Split touching cells at maxima of the distance transform at least this many
    /// pixels apart (scikit-image `peak_local_max(min_distance=…)`).
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..), conflicts_with_all = ["h_maxima", "no_split"])]
    pub min_distance: u32,
    /// Split touching cells at h-maxima of the distance transform of this height (pixels)
    /// instead of maxima at a minimum distance.
    #[arg(long, value_parser = positive)]
    pub h_maxima: Option<f32>,
    /// Do not split: each foreground component is one object.
    #[arg(long, conflicts_with = "h_maxima")]
    pub no_split: bool,
    /// Keep holes in objects (by default, background enclosed by an object is filled).
    #[arg(long)]
    pub keep_holes: bool,
    /// Pixel connectivity of objects: 4 (edges) or 8 (edges and corners).
    #[arg(long, default_value_t = 8, value_parser = four_or_eight)]
    pub connectivity: u8,
    /// Folder of seed probability maps numbered like the inputs (e.g. a network's
    /// cell-minus-boundary output): seeds are their components above --seed-threshold,
    /// and cells are flooded from them instead of from distance maxima.
    #[arg(long, conflicts_with_all = ["h_maxima", "no_split"])]
    pub seeds: Option<PathBuf>,
    /// Seeds are seed probability > SEED_THRESHOLD.
    #[arg(long, default_value_t = 0.5, value_parser = unit_interval)]
    pub seed_threshold: f32,
    /// Objects whose mean probability is below this are removed (0: keep all).
    #[arg(long, default_value_t = 0.0, value_parser = unit_interval)]
    pub min_confidence: f32,
    /// Objects smaller than this × the frame's median object area join the
    /// neighbour they border most, or go where they border none (0: off).
    #[arg(long, default_value_t = 0.0, value_parser = unit_interval)]
    pub merge_fragments: f32,
    /// Remove the objects the frame's edge cuts (Cellpose's `exclude_on_edges`),
    /// for annotations that leave cut cells out.
    #[arg(long)]
    pub exclude_on_edges: bool,
    /// Of maps with several channels a pixel (ilastik's probability export:
    /// background, then cell), the channel to read as the probability,
    /// counted from 1.
    #[arg(long, value_name = "N", value_parser = crate::cli::channel_number)]
    pub channel: Option<usize>,
    /// Worker threads (frames run in parallel); default: all cores.
    #[arg(long)]
    pub threads: Option<usize>,
}

fn unit_interval(s: &str) -> Result<f32, String> {
    let v: f32 = s.parse().map_err(|e| format!("{e}"))?;
    if (0.0..1.0).contains(&v) { Ok(v) } else { Err(format!("{v} is not in [0, 1)")) }
}

fn four_or_eight(s: &str) -> Result<u8, String> {
    match s {
        "4" => Ok(4),
        "8" => Ok(8),
        _ => Err(format!("{s} is neither 4 nor 8")),
    }
}

fn positive(s: &str) -> Result<f32, String> {
    let v: f32 = s.parse().map_err(|e| format!("{e}"))?;
    if v > 0.0 && v.is_finite() { Ok(v) } else { Err(format!("{v} is not a positive number")) }
}

impl PostprocessArgs {
    /// The chain's parameters from the options.
    pub fn params(&self) -> PostParams {
        let seeds = if self.no_split {
            SeedMode::Components
        } else if let Some(h) = self.h_maxima {
            SeedMode::DistanceHMaxima { h }
        } else {
            SeedMode::DistanceMaxima { min_distance: self.min_distance as usize }
        };
        PostParams {
            threshold: self.threshold,
            closing_radius: self.closing_radius,
            min_area: self.min_area,
            fill_holes: !self.keep_holes,
            connectivity: if self.connectivity == 4 { Connectivity::Four } else { Connectivity::Eight },
            seeds,
            seed_threshold: self.seed_threshold,
            min_confidence: self.min_confidence,
            merge_fragments: self.merge_fragments,
            exclude_on_edges: self.exclude_on_edges,
        }
    }
}

/// What [`postprocess_folder`] did.
#[derive(Debug, Clone)]
pub struct FolderReport {
    pub dest: PathBuf,
    pub frames: usize,
    pub objects: usize,
    pub threads: usize,
    /// From the first read to the published result.
    pub elapsed: Duration,
    /// CPU time of the process over the same span, all threads (where the OS says).
    pub cpu: Option<Duration>,
}

/// Runs the chain on every TIFF of `input` (optionally with the seed map of the same
/// number in `seeds`), frames in parallel on `threads` threads (all cores if `None`),
/// and publishes `maskNNN.tif` (3 digits, more if a number needs them) into `out`
/// all or nothing: a failure leaves `out` as it was. Errors name the file at fault.
pub fn postprocess_folder(
    input: &Path,
    out: &Path,
    params: &PostParams,
    seeds: Option<&Path>,
    channel: Option<usize>,
    threads: Option<usize>,
) -> ctc::Result<FolderReport> {
    let start = Instant::now();
    let cpu_start = process_cpu_time();
    let files = ctc::list_numbered_tiffs(input)?;
    // Each map is its own frame here, but a time-lapse with one missing
    // cannot be linked: said now, not at `track --masks`.
    if let Some(w) = files.windows(2).find(|w| w[1].0 != w[0].0 + 1) {
        eprintln!(
            "note: {}: no map numbered between {} ({}) and {} ({}); the masks keep the maps' numbers, and `track --masks` links only an unbroken sequence",
            input.display(),
            w[0].0,
            w[0].1.file_name().unwrap_or_default().to_string_lossy(),
            w[1].0,
            w[1].1.file_name().unwrap_or_default().to_string_lossy()
        );
    }
    let seed_files = match seeds {
        Some(dir) => {
            let listed: std::collections::BTreeMap<usize, PathBuf> = ctc::list_numbered_tiffs(dir)?.into_iter().collect();
            let mut paired = Vec::with_capacity(files.len());
            for (t, path) in &files {
                let s = listed.get(t).ok_or_else(|| {
                    CtcError::new(dir, format!("holds no seed map numbered {t} (for {})", path.display()))
                })?;
                paired.push(Some(s.clone()));
            }
            paired
        }
        None => vec![None; files.len()],
    };
    refuse_same_folder(input, out)?;
    // Replacing a tracking result with masks alone would drop its lineage.
    if out.join("res_track.txt").is_file() {
        return Err(CtcError::new(out, "holds a tracking result (res_track.txt), which masks alone would replace, lineage and all; choose another --out"));
    }
    if let Some(dir) = seeds {
        refuse_same_folder(dir, out)?;
    }
    let last = files.iter().map(|(t, _)| *t).max().unwrap_or(0);
    let digits = last.to_string().len().max(3);
    let writer = ResultWriter::create(out, digits)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| CtcError::new(out, format!("cannot start worker threads: {e}")))?;
    let warned = AtomicBool::new(false);
    let objects = pool.install(|| {
        files
            .par_iter()
            .zip(seed_files.par_iter())
            .map(|((t, path), seed)| -> ctc::Result<usize> {
                let prob = read_probability(path, channel, params.threshold, &warned)?;
                let mask = match seed {
                    None => instances_from_probability(prob.view(), params),
                    Some(sp) => {
                        let sprob = read_probability(sp, None, params.seed_threshold, &warned)?;
                        if sprob.dim() != prob.dim() {
                            return Err(CtcError::new(
                                sp,
                                format!("is {:?} (height, width) but {} is {:?}", sprob.dim(), path.display(), prob.dim()),
                            ));
                        }
                        instances_from_seeds(prob.view(), sprob.view(), params)
                    }
                };
                writer.write_mask(*t, &mask)?;
                Ok(mask.iter().copied().max().unwrap_or(0) as usize)
            })
            .try_reduce(|| 0, |a, b| Ok(a + b))
    })?;
    let dest = writer.finish_masks_only()?;
    let cpu = process_cpu_time().zip(cpu_start).map(|(b, a)| b.saturating_sub(a));
    Ok(FolderReport { dest, frames: files.len(), objects, threads: pool.current_num_threads(), elapsed: start.elapsed(), cpu })
}

/// Reads one map as probabilities; warns once if an integer map is entirely at or
/// below `threshold` after scaling although it has non-zero pixels (a 0/1 mask
/// stored as 8 or 16 bits, which needs `--threshold 0`).
fn read_probability(path: &Path, channel: Option<usize>, threshold: f32, warned: &AtomicBool) -> ctc::Result<Array2<f32>> {
    let frame = ctc::read_frame_planes(path, ctc::Planes::from(channel))?;
    let integer = matches!(frame, Frame::U8(_) | Frame::U16(_));
    let prob = probability_map(frame).map_err(|what| CtcError::new(path, what))?;
    if integer && !warned.load(Ordering::Relaxed) {
        let max = prob.iter().copied().fold(0.0f32, f32::max);
        if max > 0.0 && max <= threshold && !warned.swap(true, Ordering::Relaxed) {
            eprintln!(
                "warning: {}: integer image whose largest value scales to {max:.4}, at or below the threshold {threshold}; \
                 if it is a 0/1 mask, pass --threshold 0",
                path.display()
            );
        }
    }
    Ok(prob)
}

/// Refuses to write into the folder the maps are read from (replacing it would delete them).
fn refuse_same_folder(input: &Path, out: &Path) -> ctc::Result<()> {
    if let (Ok(a), Ok(b)) = (input.canonicalize(), out.canonicalize())
        && a == b
    {
        return Err(CtcError::new(out, "is the input folder; choose another output folder"));
    }
    Ok(())
}

/// CPU time consumed by this process so far, all threads.
#[cfg(unix)]
fn process_cpu_time() -> Option<Duration> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec into the valid pointer it is given.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) } == 0;
    ok.then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

#[cfg(not(unix))]
fn process_cpu_time() -> Option<Duration> {
    None
}

/// `cellstream postprocess`.
pub fn run(args: &PostprocessArgs) -> anyhow::Result<std::process::ExitCode> {
    let r = postprocess_folder(&args.input, &args.out, &args.params(), args.seeds.as_deref(), args.channel, args.threads)?;
    let ms = r.elapsed.as_secs_f64() * 1e3;
    let per_frame = |t: f64| t / r.frames.max(1) as f64;
    let cpu = r.cpu.map(|c| format!(", {:.1} ms CPU/frame", per_frame(c.as_secs_f64() * 1e3))).unwrap_or_default();
    println!(
        "postprocess: {} masks ({} objects) written to {} in {:.0} ms ({:.1} ms/frame{cpu}, {} thread{})",
        r.frames,
        r.objects,
        r.dest.display(),
        ms,
        per_frame(ms),
        r.threads,
        if r.threads == 1 { "" } else { "s" }
    );
    Ok(std::process::ExitCode::SUCCESS)
}
