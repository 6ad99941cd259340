//! The CTC segmentation measure SEG: mean Jaccard index of each truth object with its matching result object.
//!
//! SEG (Maška et al. 2014, "A benchmark for comparison of cell tracking
//! algorithms", Bioinformatics 30(11); Ulman et al. 2017, Nature Methods 14)
//! averages, over every truth object of the frames that have a segmentation
//! truth (`man_segTTT.tif`), the IoU with the result object that covers more
//! than half of it, and 0 when there is none. Frames pool by summing IoUs and
//! object counts, exactly as py-ctcmetrics does.
use std::iter::Sum;
use std::ops::{Add, AddAssign};

use super::matching::FrameMatch;
use super::overlap::Overlap;
use crate::ctc::Mask;

/// The two sums SEG is made of, for one frame or pooled over frames.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct SegScore {
    /// Sum of the IoUs of the matched truth objects.
    pub iou_sum: f64,
    /// Number of truth objects, matched or not.
    pub truth_objects: usize,
}

impl SegScore {
    /// SEG = iou_sum / truth_objects; `None` when there is no truth object.
    pub fn value(&self) -> Option<f64> {
        (self.truth_objects > 0).then(|| self.iou_sum / self.truth_objects as f64)
    }

    /// The SEG sums of one frame's matches.
    pub fn from_match(m: &FrameMatch) -> SegScore {
        SegScore { iou_sum: m.iou.iter().sum(), truth_objects: m.truth.len() }
    }
}

impl Add for SegScore {
    type Output = SegScore;
    fn add(self, o: SegScore) -> SegScore {
        SegScore { iou_sum: self.iou_sum + o.iou_sum, truth_objects: self.truth_objects + o.truth_objects }
    }
}

impl AddAssign for SegScore {
    fn add_assign(&mut self, o: SegScore) {
        *self = *self + o;
    }
}

impl Sum for SegScore {
    fn sum<I: Iterator<Item = SegScore>>(it: I) -> SegScore {
        it.fold(SegScore::default(), Add::add)
    }
}

/// SEG of one frame held in memory: the sums to pool over frames, e.g. for
/// a validation score during training.
///
/// ```
/// use cellstream::eval::seg_score;
/// use ndarray::array;
/// let truth = array![[1, 1, 0, 2, 2]];
/// let pred = array![[4, 4, 4, 0, 0]];
/// let s = seg_score(&truth, &pred);
/// // object 1: IoU 2/3; object 2: no match, 0
/// assert!((s.value().unwrap() - 1.0 / 3.0).abs() < 1e-12);
/// // pooling over frames: sum the scores, then take the value
/// let pooled: cellstream::eval::SegScore = [s, s].into_iter().sum();
/// assert_eq!(pooled.truth_objects, 4);
/// ```
///
/// # Panics
/// If the masks differ in size.
pub fn seg_score(truth: &Mask, result: &Mask) -> SegScore {
    SegScore::from_match(&FrameMatch::from_overlap(&Overlap::count(truth, result)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn hand_computed() {
        // truth 1: 4 px, result 5 covers 3 of them and 1 background px: IoU 3/5.
        // truth 2: 2 px, result 6 is exact: IoU 1.  truth 3: missed.
        let g = array![[1, 1, 1, 1, 0, 2, 2, 0, 3]];
        let r = array![[5, 5, 5, 0, 5, 6, 6, 0, 0]];
        let s = seg_score(&g, &r);
        assert_eq!(s.truth_objects, 3);
        assert!((s.iou_sum - 1.6).abs() < 1e-12);
        assert!((s.value().unwrap() - 1.6 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn no_truth_is_not_a_number() {
        let s = seg_score(&array![[0, 0]], &array![[1, 0]]);
        assert_eq!(s.value(), None);
    }

    #[test]
    fn false_positives_do_not_lower_seg() {
        let a = seg_score(&array![[1, 1, 0, 0]], &array![[1, 1, 0, 0]]);
        let b = seg_score(&array![[1, 1, 0, 0]], &array![[1, 1, 0, 9]]);
        assert_eq!(a.value(), Some(1.0));
        assert_eq!(b.value(), Some(1.0));
    }
}
