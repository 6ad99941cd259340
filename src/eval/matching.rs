//! CTC object matching: a result object matches a truth object when it covers more than half of it.
//!
//! This is the detection test of the Cell Tracking Challenge (Matula et al.
//! 2015, "Cell tracking accuracy measurement based on comparison of acyclic
//! oriented graphs", PLoS ONE 10(12)): reference object R and computed object
//! S match when |R ∩ S| > 0.5·|R|. A truth object therefore matches at most
//! one result object, while a result object may match several truth objects
//! (a merge, counted by NS). SEG, DET, TRA, LNK, CT, TF and BC(i) all start
//! from these matches.
use super::overlap::Overlap;
use crate::ctc::Mask;

/// The CTC matches of one frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FrameMatch {
    /// Truth labels present in the frame, increasing.
    pub truth: Vec<u32>,
    /// Result labels present in the frame, increasing.
    pub result: Vec<u32>,
    /// Matched (truth label, result label), by increasing truth label; a
    /// truth label appears at most once.
    pub pairs: Vec<(u32, u32)>,
    /// Intersection over union of each pair in `pairs`.
    pub iou: Vec<f64>,
    /// The result labels of `pairs`, sorted (with repeats), to count how many
    /// truth objects a result object matches.
    matched_results: Vec<u32>,
}

impl FrameMatch {
    /// A frame's matches given outright: its truth and result labels
    /// (increasing) and the matched (truth, result) pairs, by truth label;
    /// IoU unknown (0).
    #[cfg(test)]
    pub(crate) fn from_parts(truth: Vec<u32>, result: Vec<u32>, pairs: Vec<(u32, u32)>) -> FrameMatch {
        let mut matched_results: Vec<u32> = pairs.iter().map(|p| p.1).collect();
        matched_results.sort_unstable();
        FrameMatch { truth, result, iou: vec![0.0; pairs.len()], pairs, matched_results }
    }

    /// The matches found in a frame's sparse overlap table: each truth
    /// object goes to the result object that covers more than half of it.
    ///
    /// ```
    /// use cellstream::eval::{FrameMatch, Overlap};
    /// use ndarray::array;
    /// // Result 9 covers truths 1 and 2 (a merge); truth 3 is missed.
    /// let o = Overlap::count(&array![[1, 1, 0, 2, 2, 0, 3]], &array![[9, 9, 9, 9, 9, 0, 0]]);
    /// let m = FrameMatch::from_overlap(&o);
    /// assert_eq!(m.pairs, [(1, 9), (2, 9)]);
    /// assert_eq!((m.result_of(2), m.result_of(3), m.truth_count(9)), (Some(9), None, 2));
    /// assert_eq!(m.unique_result_of(1), None, "a merge is no one-to-one match");
    /// ```
    pub fn from_overlap(o: &Overlap) -> FrameMatch {
        let mut m = FrameMatch { truth: o.truth_labels(), result: o.result_labels(), ..Default::default() };
        for p in &o.pairs {
            if 2 * p.shared > o.truth[p.truth].area {
                m.pairs.push((o.truth[p.truth].label, o.result[p.result].label));
                m.iou.push(o.iou(p));
            }
        }
        m.matched_results = m.pairs.iter().map(|p| p.1).collect();
        m.matched_results.sort_unstable();
        m
    }

    /// The result label matched to truth label `truth`, if any.
    pub fn result_of(&self, truth: u32) -> Option<u32> {
        self.pairs.binary_search_by_key(&truth, |p| p.0).ok().map(|i| self.pairs[i].1)
    }

    /// How many truth objects the result object `result` matches (0, 1, or
    /// more for a merge).
    pub fn truth_count(&self, result: u32) -> usize {
        let lo = self.matched_results.partition_point(|&r| r < result);
        let hi = self.matched_results.partition_point(|&r| r <= result);
        hi - lo
    }

    /// The result label matched to `truth` when that result object matches
    /// no other truth object: the one-to-one matches the track measures use.
    pub fn unique_result_of(&self, truth: u32) -> Option<u32> {
        self.result_of(truth).filter(|&r| self.truth_count(r) == 1)
    }
}

/// Matches the objects of one frame by the CTC rule |R ∩ S| > 0.5·|R|.
///
/// ```
/// use cellstream::eval::match_frame;
/// use ndarray::array;
/// let truth = array![[1, 1, 1, 0, 2, 2]];
/// let result = array![[3, 3, 0, 0, 3, 4]];
/// let m = match_frame(&truth, &result);
/// assert_eq!(m.pairs, vec![(1, 3)]); // 3 covers 2 of 1's 3 pixels; 4 covers only half of 2
/// ```
///
/// # Panics
/// If the masks differ in size.
pub fn match_frame(truth: &Mask, result: &Mask) -> FrameMatch {
    FrameMatch::from_overlap(&Overlap::count(truth, result))
}

/// Matches each frame of a sequence held in memory: `truth[i]` with `result[i]`.
///
/// # Panics
/// If the sequences differ in length or a pair of masks in size.
pub fn match_frames(truth: &[Mask], result: &[Mask]) -> Vec<FrameMatch> {
    assert_eq!(truth.len(), result.len(), "truth and result have different numbers of frames");
    truth.iter().zip(result).map(|(g, r)| match_frame(g, r)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn half_is_not_enough() {
        // truth 1 has 4 px; result 5 covers exactly 2 of them: no match.
        let m = match_frame(&array![[1, 1, 1, 1]], &array![[5, 5, 0, 0]]);
        assert!(m.pairs.is_empty());
        let m = match_frame(&array![[1, 1, 1, 1]], &array![[5, 5, 5, 0]]);
        assert_eq!(m.pairs, vec![(1, 5)]);
        assert_eq!(m.iou, vec![0.75]);
    }

    #[test]
    fn merge_matches_two_truths() {
        let m = match_frame(&array![[1, 1, 0, 2, 2]], &array![[7, 7, 7, 7, 7]]);
        assert_eq!(m.pairs, vec![(1, 7), (2, 7)]);
        assert_eq!(m.truth_count(7), 2);
        assert_eq!(m.unique_result_of(1), None);
        assert_eq!(m.result_of(2), Some(7));
        assert_eq!(m.truth_count(8), 0);
    }

    #[test]
    fn split_matches_the_larger_part_only() {
        let m = match_frame(&array![[1, 1, 1, 1, 1]], &array![[3, 3, 3, 4, 4]]);
        assert_eq!(m.pairs, vec![(1, 3)]);
        assert_eq!(m.result, vec![3, 4]);
        assert_eq!(m.unique_result_of(1), Some(3));
    }
}
