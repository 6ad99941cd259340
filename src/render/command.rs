//! The `render` and `report` subcommands: arguments, output folders written all or nothing, and the wiring of the pictures.
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use anyhow::{anyhow, bail, Context, Result};
use image::RgbImage;

use super::frames::{pooled_curve, stream_frames, FrameInfo, Inputs};
use super::gif::{downscale, gif_times, GifWriter};
use super::lineage::{draw_lineage, layout, picture_size, Lineage};
use super::overlay::OverlayStyle;
use super::plots::{draw_counts, draw_pr_curve, FrameCount};
use super::report::{html, ReportParts};
use crate::run_record::{path_text as shown, shell_line, utc_text};
use super::{draw_bitmap, draw_svg, png_bytes};
use crate::ctc::{self, CtcError, StagedFolder};
use crate::eval::{evaluate, EvalOptions, ObjectCounts};

/// What `render` and `report` look at.
#[derive(clap::Args, Debug, Clone)]
pub struct InputArgs {
    /// Result folder: maskTTT.tif and res_track.txt (e.g. 01_RES).
    #[arg(long)]
    pub res: PathBuf,
    /// The raw frames to draw the outlines on, as `track` takes them (a sequence folder, a multi-page TIFF stack, a file-name pattern, an OME-Zarr image, an NDTiff acquisition); without it, on black.
    #[arg(long, value_name = "SEQ_DIR")]
    pub raw: Option<PathBuf>,
    /// The channel of the raw frames to draw on, counted from 1 or by its
    /// name (as `track --channel`).
    #[arg(long, value_name = "N|NAME", requires = "raw", value_parser = crate::cli::channel_arg)]
    pub channel: Option<crate::ctc::ChannelArg>,
    #[command(flatten)]
    pub planes: crate::cli::RawPlaneArgs,
    /// Ground-truth folder (SEG/ and/or TRA/): scores, misses and false cells, the PR curve.
    #[arg(long, value_name = "GT_DIR")]
    pub gt: Option<PathBuf>,
    /// IoU above which a result cell matches a segmentation-truth cell in the overlays.
    #[arg(long, default_value_t = 0.5)]
    pub iou: f64,
    /// Leave objects within PX of the frame's edge (0: cut by it) out of the
    /// PR curve and the scores, as `cellstream evaluate --edge-margin` does.
    #[arg(long, value_name = "PX")]
    pub edge_margin: Option<usize>,
}

impl InputArgs {
    /// Checks the threshold and opens the folders.
    fn open(&self) -> Result<Inputs> {
        if !(0.0..1.0).contains(&self.iou) {
            bail!("--iou {}: the IoU threshold must lie in [0, 1)", self.iou);
        }
        let raw = match self.raw.as_deref() {
            Some(r) => {
                let channel = self.channel.as_ref().map(|c| c.number_in(r)).transpose()?;
                Some((r, self.planes.planes(&self.res, r, channel)?))
            }
            None => None,
        };
        let mut inputs = Inputs::open(&self.res, raw, self.gt.as_deref())?;
        inputs.edge_margin = self.edge_margin;
        Ok(inputs)
    }
}

/// `cellstream render`: pictures of a result.
#[derive(clap::Args, Debug, Clone)]
pub struct RenderArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output folder (written all or nothing; an earlier render there is replaced).
    #[arg(long)]
    pub out: PathBuf,
    /// Longest side of the GIF, in pixels.
    #[arg(long, value_name = "PX", default_value_t = 512, value_parser = clap::value_parser!(u32).range(16..))]
    pub gif_side: u32,
    /// Most frames in the GIF (every k-th frame beyond).
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub gif_frames: usize,
    /// Milliseconds each GIF frame is shown.
    #[arg(long, value_name = "MS", default_value_t = 200)]
    pub gif_ms: u32,
    /// Draw no track labels on the overlays.
    #[arg(long)]
    pub no_labels: bool,
}

/// `cellstream report`: one self-contained HTML page about a result.
#[derive(clap::Args, Debug, Clone)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// The HTML file to write.
    #[arg(long, value_name = "report.html")]
    pub out: PathBuf,
    /// A file with the run's parameters (any text, e.g. TOML or JSON), shown
    /// verbatim, after the `cellstream.toml` that `track` leaves in its result.
    #[arg(long, value_name = "FILE")]
    pub params: Option<PathBuf>,
    /// Sample overlays in the strip.
    #[arg(long, value_name = "N", default_value_t = 6)]
    pub samples: usize,
}

/// Files and folders `render` writes; a folder holding only these is an earlier render.
const RENDER_NAMES: [&str; 10] = [
    "overlays",
    "sequence.gif",
    "lineage.svg",
    "lineage.png",
    "counts.csv",
    "counts.png",
    "counts.svg",
    "pr_curve.png",
    "pr_curve.svg",
    "pr_curve.csv",
];

/// Writes `bytes` as `name` in the staged folder; errors name the final path.
fn write_staged(out: &StagedFolder, name: &str, bytes: &[u8]) -> Result<()> {
    std::fs::write(out.tmp().join(name), bytes)
        .map_err(|e| CtcError::new(out.dest().join(name), format!("cannot write: {e}")).into())
}

/// The overlay style for the result's cells (their median area in the first frame).
fn style_for(inputs: &Inputs, labels: bool) -> Result<OverlayStyle> {
    let first = inputs.times()[0];
    let path = inputs.result.masks.path(first).expect("a listed frame");
    let (stats, _) = crate::measure::measure_frame(first, &ctc::read_mask(path)?);
    let mut style = OverlayStyle::for_cells(stats.median_area);
    style.labels = labels;
    Ok(style)
}

fn lineage_title(l: &Lineage) -> String {
    format!("Lineage: {} tracks, {} divisions, {} founding cells", l.branches.len(), l.divisions(), l.trees)
}

fn lineage_png(l: &Lineage) -> Result<RgbImage> {
    let (w, h) = picture_size(l);
    draw_bitmap(w, h, |r| draw_lineage(r, l, &lineage_title(l))).map_err(|e| anyhow!("drawing the lineage: {e}"))
}

fn counts_png(counts: &[FrameCount]) -> Result<RgbImage> {
    draw_bitmap(720, 420, |r| draw_counts(r, counts, "Cells per frame")).map_err(|e| anyhow!("drawing the counts: {e}"))
}

const PR_TITLE: &str = "Object precision and recall against IoU";

fn pr_png(curve: &[ObjectCounts]) -> Result<RgbImage> {
    draw_bitmap(720, 420, |r| draw_pr_curve(r, curve, PR_TITLE)).map_err(|e| anyhow!("drawing the PR curve: {e}"))
}

fn counts_csv(infos: &[FrameInfo]) -> String {
    let mut s = String::from("frame,result_cells,truth_cells\n");
    for i in infos {
        let c = i.count;
        s += &format!("{},{},{}\n", c.t, c.result, c.truth.map(|v| v.to_string()).unwrap_or_default());
    }
    s
}

fn curve_csv(curve: &[ObjectCounts]) -> String {
    let mut s = String::from("iou,precision,recall,f1,tp,fp,fn\n");
    let f = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for c in curve {
        s += &format!("{},{},{},{},{},{},{}\n", c.iou, f(c.precision()), f(c.recall()), f(c.f1()), c.tp, c.fp, c.fn_);
    }
    s
}

/// Runs `cellstream render`: overlays (one PNG per frame), the GIF, the
/// lineage (SVG, PNG), cell counts (CSV, PNG, SVG) and, with truth, the PR
/// curve (CSV, PNG, SVG), written into `--out` all or nothing.
pub fn render_command(args: RenderArgs) -> Result<ExitCode> {
    let start = Instant::now();
    let inputs = args.input.open()?;
    let out = StagedFolder::create(&args.out, |name| RENDER_NAMES.contains(&name), "an earlier `cellstream render`")?;
    let overlays = out.tmp().join("overlays");
    std::fs::create_dir(&overlays).map_err(|e| CtcError::io(&overlays, &e))?;
    let times = inputs.times();
    let style = style_for(&inputs, !args.no_labels)?;
    let in_gif: std::collections::HashSet<usize> = gif_times(&times, args.gif_frames).into_iter().collect();
    let digits = inputs.result.masks.digits;
    let gif_file = std::fs::File::create(out.tmp().join("sequence.gif")).map_err(|e| CtcError::io(args.out.join("sequence.gif"), &e))?;
    let mut gif = GifWriter::new(BufWriter::new(gif_file), args.gif_ms)?;
    let infos = stream_frames(
        &inputs,
        &times,
        args.input.iou,
        &style,
        |_| true,
        |t, img| {
            write_staged(&out, &format!("overlays/overlay{t:0digits$}.png"), &png_bytes(&img))?;
            Ok(in_gif.contains(&t).then(|| downscale(&img, args.gif_side)))
        },
        |_, small| gif.push(&small).map_err(|e| CtcError::new(args.out.join("sequence.gif"), e.to_string()).into()),
    )?;
    drop(gif);

    let lineage = layout(inputs.tracks());
    let (w, h) = picture_size(&lineage);
    let svg = draw_svg(w, h, |r| draw_lineage(r, &lineage, &lineage_title(&lineage))).map_err(|e| anyhow!("drawing the lineage: {e}"))?;
    write_staged(&out, "lineage.svg", svg.as_bytes())?;
    write_staged(&out, "lineage.png", &png_bytes(&lineage_png(&lineage)?))?;

    let counts: Vec<FrameCount> = infos.iter().map(|i| i.count).collect();
    write_staged(&out, "counts.csv", counts_csv(&infos).as_bytes())?;
    write_staged(&out, "counts.png", &png_bytes(&counts_png(&counts)?))?;
    let svg = draw_svg(720, 420, |r| draw_counts(r, &counts, "Cells per frame")).map_err(|e| anyhow!("drawing the counts: {e}"))?;
    write_staged(&out, "counts.svg", svg.as_bytes())?;
    if let Some(curve) = pooled_curve(&infos) {
        write_staged(&out, "pr_curve.csv", curve_csv(&curve).as_bytes())?;
        write_staged(&out, "pr_curve.png", &png_bytes(&pr_png(&curve)?))?;
        let svg = draw_svg(720, 420, |r| draw_pr_curve(r, &curve, PR_TITLE)).map_err(|e| anyhow!("drawing the PR curve: {e}"))?;
        write_staged(&out, "pr_curve.svg", svg.as_bytes())?;
    }
    let dest = out.publish()?;
    println!(
        "{}: {} overlays, a GIF of {} frames, the lineage of {} tracks ({} divisions){} in {:.1} s",
        dest.display(),
        times.len(),
        in_gif.len(),
        lineage.branches.len(),
        lineage.divisions(),
        if inputs.truth.is_some() { ", cell counts and the PR curve against truth" } else { ", cell counts" },
        start.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// `n` time points spread evenly over `times`, first and last included.
pub fn sample_times(times: &[usize], n: usize) -> Vec<usize> {
    if n == 0 || times.is_empty() {
        return vec![];
    }
    if times.len() <= n {
        return times.to_vec();
    }
    let mut s: Vec<usize> =
        (0..n).map(|k| times[(k * (times.len() - 1) + (n - 1) / 2) / (n - 1).max(1)]).collect();
    s.dedup();
    s
}

/// Refuses a report file that would replace something else: a file inside
/// the folders reported on, or an existing file that is not an earlier
/// cellstream report (one is replaced, as a rerun expects).
fn check_report_out(args: &ReportArgs) -> Result<()> {
    let out = &args.out;
    let inputs: Vec<&Path> = [Some(&args.input.res), args.input.raw.as_ref(), args.input.gt.as_ref()].into_iter().flatten().map(PathBuf::as_path).collect();
    ctc::check_outputs_apart(&[out], &inputs)?;
    ctc::check_output_file(out)?;
    if out.exists() {
        let mut head = vec![0u8; 4096];
        let n = std::fs::File::open(out).and_then(|mut f| std::io::Read::read(&mut f, &mut head)).map_err(|e| CtcError::io(out, &e))?;
        let head = String::from_utf8_lossy(&head[..n]);
        if !(head.starts_with("<!DOCTYPE html>") && head.contains("cellstream report")) {
            bail!(CtcError::new(out, "exists and is not an earlier cellstream report; refusing to replace it (remove it, or name another file)"));
        }
    }
    Ok(())
}

/// Runs `cellstream report`: scores (with truth, by the evaluator of
/// `cellstream evaluate`), plots, lineage, a strip of sample overlays and the
/// run's parameters in one HTML file, written atomically.
pub fn report_command(args: ReportArgs) -> Result<ExitCode> {
    let start = Instant::now();
    check_report_out(&args)?;
    let inputs = args.input.open()?;
    // The settings `track` recorded in the result, then any file the user gives.
    let mut params_files = Vec::new();
    let record = args.input.res.join(ctc::RUN_RECORD);
    for p in std::iter::once(&record).filter(|p| p.is_file()).chain(&args.params) {
        let text = std::fs::read_to_string(p).map_err(|e| CtcError::io(p, &e))?;
        params_files.push((p.display().to_string(), text));
    }
    let scores = match &args.input.gt {
        Some(gt) => {
            // A result of part of a sequence (`track --frames`, as its record
            // says) is scored on that part, as `evaluate --frames` scores it.
            let frames = crate::run_record::recorded_frames(&args.input.res);
            if let Some(r) = frames {
                eprintln!("note: {} was tracked from frames {r} alone (its {}), and is scored on those", args.input.res.display(), ctc::RUN_RECORD);
            }
            Some(evaluate(gt, &args.input.res, &EvalOptions { edge_margin: args.input.edge_margin, frames, ..EvalOptions::default() })?)
        }
        None => None,
    };
    let times = inputs.times();
    let samples = sample_times(&times, args.samples);
    let style = style_for(&inputs, true)?;
    let mut overlays = Vec::new();
    let infos = stream_frames(
        &inputs,
        &times,
        args.input.iou,
        &style,
        |t| samples.contains(&t),
        |_, img| Ok(Some(downscale(&img, 520))),
        |t, img| {
            overlays.push((t, png_bytes(&img)));
            Ok(())
        },
    )?;
    let counts: Vec<FrameCount> = infos.iter().map(|i| i.count).collect();
    let lineage = layout(inputs.tracks());
    let curve = scores.as_ref().map(|s| s.pr_curve.clone()).filter(|c| !c.is_empty());
    let (h, w) = infos[0].dim;
    let mut params = vec![
        ("command".to_string(), shell_line(std::env::args())),
        ("cellstream".to_string(), env!("CARGO_PKG_VERSION").to_string()),
        ("result".to_string(), shown(&args.input.res)),
        ("raw".to_string(), args.input.raw.as_deref().map_or("not given".into(), shown)),
        ("truth".to_string(), args.input.gt.as_deref().map_or("not given".into(), shown)),
        (
            "frames".to_string(),
            format!("{} (time points {}–{}), {w}×{h} pixels", times.len(), times[0], times[times.len() - 1]),
        ),
        (
            "tracks".to_string(),
            format!("{} tracks, {} divisions, {} founding cells", lineage.branches.len(), lineage.divisions(), lineage.trees),
        ),
        ("cell cycles".to_string(), cycles_text(inputs.tracks())),
        (
            "overlays".to_string(),
            format!(
                "misses and false cells at IoU > {} against segmentation truth, by the CTC detection rule against tracking truth",
                args.input.iou
            ),
        ),
    ];
    let truth_note = inputs.truth.as_ref().map(|_| {
        format!(
            "Against segmentation truth a cell matches at IoU > {}; against tracking truth (markers) by the CTC rule (it covers more than half of the marker).",
            args.input.iou
        )
    });
    let title = format!("cellstream: {}", args.input.res.display());
    params.push(("generated".to_string(), utc_text(SystemTime::now())));
    let mut parts = ReportParts {
        title,
        scores,
        pr_curve: curve.as_deref().map(pr_png).transpose()?.map(|i| png_bytes(&i)),
        counts: png_bytes(&counts_png(&counts)?),
        lineage: png_bytes(&lineage_png(&lineage)?),
        overlays,
        truth_note,
        params,
        params_files,
    };
    parts.params.push(("report took".to_string(), format!("{:.1} s", start.elapsed().as_secs_f64())));
    let text = html(&parts);
    ctc::write_atomic(&args.out, |w| std::io::Write::write_all(w, text.as_bytes())).context("writing the report")?;
    println!("{}: report on {} ({} KiB)", args.out.display(), args.input.res.display(), text.len() / 1024);
    Ok(ExitCode::SUCCESS)
}

/// The whole cell cycles of `tracks` ([`crate::export::whole_cycles`]) in a line: how many, their median and quartiles.
fn cycles_text(tracks: &[ctc::TrackRecord]) -> String {
    let mut cycles: Vec<u64> = crate::export::whole_cycles(tracks).into_values().map(|c| c as u64).collect();
    if cycles.is_empty() {
        return "none seen whole (a cell born by a division that divides again in view)".to_string();
    }
    cycles.sort_unstable();
    // numpy's percentiles, as scripts/cycle-lengths.py gives them.
    let mut frames: Vec<f32> = cycles.iter().map(|&c| c as f32).collect();
    let (q1, q3) = (crate::segment::percentile(&mut frames, 25.0), crate::segment::percentile(&mut frames, 75.0));
    format!(
        "{} seen whole: median {} frames, quartiles {q1} / {q3} frames, range {}–{} (from birth by a division to the daughters' first frame)",
        cycles.len(),
        crate::measure::median_of_sorted(&cycles),
        cycles[0],
        cycles[cycles.len() - 1]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_are_summed_up_in_a_line() {
        let tracks: Vec<ctc::TrackRecord> =
            [(1, 0, 1, 0), (2, 2, 6, 1), (3, 2, 8, 1), (4, 7, 9, 2), (5, 7, 9, 2), (6, 9, 9, 3), (7, 9, 9, 3)].iter().map(|&(l, b, e, p)| ctc::TrackRecord::new(l, b, e, p)).collect();
        assert_eq!(cycles_text(&tracks), "2 seen whole: median 6 frames, quartiles 5.5 / 6.5 frames, range 5–7 (from birth by a division to the daughters' first frame)");
        assert!(cycles_text(&tracks[..3]).starts_with("none seen whole"));
    }

    #[test]
    fn samples_spread_evenly() {
        let t: Vec<usize> = (0..40).collect();
        assert_eq!(sample_times(&t, 6), vec![0, 8, 16, 23, 31, 39]);
        assert_eq!(sample_times(&t[..3], 6), vec![0, 1, 2]);
        assert_eq!(sample_times(&t, 1), vec![0]);
        assert!(sample_times(&t, 0).is_empty());
    }
}
