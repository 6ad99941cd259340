//! The `track` command: the stages built for a sequence, or another tool's masks, and handed to the [`pipeline`].
//!
//! The stages are the reader, the segmenter with its post-processing, the
//! linker and the writer.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};

use crate::ctc::{self, CtcError, Frame, Mask};
use crate::link::{LinkConfig, StreamLinker};
use crate::measure::StatsWriter;
use crate::pipeline::{self, OrderedStage, PipelineOptions};
use crate::post::{MergeSplit, MergeSplitter, PostParams, SeedMode};
use crate::model::Probabilities;
use crate::run_record::{path_text, RunRecord};
use crate::segment::{instances_from_model, segment_classical, ClassicalParams, MapWriter, ModelSource};

mod args;
mod progress;
mod stages;

pub(crate) use args::on_off;
pub use args::{ModelArgs, PostArgs, ScaleArg, SegmenterKind, TrackArgs};
use args::{CLASSICAL_ONLY, MODEL_ONLY};
use progress::{print_summary, Progress};
pub use stages::TrackSummary;
use stages::{LinkerStage, MergeStage, ResultStage};

/// A tracking result that another tool wrote (its `res_track.txt` without
/// the run record cellstream leaves, [`ctc::RUN_RECORD`]) is not replaced
/// by `track`, whose result replaces its folder whole: Fiji's, ultrack's or
/// laptrack's `01_RES` is someone's work. cellstream's own is replaced, so
/// that a run can be repeated.
fn refuse_other_tools_result(out: &Path) -> Result<()> {
    if out.join("res_track.txt").is_file() && !out.join(ctc::RUN_RECORD).is_file() {
        bail!(CtcError::new(
            out,
            format!("holds a tracking result that cellstream did not write (res_track.txt without its {}); it is not replaced: give another --out, or move it first", ctc::RUN_RECORD)
        ));
    }
    Ok(())
}

/// Before following the folder `seq` of an acquisition that may not have
/// begun: waits, looking every `poll` for up to `wait`, until it holds a
/// file, then one `poll` more, so that what kind of acquisition it is (TIFF
/// frames, or NDTiff's index beside its first file) shows. A pattern, a
/// file, or a folder that holds files already is taken as it is.
fn await_first_file(seq: &Path, wait: std::time::Duration, poll: std::time::Duration) {
    if ctc::is_pattern(seq) || seq.is_file() {
        return;
    }
    let holds_file = || std::fs::read_dir(seq).is_ok_and(|mut d| d.any(|e| e.is_ok_and(|e| e.path().is_file())));
    // NDTiff's pixel file can land a moment before its index: until the
    // index is there too, what kind of acquisition it is does not show.
    let index_to_come = || {
        !seq.join("NDTiff.index").exists() && std::fs::read_dir(seq).is_ok_and(|mut d| d.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().contains("NDTiffStack"))))
    };
    let start = std::time::Instant::now();
    if holds_file() && !index_to_come() {
        return;
    }
    while (!holds_file() || index_to_come()) && start.elapsed() < wait && !ctc::stopped_following() {
        std::thread::sleep(poll);
    }
    std::thread::sleep(poll);
}

fn default_out(seq: &Path, position: Option<i64>) -> PathBuf {
    // `movie.tif` → `movie_RES`, `01/` → `01_RES`, `pos0/img_{t}_DAPI_000.tif` → `pos0/img_DAPI_000_RES`.
    if ctc::is_pattern(seq) {
        return seq.with_file_name(ctc::pattern_result_name(seq));
    }
    // `.` or `..` (tracking the folder one is in): named as the folder
    // itself, and beside it, never inside it.
    let seq = match seq.file_name() {
        Some(_) if !seq.ends_with(".") => seq.to_path_buf(),
        _ => seq.canonicalize().unwrap_or_else(|_| seq.to_path_buf()),
    };
    let seq = seq.as_path();
    // `image.zarr` → `image_RES`, as a stack file; `movie.ome.tif` → `movie_RES`.
    let name = if seq.is_file() || ctc::is_zarr(seq) { seq.file_stem() } else { seq.file_name() };
    let name = name.map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "seq".into());
    let name = match name.strip_suffix(".ome") {
        Some(stem) if seq.is_file() && !stem.is_empty() => stem.to_string(),
        _ => name,
    };
    // An NDTiff acquisition's position 2: `acq_1` → `acq_1_Pos2_RES`, as Micro-Manager names it.
    let position = position.map(|p| format!("_Pos{p}")).unwrap_or_default();
    seq.with_file_name(format!("{name}{position}_RES"))
}

fn same_folder(a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// Whether one of two output folders is, holds or lies inside the other
/// (compared as absolute paths, as neither need exist yet).
fn nested(a: &Path, b: &Path) -> bool {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (a, b) = (abs(a), abs(b));
    same_folder(&a, &b) || a.starts_with(&b) || b.starts_with(&a)
}

/// Links the label masks in `dir` and writes the CTC result to `out`, all or
/// nothing, through the streaming pipeline.
pub fn track_masks(dir: &Path, out: &Path, cfg: LinkConfig) -> Result<TrackSummary> {
    let run = MasksRun { stats: None, opts: &PipelineOptions::default(), quiet: true, exclude_on_edges: false, merges: None, range: None };
    track_masks_with(dir, out, cfg, run, None)
}

/// How `track --masks` runs, besides the linking itself.
struct MasksRun<'a> {
    stats: Option<&'a Path>,
    opts: &'a PipelineOptions,
    quiet: bool,
    /// Remove the objects the frame's edge cuts from each mask before linking.
    exclude_on_edges: bool,
    /// Split merged cells by the frame before ([`crate::post::split_merges`]).
    merges: Option<MergeSplit>,
    /// Only these time points (`--frames`).
    range: Option<ctc::FrameRange>,
}

/// Refuses a `--frames` range that names none of the time points `all` of
/// `source` (`kept`: those in it), and notes one that ends past the last.
fn check_frames_range(source: &Path, range: ctc::FrameRange, all: &[usize], kept: &[usize], quiet: bool) -> Result<()> {
    let (Some(first), Some(last)) = (all.first(), all.last()) else { return Ok(()) };
    if kept.is_empty() {
        bail!(CtcError::new(source, format!("holds frames {first}–{last}; --frames {range} names none of them")));
    }
    if let (Some(end), false) = (range.last, quiet)
        && end > *last
    {
        eprintln!("note: --frames {range}: {} ends at frame {last}", source.display());
    }
    Ok(())
}

fn track_masks_with(dir: &Path, out: &Path, cfg: LinkConfig, run: MasksRun, mut record: Option<RunRecord>) -> Result<TrackSummary> {
    let MasksRun { stats, opts, quiet, exclude_on_edges, merges, range } = run;
    // A folder of numbered mask TIFFs, or one label stack whose pages are the frames.
    type Masks = Box<dyn Iterator<Item = Result<(usize, Mask)>> + Send>;
    // The masks outside the range are not even opened.
    let (reader, times): (Masks, Vec<usize>) = if ctc::is_zarr(dir) {
        let image = ctc::ZarrImage::open(dir, ctc::Planes::default())?;
        (Box::new(image.masks_in(range).map(|r| r.map_err(anyhow::Error::from))), (0..image.time_points).collect())
    } else if dir.is_file() {
        let stack = ctc::Stack::open(dir)?;
        (Box::new(stack.masks_in(range)?.map(|r| r.map_err(anyhow::Error::from))), (0..stack.time_points).collect())
    } else {
        let all = ctc::list_numbered_tiffs(dir)?;
        let times = all.iter().map(|f| f.0).collect();
        let frames = ctc::mask_frames_in(dir, all, range)?;
        let reader = ctc::of_one_size(frames.into_iter().map(|(t, p)| {
            let m = ctc::read_mask(&p)?;
            let dim = m.dim();
            Ok((t, p, m, dim))
        }));
        (Box::new(reader.map(|r| r.map_err(anyhow::Error::from))), times)
    };
    let last = times.last().copied().unwrap_or(0);
    let kept: Vec<usize> = times.iter().copied().filter(|&t| ctc::FrameRange::admits(range, t)).collect();
    if let Some(range) = range {
        check_frames_range(dir, range, &times, &kept, quiet)?;
    }
    if let Some(r) = &mut record {
        if let Some(range) = range {
            r.section("run").set("frames", range.to_string());
        }
        r.section("segmenter").set("kind", "none: the masks are linked as they are");
        r.section("post").set("exclude_on_edges", exclude_on_edges);
    }
    if same_folder(dir, out) {
        bail!(CtcError::new(out, "is the input folder; write the result to another folder"));
    }
    // A result folder is replaced as a whole: the masks read must not lie in it.
    if let (Ok(d), Ok(o)) = (dir.canonicalize(), out.canonicalize())
        && d.starts_with(&o)
    {
        bail!(CtcError::new(out, format!("holds the masks read ({}), and the result replaces it as a whole; write the result to another folder", dir.display())));
    }
    let digits = last.to_string().len().max(3);
    let identity: Box<dyn pipeline::SegmentStage<Mask, Mask>> = Box::new(|_t, m: Mask| Ok(m));
    let post: Arc<dyn Fn(usize, Mask) -> Result<Mask> + Send + Sync> =
        Arc::new(move |_t, m: Mask| Ok(if exclude_on_edges { crate::post::clear_border(m.view()) } else { m }));
    let ctx = StageContext { out, digits, cfg, stats, opts, quiet, total: kept.len(), record, merges };
    run_stages(reader, identity, post, ctx)
}

/// Everything but the stages themselves that [`run_stages`] needs.
struct StageContext<'a> {
    out: &'a Path,
    /// Digits of the time stamps in the result's file names.
    digits: usize,
    cfg: LinkConfig,
    stats: Option<&'a Path>,
    opts: &'a PipelineOptions,
    quiet: bool,
    /// Frames expected, for the progress bar.
    total: usize,
    record: Option<RunRecord>,
    /// Split merged cells by the frame before, just ahead of the linker.
    merges: Option<MergeSplit>,
}

fn run_stages<In: Send, S: Send>(
    reader: impl Iterator<Item = Result<(usize, In)>> + Send,
    segmenter: Box<dyn pipeline::SegmentStage<In, S>>,
    post: Arc<dyn Fn(usize, S) -> Result<Mask> + Send + Sync>,
    ctx: StageContext<'_>,
) -> Result<TrackSummary> {
    let StageContext { out, digits, cfg, stats, opts, quiet, total, mut record, merges } = ctx;
    if let Some(r) = &mut record {
        r.section("post").set("split_merges", merges.is_some());
        record_link(r, &cfg);
        r.section("pipeline").set("post_threads", opts.post_threads).set("post_when_idle", opts.post_when_idle);
    }
    let writer = ctc::ResultWriter::create(out, digits)?;
    let stats = stats.map(StatsWriter::create).transpose()?;
    let summary = Arc::new(Mutex::new(None));
    let split = merges.map(|_| Arc::new(AtomicUsize::new(0)));
    let merge_stage = merges.zip(split.clone()).map(|(p, split)| Box::new(MergeStage { splitter: MergeSplitter::new(p), split }) as Box<dyn OrderedStage>);
    // Pruning erases branches once the lineage is whole: the stats then
    // measure the masks as published, not as first written.
    let deferred = (stats.is_some() && cfg.prune_branches > 0).then(Vec::new);
    let linker = Box::new(LinkerStage { linker: StreamLinker::new(cfg), merges_split: split, summary: summary.clone() });
    let mut progress = Progress::new(total, quiet);
    let result = Box::new(ResultStage { writer, stats, deferred, record, frames: 0, summary: summary.clone() });
    let frames = pipeline::run(reader, segmenter, post, merge_stage, linker, result, opts, |_| progress.frame());
    progress.finish();
    let frames = frames?;
    let mut s = summary.lock().unwrap().take().context("the linker did not finish")?;
    s.frames = frames;
    Ok(s)
}

/// The linker's settings in `[link]`.
fn record_link(r: &mut RunRecord, cfg: &LinkConfig) {
    r.section("link")
        .set("max_displacement", cfg.max_displacement)
        .set("max_gap", cfg.max_gap)
        .set("divisions", cfg.divisions)
        .set("min_cycle", cfg.division.min_cycle)
        .set("min_size_ratio", cfg.division.min_size_ratio)
        .set("min_area_sum", cfg.division.area_sum_range.0)
        .set("max_area_sum", cfg.division.area_sum_range.1)
        .set("split_min_fraction", cfg.split.fraction)
        .set("split_min_area", cfg.split.min_area)
        .set("prune_branches", cfg.prune_branches)
        .set("backdate_divisions", cfg.backdate_divisions);
}

/// The post-processing chain's settings in `[post]`; `network_seeds`: the
/// watershed's markers come from the network (p(cell) − p(boundary)), not
/// from [`PostParams::seeds`].
fn record_post(r: &mut RunRecord, p: &PostParams, network_seeds: bool) {
    let mut s = r.section("post");
    s.set("threshold", p.threshold)
        .set("closing_radius", p.closing_radius)
        .set("min_area", p.min_area)
        .set("min_confidence", p.min_confidence)
        .set("merge_fragments", p.merge_fragments)
        .set("exclude_on_edges", p.exclude_on_edges)
        .set("fill_holes", p.fill_holes)
        .set("connectivity", format!("{:?}", p.connectivity).to_lowercase());
    match p.seeds {
        _ if network_seeds => s.set("seeds", "p(cell) - p(boundary) > seed_threshold").set("seed_threshold", p.seed_threshold),
        SeedMode::DistanceMaxima { min_distance } => s.set("seeds", "distance maxima").set("min_distance", min_distance),
        SeedMode::DistanceHMaxima { h } => s.set("seeds", "distance h-maxima").set("h", h),
        SeedMode::Components => s.set("seeds", "components"),
    };
}

/// Segments and tracks the sequence in `seq`, writing the CTC result to `out`.
pub fn track_sequence(seq: &Path, out: &Path, args: &TrackArgs, opts: &PipelineOptions) -> Result<TrackSummary> {
    track_sequence_with(seq, out, args, opts, None)
}

fn track_sequence_with(
    seq: &Path,
    out: &Path,
    args: &TrackArgs,
    opts: &PipelineOptions,
    mut record: Option<RunRecord>,
) -> Result<TrackSummary> {
    // A folder of tTTT.tif, or one multi-page TIFF whose pages are the frames.
    type Frames = Box<dyn Iterator<Item = Result<(usize, Frame)>> + Send>;
    // --follow: how long to wait for a frame, and how often to look.
    let follow = args.follow.map(|wait| (std::time::Duration::from_secs_f64(wait), std::time::Duration::from_millis(100)));
    if let Some((wait, poll)) = follow {
        await_first_file(seq, wait, poll);
    }
    // An NDTiff acquisition followed live names its channels as they come:
    // a channel given by name is looked up once its first time point is whole.
    let live_ndtiff = follow.is_some() && ctc::is_ndtiff(seq);
    let (channel, channel_name) = match &args.channel {
        Some(ctc::ChannelArg::Name(name)) if live_ndtiff => (None, Some(name.clone())),
        Some(c) => (Some(c.number_in(seq)?), None),
        None => (None, None),
    };
    if let (Some(ctc::ChannelArg::Number(n)), false) = (&args.channel, args.quiet) {
        // Channels named by numbers (laser lines, or 1 and 2 in another
        // order): say which one the number, counted from 1, reads.
        let names = ctc::channel_names(seq).ok().flatten().unwrap_or_default();
        if let (Some(i), Some(read)) = (names.iter().position(|m| *m == n.to_string()), names.get(n - 1))
            && i + 1 != *n
        {
            eprintln!("note: --channel {n} counts channels from 1 and reads the channel named {read:?}; the one named \"{n}\" is --channel {}", i + 1);
        }
    }
    let planes = args.planes(channel);
    ctc::refuse_position(seq, planes)?;
    let (reader, total, digits): (Frames, usize, usize) = match follow {
        Some(_) if ctc::is_zarr(seq) => bail!(CtcError::new(seq, "is an OME-Zarr image; --follow reads a folder that frames are still being written into")),
        Some(_) if seq.is_file() => bail!(CtcError::new(seq, "is one file; --follow reads a folder that frames are still being written into")),
        // A live acquisition: how many frames will come is not known (total 0).
        Some((wait, poll)) if ctc::is_ndtiff(seq) => {
            (Box::new(ctc::NdTiff::follow(seq, planes, channel_name, args.frames, wait, poll).map(|r| r.map_err(anyhow::Error::from))), 0, 3)
        }
        Some((wait, poll)) => {
            if ctc::names_slices(seq) && planes.project.is_none() {
                // Said now, not after waiting for the first time point to be whole.
                bail!(CtcError::new(seq, "names z slices ({z}), one file each; --project max (or mean) projects each time point's slices into one frame, or name one slice in the pattern"));
            }
            // The first frame may not have come yet.
            let sequence = ctc::Sequence::open_when_ready(seq, args.frames, wait, poll)?.with_planes(planes);
            let frames = sequence.follow_in(args.frames, wait, poll).map(|r| r.map(|(t, p, f)| {
                let dim = f.dim();
                (t, p, f, dim)
            }));
            (Box::new(ctc::of_one_size(frames).map(|r| r.map_err(anyhow::Error::from))), 0, sequence.digits())
        }
        None => {
            let raw = ctc::RawFrames::open_span(seq, planes, args.frames)?;
            if let (Some(record), ctc::RawFrames::NdTiff(data)) = (record.as_mut(), &raw)
                && let Some(name) = &data.channel_name
            {
                // The run record says which channel was tracked by its name too.
                record.section("run").set("channel_name", name.as_str());
            }
            let times = raw.times_in(args.frames);
            if let Some(range) = args.frames {
                check_frames_range(seq, range, &raw.times_in(None), &times, args.quiet)?;
            }
            (Box::new(raw.frames_in(args.frames)?.map(|r| r.map_err(anyhow::Error::from))), times.len(), raw.digits())
        }
    };
    // Every reader above reads the span alone; a followed folder may end before it, or short of its end.
    let reader: Frames = match (args.frames, follow) {
        (Some(range), Some((wait, _))) => followed_span(reader, seq.to_path_buf(), range, wait, args.quiet),
        _ => reader,
    };
    if let (Some(r), Some(range)) = (&mut record, args.frames) {
        r.section("run").set("frames", range.to_string());
    }
    let reader = with_finite_pixels(reader, args.quiet);
    if same_folder(seq, out) {
        bail!(CtcError::new(out, "is the sequence folder; write the result to another folder"));
    }
    if let Some(maps) = &args.model.save_probabilities
        && nested(maps, out)
    {
        bail!(CtcError::new(maps, format!("is, holds or lies inside the result folder {}; write the probability maps elsewhere", out.display())));
    }
    let cfg = args.link.config()?;
    let params = ClassicalParams {
        polarity: args.polarity,
        background_sigma: args.background_sigma,
        post: args.post.params(),
        ..ClassicalParams::default()
    };
    let ctx = |record, merges| StageContext {
        out,
        digits,
        cfg: cfg.clone(),
        stats: args.stats.as_deref(),
        opts,
        quiet: args.quiet,
        total,
        record,
        merges,
    };
    match args.segmenter {
        SegmenterKind::Classical => {
            if args.model.save_probabilities.is_some() {
                bail!("--save-probabilities needs the model segmenter (the classical segmenter has no probability maps)");
            }
            if args.model.invert {
                bail!("--invert is for the model segmenter; the classical segmenter takes --polarity dark (or both)");
            }
            if args.model.scale != ScaleArg::Factor(1.0) {
                bail!("--scale is for the model segmenter; the classical segmenter works at the frame's size (see --background-sigma, --min-distance)");
            }
            if let Some(r) = &mut record {
                r.section("segmenter")
                    .set("kind", "classical")
                    .set("polarity", format!("{:?}", params.polarity).to_lowercase())
                    .set("background_sigma", params.background_sigma)
                    .set("smooth_sigma", params.smooth_sigma)
                    .set("threshold", format!("{:?}", params.threshold));
                record_post(r, &params.post, false);
            }
            // Each frame is segmented independently, so the whole classical
            // segmenter runs in the parallel post-processing pool.
            let pass: Box<dyn pipeline::SegmentStage<Frame, Frame>> = Box::new(|_t, f: Frame| Ok(f));
            let post: Arc<dyn Fn(usize, Frame) -> Result<Mask> + Send + Sync> =
                Arc::new(move |_t, f: Frame| Ok(segment_classical(&f, &params)));
            run_stages(reader, pass, post, ctx(record, args.post.merge_split(false)))
        }
        SegmenterKind::Model => {
            // The network carries state from frame to frame, so it runs in
            // the one segmenter thread.
            // Refuse an unusable maps folder before the model is loaded.
            let maps = args.model.save_probabilities.as_deref().map(|dir| MapWriter::create(dir, digits)).transpose()?.map(Arc::new);
            let mut predictor = args.model.source().predictor(args.model.device, args.model.options())?;
            if args.model.invert && predictor.config().invert {
                // Taught by the README's PSC recipe, the flag is easy to add to
                // a model that inverts by itself, where it undoes the inversion.
                eprintln!(
                    "warning: this model was trained with --invert and inverts the frames by itself; --invert undoes that and shows it the frames as they are (leave --invert out to segment as it was trained)"
                );
            }
            let params = args.post.model_params(args.model.seed_threshold, args.model.foreground_threshold);
            // `--scale auto`: chosen on the first frame, which the stream then reads as usual.
            let mut reader = reader.peekable();
            let mut chosen = None;
            if args.model.scale == ScaleArg::Auto
                && let Some(Ok((t, frame))) = reader.peek()
            {
                let (scale, tried) = predictor.choose_scale(frame, params.seed_threshold)?;
                if !args.quiet {
                    let scores: Vec<String> = tried.iter().map(|(s, v)| format!("{s:.2}: {v:.3}")).collect();
                    eprintln!("--scale auto: {scale:.2}, chosen on frame {t} (mean seed confidence at each scale tried: {})", scores.join(", "));
                }
                chosen = Some((scale, tried));
            }
            if let Some(r) = &mut record {
                let m = &args.model;
                let model = match m.source() {
                    ModelSource::File(p) => path_text(&p),
                    other => other.name(),
                };
                let c = predictor.config();
                let mut s = r.section("segmenter");
                s.set("kind", "model")
                    .set("model", model)
                    .set("architecture", if c.lstm { "ConvLSTM-UNet" } else { "U-Net" })
                    .set("depth", c.depth)
                    .set("base_width", c.base_width)
                    .set("device", format!("{:?}", predictor.device()).to_lowercase())
                    .set("tiles", m.tiles.to_string())
                    .set("overlap", m.overlap)
                    .set("precision", format!("{:?}", m.precision).to_lowercase())
                    .set("test_time_mirrors", m.tta)
                    .set("scale", predictor.options().scale)
                    .set("invert", m.invert)
                    .set("model_trained_on_inverted_frames", c.invert);
                if let Some((_, tried)) = &chosen {
                    let scores: Vec<String> = tried.iter().map(|(s, v)| format!("{s:.3}: {v:.4}")).collect();
                    s.set("scale_chosen", "auto, on the first frame").set("scale_scores", scores.join(", "));
                }
                match m.window {
                    Some(k) => s.set("inference", "windowed").set("window", k),
                    None => s.set("inference", "stateful"),
                };
                if let Some(dir) = &m.save_probabilities {
                    s.set("save_probabilities", path_text(dir));
                }
                record_post(r, &params, true);
            }
            // The watershed runs in the pool. On the CPU the network keeps
            // every core busy, so the pool takes only the moments libtorch's
            // threads leave idle (`post_when_idle`); on a GPU the cores are free.
            let mut opts = opts.clone();
            opts.post_when_idle = predictor.device() == tch::Device::Cpu;
            let network: Box<dyn pipeline::SegmentStage<Frame, Probabilities>> = Box::new(move |_t, f: Frame| predictor.push(&f));
            let post: Arc<dyn Fn(usize, Probabilities) -> Result<Mask> + Send + Sync> = match maps.clone() {
                None => Arc::new(move |_t, p: Probabilities| Ok(instances_from_model(&p, &params))),
                // The maps are made once: the cells come from them, then they go to disk.
                Some(maps) => Arc::new(move |t, p: Probabilities| {
                    let (foreground, seeds) = p.maps();
                    let cells = Probabilities::instances_from_maps(foreground.view(), seeds.view(), &params);
                    maps.write(t, foreground, seeds)?;
                    Ok(cells)
                }),
            };
            let summary = run_stages(reader, network, post, StageContext { opts: &opts, ..ctx(record, args.post.merge_split(true)) })?;
            // The result is in place; the maps follow it (a failed run published neither).
            if let Some(maps) = maps {
                let maps = Arc::into_inner(maps).context("a post-processing worker still holds the probability maps")?;
                maps.publish()?;
            }
            Ok(summary)
        }
    }
}

/// Runs `cellstream track`.
pub fn run(args: TrackArgs) -> Result<ExitCode> {
    if args.masks.is_none() {
        let (other, theirs, run) = match args.segmenter {
            SegmenterKind::Model => (CLASSICAL_ONLY, "the classical segmenter (--segmenter classical)", "the model segmenter, run here,"),
            SegmenterKind::Classical => (MODEL_ONLY, "the model segmenter (the default)", "--segmenter classical, run here,"),
        };
        if let Some(id) = args.given.iter().find(|id| other.contains(&id.as_str())) {
            bail!("--{} is an option of {theirs}; {run} would ignore it", id.replace('_', "-"));
        }
    }
    let cfg = args.link.config()?;
    for (flag, p, what) in [
        ("--seed-threshold", args.model.seed_threshold, "a probability"),
        ("--foreground-threshold", args.model.foreground_threshold, "a probability"),
        ("--min-confidence", args.post.min_confidence, "a probability"),
        ("--merge-fragments", args.post.merge_fragments, "a fraction of the median object area"),
    ] {
        if !(0.0..1.0).contains(&p) {
            bail!("{flag} must be {what} at least 0 and below 1, not {p}");
        }
    }
    let mut opts = PipelineOptions::default();
    if let Some(n) = args.threads {
        if n == 0 {
            bail!("--threads must be at least 1");
        }
        opts.post_threads = n;
    }
    let mut record = RunRecord::new(std::env::args());
    // Several parts, each tracked into its own result beside it: the
    // sequences of a CTC dataset folder, or the positions of an NDTiff
    // acquisition where --position picks none.
    let mut parts: Vec<(PathBuf, Option<i64>)> = args.sequence.as_deref().map(dataset_sequences).unwrap_or_default().into_iter().map(|p| (p, None)).collect();
    let mut holds = "a dataset folder holding the sequences";
    if let Some(seq) = args.sequence.as_deref().filter(|s| args.position.is_none() && args.masks.is_none() && ctc::is_ndtiff(s)) {
        let positions = ctc::ndtiff_positions(seq)?;
        if positions.len() > 1 {
            parts = positions.into_iter().map(|p| (seq.to_path_buf(), Some(p))).collect();
            holds = "an NDTiff acquisition of the positions";
        }
    }
    let (out, s) = match (&args.sequence, &args.masks) {
        (_, Some(masks)) => {
            if args.model.save_probabilities.is_some() {
                bail!("--save-probabilities needs the model segmenter; --masks links masks made elsewhere");
            }
            let out = args.out.clone().context("--out RES is needed with --masks")?;
            refuse_other_tools_result(&out)?;
            record.section("run").set("masks", path_text(masks)).set("out", path_text(&out));
            let run = MasksRun {
                stats: args.stats.as_deref(),
                opts: &opts,
                quiet: args.quiet,
                exclude_on_edges: args.post.exclude_on_edges,
                merges: args.post.merge_split(false),
                range: args.frames,
            };
            let s = track_masks_with(masks, &out, cfg, run, Some(record))?;
            (out, s)
        }
        (Some(seq), None) if !parts.is_empty() => {
            // A CTC dataset folder: each sequence NN into NN_RES beside it, one
            // after another, each all or nothing; or each position of an
            // NDTiff acquisition into ACQ_PosN_RES.
            let names: Vec<String> = parts
                .iter()
                .map(|(p, position)| match position {
                    Some(n) => n.to_string(),
                    None => p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                })
                .collect();
            let one = match parts[0] {
                (_, Some(p)) => format!("{} --position {p}", seq.display()),
                (ref part, None) => part.display().to_string(),
            };
            // The results it would write, by name: the first two, and the last.
            let out_name = |(p, n): &(PathBuf, Option<i64>)| default_out(p, *n).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
            let leave = match parts.len() {
                ..=3 => parts.iter().map(out_name).collect::<Vec<_>>().join(", "),
                n => format!("{}, {}, … {}", out_name(&parts[0]), out_name(&parts[1]), out_name(&parts[n - 1])),
            };
            for (flag, given) in [
                ("--out", args.out.is_some()),
                ("--stats", args.stats.is_some()),
                ("--save-probabilities", args.model.save_probabilities.is_some()),
                ("--follow", args.follow.is_some()),
            ] {
                if given {
                    bail!(CtcError::new(
                        seq,
                        format!(
                            "is {holds} {}: {flag} is for one of them; give one (`cellstream track {one} {flag} …`), or leave {flag} out to write {leave} beside it",
                            names.join(", "),
                        )
                    ));
                }
            }
            if args.follow.is_none() && parts.iter().any(|(_, p)| p.is_some()) {
                // Every position checked before the first is tracked, so that
                // one the acquisition left short is named before any is written.
                let seq = &parts[0].0;
                let channel = args.channel.as_ref().map(|c| c.number_in(seq)).transpose()?;
                for &(_, position) in &parts {
                    let planes = ctc::Planes { position, ..args.planes(channel) };
                    ctc::NdTiff::open(seq, planes).map_err(|e| CtcError::new(&e.path, format!("position {}: {}", position.unwrap_or_default(), e.what)))?;
                }
            }
            for (part, position) in &parts {
                refuse_other_tools_result(&default_out(part, *position))?;
            }
            if let (Some(range), None) = (args.frames, args.follow) {
                // Every sequence's span checked before the first is tracked.
                for (part, position) in &parts {
                    let channel = args.channel.as_ref().map(|c| c.number_in(part)).transpose()?;
                    let raw = ctc::RawFrames::open_span(part, ctc::Planes { position: *position, ..args.planes(channel) }, Some(range))?;
                    check_frames_range(part, range, &raw.times_in(None), &raw.times_in(Some(range)), true)?;
                }
            }
            for (part, position) in &parts {
                let out = default_out(part, *position);
                let mut record = RunRecord::new(std::env::args());
                if position.is_none() {
                    record.section("run").set("dataset", path_text(seq));
                }
                record.section("run").set("sequence", path_text(part)).set("out", path_text(&out));
                let args = TrackArgs { position: *position, ..args.clone() };
                args.record_planes(&mut record);
                let s = track_sequence_with(part, &out, &args, &opts, Some(record))?;
                if !args.quiet {
                    print_summary(&out, &s);
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        (Some(seq), None) => {
            let out = args.out.clone().unwrap_or_else(|| default_out(seq, args.position));
            refuse_other_tools_result(&out)?;
            record.section("run").set("sequence", path_text(seq)).set("out", path_text(&out));
            args.record_planes(&mut record);
            if let Some(wait) = args.follow {
                record.section("run").set("follow_seconds", wait);
                // The first Ctrl-C ends the acquisition's stream as if no frame
                // had come for its wait: the frames read so far are tracked and
                // the result published.
                crate::cli::stop_gracefully_on_interrupt("\nstopping: tracking the frames read so far, then writing the result (Ctrl-C again to abandon it)\n");
            }
            let s = track_sequence_with(seq, &out, &args, &opts, Some(record))?;
            (out, s)
        }
        (None, None) => bail!("give a sequence folder or --masks DIR"),
    };
    if !args.quiet {
        print_summary(&out, &s);
    }
    Ok(ExitCode::SUCCESS)
}

/// The frames of `range` that a followed folder `seq` gave: an error where
/// it gave none before it went quiet for `wait` (or was stopped), so that
/// nothing is written; a note (unless `quiet`) where it ended before the
/// range's last frame came.
fn followed_span(
    mut frames: Box<dyn Iterator<Item = Result<(usize, Frame)>> + Send>,
    seq: PathBuf,
    range: ctc::FrameRange,
    wait: std::time::Duration,
    quiet: bool,
) -> Box<dyn Iterator<Item = Result<(usize, Frame)>> + Send> {
    let (mut any, mut last, mut ended) = (false, None, false);
    Box::new(std::iter::from_fn(move || {
        if ended {
            return None;
        }
        let item = frames.next();
        match &item {
            Some(read) => {
                any = true;
                if let Ok((t, _)) = read {
                    last = Some(*t);
                }
            }
            None => {
                ended = true;
                if !any {
                    let why = if ctc::stopped_following() { "it was stopped".to_string() } else { format!("it went quiet for {:.1} s", wait.as_secs_f64()) };
                    return Some(Err(CtcError::new(&seq, format!("gave no frame of --frames {range} before {why}; nothing is written")).into()));
                }
                if let (Some(l), Some(end), false) = (last, range.last, quiet)
                    && l < end
                {
                    let _ = writeln!(std::io::stderr(), "note: --frames {range}: {} ended at frame {l}", seq.display());
                }
            }
        }
        item
    }))
}

/// The frames with their NaN and infinite pixels (a float image's "no data")
/// taken as background ([`crate::segment::fill_non_finite`]), saying so on the
/// first frame that has them unless `quiet`.
fn with_finite_pixels(
    reader: Box<dyn Iterator<Item = Result<(usize, Frame)>> + Send>,
    quiet: bool,
) -> Box<dyn Iterator<Item = Result<(usize, Frame)>> + Send> {
    let mut warned = quiet;
    Box::new(reader.map(move |r| {
        r.map(|(t, f)| {
            let (f, n) = crate::segment::fill_non_finite(f);
            if n > 0 && !warned {
                warned = true;
                eprintln!("warning: frame {t}: {n} pixels are NaN or infinite (no data); they are taken as the frame's median, as background, here and in any later frame");
            }
            (t, f)
        })
    }))
}

/// The sequences of `seq` when it is a CTC dataset folder (no frames of its
/// own, sequence folders `NN/` inside: [`ctc::dataset_sequences`]), else none.
fn dataset_sequences(seq: &Path) -> Vec<PathBuf> {
    if !seq.is_dir() || ctc::Sequence::open(seq).is_ok() {
        return Vec::new();
    }
    ctc::dataset_sequences(seq).into_iter().map(|n| seq.join(n)).collect()
}
