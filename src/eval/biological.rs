//! The CTC's biologically inspired measures: complete tracks CT, track fractions TF, branching correctness BC(i), cell cycle accuracy CCA and BIO(i).
//!
//! Defined by Ulman et al. 2017 ("An objective comparison of cell-tracking
//! algorithms", Nature Methods 14, Supplementary Note 2) and computed here as
//! py-ctcmetrics 1.3.3 computes them (`ct.py`, `tf.py`, `bc.py`), down to its
//! tie-breaking, on the per-frame CTC matches of the TRA truth:
//!
//! - a truth object is *assigned* the result object that matches it, or
//!   nothing (0) when it is unmatched or its result object matches several
//!   truth objects (a merge);
//! - CT = 2·T_rc / (T_r + T_c): T_rc counts truth tracks assigned one and the
//!   same result track in every frame, that result track beginning and ending
//!   in the same frames; T_r and T_c are the numbers of tracks in the two
//!   track files;
//! - TF: for each truth track, the longest run of consecutive frames assigned
//!   one result track, as a fraction of the truth track's length; averaged over
//!   truth tracks that are detected at all. Like py-ctcmetrics (which keeps it
//!   from the CTC's code and flags it as order-dependent), a result track that
//!   covers a whole truth track stops being credited to later truth tracks;
//! - BC(i): F1 of division detection. A result division (a parent with ≥ 2
//!   children) matches a truth division when both have as many children, the
//!   parents end at most i frames apart, the parents are matched one-to-one in
//!   the earlier of the two end frames, and every truth daughter is matched
//!   one-to-one to a distinct result daughter that begins at most i frames
//!   from it, in the later of the two begin frames (py-ctcmetrics issue #22).
//!
//! Where py-ctcmetrics and the CTC's Java evaluator (java-ctcmetrics
//! `BCi.java`) differ, py-ctcmetrics is followed: Java lets each truth division
//! be recovered once and scores 2·correct / (truth + result divisions), and
//! does not require distinct result daughters; py-ctcmetrics counts every
//! matching (truth, result) pair, so one division can be counted twice when
//! divisions are close in time and space.
use std::collections::{BTreeMap, HashMap};

use super::matching::FrameMatch;
use crate::ctc::TrackRecord;

/// What a truth object was assigned in one frame: `Some(0)` for nothing,
/// `Some(label)` for a result object matching it alone.
type Assignments = BTreeMap<u32, Vec<(usize, u32)>>;

/// For every truth label, the (frame index, assigned result label or 0)
/// of each frame it appears in, in frame order.
fn assign_result_to_truth(frames: &[FrameMatch]) -> Assignments {
    let mut out: Assignments = BTreeMap::new();
    for (i, f) in frames.iter().enumerate() {
        for &g in &f.truth {
            out.entry(g).or_default().push((i, f.unique_result_of(g).unwrap_or(0)));
        }
    }
    out
}

/// CT, the fraction of completely reconstructed tracks; `None` when neither
/// track file has a track. `frames[i]` holds the matches of time `first + i`.
/// A truth track is complete when one result track covers it in every
/// frame and begins and ends with it; CT = 2·complete / (truth tracks +
/// result tracks).
///
/// ```
/// use cellstream::ctc::TrackRecord;
/// use cellstream::eval::match_frame;
/// use ndarray::array;
/// // Truth: cell 1 divides into 2 and 3 after frame 1; cell 4 is there throughout.
/// // The result finds the division a frame late (as 5 → 6, 7) and loses 4 in frame 2.
/// let truth = [array![[1, 1, 0, 0, 4]], array![[1, 1, 0, 0, 4]], array![[2, 0, 0, 3, 4]], array![[2, 0, 0, 3, 4]]];
/// let result = [array![[5, 5, 0, 0, 8]], array![[5, 5, 0, 0, 8]], array![[5, 5, 0, 5, 0]], array![[6, 0, 0, 7, 9]]];
/// let gt = [TrackRecord::new(1, 0, 1, 0), TrackRecord::new(2, 2, 3, 1), TrackRecord::new(3, 2, 3, 1), TrackRecord::new(4, 0, 3, 0)];
/// let res = [TrackRecord::new(5, 0, 2, 0), TrackRecord::new(6, 3, 3, 5), TrackRecord::new(7, 3, 3, 5), TrackRecord::new(8, 0, 1, 0), TrackRecord::new(9, 3, 3, 0)];
/// let frames: Vec<_> = truth.iter().zip(&result).map(|(g, r)| match_frame(g, r)).collect();
/// // Only track 1 (result 5, frames 0–1) is whole, but 5 goes on into frame 2: none is complete.
/// assert_eq!(cellstream::eval::biological::complete_tracks(&gt, &res, &frames), Some(0.0));
/// assert_eq!(cellstream::eval::biological::complete_tracks(&gt, &gt, &truth.iter().map(|g| match_frame(g, g)).collect::<Vec<_>>()), Some(1.0));
/// ```
pub fn complete_tracks(
    truth_tracks: &[TrackRecord],
    result_tracks: &[TrackRecord],
    frames: &[FrameMatch],
) -> Option<f64> {
    let truth: HashMap<u32, &TrackRecord> = truth_tracks.iter().map(|t| (t.label, t)).collect();
    let result: HashMap<u32, &TrackRecord> = result_tracks.iter().map(|t| (t.label, t)).collect();
    let mut correct = 0usize;
    for (g, seen) in assign_result_to_truth(frames) {
        let r = seen[0].1;
        if r == 0 || seen.iter().any(|s| s.1 != r) {
            continue;
        }
        if let (Some(a), Some(b)) = (truth.get(&g), result.get(&r))
            && a.begin == b.begin
            && a.end == b.end
        {
            correct += 1;
        }
    }
    let total = truth_tracks.len() + result_tracks.len();
    (total > 0).then(|| 2.0 * correct as f64 / total as f64)
}

/// TF, the mean fraction of each detected truth track that one result track
/// follows without interruption; 0 when no truth track is detected, `None`
/// without truth tracks. `frames[i]` holds the matches of time `first + i`.
///
/// On the worked sequence of [`complete_tracks`]:
///
/// ```
/// # use cellstream::ctc::TrackRecord;
/// # use cellstream::eval::match_frame;
/// # use ndarray::array;
/// # let truth = [array![[1, 1, 0, 0, 4]], array![[1, 1, 0, 0, 4]], array![[2, 0, 0, 3, 4]], array![[2, 0, 0, 3, 4]]];
/// # let result = [array![[5, 5, 0, 0, 8]], array![[5, 5, 0, 0, 8]], array![[5, 5, 0, 5, 0]], array![[6, 0, 0, 7, 9]]];
/// # let gt = [TrackRecord::new(1, 0, 1, 0), TrackRecord::new(2, 2, 3, 1), TrackRecord::new(3, 2, 3, 1), TrackRecord::new(4, 0, 3, 0)];
/// # let res = [TrackRecord::new(5, 0, 2, 0), TrackRecord::new(6, 3, 3, 5), TrackRecord::new(7, 3, 3, 5), TrackRecord::new(8, 0, 1, 0), TrackRecord::new(9, 3, 3, 0)];
/// # let frames: Vec<_> = truth.iter().zip(&result).map(|(g, r)| match_frame(g, r)).collect();
/// use cellstream::eval::biological::track_fractions;
/// // Track 1 is followed whole (by 5); 2 and 3 for one of their two frames
/// // (by 6 and 7; in frame 2 they are merged); 4 for two of four (by 8).
/// assert_eq!(track_fractions(&gt, 0, &frames), Some((1.0 + 0.5 + 0.5 + 0.5) / 4.0));
/// ```
pub fn track_fractions(truth_tracks: &[TrackRecord], first: usize, frames: &[FrameMatch]) -> Option<f64> {
    if truth_tracks.is_empty() {
        return None;
    }
    let by_label: HashMap<u32, &TrackRecord> = truth_tracks.iter().map(|t| (t.label, t)).collect();
    // result label → truth label → best fraction
    let mut fractions: BTreeMap<u32, BTreeMap<u32, f64>> = BTreeMap::new();
    for (g, seen) in assign_result_to_truth(frames) {
        let Some(track) = by_label.get(&g) else { continue };
        let length = (track.end - track.begin + 1) as f64;
        let (start, end) = (track.begin.saturating_sub(first), (track.end + 1).saturating_sub(first).min(frames.len()));
        // The assignment per frame of the track's span; None where g is absent.
        let mut entries = seen.iter().peekable();
        let mut run = 0usize;
        let mut last: Option<u32> = Some(0);
        for i in start..end {
            while entries.peek().is_some_and(|e| e.0 < i) {
                entries.next();
            }
            let value = entries.peek().filter(|e| e.0 == i).map(|e| e.1);
            let same = matches!((last, value), (Some(a), Some(b)) if a == b);
            if !same || value == Some(0) {
                run = 0;
            }
            if let Some(r) = value.filter(|&r| r > 0) {
                run += 1;
                let best = fractions.entry(r).or_default().entry(g).or_insert(0.0);
                *best = best.max(run as f64 / length);
            }
            last = value;
        }
    }
    let mut best: Vec<(u32, f64)> = truth_tracks.iter().map(|t| (t.label, 0.0)).collect();
    let index: HashMap<u32, usize> = best.iter().enumerate().map(|(i, b)| (b.0, i)).collect();
    for per_truth in fractions.values() {
        for (g, &f) in per_truth {
            let Some(&k) = index.get(g) else { continue };
            if best[k].1 == 1.0 {
                continue;
            }
            if f > best[k].1 {
                best[k].1 = f;
            }
            if f == 1.0 {
                break;
            }
        }
    }
    let detected: Vec<f64> = best.iter().map(|b| b.1).filter(|&f| f > 0.0).collect();
    Some(if detected.is_empty() { 0.0 } else { detected.iter().sum::<f64>() / detected.len() as f64 })
}

/// Division counts for BC(i). py-ctcmetrics counts a (truth, result) pair per
/// match, so with ambiguous divisions FP or FN can be negative; kept as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct DivisionCounts {
    pub tp: i64,
    pub fp: i64,
    pub fn_: i64,
}

impl DivisionCounts {
    /// Divisions in the truth (TP + FN).
    pub fn truth_divisions(&self) -> i64 {
        self.tp + self.fn_
    }

    /// BC(i): the F1 score of the division matches; `None` when the truth has
    /// no division. Same guards against zero as py-ctcmetrics.
    pub fn bc(&self) -> Option<f64> {
        if self.truth_divisions() == 0 {
            return None;
        }
        let (tp, fp, fn_) = (self.tp as f64, self.fp as f64, self.fn_ as f64);
        let precision = tp / (tp + fp).max(1.0);
        let recall = tp / (tp + fn_).max(1.0);
        Some(2.0 * precision * recall / (precision + recall).max(1e-4))
    }
}

/// A division: the parent track's label and last frame, and its daughters'
/// labels and first frames in track-file order.
struct Division {
    parent: u32,
    end: usize,
    children: Vec<(u32, usize)>,
}

/// Tracks with at least two children, by increasing label.
fn divisions(tracks: &[TrackRecord]) -> Vec<Division> {
    let by_label: HashMap<u32, &TrackRecord> = tracks.iter().map(|t| (t.label, t)).collect();
    let mut children: BTreeMap<u32, Vec<(u32, usize)>> = BTreeMap::new();
    for t in tracks.iter().filter(|t| t.parent != 0) {
        children.entry(t.parent).or_default().push((t.label, t.begin));
    }
    children
        .into_iter()
        .filter(|(_, c)| c.len() > 1)
        .filter_map(|(p, c)| by_label.get(&p).map(|t| Division { parent: p, end: t.end, children: c }))
        .collect()
}

fn divisions_match(truth: &Division, result: &Division, first: usize, frames: &[FrameMatch], max_offset: usize) -> bool {
    let frame = |t: usize| t.checked_sub(first).and_then(|i| frames.get(i));
    if truth.children.len() != result.children.len() || truth.end.abs_diff(result.end) > max_offset {
        return false;
    }
    let Some(f) = frame(truth.end.min(result.end)) else { return false };
    if f.result_of(truth.parent) != Some(result.parent) || f.truth_count(result.parent) != 1 {
        return false;
    }
    let mut matched: Vec<u32> = Vec::new();
    for &(g, tg) in &truth.children {
        for &(r, tr) in &result.children {
            if tg.abs_diff(tr) > max_offset {
                continue;
            }
            let Some(f) = frame(tg.max(tr)) else { continue };
            if f.truth_count(r) != 1 {
                continue;
            }
            if f.result_of(g) == Some(r) {
                if !matched.contains(&r) {
                    matched.push(r);
                }
                break;
            }
        }
    }
    matched.len() == truth.children.len()
}

/// Counts matched, spurious and missed divisions allowing `max_offset`
/// frames of error (the i of BC(i)). `frames[i]` holds the matches of time
/// `first + i`.
///
/// ```
/// use cellstream::ctc::TrackRecord;
/// use cellstream::eval::match_frame;
/// use ndarray::array;
/// // Truth: cell 1 divides into 2 and 3 after frame 1; cell 4 is there throughout.
/// // The result finds the division a frame late (as 5 → 6, 7) and loses 4 in frame 2.
/// let truth = [array![[1, 1, 0, 0, 4]], array![[1, 1, 0, 0, 4]], array![[2, 0, 0, 3, 4]], array![[2, 0, 0, 3, 4]]];
/// let result = [array![[5, 5, 0, 0, 8]], array![[5, 5, 0, 0, 8]], array![[5, 5, 0, 5, 0]], array![[6, 0, 0, 7, 9]]];
/// let gt = [TrackRecord::new(1, 0, 1, 0), TrackRecord::new(2, 2, 3, 1), TrackRecord::new(3, 2, 3, 1), TrackRecord::new(4, 0, 3, 0)];
/// let res = [TrackRecord::new(5, 0, 2, 0), TrackRecord::new(6, 3, 3, 5), TrackRecord::new(7, 3, 3, 5), TrackRecord::new(8, 0, 1, 0), TrackRecord::new(9, 3, 3, 0)];
/// let frames: Vec<_> = truth.iter().zip(&result).map(|(g, r)| match_frame(g, r)).collect();
/// use cellstream::eval::biological::division_counts;
/// // The division found a frame late is missed by BC(0) and found by BC(1).
/// let c0 = division_counts(&gt, &res, 0, &frames, 0);
/// let c1 = division_counts(&gt, &res, 0, &frames, 1);
/// assert_eq!((c0.tp, c0.fp, c0.fn_), (0, 1, 1));
/// assert_eq!((c1.tp, c1.fp, c1.fn_), (1, 0, 0));
/// ```
pub fn division_counts(
    truth_tracks: &[TrackRecord],
    result_tracks: &[TrackRecord],
    first: usize,
    frames: &[FrameMatch],
    max_offset: usize,
) -> DivisionCounts {
    let truth = divisions(truth_tracks);
    let result = divisions(result_tracks);
    if truth.is_empty() || result.is_empty() {
        return DivisionCounts { tp: 0, fp: result.len() as i64, fn_: truth.len() as i64 };
    }
    let mut tp = 0i64;
    for r in &result {
        for g in truth.iter().filter(|g| g.end.abs_diff(r.end) <= max_offset) {
            if divisions_match(g, r, first, frames, max_offset) {
                tp += 1;
            }
        }
    }
    DivisionCounts { tp, fp: result.len() as i64 - tp, fn_: truth.len() as i64 - tp }
}

/// CCA, the cell cycle accuracy (Ulman et al.'s BIO measures, as
/// py-ctcmetrics' `cca.py`): the distributions of the lengths (last − first
/// frame) of the tracks born by a division that divide again, in truth and
/// result, compared as 1 − the largest gap between their cumulative
/// histograms. `None` without such a truth track; 0 without such a result
/// track.
///
/// ```
/// use cellstream::ctc::TrackRecord;
/// let t = |l, b, e, p| TrackRecord::new(l, b, e, p);
/// // 1 divides into 2 and 3; 2 divides into 4 and 5 after 4 frames (length 3).
/// let truth = [t(1, 0, 1, 0), t(2, 2, 5, 1), t(3, 2, 9, 1), t(4, 6, 9, 2), t(5, 6, 9, 2)];
/// assert_eq!(cellstream::eval::cell_cycle_accuracy(&truth, &truth), Some(1.0));
/// assert_eq!(cellstream::eval::cell_cycle_accuracy(&truth, &truth[..1]), Some(0.0));
/// ```
pub fn cell_cycle_accuracy(truth_tracks: &[TrackRecord], result_tracks: &[TrackRecord]) -> Option<f64> {
    let lengths = |tracks: &[TrackRecord]| -> Vec<usize> {
        let daughters = crate::ctc::daughter_counts(tracks);
        let splits = |l: u32| daughters.get(&l).is_some_and(|&n| n > 1);
        tracks.iter().filter(|r| splits(r.label) && splits(r.parent)).map(|r| r.end.saturating_sub(r.begin)).collect()
    };
    let (truth, result) = (lengths(truth_tracks), lengths(result_tracks));
    if truth.is_empty() {
        return None;
    }
    if result.is_empty() {
        return Some(0.0);
    }
    let longest = truth.iter().chain(&result).copied().max().unwrap_or(0);
    let cumulative = |v: &[usize]| -> Vec<f64> {
        let mut h = vec![0.0; longest + 1];
        for &l in v {
            h[l] += 1.0;
        }
        let n = v.len() as f64;
        let mut acc = 0.0;
        h.iter().map(|c| {
            acc += c / n;
            acc
        })
        .collect()
    };
    let (a, b) = (cumulative(&truth), cumulative(&result));
    Some(1.0 - a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max))
}

/// BIO(i), the mean of CT, TF, BC(i) and CCA, of those that can be computed.
///
/// ```
/// use cellstream::eval::bio;
/// assert_eq!(bio(Some(0.5), Some(1.0), None, None), Some(0.75)); // no divisions: BC and CCA left out
/// assert_eq!(bio(None, None, None, None), None);
/// ```
pub fn bio(ct: Option<f64>, tf: Option<f64>, bc: Option<f64>, cca: Option<f64>) -> Option<f64> {
    let known: Vec<f64> = [ct, tf, bc, cca].into_iter().flatten().collect();
    (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::matching::match_frames as frames;
    use crate::ctc::TrackRecord;
    use ndarray::{array, Array2};

    /// Truth: 1 in frames 0-1 divides into 2 and 3 (frames 2-3).
    fn division_truth() -> (Vec<Array2<u32>>, Vec<TrackRecord>) {
        let g = vec![
            array![[1, 1, 0, 0, 0, 0]],
            array![[1, 1, 0, 0, 0, 0]],
            array![[2, 2, 0, 0, 3, 3]],
            array![[2, 2, 0, 0, 3, 3]],
        ];
        (g, vec![TrackRecord::new(1, 0, 1, 0), TrackRecord::new(2, 2, 3, 1), TrackRecord::new(3, 2, 3, 1)])
    }

    #[test]
    fn exact_division_is_found_at_every_i() {
        let (g, t) = division_truth();
        let f = frames(&g, &g);
        for i in 0..4 {
            let c = division_counts(&t, &t, 0, &f, i);
            assert_eq!(c, DivisionCounts { tp: 1, fp: 0, fn_: 0 });
            assert_eq!(c.bc(), Some(1.0));
        }
        assert_eq!(complete_tracks(&t, &t, &f), Some(1.0));
        assert_eq!(track_fractions(&t, 0, &f), Some(1.0));
    }

    #[test]
    fn late_division_needs_offset() {
        // Result divides one frame late: 1 lasts frames 0-2, daughters 5, 6
        // in frame 3 only; in frame 2 the result object 1 covers both truth
        // daughters (a merge).
        let (g, t) = division_truth();
        let r = vec![
            array![[1, 1, 0, 0, 0, 0]],
            array![[1, 1, 0, 0, 0, 0]],
            array![[1, 1, 1, 1, 1, 1]],
            array![[5, 5, 0, 0, 6, 6]],
        ];
        let rt = vec![TrackRecord::new(1, 0, 2, 0), TrackRecord::new(5, 3, 3, 1), TrackRecord::new(6, 3, 3, 1)];
        let f = frames(&g, &r);
        assert_eq!(division_counts(&t, &rt, 0, &f, 0), DivisionCounts { tp: 0, fp: 1, fn_: 1 });
        assert_eq!(division_counts(&t, &rt, 0, &f, 0).bc(), Some(0.0));
        // i = 1: parents end at 1 and 2, matched one-to-one in frame 1;
        // daughters begin at 2 and 3, matched one-to-one in frame 3.
        assert_eq!(division_counts(&t, &rt, 0, &f, 1), DivisionCounts { tp: 1, fp: 0, fn_: 0 });
        // CT: 1's assignment is 1,1,0 (merged in frame 2) → no; 2 and 3: 0 then 5/6 → no.
        assert_eq!(complete_tracks(&t, &rt, &f), Some(0.0));
        // TF: truth 1 is followed 2 of 2 frames → 1; truth 2 and 3: 1 of 2 frames → 0.5.
        assert!((track_fractions(&t, 0, &f).unwrap() - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn no_truth_division_means_no_bc() {
        let c = division_counts(&[TrackRecord::new(1, 0, 0, 0)], &[TrackRecord::new(1, 0, 0, 0), TrackRecord::new(2, 1, 1, 1), TrackRecord::new(3, 1, 1, 1)], 0, &[], 0);
        assert_eq!(c, DivisionCounts { tp: 0, fp: 1, fn_: 0 });
        assert_eq!(c.bc(), None);
        let (_, t) = division_truth();
        let c = division_counts(&t, &[TrackRecord::new(1, 0, 3, 0)], 0, &[], 0);
        assert_eq!(c, DivisionCounts { tp: 0, fp: 0, fn_: 1 });
        assert_eq!(c.bc(), Some(0.0));
    }

    #[test]
    fn ct_counts_both_track_files() {
        // Truth 1 (frames 0-1) found exactly; truth 2 found but the result
        // track starts a frame early; result has an extra track 9.
        let g = vec![array![[1, 1, 0, 0, 0]], array![[1, 1, 0, 2, 2]]];
        let r = vec![array![[4, 4, 0, 5, 0]], array![[4, 4, 0, 5, 5]]];
        let gt = vec![TrackRecord::new(1, 0, 1, 0), TrackRecord::new(2, 1, 1, 0)];
        let rt = vec![TrackRecord::new(4, 0, 1, 0), TrackRecord::new(5, 0, 1, 0), TrackRecord::new(9, 0, 0, 0)];
        let f = frames(&g, &r);
        assert_eq!(complete_tracks(&gt, &rt, &f), Some(2.0 * 1.0 / 5.0));
        assert_eq!(track_fractions(&gt, 0, &f), Some(1.0));
    }

    #[test]
    fn tf_takes_the_longest_run() {
        // Truth 1 over 4 frames: assigned 7, 7, (missed), 7 → best run 2/4.
        let g = vec![array![[1, 1]], array![[1, 1]], array![[1, 1]], array![[1, 1]]];
        let r = vec![array![[7, 7]], array![[7, 7]], array![[0, 0]], array![[7, 7]]];
        let t = vec![TrackRecord::new(1, 0, 3, 0)];
        let f = frames(&g, &r);
        assert_eq!(track_fractions(&t, 0, &f), Some(0.5));
        // Nothing found: 0, as py-ctcmetrics.
        let z = vec![Array2::zeros((1, 2)); 4];
        assert_eq!(track_fractions(&t, 0, &frames(&g, &z)), Some(0.0));
    }

    #[test]
    fn tf_full_track_stops_crediting() {
        // Result track 5 covers truth 1 fully (1 frame) and truth 2 for 1 of 2
        // frames; py-ctcmetrics credits 5 to truth 1, then stops (break), so
        // truth 2 gets only what another result track gives it: 0 → undetected.
        let g = vec![array![[1, 0, 2]], array![[0, 0, 2]]];
        let r = vec![array![[5, 0, 0]], array![[0, 0, 5]]];
        let gt = vec![TrackRecord::new(1, 0, 0, 0), TrackRecord::new(2, 0, 1, 0)];
        let f = frames(&g, &r);
        assert_eq!(track_fractions(&gt, 0, &f), Some(1.0));
    }
}
