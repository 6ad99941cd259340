//! Scoring a result against ground truth: SEG, DET, TRA, LNK (AOGM), CT, TF, BC(i), CCA, CHOTA, HOTA, MOTA, IDF1 as py-ctcmetrics computes them, and object precision/recall.
//!
//! The data path: each frame's truth and result masks are read, reduced to a
//! sparse overlap table ([`Overlap`]) and dropped; frames run in parallel with
//! rayon, so memory holds a few frames at a time. From the tables come the
//! CTC matches ([`FrameMatch`]), SEG sums ([`SegScore`]) and object counts
//! ([`ObjectCounts`]), optionally without the objects at the frame's edge
//! ([`EdgeObjects`]); the track measures then combine the matches of all
//! frames with the two track files.
//!
//! The numbers equal py-ctcmetrics 1.3.3 (`ctc_evaluate`), the reference where
//! it and the CTC's Java evaluator differ; see [`aogm`], [`biological`] and
//! [`association`](mod@association) for the definitions. Deliberate differences, all in corner cases where
//! py-ctcmetrics fails or divides by zero: measures without anything to
//! measure (no truth object, edge or division) are `None` ("n/a"); frames are
//! paired by time stamp, not by position in the folder listing; a frame whose
//! masks have no background pixel keeps all its labels (py-ctcmetrics drops
//! the smallest), as does a frame whose truth and result labels add up to
//! more than 65535 (py-ctcmetrics' label offset wraps around). An invalid
//! result track file is an error here, listing the violations (py-ctcmetrics
//! reports every measure as None, SEG included).
//!
//! For scoring in memory (validation during training, linker tests) use
//! [`seg_score`], [`match_frame`], [`object_scores`], or [`score_frame`] and
//! [`combine`] for whole sequences.
pub mod aogm;
mod assignment;
pub mod association;
pub mod biological;
mod command;
mod matching;
mod overlap;
mod pr;
mod report;
mod seg;

use std::path::{Path, PathBuf};

use ndarray::Array2;
use rayon::prelude::*;

pub use aogm::{DetectionErrors, GraphErrors, LinkErrors};
pub use assignment::min_cost_assignment;
pub use association::{association, heaviest_pairing, Association};
pub use biological::{bio, cell_cycle_accuracy, DivisionCounts};
pub use command::{run, EvaluateArgs};
pub use matching::{match_frame, match_frames, FrameMatch};
pub use overlap::{Label, LabelArea, Overlap, Pair};
pub use pr::{
    curve_thresholds, match_objects, object_counts, object_counts_excluding, object_scores, EdgeObjects,
    Foreground, ObjectCounts,
};
pub use report::{csv_text, edge_objects, pr_cells, shown_in_tables, table, Value, PR_HEADER};
pub use seg::{seg_score, SegScore};

use crate::ctc::{self, CtcError, FrameFiles, Mask, Result, TrackRecord};

/// The largest i of BC(i) reported (py-ctcmetrics reports BC(0) … BC(3)
/// whenever it computes BC(i)).
pub const MAX_BC_OFFSET: usize = 3;

/// Choices for [`evaluate`].
#[derive(Debug, Clone, PartialEq)]
pub struct EvalOptions {
    /// IoU thresholds of the precision / recall / F1 reported under `pr`.
    pub iou_thresholds: Vec<f64>,
    /// Leave the objects within this many pixels of the frame's edge (0: the
    /// ones it cuts) out of the object measures ([`EdgeObjects`]).
    pub edge_margin: Option<usize>,
    /// Score these time points alone, truth and result cut to them, their
    /// tracks with them ([`ctc::clip_tracks`]); None: every frame the truth has.
    pub frames: Option<ctc::FrameRange>,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions { iou_thresholds: vec![0.25, 0.5, 0.75], edge_margin: None, frames: None }
    }
}

impl EvalOptions {
    /// The curve's thresholds and the chosen ones, sorted, without repeats:
    /// the thresholds to pass to [`score_frame`] before [`combine`].
    pub fn all_thresholds(&self) -> Vec<f64> {
        let mut t = curve_thresholds();
        t.extend(&self.iou_thresholds);
        t.sort_by(f64::total_cmp);
        t.dedup();
        t
    }
}

/// One frame's masks, for [`score_frame`].
#[derive(Debug, Clone, Copy)]
pub struct FrameInput<'a> {
    /// Time point.
    pub t: usize,
    /// Tracking truth (`man_trackTTT.tif`), if this frame has one.
    pub tra: Option<&'a Mask>,
    /// Segmentation truth (`man_segTTT.tif`), if this frame has one.
    pub seg: Option<&'a Mask>,
    /// Object measures use `seg`; with `objects_from_tra` they use `tra` when
    /// the sequence has no segmentation truth at all.
    pub objects_from_tra: bool,
    pub result: &'a Mask,
    /// Objects within this margin of the edge are left out of the object
    /// measures (see [`EvalOptions::edge_margin`]).
    pub edge_margin: Option<usize>,
}

/// What one frame contributes to the scores.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameScores {
    pub t: usize,
    /// CTC matches against the tracking truth.
    pub tra: Option<FrameMatch>,
    /// SEG sums against the segmentation truth.
    pub seg: Option<SegScore>,
    /// Object counts at each threshold passed to [`score_frame`], and foreground counts.
    pub objects: Option<(Vec<ObjectCounts>, Foreground)>,
}

/// Scores one frame held in memory. `thresholds` are the IoU thresholds of
/// the object counts.
///
/// # Panics
/// If a truth mask and the result mask differ in size.
pub fn score_frame(input: &FrameInput, thresholds: &[f64]) -> FrameScores {
    let tra = input.tra.map(|g| Overlap::count(g, input.result));
    let seg = input.seg.map(|g| Overlap::count(g, input.result));
    let object_truth = input.seg.or(input.tra.filter(|_| input.objects_from_tra));
    let edge = input.edge_margin.zip(object_truth).map(|(m, g)| EdgeObjects::find(g, input.result, m));
    score_overlaps(input.t, tra, seg, input.objects_from_tra, thresholds, edge.as_ref())
}

/// [`score_frame`] from the overlap tables of the tracking and segmentation truth.
fn score_overlaps(
    t: usize,
    tra: Option<Overlap>,
    seg: Option<Overlap>,
    objects_from_tra: bool,
    thresholds: &[f64],
    edge: Option<&EdgeObjects>,
) -> FrameScores {
    let object_truth = seg.as_ref().or(tra.as_ref().filter(|_| objects_from_tra));
    let none = EdgeObjects::default();
    FrameScores {
        t,
        objects: object_truth
            .map(|o| (object_counts_excluding(o, thresholds, edge.unwrap_or(&none)), Foreground::of(o))),
        tra: tra.as_ref().map(FrameMatch::from_overlap),
        seg: seg.as_ref().map(|o| SegScore::from_match(&FrameMatch::from_overlap(o))),
    }
}

/// All measures of one evaluation; `None` where a measure cannot be computed
/// (no such truth, no result tracks, nothing to measure). Serialises to the
/// flat JSON of `cellstream evaluate --json`, with py-ctcmetrics' names.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scores {
    pub seg: Option<f64>,
    pub det: Option<f64>,
    pub tra: Option<f64>,
    pub lnk: Option<f64>,
    /// NS, FN, FP; `None` without tracking truth.
    pub detection: Option<DetectionErrors>,
    /// ED, EA, EC; `None` without tracking truth or result tracks.
    pub links: Option<LinkErrors>,
    pub ct: Option<f64>,
    pub tf: Option<f64>,
    /// Division counts for BC(0) … BC(3); empty without tracks.
    pub divisions: Vec<DivisionCounts>,
    /// CCA, the cell cycle accuracy ([`cell_cycle_accuracy`]).
    pub cca: Option<f64>,
    /// HOTA, CHOTA, MOTA, IDF1, MT/ML, FAF; `None` without tracks.
    pub association: Option<Association>,
    /// Object counts at the chosen thresholds.
    pub pr: Vec<ObjectCounts>,
    /// Object counts at 0.05, 0.10, …, 0.95.
    pub pr_curve: Vec<ObjectCounts>,
    pub foreground: Option<Foreground>,
    /// The margin of [`EvalOptions::edge_margin`] the object measures were
    /// counted with, if any.
    pub edge_margin: Option<usize>,
    /// Frames scored: with tracking truth, segmentation truth, object truth.
    pub tra_frames: usize,
    pub seg_frames: usize,
    pub object_frames: usize,
}

impl Scores {
    /// AOGM; `None` unless both detection and link errors are known.
    pub fn aogm(&self) -> Option<GraphErrors> {
        Some(GraphErrors { detection: self.detection?, links: self.links? })
    }

    /// OP_CSB = (SEG + DET) / 2.
    pub fn op_csb(&self) -> Option<f64> {
        Some(0.5 * self.seg? + 0.5 * self.det?)
    }

    /// OP_CTB = (SEG + TRA) / 2.
    pub fn op_ctb(&self) -> Option<f64> {
        Some(0.5 * self.seg? + 0.5 * self.tra?)
    }

    /// BC(i), for i ≤ [`MAX_BC_OFFSET`].
    pub fn bc(&self, i: usize) -> Option<f64> {
        self.divisions.get(i).and_then(|d| d.bc())
    }

    /// BIO(i): the mean of CT, TF, BC(i) and CCA, of those known; `None`
    /// without tracks.
    pub fn bio(&self, i: usize) -> Option<f64> {
        self.association.and(bio(self.ct, self.tf, self.bc(i), self.cca))
    }

    /// OP_CLB(i) = (LNK + BIO(i)) / 2, the CTC's overall linking and
    /// biology measure, as py-ctcmetrics' `op_clb.py` defines it (its
    /// `ctc_evaluate` never reports it: it looks for a key "BIO" it does not
    /// make).
    pub fn op_clb(&self, i: usize) -> Option<f64> {
        Some(0.5 * self.lnk? + 0.5 * self.bio(i)?)
    }
}

/// Combines per-frame scores (any order) with the track files into all
/// measures. Frames with a tracking truth must be consecutive time points.
/// With [`score_frame`], the evaluator of sequences held in memory (a
/// pipeline scoring as it goes, a notebook), as [`evaluate`] is of folders.
///
/// ```
/// use cellstream::ctc::TrackRecord;
/// use cellstream::eval::{combine, score_frame, EvalOptions, FrameInput};
/// use ndarray::array;
/// // Cell 1 moves one pixel right; the result follows it under label 7.
/// let truth = [array![[1, 1, 0, 0]], array![[0, 1, 1, 0]]];
/// let result = [array![[7, 7, 0, 0]], array![[0, 7, 7, 0]]];
/// let opts = EvalOptions::default();
/// let frames = (0..2)
///     .map(|t| {
///         let input = FrameInput { t, tra: Some(&truth[t]), seg: Some(&truth[t]), objects_from_tra: false, result: &result[t], edge_margin: None };
///         score_frame(&input, &opts.all_thresholds())
///     })
///     .collect();
/// let s = combine(frames, Some(&[TrackRecord::new(1, 0, 1, 0)]), Some(&[TrackRecord::new(7, 0, 1, 0)]), &opts);
/// assert_eq!((s.seg, s.det, s.tra, s.lnk), (Some(1.0), Some(1.0), Some(1.0), Some(1.0)));
/// ```
///
/// # Panics
/// If the frames with tracking truth are not consecutive.
pub fn combine(
    mut frames: Vec<FrameScores>,
    truth_tracks: Option<&[TrackRecord]>,
    result_tracks: Option<&[TrackRecord]>,
    opts: &EvalOptions,
) -> Scores {
    frames.sort_by_key(|f| f.t);
    let mut s = Scores { edge_margin: opts.edge_margin, ..Scores::default() };
    let seg: Vec<SegScore> = frames.iter().filter_map(|f| f.seg).collect();
    s.seg_frames = seg.len();
    if !seg.is_empty() {
        s.seg = seg.into_iter().sum::<SegScore>().value();
    }

    let thresholds = opts.all_thresholds();
    let mut pooled: Option<(Vec<ObjectCounts>, Foreground)> = None;
    for (counts, fg) in frames.iter().filter_map(|f| f.objects.as_ref()) {
        s.object_frames += 1;
        match &mut pooled {
            None => pooled = Some((counts.clone(), *fg)),
            Some((c, f)) => {
                for (a, b) in c.iter_mut().zip(counts) {
                    *a += *b;
                }
                *f = *f + *fg;
            }
        }
    }
    if let Some((counts, fg)) = pooled {
        let pick = |wanted: &[f64]| -> Vec<ObjectCounts> {
            wanted.iter().filter_map(|w| counts.iter().find(|c| c.iou == *w).copied()).collect()
        };
        debug_assert_eq!(counts.len(), thresholds.len());
        s.pr = pick(&opts.iou_thresholds);
        s.pr_curve = pick(&curve_thresholds());
        s.foreground = Some(fg);
    }

    let tra: Vec<(usize, FrameMatch)> = frames.into_iter().filter_map(|f| f.tra.map(|m| (f.t, m))).collect();
    s.tra_frames = tra.len();
    if let Some(&(first, _)) = tra.first() {
        assert!(
            tra.iter().enumerate().all(|(i, f)| f.0 == first + i),
            "frames with tracking truth must be consecutive time points"
        );
        let matches: Vec<FrameMatch> = tra.into_iter().map(|f| f.1).collect();
        let detection = aogm::detection_errors(&matches);
        s.detection = Some(detection);
        s.det = detection.det();
        if let (Some(gt), Some(res)) = (truth_tracks, result_tracks) {
            let links = aogm::link_errors(gt, res, first, &matches);
            s.links = Some(links);
            s.lnk = links.lnk();
            s.tra = GraphErrors { detection, links }.tra();
            s.ct = biological::complete_tracks(gt, res, &matches);
            s.tf = biological::track_fractions(gt, first, &matches);
            s.divisions =
                (0..=MAX_BC_OFFSET).map(|i| biological::division_counts(gt, res, first, &matches, i)).collect();
            s.cca = cell_cycle_accuracy(gt, res);
            s.association = Some(association(gt, res, &matches));
        }
    }
    s
}

/// A result folder: its masks and, when it has one, its track file.
struct ResultFolder {
    masks: FrameFiles,
    tracks: Option<Vec<TrackRecord>>,
}

fn open_result(dir: &Path) -> Result<ResultFolder> {
    if dir.join("res_track.txt").exists() {
        let r = ctc::ResultDir::open(dir)?;
        return Ok(ResultFolder { masks: r.masks, tracks: Some(r.tracks) });
    }
    let masks = ctc::list_frame_files(dir, "mask")?;
    if masks.is_empty() {
        return Err(CtcError::new(dir, "holds no maskTTT.tif files; not a CTC result folder"));
    }
    masks.require_contiguous()?;
    Ok(ResultFolder { masks, tracks: None })
}

/// The files to read for one time point.
struct FramePlan {
    t: usize,
    tra: Option<PathBuf>,
    seg: Option<PathBuf>,
    result: PathBuf,
}

/// Pairs each truth frame in `range` with its result mask; errors name the missing file.
fn plan_frames(truth: &ctc::Truth, result: &ResultFolder, range: Option<ctc::FrameRange>) -> Result<Vec<FramePlan>> {
    let tra = truth.tra.as_ref().map(|t| &t.0);
    let mut times = truth_times(truth);
    if let (Some(r), Some(a), Some(b)) = (range, times.first(), times.last()) {
        let (a, b) = (*a, *b);
        times.retain(|&t| r.contains(t));
        if times.is_empty() {
            let dir = tra.map_or_else(|| truth.seg.as_ref().map(|s| s.dir.clone()).unwrap_or_default(), |f| f.dir.clone());
            return Err(CtcError::new(dir, format!("holds truth for frames {a}–{b}; --frames {r} names none of them")));
        }
    }
    let mut plan = Vec::new();
    for &t in &times {
        let tra_path = tra.and_then(|f| f.path(t)).map(Path::to_path_buf);
        let seg_path = truth.seg.as_ref().and_then(|f| f.path(t)).map(Path::to_path_buf);
        let Some(res) = result.masks.path(t) else {
            let name = format!("mask{t:0w$}.tif", w = result.masks.digits);
            let by = tra_path.as_ref().or(seg_path.as_ref()).expect("a truth frame");
            // A result of part of the sequence (`track --frames`) is scored on that part.
            let hint = match (range, result.masks.span()) {
                // Only for a frame outside the result's span: one missing inside it is a result cut short.
                (None, Some((a, b))) if !(a..=b).contains(&t) => match shared_span(&times, (a, b)) {
                    Some((c, d)) => format!("; the result holds frames {a}–{b}, and `evaluate --frames {c}-{d}` scores those it shares with the truth"),
                    None => format!("; the result holds frames {a}–{b}, none of which the truth has"),
                },
                _ => String::new(),
            };
            return Err(CtcError::new(
                result.masks.dir.join(name),
                format!("is missing: the truth has {} for frame {t}{hint}", by.display()),
            ));
        };
        plan.push(FramePlan { t, tra: tra_path, seg: seg_path, result: res.to_path_buf() });
    }
    if let Some(tra) = tra {
        let seg = truth.seg.as_ref();
        let extra: Vec<usize> = result
            .masks
            .times()
            .filter(|t| ctc::FrameRange::admits(range, *t) && tra.path(*t).is_none() && seg.and_then(|s| s.path(*t)).is_none())
            .collect();
        if let (Some(a), Some(b)) = (extra.first(), extra.last()) {
            return Err(CtcError::new(
                &result.masks.dir,
                format!(
                    "has masks for {} frame(s) ({a}–{b}) that the tracking truth {} lacks; result and TRA truth must cover the same frames",
                    extra.len(),
                    tra.dir.display()
                ),
            ));
        }
    }
    Ok(plan)
}

/// The first and last of the truth's time points `times` (sorted) that lie
/// in the result's `span`; None where none does.
fn shared_span(times: &[usize], (a, b): (usize, usize)) -> Option<(usize, usize)> {
    let mut shared = times.iter().copied().filter(|t| (a..=b).contains(t));
    let first = shared.next()?;
    Some((first, shared.next_back().unwrap_or(first)))
}

/// The time points of `truth`'s TRA and SEG frames, sorted, without repeats.
fn truth_times(truth: &ctc::Truth) -> Vec<usize> {
    let tra = truth.tra.as_ref().map(|t| &t.0);
    let mut times: Vec<usize> = tra.into_iter().chain(truth.seg.as_ref()).flat_map(|f| f.times()).collect();
    times.sort_unstable();
    times.dedup();
    times
}

/// A mask as stored on disk: CTC's 16-bit masks are kept 16-bit, which
/// halves the memory traffic of reading them.
enum StoredMask {
    U8(Array2<u8>),
    U16(Array2<u16>),
    U32(Mask),
}

impl StoredMask {
    fn read(path: &Path) -> Result<StoredMask> {
        Ok(match ctc::read_frame(path)? {
            ctc::Frame::U8(a) => StoredMask::U8(a),
            ctc::Frame::U16(a) => StoredMask::U16(a),
            // 32-bit and float masks: read again as labels, with their checks.
            ctc::Frame::F32(_) => StoredMask::U32(ctc::read_mask(path)?),
        })
    }

    fn dim(&self) -> (usize, usize) {
        match self {
            StoredMask::U8(a) => a.dim(),
            StoredMask::U16(a) => a.dim(),
            StoredMask::U32(a) => a.dim(),
        }
    }

    /// The labels of the objects within `margin` of the edge.
    fn edge_labels(&self, margin: usize) -> Vec<u32> {
        match self {
            StoredMask::U8(a) => crate::post::border_labels(a.view(), margin),
            StoredMask::U16(a) => crate::post::border_labels(a.view(), margin),
            StoredMask::U32(a) => crate::post::border_labels(a.view(), margin),
        }
    }

    /// The overlap table of `self` (truth) and `result`.
    fn overlap(&self, result: &StoredMask) -> Overlap {
        fn with<A: overlap::Label>(truth: &Array2<A>, result: &StoredMask) -> Overlap {
            match result {
                StoredMask::U8(r) => Overlap::count_labels(truth, r),
                StoredMask::U16(r) => Overlap::count_labels(truth, r),
                StoredMask::U32(r) => Overlap::count_labels(truth, r),
            }
        }
        match self {
            StoredMask::U8(g) => with(g, result),
            StoredMask::U16(g) => with(g, result),
            StoredMask::U32(g) => with(g, result),
        }
    }
}

/// Reads a truth mask and checks it has the result's size.
fn read_truth(path: &Path, result_path: &Path, result: &StoredMask) -> Result<StoredMask> {
    let m = StoredMask::read(path)?;
    if m.dim() != result.dim() {
        let (a, b) = (result.dim(), m.dim());
        return Err(CtcError::new(
            result_path,
            format!(
                "is {}×{} (width×height) but its truth {} is {}×{}; masks of one frame must have one size",
                a.1,
                a.0,
                path.display(),
                b.1,
                b.0
            ),
        ));
    }
    Ok(m)
}

/// Reads one frame's masks, reduces them to overlap tables, and scores them;
/// the masks are dropped on return.
fn read_and_score(p: &FramePlan, objects_from_tra: bool, opts: &EvalOptions, thresholds: &[f64]) -> Result<FrameScores> {
    let result = StoredMask::read(&p.result)?;
    let read = |truth: &Option<PathBuf>| truth.as_deref().map(|path| read_truth(path, &p.result, &result)).transpose();
    let (tra, seg) = (read(&p.tra)?, read(&p.seg)?);
    // The truth the object measures use, as in score_overlaps.
    let object_truth = seg.as_ref().or(tra.as_ref().filter(|_| objects_from_tra));
    let edge = opts.edge_margin.zip(object_truth).map(|(m, g)| EdgeObjects { truth: g.edge_labels(m), result: result.edge_labels(m) });
    let overlap = |g: &StoredMask| g.overlap(&result);
    Ok(score_overlaps(p.t, tra.as_ref().map(overlap), seg.as_ref().map(overlap), objects_from_tra, thresholds, edge.as_ref()))
}

/// Every label of the tracking truth masks (`files`) must be listed in
/// man_track.txt (`tracks`, cut to the frames scored).
fn check_truth_tracks(files: &FrameFiles, tracks: &[TrackRecord], frames: &[FrameScores]) -> Result<()> {
    // A lineage the truth cannot have (a parent not listed, or not ending
    // before its child begins) would make LNK, BC and CT score nonsense.
    let scored = || frames.iter().filter(|f| f.tra.is_some()).map(|f| f.t);
    let (first, last) = (scored().min().unwrap_or(0), scored().max().unwrap_or(0));
    ctc::check_lineage(&files.dir.join("man_track.txt"), tracks, first, last)?;
    let listed: std::collections::HashSet<u32> = tracks.iter().map(|t| t.label).collect();
    for f in frames {
        if let Some(l) = f.tra.as_ref().and_then(|m| m.truth.iter().find(|l| !listed.contains(l))) {
            let path = files.path(f.t).unwrap_or(&files.dir);
            return Err(CtcError::new(path, format!("label {l} is not listed in {}", files.dir.join("man_track.txt").display())));
        }
    }
    Ok(())
}

/// The result's track file must agree with its masks before its tracks are scored.
fn check_result_tracks(dir: &Path, tracks: &[TrackRecord], frames: &[FrameScores]) -> Result<()> {
    let labels = frames.iter().filter_map(|f| f.tra.as_ref().map(|m| (f.t, m.result.as_slice())));
    let violations = ctc::validate_tracks(tracks, labels);
    if violations.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = violations.iter().take(3).map(|v| v.to_string()).collect();
    Err(CtcError::new(
        dir,
        format!(
            "is not a valid CTC result, so its tracks cannot be scored ({} violation(s): {}{}); `cellstream validate {}` lists them all (a result without res_track.txt gets SEG, DET and the object measures only)",
            violations.len(),
            shown.join("; "),
            if violations.len() > 3 { "; …" } else { "" },
            dir.display()
        ),
    ))
}

/// Evaluates the result folder `result_dir` (`maskTTT.tif` + `res_track.txt`;
/// without the track file only SEG, DET and the object measures) against the
/// truth folder `truth_dir` (`SEG/` and/or `TRA/`, any folder name).
///
/// Masks are streamed: frames are read and scored in parallel, a few at a
/// time, and only their small overlap summaries are kept. Errors name the
/// file: a missing folder or result frame, a result frame whose size differs
/// from its truth, an unreadable mask, an invalid result track file.
pub fn evaluate(truth_dir: &Path, result_dir: &Path, opts: &EvalOptions) -> Result<Scores> {
    let truth = ctc::Truth::open(truth_dir)?;
    let result = open_result(result_dir)?;
    let plan = plan_frames(&truth, &result, opts.frames)?;
    let thresholds = opts.all_thresholds();
    let objects_from_tra = truth.seg.is_none();
    let frames: Vec<Result<FrameScores>> =
        plan.par_iter().map(|p| read_and_score(p, objects_from_tra, opts, &thresholds)).collect();
    let frames: Vec<FrameScores> = frames.into_iter().collect::<Result<_>>()?;
    // With --frames, both lineages are cut to the frames scored.
    let cut = |tracks: &Vec<TrackRecord>| match opts.frames {
        Some(r) => ctc::clip_tracks(tracks, r.first, r.last.unwrap_or(usize::MAX)),
        None => tracks.clone(),
    };
    let truth_tracks = truth.tra.as_ref().map(|(_, t)| cut(t));
    let result_tracks = result.tracks.as_ref().map(cut);
    if let (Some((files, _)), Some(tracks)) = (&truth.tra, &truth_tracks) {
        check_truth_tracks(files, tracks, &frames)?;
    }
    if let (Some(tracks), Some(_)) = (&result_tracks, &truth.tra) {
        check_result_tracks(result_dir, tracks, &frames)?;
    }
    Ok(combine(frames, truth_tracks.as_deref(), result_tracks.as_deref(), opts))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    use ndarray::array;

    /// Writes a one-page grayscale TIFF of `bits` bits per sample.
    fn write_tiff(path: &Path, bits: u8, data: &[u32], (w, h): (u32, u32)) {
        use tiff::encoder::{colortype, TiffEncoder};
        let mut enc = TiffEncoder::new(std::fs::File::create(path).unwrap()).unwrap();
        match bits {
            8 => enc.write_image::<colortype::Gray8>(w, h, &data.iter().map(|&v| v as u8).collect::<Vec<_>>()),
            32 => enc.write_image::<colortype::Gray32>(w, h, data),
            _ => unreachable!(),
        }
        .unwrap();
    }

    #[test]
    fn masks_of_any_width_overlap_alike() {
        let d = tempfile::tempdir().unwrap();
        let truth = [1u32, 1, 0, 2, 2, 0];
        let result = [7u32, 7, 7, 0, 70_000, 70_000];
        let (t8, r32) = (d.path().join("t.tif"), d.path().join("r.tif"));
        write_tiff(&t8, 8, &truth, (3, 2));
        write_tiff(&r32, 32, &result, (3, 2));
        let (t, r) = (StoredMask::read(&t8).unwrap(), StoredMask::read(&r32).unwrap());
        assert!(matches!((&t, &r), (StoredMask::U8(_), StoredMask::U32(_))));
        let expected = Overlap::count(&ctc::read_mask(&t8).unwrap(), &ctc::read_mask(&r32).unwrap());
        assert_eq!(t.overlap(&r), expected);
        assert_eq!(expected.result.last().map(|o| o.label), Some(70_000));
    }

    #[test]
    fn whole_sequence_in_memory() {
        // Truth: 1 divides into 2 and 3. Result: the division is found one
        // frame late, as 1 → 5, 6; segmentation truth on frame 2 only.
        let truth = [array![[1, 1, 0, 0]], array![[2, 0, 0, 3]], array![[2, 0, 0, 3]]];
        let result = [array![[1, 1, 0, 0]], array![[1, 1, 0, 7]], array![[5, 0, 0, 6]]];
        let gt = [TrackRecord::new(1, 0, 0, 0), TrackRecord::new(2, 1, 2, 1), TrackRecord::new(3, 1, 2, 1)];
        let res = [TrackRecord::new(1, 0, 1, 0), TrackRecord::new(5, 2, 2, 1), TrackRecord::new(6, 2, 2, 1), TrackRecord::new(7, 1, 1, 0)];
        let opts = EvalOptions::default();
        let thresholds = opts.all_thresholds();
        let frames = (0..3)
            .map(|t| {
                let seg = (t == 2).then_some(&truth[t]);
                let input =
                    FrameInput { t, tra: Some(&truth[t]), seg, objects_from_tra: false, result: &result[t], edge_margin: None };
                score_frame(&input, &thresholds)
            })
            .collect();
        let s = combine(frames, Some(&gt), Some(&res), &opts);
        assert_eq!((s.tra_frames, s.seg_frames, s.object_frames), (3, 1, 1));
        assert_eq!(s.seg, Some(1.0));
        // Frame 1: truth 2 (1 px) is half of result 1 (2 px) but all of it is
        // covered: matched; truth 3 matched by 7. No FN, FP or NS anywhere.
        assert_eq!(s.detection, Some(DetectionErrors { ns: 0, fn_: 0, fp: 0, truth_vertices: 5 }));
        // Truth edges: 1→2, 1→3 (parent links), 2→2, 3→3 (continuations).
        // Result edges, in truth labels: 1→1 is 1→2 but a continuation (EC);
        // parent link 1→5 is 2→2, a continuation in truth (EC); parent link
        // 1→6 is 2→3, absent from truth (ED); 1→3 and 3→3 have no result
        // edge (EA).
        assert_eq!(s.links, Some(LinkErrors { ed: 1, ea: 2, ec: 2, truth_edges: 4 }));
        // The division is one frame late: found from BC(1) on.
        assert_eq!(s.bc(0), Some(0.0));
        assert_eq!(s.bc(1), Some(1.0));
        assert_eq!(s.pr.iter().map(|c| c.tp).collect::<Vec<_>>(), vec![2, 2, 2]);
        assert_eq!(s.pr_curve.len(), 19);
    }

    #[test]
    fn in_memory_frames_leave_edge_objects_out() {
        // 1 is cut by the left edge and found; 2 inside is found; the result
        // adds 8 inside and 9 on the right edge.
        let truth = array![[0, 0, 0, 0, 0, 0], [1, 0, 2, 2, 0, 0], [1, 0, 2, 2, 0, 0], [0, 0, 0, 0, 0, 0]];
        let result = array![[0, 0, 0, 0, 0, 0], [1, 0, 2, 2, 0, 9], [1, 0, 2, 2, 8, 0], [0, 0, 0, 0, 0, 0]];
        let opts = EvalOptions { iou_thresholds: vec![0.5], edge_margin: Some(0), frames: None };
        let score = |edge_margin| {
            let input = FrameInput { t: 0, tra: None, seg: Some(&truth), objects_from_tra: false, result: &result, edge_margin };
            combine(vec![score_frame(&input, &opts.all_thresholds())], None, None, &opts).pr[0]
        };
        let all = score(None);
        assert_eq!((all.tp, all.fp, all.fn_), (2, 2, 0));
        let inside = score(Some(0));
        assert_eq!((inside.tp, inside.fp, inside.fn_), (1, 1, 0));
    }

    /// A random valid CTC lineage on 6 frames of 12×12, each track a 2×2
    /// block of its own (so that objects never touch): from `spec`, one
    /// (begin, end, parent choice) per track. A parent is a track that ends
    /// before the child begins and has fewer than two children.
    fn random_lineage(spec: &[(usize, usize, usize)]) -> (Vec<Mask>, Vec<TrackRecord>) {
        let mut tracks: Vec<TrackRecord> = Vec::new();
        for (i, &(a, b, p)) in spec.iter().enumerate() {
            let (begin, end) = (a.min(b), a.max(b));
            let eligible: Vec<u32> = tracks
                .iter()
                .filter(|t| t.end < begin && tracks.iter().filter(|c| c.parent == t.label).count() < 2)
                .map(|t| t.label)
                .collect();
            let parent = if p == 0 || eligible.is_empty() { 0 } else { eligible[(p - 1) % eligible.len()] };
            tracks.push(TrackRecord::new(i as u32 + 1, begin, end, parent));
        }
        let mut masks = vec![Mask::zeros((12, 12)); 6];
        for t in &tracks {
            let (y, x) = ((t.label as usize - 1) / 4 * 3, (t.label as usize - 1) % 4 * 3);
            for m in &mut masks[t.begin..=t.end] {
                m.slice_mut(ndarray::s![y..y + 2, x..x + 2]).fill(t.label);
            }
        }
        (masks, tracks)
    }

    /// `masks` and `tracks` with every label `l` renamed `to(l)`.
    fn relabel(masks: &[Mask], tracks: &[TrackRecord], to: impl Fn(u32) -> u32) -> (Vec<Mask>, Vec<TrackRecord>) {
        let masks = masks.iter().map(|m| m.mapv(|l| if l == 0 { 0 } else { to(l) })).collect();
        let tracks = tracks.iter().map(|t| TrackRecord::new(to(t.label), t.begin, t.end, if t.parent == 0 { 0 } else { to(t.parent) })).collect();
        (masks, tracks)
    }

    fn scores_of(truth: &[Mask], gt: &[TrackRecord], result: &[Mask], res: &[TrackRecord]) -> Scores {
        let opts = EvalOptions::default();
        let thresholds = opts.all_thresholds();
        let frames = (0..truth.len())
            .map(|t| {
                let input = FrameInput { t, tra: Some(&truth[t]), seg: Some(&truth[t]), objects_from_tra: false, result: &result[t], edge_margin: None };
                score_frame(&input, &thresholds)
            })
            .collect();
        combine(frames, Some(gt), Some(res), &opts)
    }

    /// The measures a change of labels must leave alone, to 1e-12.
    fn measures(s: &Scores) -> Vec<Option<f64>> {
        let a = s.association.as_ref();
        let mut v = vec![s.seg, s.det, s.tra, s.lnk, s.ct, s.tf, s.cca, s.bc(0), s.bc(1), s.bc(2), s.bc(3)];
        v.extend([a.and_then(|a| a.hota), a.and_then(|a| a.chota), a.and_then(|a| a.mota), a.and_then(|a| a.idf1)]);
        v.extend(s.pr.iter().chain(&s.pr_curve).flat_map(|c| [c.precision(), c.recall()]));
        v
    }

    fn same(a: &[Option<f64>], b: &[Option<f64>]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Some(x), Some(y)) => (x - y).abs() < 1e-12,
            (None, None) => true,
            _ => false,
        })
    }

    /// Labels 1..=13 renamed through the permutation `order` of 0..13, into 40..53.
    fn scramble(order: &[u32]) -> impl Fn(u32) -> u32 + '_ {
        move |l| 40 + order[l as usize - 1]
    }

    use proptest::prelude::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// The truth under other labels is a perfect result: every measure
        /// that is defined is 1, and the error counts are 0.
        #[test]
        fn relabelled_truth_scores_one_on_every_measure(
            spec in proptest::collection::vec((0usize..6, 0usize..6, 0usize..4), 1..13),
            order in Just((0u32..13).collect::<Vec<_>>()).prop_shuffle(),
        ) {
            let (truth, gt) = random_lineage(&spec);
            let (result, res) = relabel(&truth, &gt, scramble(&order));
            let s = scores_of(&truth, &gt, &result, &res);
            prop_assert_eq!((s.seg, s.det, s.tra), (Some(1.0), Some(1.0), Some(1.0)));
            let d = s.detection.unwrap();
            let l = s.links.unwrap();
            prop_assert_eq!((d.ns, d.fn_, d.fp, l.ed, l.ea, l.ec), (0, 0, 0, 0, 0, 0));
            if l.truth_edges > 0 {
                prop_assert_eq!(s.lnk, Some(1.0));
            }
            let defined: Vec<f64> = measures(&s).into_iter().flatten().collect();
            prop_assert!(defined.iter().all(|&v| (v - 1.0).abs() < 1e-12), "{:?}", measures(&s));
            prop_assert!(s.ct.is_some() && s.tf.is_some() && s.association.is_some());
            if gt.iter().any(|t| gt.iter().filter(|c| c.parent == t.label).count() == 2) {
                prop_assert_eq!(s.bc(0), Some(1.0), "a division");
            }
        }

        /// A flawed result (tracks dropped, blocks moved by a pixel) scores
        /// the same under any renaming of its labels or of the truth's.
        #[test]
        fn scores_do_not_depend_on_which_labels_are_used(
            spec in proptest::collection::vec((0usize..6, 0usize..6, 0usize..4), 1..13),
            flaws in proptest::collection::vec(0u8..3, 13),
            order in Just((0u32..13).collect::<Vec<_>>()).prop_shuffle(),
        ) {
            let (truth, gt) = random_lineage(&spec);
            // Flaw 1 drops a track (its children lose their parent); flaw 2
            // moves its block a pixel right in every frame.
            let dropped: Vec<u32> = gt.iter().filter(|t| flaws[t.label as usize - 1] == 1).map(|t| t.label).collect();
            let res: Vec<TrackRecord> = gt
                .iter()
                .filter(|t| !dropped.contains(&t.label))
                .map(|t| TrackRecord::new(t.label, t.begin, t.end, if dropped.contains(&t.parent) { 0 } else { t.parent }))
                .collect();
            let result: Vec<Mask> = truth
                .iter()
                .map(|m| {
                    let mut out = Mask::zeros(m.dim());
                    for ((y, x), &l) in m.indexed_iter() {
                        if l != 0 && !dropped.contains(&l) {
                            let shift = usize::from(flaws[l as usize - 1] == 2);
                            out[[y, x + shift]] = l;
                        }
                    }
                    out
                })
                .collect();
            let base = measures(&scores_of(&truth, &gt, &result, &res));
            let (result2, res2) = relabel(&result, &res, scramble(&order));
            prop_assert!(same(&base, &measures(&scores_of(&truth, &gt, &result2, &res2))), "result relabelled");
            let (truth2, gt2) = relabel(&truth, &gt, scramble(&order));
            prop_assert!(same(&base, &measures(&scores_of(&truth2, &gt2, &result, &res))), "truth relabelled");
        }
    }
}
