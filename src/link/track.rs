//! The `track` command: link label masks from any segmentation tool into a CTC result folder.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::{ArgGroup, Args};

use super::events::DivisionRules;
use super::lineage::{track_records, Descent};
use super::linker::{LinkConfig, Linker};
use crate::ctc::{self, CtcError};

/// `cellstream track`: what to track, where to write it, how to link.
#[derive(Args, Debug, Clone)]
#[command(group(ArgGroup::new("input").required(true).args(["sequence", "masks"])))]
pub struct TrackArgs {
    /// A raw CTC sequence folder (NN/) to segment and track.
    pub sequence: Option<PathBuf>,
    /// Link the label masks in this folder instead (Cellpose, StarDist,
    /// ilastik exports, CTC masks): every TIFF, in the order of the number
    /// at the end of its name; labels need not agree between frames.
    #[arg(long, value_name = "DIR")]
    pub masks: Option<PathBuf>,
    /// The result folder to write (maskTTT.tif + res_track.txt), e.g. 01_RES.
    #[arg(long, value_name = "RES")]
    pub out: PathBuf,
    #[command(flatten)]
    pub link: LinkArgs,
}

/// The linker's settings on the command line.
#[derive(Args, Debug, Clone)]
pub struct LinkArgs {
    /// Farthest a cell moves between two frames, in pixels (overlapping objects may link from farther).
    #[arg(long, value_name = "PX", default_value_t = LinkConfig::default().max_displacement)]
    pub max_displacement: f64,
    /// Most consecutive frames a cell may be missing and still be resumed (as a child track, the CTC way).
    #[arg(long, value_name = "FRAMES", default_value_t = LinkConfig::default().max_gap)]
    pub max_gap: usize,
    /// Never report divisions.
    #[arg(long)]
    pub no_divisions: bool,
    /// Fewest frames between a cell's birth by division and its own division.
    #[arg(long, value_name = "FRAMES", default_value_t = DivisionRules::default().min_cycle)]
    pub min_cycle: usize,
}

impl LinkArgs {
    pub fn config(&self) -> Result<LinkConfig> {
        if !(self.max_displacement > 0.0 && self.max_displacement.is_finite()) {
            bail!("--max-displacement must be a positive number of pixels, got {}", self.max_displacement);
        }
        Ok(LinkConfig {
            max_displacement: self.max_displacement,
            max_gap: self.max_gap,
            divisions: !self.no_divisions,
            division: DivisionRules { min_cycle: self.min_cycle, ..DivisionRules::default() },
            ..LinkConfig::default()
        })
    }
}

/// Runs `cellstream track`.
pub fn run(args: TrackArgs) -> Result<ExitCode> {
    let cfg = args.link.config()?;
    let Some(masks) = &args.masks else {
        bail!("tracking a raw sequence needs a segmenter, which this build does not have yet; pass --masks DIR with label masks");
    };
    let s = track_masks(masks, &args.out, cfg)?;
    println!(
        "{}: {} frames linked into {} tracks ({} divisions, {} resumed after a gap or merge)",
        args.out.display(),
        s.frames,
        s.tracks,
        s.divisions,
        s.resumed
    );
    Ok(ExitCode::SUCCESS)
}

/// What [`track_masks`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackSummary {
    pub frames: usize,
    pub tracks: usize,
    pub divisions: usize,
    pub resumed: usize,
}

/// The label masks in `dir` in frame order: every TIFF, numbered by the
/// trailing number of its name; the numbers must run without a hole.
pub fn list_mask_frames(dir: &Path) -> ctc::Result<Vec<(usize, PathBuf)>> {
    let files = ctc::list_numbered_tiffs(dir)?;
    for w in files.windows(2) {
        if w[1].0 != w[0].0 + 1 {
            return Err(CtcError::new(
                dir,
                format!(
                    "frame numbers jump from {} ({}) to {} ({}); every frame is needed to link",
                    w[0].0,
                    file_name(&w[0].1),
                    w[1].0,
                    file_name(&w[1].1)
                ),
            ));
        }
    }
    Ok(files)
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap_or_default().to_string_lossy().into_owned()
}

/// Links the label masks in `dir` and writes the CTC result to `out`, all or
/// nothing: relabelled masks (frame numbers kept) and `res_track.txt`.
pub fn track_masks(dir: &Path, out: &Path, cfg: LinkConfig) -> Result<TrackSummary> {
    let frames = list_mask_frames(dir)?;
    if let (Ok(a), Ok(b)) = (dir.canonicalize(), out.canonicalize())
        && a == b {
            bail!(CtcError::new(out, "is the input folder; write the result to another folder"));
        }
    let last = frames.last().map_or(0, |f| f.0);
    let digits = last.to_string().len().max(3);
    let writer = ctc::ResultWriter::create(out, digits)?;
    let mut linker = Linker::new(cfg);
    for (t, path) in &frames {
        let mask = ctc::read_mask(path)?;
        let done = linker.push(*t, &mask).map_err(|e| CtcError::new(path, e.to_string()))?;
        for (t, m) in done {
            writer.write_mask(t, &m)?;
        }
    }
    let (rest, lineage) = linker.finish();
    for (t, m) in rest {
        writer.write_mask(t, &m)?;
    }
    let records = track_records(&lineage);
    writer.finish(&records)?;
    Ok(TrackSummary {
        frames: frames.len(),
        tracks: lineage.len(),
        divisions: lineage.divisions().len(),
        resumed: lineage
            .tracks()
            .filter(|t| lineage.parent(t.label).is_some_and(|p| p.1 == Descent::Resumed))
            .count(),
    })
}
