//! Object detection measures: precision, recall and F1 at IoU thresholds by optimal one-to-one matching; foreground IoU and Dice.
//!
//! The matching is the one of StarDist's `matching` (Schmidt et al. 2018,
//! "Cell detection with star-convex polygons", MICCAI) and Cellpose's
//! `average_precision` (Stringer et al. 2021, Nature Methods 18): truth and
//! result objects are paired one-to-one so that as many pairs as possible
//! have IoU above the threshold, ties broken by the largest total IoU, solved
//! with the Hungarian method ([`min_cost_assignment`]). Unlike those two, a
//! pair needs IoU *strictly* above the threshold. Only pairs that overlap
//! enter the problem, and it is solved separately on each connected group of
//! overlapping objects, which keeps it small. At thresholds ≥ 0.5 every
//! object overlaps at most one partner that well, so the matching is unique.
use std::ops::{Add, AddAssign};

use ndarray::Array2;

use super::assignment::min_cost_assignment;
use super::overlap::{Label, Overlap};
use crate::ctc::Mask;
use crate::post::border_labels;

/// The IoU thresholds of the precision–recall curve: 0.05, 0.10, …, 0.95.
pub fn curve_thresholds() -> Vec<f64> {
    (1..20).map(|k| f64::from(k) / 20.0).collect()
}

/// Matched, spurious and missed objects at one IoU threshold.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct ObjectCounts {
    pub iou: f64,
    pub tp: u64,
    pub fp: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
}

impl ObjectCounts {
    /// TP / (TP + FP); `None` without result objects.
    pub fn precision(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fp)
    }
    /// TP / (TP + FN); `None` without truth objects.
    pub fn recall(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fn_)
    }
    /// 2·TP / (2·TP + FP + FN); `None` without any object.
    pub fn f1(&self) -> Option<f64> {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

impl Add for ObjectCounts {
    type Output = ObjectCounts;
    /// Pools two frames' counts at the same threshold.
    fn add(self, o: ObjectCounts) -> ObjectCounts {
        debug_assert_eq!(self.iou, o.iou);
        ObjectCounts { iou: self.iou, tp: self.tp + o.tp, fp: self.fp + o.fp, fn_: self.fn_ + o.fn_ }
    }
}

impl AddAssign for ObjectCounts {
    fn add_assign(&mut self, o: ObjectCounts) {
        *self = *self + o;
    }
}

/// Smallest union-find over `n` nodes, for the groups of overlapping objects.
struct Groups(Vec<usize>);

impl Groups {
    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }
    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        self.0[a] = b;
    }
}

/// The one-to-one matching at `threshold`: (truth index, result index, IoU)
/// into `o.truth` / `o.result`, by truth index. Pairs have IoU > threshold;
/// their number is the largest possible, and among such matchings the total
/// IoU is largest.
///
/// ```
/// use cellstream::eval::{match_objects, Overlap};
/// use ndarray::array;
/// // Truth 1 is half covered by result 5 (IoU 1/2); truth 2 is result 7 exactly.
/// let o = Overlap::count(&array![[1, 1, 0, 2]], &array![[5, 0, 0, 7]]);
/// let at = |t: f64| match_objects(&o, t).iter().map(|m| (o.truth[m.0].label, o.result[m.1].label)).collect::<Vec<_>>();
/// assert_eq!(at(0.3), [(1, 5), (2, 7)]);
/// assert_eq!(at(0.5), [(2, 7)], "IoU must exceed the threshold");
/// ```
pub fn match_objects(o: &Overlap, threshold: f64) -> Vec<(usize, usize, f64)> {
    let nt = o.truth.len();
    let candidates: Vec<(usize, usize, f64)> = o
        .pairs
        .iter()
        .map(|p| (p.truth, p.result, o.iou(p)))
        .filter(|c| c.2 > threshold)
        .collect();
    let mut groups = Groups((0..nt + o.result.len()).collect());
    for c in &candidates {
        groups.join(c.0, nt + c.1);
    }
    let mut by_group: Vec<(usize, (usize, usize, f64))> =
        candidates.iter().map(|c| (groups.find(c.0), *c)).collect();
    by_group.sort_by_key(|g| g.0);
    let mut out = Vec::new();
    for group in by_group.chunk_by(|a, b| a.0 == b.0) {
        let pairs: Vec<(usize, usize, f64)> = group.iter().map(|g| g.1).collect();
        if pairs.len() == 1 {
            out.push(pairs[0]);
            continue;
        }
        let mut rows: Vec<usize> = pairs.iter().map(|p| p.0).collect();
        let mut cols: Vec<usize> = pairs.iter().map(|p| p.1).collect();
        rows.sort_unstable();
        rows.dedup();
        cols.sort_unstable();
        cols.dedup();
        // Each pair gains 1, plus its IoU scaled so that all IoUs together
        // weigh less than one pair: the count comes first (as in StarDist).
        let scale = 2.0 * rows.len().min(cols.len()) as f64;
        let mut cost = Array2::<f64>::zeros((rows.len(), cols.len()));
        let mut iou = Array2::<f64>::zeros((rows.len(), cols.len()));
        for &(t, r, v) in &pairs {
            let (i, j) = (rows.binary_search(&t).unwrap(), cols.binary_search(&r).unwrap());
            cost[[i, j]] = -(1.0 + v / scale);
            iou[[i, j]] = v;
        }
        for (i, j) in min_cost_assignment(&cost) {
            if iou[[i, j]] > 0.0 {
                out.push((rows[i], cols[j], iou[[i, j]]));
            }
        }
    }
    out.sort_by_key(|p| p.0);
    out
}

/// Object counts of one frame at each threshold: matched pairs (TP), result
/// objects left over (FP) and truth objects left over (FN), after
/// [`match_objects`].
///
/// ```
/// use cellstream::eval::{object_counts, Overlap};
/// use ndarray::array;
/// let o = Overlap::count(&array![[1, 1, 0, 2]], &array![[5, 0, 8, 7]]);
/// let c = object_counts(&o, &[0.3, 0.5]);
/// assert_eq!((c[0].tp, c[0].fp, c[0].fn_), (2, 1, 0));
/// assert_eq!((c[1].tp, c[1].fp, c[1].fn_), (1, 2, 1));
/// assert_eq!(c[1].precision(), Some(1.0 / 3.0));
/// ```
pub fn object_counts(o: &Overlap, thresholds: &[f64]) -> Vec<ObjectCounts> {
    object_counts_excluding(o, thresholds, &EdgeObjects::default())
}

/// The objects of one frame that lie at its edge: those with a pixel within
/// `margin` pixels of the first or last row or column (`margin` 0: the
/// objects the frame's edge cuts), by label, in increasing order.
///
/// Annotators often leave cut cells out (PhC-C2DL-PSC's silver truth
/// labels 11 of its 3 457 cells on the edge); [`object_counts_excluding`]
/// then leaves them out of the object measures on both sides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EdgeObjects {
    pub truth: Vec<u32>,
    pub result: Vec<u32>,
}

impl EdgeObjects {
    /// The edge objects of a truth and a result mask of one frame.
    ///
    /// ```
    /// use cellstream::eval::EdgeObjects;
    /// use ndarray::array;
    /// let truth = array![[1u16, 0, 0, 0], [0, 0, 2, 0], [0, 0, 0, 0], [0, 0, 0, 0]];
    /// let result = array![[0u32, 0, 0, 0], [0, 5, 5, 0], [0, 0, 0, 0], [0, 0, 0, 7]];
    /// let e = EdgeObjects::find(&truth, &result, 0);
    /// assert_eq!((e.truth, e.result), (vec![1], vec![7]));
    /// let e = EdgeObjects::find(&truth, &result, 1);
    /// assert_eq!((e.truth, e.result), (vec![1, 2], vec![5, 7])); // a 4×4 frame is all margin
    /// ```
    pub fn find<A: Label, B: Label>(truth: &Array2<A>, result: &Array2<B>, margin: usize) -> EdgeObjects {
        EdgeObjects { truth: border_labels(truth.view(), margin), result: border_labels(result.view(), margin) }
    }
}

/// [`object_counts`] with the objects of `edge` left out: a truth object
/// there is neither found nor missed, and a result object there that matches
/// no truth object is not a false positive. The matching itself is made over
/// all objects first, so an object just inside the margin keeps its partner
/// just outside.
///
/// ```
/// use cellstream::eval::{object_counts_excluding, EdgeObjects, Overlap};
/// use ndarray::array;
/// // Truth 1 lies on the edge and is missed; result 8 lies on it and matches nothing.
/// let truth = array![[1, 0, 0, 0], [0, 0, 2, 0], [0, 0, 0, 0]];
/// let result = array![[0, 0, 0, 0], [0, 0, 5, 0], [0, 0, 0, 8]];
/// let o = Overlap::count(&truth, &result);
/// let c = object_counts_excluding(&o, &[0.5], &EdgeObjects::find(&truth, &result, 0));
/// assert_eq!((c[0].tp, c[0].fp, c[0].fn_), (1, 0, 0));
/// let all = object_counts_excluding(&o, &[0.5], &EdgeObjects::default());
/// assert_eq!((all[0].tp, all[0].fp, all[0].fn_), (1, 1, 1));
/// ```
pub fn object_counts_excluding(o: &Overlap, thresholds: &[f64], edge: &EdgeObjects) -> Vec<ObjectCounts> {
    let truth_in: Vec<bool> = o.truth.iter().map(|x| edge.truth.binary_search(&x.label).is_err()).collect();
    let result_in: Vec<bool> = o.result.iter().map(|x| edge.result.binary_search(&x.label).is_err()).collect();
    let (n_truth, n_result) = (truth_in.iter().filter(|x| **x).count() as u64, result_in.iter().filter(|x| **x).count() as u64);
    thresholds
        .iter()
        .map(|&iou| {
            let matches = match_objects(o, iou);
            let tp = matches.iter().filter(|m| truth_in[m.0]).count() as u64;
            let matched_inside_results = matches.iter().filter(|m| result_in[m.1]).count() as u64;
            ObjectCounts { iou, tp, fp: n_result - matched_inside_results, fn_: n_truth - tp }
        })
        .collect()
}

/// Object counts of one frame held in memory (see [`object_counts`]).
///
/// ```
/// use cellstream::eval::object_scores;
/// use ndarray::array;
/// let truth = array![[1, 1, 1, 0, 2, 2]];
/// let pred = array![[5, 5, 5, 0, 0, 6]];
/// let c = object_scores(&truth, &pred, &[0.25, 0.75]);
/// assert_eq!((c[0].tp, c[0].fp, c[0].fn_), (2, 0, 0)); // 2 ↔ 6 has IoU 0.5
/// assert_eq!((c[1].tp, c[1].fp, c[1].fn_), (1, 1, 1));
/// ```
///
/// # Panics
/// If the masks differ in size.
pub fn object_scores(truth: &Mask, result: &Mask, thresholds: &[f64]) -> Vec<ObjectCounts> {
    object_counts(&Overlap::count(truth, result), thresholds)
}

/// Foreground pixel counts for the binary foreground IoU and Dice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Foreground {
    pub truth: u64,
    pub result: u64,
    pub both: u64,
}

impl Foreground {
    /// The foreground counts of one frame's overlap table.
    ///
    /// ```
    /// use cellstream::eval::{Foreground, Overlap};
    /// use ndarray::array;
    /// let f = Foreground::of(&Overlap::count(&array![[1, 1, 2, 0]], &array![[0, 4, 4, 4]]));
    /// assert_eq!((f.truth, f.result, f.both), (3, 3, 2));
    /// assert_eq!((f.iou(), f.dice()), (Some(0.5), Some(2.0 / 3.0)));
    /// ```
    pub fn of(o: &Overlap) -> Foreground {
        Foreground { truth: o.truth_foreground, result: o.result_foreground, both: o.both_foreground }
    }
    /// |T ∩ R| / |T ∪ R| of the foregrounds (label ≠ 0); `None` when both are empty.
    pub fn iou(&self) -> Option<f64> {
        ratio(self.both, self.truth + self.result - self.both)
    }
    /// 2·|T ∩ R| / (|T| + |R|); `None` when both are empty.
    pub fn dice(&self) -> Option<f64> {
        ratio(2 * self.both, self.truth + self.result)
    }
}

impl Add for Foreground {
    type Output = Foreground;
    fn add(self, o: Foreground) -> Foreground {
        Foreground { truth: self.truth + o.truth, result: self.result + o.result, both: self.both + o.both }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn cardinality_comes_before_total_iou() {
        //   truth  1 1 1 1 2 2
        //   result 7 7 8 8 8 0
        // IoU(1,7) = 2/4 = 0.5; IoU(1,8) = 2/5 = 0.4; IoU(2,8) = 1/4 = 0.25.
        let g = array![[1, 1, 1, 1, 2, 2]];
        let r = array![[7, 7, 8, 8, 8, 0]];
        let o = Overlap::count(&g, &r);
        // At 0.2 the two pairs 1-7, 2-8 beat the single best pair.
        let m = match_objects(&o, 0.2);
        assert_eq!(m.iter().map(|x| (x.0, x.1)).collect::<Vec<_>>(), vec![(0, 0), (1, 1)]);
        // At 0.3 only 1 can be matched; to its better partner.
        assert_eq!(match_objects(&o, 0.3), vec![(0, 0, 0.5)]);
        // Strictly above: at 0.5 nothing matches.
        assert!(match_objects(&o, 0.5).is_empty());
        let c = object_counts(&o, &[0.2, 0.5]);
        assert_eq!((c[0].tp, c[0].fp, c[0].fn_), (2, 0, 0));
        assert_eq!((c[1].tp, c[1].fp, c[1].fn_), (0, 2, 2));
        assert_eq!(c[1].precision(), Some(0.0));
        assert_eq!(c[1].f1(), Some(0.0));
    }

    #[test]
    fn hungarian_beats_greedy() {
        //   truth  1 1 1 1 1 1 2 2 2 2
        //   result 7 7 8 8 8 8 8 8 0 0
        // IoU(1,7) = 2/6, IoU(1,8) = 4/8, IoU(2,8) = 2/8. Greedy by IoU takes
        // 1-8 first and ends with one pair; the optimum is 1-7 and 2-8.
        let g = array![[1, 1, 1, 1, 1, 1, 2, 2, 2, 2]];
        let r = array![[7, 7, 8, 8, 8, 8, 8, 8, 0, 0]];
        let o = Overlap::count(&g, &r);
        let m = match_objects(&o, 0.2);
        assert_eq!(m.iter().map(|x| (x.0, x.1)).collect::<Vec<_>>(), vec![(0, 0), (1, 1)]);
        assert_eq!(match_objects(&o, 0.3), vec![(0, 1, 0.5)]);
    }

    #[test]
    fn pooled_rates() {
        let a = ObjectCounts { iou: 0.5, tp: 3, fp: 1, fn_: 0 };
        let b = ObjectCounts { iou: 0.5, tp: 1, fp: 0, fn_: 4 };
        let s = a + b;
        assert_eq!(s.precision(), Some(0.8));
        assert_eq!(s.recall(), Some(0.5));
        assert_eq!(s.f1(), Some(8.0 / 13.0));
        assert_eq!(ObjectCounts::default().precision(), None);
    }

    #[test]
    fn foreground_iou_and_dice() {
        let o = Overlap::count(&array![[1, 1, 2, 0]], &array![[0, 5, 5, 5]]);
        let f = Foreground::of(&o);
        assert_eq!(f, Foreground { truth: 3, result: 3, both: 2 });
        assert_eq!(f.iou(), Some(0.5));
        assert_eq!(f.dice(), Some(2.0 / 3.0));
        assert_eq!(Foreground::default().iou(), None);
    }

    #[test]
    fn edge_objects_leave_the_counts_on_both_sides() {
        //   truth  1 1 0 2 2 0 3 3
        //   result 5 5 0 6 0 0 0 7      (and two rows of background)
        let g = array![[1, 1, 0, 2, 2, 0, 3, 3], [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0]];
        let r = array![[5, 5, 0, 6, 0, 0, 0, 7], [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0]];
        let o = Overlap::count(&g, &r);
        let all = object_counts(&o, &[0.4]);
        assert_eq!((all[0].tp, all[0].fp, all[0].fn_), (3, 0, 0));
        // Margin 0 on a 3-row frame: row 0 is edge, so everything is.
        let e = EdgeObjects::find(&g, &r, 0);
        assert_eq!((e.truth.clone(), e.result.clone()), (vec![1, 2, 3], vec![5, 6, 7]));
        let c = object_counts_excluding(&o, &[0.4], &e);
        assert_eq!((c[0].tp, c[0].fp, c[0].fn_), (0, 0, 0));
        // Truth 1 at the edge, its partner 5 inside: the pair is not counted,
        // and 5 is no false positive. Result 7 at the edge matching truth 3
        // inside is a true positive, as is 2 ↔ 6.
        let e = EdgeObjects { truth: vec![1], result: vec![6, 7] };
        let c = object_counts_excluding(&o, &[0.4], &e);
        assert_eq!((c[0].tp, c[0].fp, c[0].fn_), (2, 0, 0));
        // At 0.6 only 1 ↔ 5 matches (2 ↔ 6 and 3 ↔ 7 have IoU 0.5): truths 2
        // and 3, inside, are missed; results 6 and 7, at the edge, are no
        // false positives; the pair 1 ↔ 5 counts for nothing.
        let c = object_counts_excluding(&o, &[0.6], &e);
        assert_eq!((c[0].tp, c[0].fp, c[0].fn_), (0, 0, 2));
        let plain = object_counts(&o, &[0.6]);
        assert_eq!((plain[0].tp, plain[0].fp, plain[0].fn_), (1, 2, 2));
    }

    #[test]
    fn curve_is_exact() {
        let c = curve_thresholds();
        assert_eq!(c.len(), 19);
        assert_eq!(c[2], 0.15);
        assert_eq!(c[18], 0.95);
    }
}
