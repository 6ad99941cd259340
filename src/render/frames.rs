//! Streaming a result folder, with its raw frames and truth, one time point at a time into overlays and per-frame counts.
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use image::RgbImage;
use rayon::prelude::*;

use super::colour::{display_range, grey_image};
use super::overlay::{compare, draw_overlay, MatchRule, Marks, OverlayStyle};
use super::plots::FrameCount;
use crate::ctc::{self, CtcError, Planes, Mask, RawFrames, ResultDir, TrackRecord, Truth};
use crate::eval::{curve_thresholds, object_counts_excluding, EdgeObjects, ObjectCounts, Overlap};
use crate::measure::measure_frame;

/// A result folder with, optionally, its raw sequence and its truth.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub res_dir: PathBuf,
    pub result: ResultDir,
    pub raw: Option<RawFrames>,
    pub truth: Option<Truth>,
    /// Daughter labels by the frame where their track begins (tracks whose
    /// parent has two or more daughters; a single daughter continues a track
    /// after a gap and is no division).
    pub daughters: HashMap<usize, HashSet<u32>>,
    /// Objects within this margin of the frame's edge are left out of the
    /// object counts (`--edge-margin`, as in `cellstream evaluate`).
    pub edge_margin: Option<usize>,
}

impl Inputs {
    /// Opens the folders. Errors name the file: a missing `res_track.txt` or
    /// mask, a raw frame missing for a result frame, a bad truth folder.
    /// `raw`: the frames and the channel of them to draw on.
    pub fn open(res: &Path, raw: Option<(&Path, Planes)>, gt: Option<&Path>) -> Result<Inputs> {
        let result = ResultDir::open(res)?;
        result.check_lineage()?;
        let raw = raw.map(|(path, planes)| RawFrames::open_planes(path, planes)).transpose()?;
        if let Some(frames) = &raw
            && let Some(t) = result.masks.times().find(|&t| !frames.has(t))
        {
            let what = match frames {
                RawFrames::Stack(s) => format!("has {}; the result has {}", s.length_text(), result.masks.path(t).unwrap().display()),
                RawFrames::Folder(s) if ctc::is_pattern(s.dir()) => format!("names no file of frame {t}; the result has {}", result.masks.path(t).unwrap().display()),
                RawFrames::Folder(_) => format!("is missing: the result has {}", result.masks.path(t).unwrap().display()),
                RawFrames::Zarr(z) => format!("has {} time points; the result has {}", z.time_points, result.masks.path(t).unwrap().display()),
                RawFrames::NdTiff(n) => format!("has {} time points; the result has {}", n.time_points, result.masks.path(t).unwrap().display()),
            };
            return Err(CtcError::new(frames.frame_path(t), what).into());
        }
        let truth = gt.map(Truth::open).transpose()?;
        Ok(Inputs { res_dir: res.to_path_buf(), daughters: daughters(&result.tracks), result, raw, truth, edge_margin: None })
    }

    /// The result's time points, in order.
    pub fn times(&self) -> Vec<usize> {
        self.result.masks.times().collect()
    }

    pub fn tracks(&self) -> &[TrackRecord] {
        &self.result.tracks
    }
}

/// Daughters of divisions by the frame where they begin.
pub fn daughters(tracks: &[TrackRecord]) -> HashMap<usize, HashSet<u32>> {
    let mut by_parent: HashMap<u32, Vec<&TrackRecord>> = HashMap::new();
    for t in tracks.iter().filter(|t| t.parent != 0) {
        by_parent.entry(t.parent).or_default().push(t);
    }
    let mut out: HashMap<usize, HashSet<u32>> = HashMap::new();
    for d in by_parent.values().filter(|d| d.len() >= 2).flatten() {
        out.entry(d.begin).or_default().insert(d.label);
    }
    out
}

/// What one frame contributes to the plots.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameInfo {
    pub count: FrameCount,
    /// Object counts at the curve's IoU thresholds (0.05 … 0.95), where the
    /// frame has object truth (SEG, or TRA when the truth has no SEG).
    pub objects: Option<Vec<ObjectCounts>>,
    /// (height, width).
    pub dim: (usize, usize),
}

fn size_error(path: &Path, dim: (usize, usize), other: &Path, other_dim: (usize, usize), what: &str) -> anyhow::Error {
    CtcError::new(
        path,
        format!(
            "is {}×{} (width×height) but {what} {} is {}×{}; they must have one size",
            dim.1,
            dim.0,
            other.display(),
            other_dim.1,
            other_dim.0
        ),
    )
    .into()
}

fn read_truth(path: &Path, mask_path: &Path, dim: (usize, usize)) -> Result<Mask> {
    let m = ctc::read_mask(path)?;
    if m.dim() != dim {
        return Err(size_error(mask_path, dim, path, m.dim(), "its truth"));
    }
    Ok(m)
}

/// Reads frame `t` (result mask, raw frame, truth) and computes its counts
/// and, when `style` is given, its overlay: the raw frame in grey (ImageJ-like
/// auto-contrast) or, without one, black with the cells tinted; misses and
/// false cells against the segmentation truth at `iou`, or against tracking
/// truth by the CTC detection rule.
pub fn process_frame(inputs: &Inputs, t: usize, iou: f64, style: Option<&OverlayStyle>) -> Result<(FrameInfo, Option<RgbImage>)> {
    let mask_path = inputs.result.masks.path(t).ok_or_else(|| anyhow!("no mask for frame {t}"))?;
    let mask = ctc::read_mask(mask_path)?;
    let dim = mask.dim();
    let raw = match &inputs.raw {
        Some(frames) => {
            let (f, p) = frames.read(t)?;
            if f.dim() != dim {
                return Err(size_error(mask_path, dim, &p, f.dim(), "the raw frame"));
            }
            Some(f)
        }
        None => None,
    };
    let (mut seg, mut tra) = (None, None);
    if let Some(truth) = &inputs.truth {
        if let Some(p) = truth.seg.as_ref().and_then(|s| s.path(t)) {
            seg = Some(read_truth(p, mask_path, dim)?);
        }
        if let Some(p) = truth.tra.as_ref().and_then(|s| s.0.path(t)) {
            tra = Some(read_truth(p, mask_path, dim)?);
        }
    }
    let objects_from_tra = inputs.truth.as_ref().is_some_and(|t| t.seg.is_none());
    let object_truth = seg.as_ref().or(tra.as_ref().filter(|_| objects_from_tra));
    let object_overlap = object_truth.map(|g| Overlap::count(g, &mask));
    let objects = object_overlap.as_ref().zip(object_truth).map(|(o, g)| {
        let edge = inputs.edge_margin.map(|m| EdgeObjects::find(g, &mask, m)).unwrap_or_default();
        object_counts_excluding(o, &curve_thresholds(), &edge)
    });
    let (_, cells) = measure_frame(t, &mask);
    let truth_cells = tra.as_ref().or(seg.as_ref()).map(|g| measure_frame(t, g).0.cells);
    let info = FrameInfo { count: FrameCount { t, result: cells.len(), truth: truth_cells }, objects, dim };
    let Some(style) = style else { return Ok((info, None)) };

    let comparison = match (&seg, &tra, &object_overlap) {
        (Some(g), _, Some(o)) => Some((g, compare(o, MatchRule::Iou(iou)))),
        (None, Some(g), _) => Some((g, compare(&Overlap::count(g, &mask), MatchRule::Ctc))),
        _ => None,
    };
    let mut base = match &raw {
        Some(f) => grey_image(f, display_range(f, 0.005, 0.998)),
        None => RgbImage::new(dim.1 as u32, dim.0 as u32),
    };
    let mut style = *style;
    if raw.is_none() && style.fill == 0.0 {
        style.fill = 0.35;
    }
    let marks = Marks {
        cells: &cells,
        divisions: inputs.daughters.get(&t).cloned().unwrap_or_default(),
        truth: comparison.as_ref().map(|(g, c)| (*g, c)),
    };
    draw_overlay(&mut base, &mask, &marks, &style).map_err(|e| anyhow!("drawing the overlay of {}: {e}", mask_path.display()))?;
    Ok((info, Some(base)))
}

/// Streams `times` through [`process_frame`] a few frames at a time (two per
/// thread, in parallel), so memory holds a handful of frames whatever the
/// sequence's length. `overlay_at(t)` says which frames get an overlay;
/// `each` receives every overlay in parallel (e.g. to write its PNG) and may
/// return a picture for `in_order`, which receives them in time order (e.g.
/// the GIF's frames).
pub fn stream_frames(
    inputs: &Inputs,
    times: &[usize],
    iou: f64,
    style: &OverlayStyle,
    overlay_at: impl Fn(usize) -> bool + Sync,
    each: impl Fn(usize, RgbImage) -> Result<Option<RgbImage>> + Sync,
    mut in_order: impl FnMut(usize, RgbImage) -> Result<()>,
) -> Result<Vec<FrameInfo>> {
    let batch = 2 * rayon::current_num_threads().max(1);
    let mut infos = Vec::with_capacity(times.len());
    for chunk in times.chunks(batch) {
        let done: Vec<Result<(FrameInfo, Option<RgbImage>)>> = chunk
            .par_iter()
            .map(|&t| {
                let (info, overlay) = process_frame(inputs, t, iou, overlay_at(t).then_some(style))?;
                let passed = match overlay {
                    Some(img) => each(t, img)?,
                    None => None,
                };
                Ok((info, passed))
            })
            .collect();
        for r in done {
            let (info, passed) = r?;
            if let Some(img) = passed {
                in_order(info.count.t, img)?;
            }
            infos.push(info);
        }
    }
    Ok(infos)
}

/// Object counts pooled over frames, at each threshold of the curve.
pub fn pooled_curve(infos: &[FrameInfo]) -> Option<Vec<ObjectCounts>> {
    let mut it = infos.iter().filter_map(|i| i.objects.as_ref());
    let mut sum = it.next()?.clone();
    for c in it {
        for (a, b) in sum.iter_mut().zip(c) {
            *a += *b;
        }
    }
    Some(sum)
}
