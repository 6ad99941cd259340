//! Sparse overlap counting between a truth mask and a result mask, in one pass over the pixel pairs.
//!
//! Every measure of the evaluator starts from the contingency table of one
//! frame: how many pixels each (truth label, result label) pair shares. Cells
//! overlap only a few neighbours, so the table is stored sparsely: the pixels
//! are scanned once, runs of one (truth, result) pair along a row become one
//! entry, and the entries are sorted and summed. No loop over objects ever
//! touches the image.
use ndarray::Array2;

use crate::ctc::Mask;

/// A label type: any unsigned integer that widens to `u32`.
pub trait Label: Copy + Into<u32> {}
impl<T: Copy + Into<u32>> Label for T {}

/// One pair of overlapping objects: indices into [`Overlap::truth`] and
/// [`Overlap::result`] and the number of pixels they share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    pub truth: usize,
    pub result: usize,
    pub shared: u64,
}

/// An object of one mask: its label and its area in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelArea {
    pub label: u32,
    pub area: u64,
}

/// The sparse contingency table of one frame.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Overlap {
    /// Objects of the truth mask, by increasing label (background excluded).
    pub truth: Vec<LabelArea>,
    /// Objects of the result mask, by increasing label (background excluded).
    pub result: Vec<LabelArea>,
    /// Every truth/result pair that shares at least one pixel, sorted by
    /// (truth, result).
    pub pairs: Vec<Pair>,
    /// Foreground pixels (label ≠ 0) of the truth, of the result, and of both.
    pub truth_foreground: u64,
    pub result_foreground: u64,
    pub both_foreground: u64,
}

impl Overlap {
    /// Counts the pixels shared by every truth and result label of one frame.
    ///
    /// # Panics
    /// If the two masks differ in size (the file-level evaluator checks this
    /// first and names the files).
    ///
    /// ```
    /// use cellstream::eval::Overlap;
    /// use ndarray::array;
    /// let truth = array![[1, 1, 0], [2, 2, 2]];
    /// let result = array![[5, 5, 5], [0, 7, 7]];
    /// let o = Overlap::count(&truth, &result);
    /// assert_eq!(o.truth.iter().map(|x| x.area).collect::<Vec<_>>(), [2, 3]);
    /// assert_eq!(o.pairs.len(), 2); // (1,5) share 2 pixels, (2,7) share 2
    /// assert!((o.iou(&o.pairs[0]) - 2.0 / 3.0).abs() < 1e-12);
    /// ```
    pub fn count(truth: &Mask, result: &Mask) -> Overlap {
        Self::count_labels(truth, result)
    }

    /// [`Overlap::count`] for label images of any unsigned width, e.g. 16-bit
    /// masks as stored, without widening them first.
    ///
    /// # Panics
    /// If the two images differ in size.
    pub fn count_labels<A: Label, B: Label>(truth: &Array2<A>, result: &Array2<B>) -> Overlap {
        assert_eq!(truth.dim(), result.dim(), "truth and result masks differ in size");
        // Runs of equal (truth, result) pairs, keyed truth << 32 | result.
        let mut runs: Vec<(u64, u64)> = Vec::new();
        let mut push_runs = |g: &[A], r: &[B]| {
            let mut key = u64::MAX;
            let mut len = 0u64;
            for (&a, &b) in g.iter().zip(r) {
                let k = (u64::from(a.into()) << 32) | u64::from(b.into());
                if k == key {
                    len += 1;
                } else {
                    if len > 0 {
                        runs.push((key, len));
                    }
                    key = k;
                    len = 1;
                }
            }
            if len > 0 {
                runs.push((key, len));
            }
        };
        match (truth.as_slice(), result.as_slice()) {
            (Some(g), Some(r)) => push_runs(g, r),
            _ => {
                for (g, r) in truth.rows().into_iter().zip(result.rows()) {
                    push_runs(&g.to_vec(), &r.to_vec());
                }
            }
        }
        Self::from_runs(runs)
    }

    /// Sums the runs into the sparse table.
    fn from_runs(mut runs: Vec<(u64, u64)>) -> Overlap {
        runs.sort_unstable_by_key(|r| r.0);
        let mut cells: Vec<(u32, u32, u64)> = Vec::new();
        for (key, n) in runs {
            let (g, r) = ((key >> 32) as u32, key as u32);
            match cells.last_mut() {
                Some(c) if c.0 == g && c.1 == r => c.2 += n,
                _ => cells.push((g, r, n)),
            }
        }
        // Cells are sorted by truth label, so truth objects come out sorted.
        let mut o = Overlap::default();
        let mut result_area: Vec<(u32, u64)> = Vec::new();
        for &(g, r, n) in &cells {
            if g != 0 {
                match o.truth.last_mut() {
                    Some(t) if t.label == g => t.area += n,
                    _ => o.truth.push(LabelArea { label: g, area: n }),
                }
                o.truth_foreground += n;
            }
            if r != 0 {
                result_area.push((r, n));
                o.result_foreground += n;
            }
            if g != 0 && r != 0 {
                o.both_foreground += n;
            }
        }
        result_area.sort_unstable_by_key(|x| x.0);
        for (r, n) in result_area {
            match o.result.last_mut() {
                Some(x) if x.label == r => x.area += n,
                _ => o.result.push(LabelArea { label: r, area: n }),
            }
        }
        let mut ti = 0;
        for &(g, r, n) in &cells {
            if g == 0 || r == 0 {
                continue;
            }
            while o.truth[ti].label != g {
                ti += 1;
            }
            let ri = o.result.binary_search_by_key(&r, |x| x.label).expect("result label was counted");
            o.pairs.push(Pair { truth: ti, result: ri, shared: n });
        }
        o
    }

    /// Intersection over union of the two objects of `pair`.
    pub fn iou(&self, pair: &Pair) -> f64 {
        let union = self.truth[pair.truth].area + self.result[pair.result].area - pair.shared;
        pair.shared as f64 / union as f64
    }

    /// The truth labels present, in increasing order.
    pub fn truth_labels(&self) -> Vec<u32> {
        self.truth.iter().map(|o| o.label).collect()
    }

    /// The result labels present, in increasing order.
    pub fn result_labels(&self) -> Vec<u32> {
        self.result.iter().map(|o| o.label).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};
    use proptest::prelude::*;

    #[test]
    fn literal_table() {
        let g = array![[0, 1, 1, 0], [2, 2, 0, 0], [2, 2, 0, 3]];
        let r = array![[9, 9, 9, 0], [9, 4, 4, 0], [0, 0, 0, 0]];
        let o = Overlap::count(&g, &r);
        assert_eq!(o.truth, vec![LabelArea { label: 1, area: 2 }, LabelArea { label: 2, area: 4 }, LabelArea { label: 3, area: 1 }]);
        assert_eq!(o.result, vec![LabelArea { label: 4, area: 2 }, LabelArea { label: 9, area: 4 }]);
        // (1,9): 2 px; (2,4): 1 px; (2,9): 1 px
        assert_eq!(
            o.pairs,
            vec![
                Pair { truth: 0, result: 1, shared: 2 },
                Pair { truth: 1, result: 0, shared: 1 },
                Pair { truth: 1, result: 1, shared: 1 },
            ]
        );
        assert_eq!((o.truth_foreground, o.result_foreground, o.both_foreground), (7, 6, 4));
        assert_eq!(o.iou(&o.pairs[0]), 0.5);
    }

    #[test]
    fn empty_masks() {
        let z = Array2::<u32>::zeros((3, 2));
        let o = Overlap::count(&z, &z);
        assert!(o.truth.is_empty() && o.result.is_empty() && o.pairs.is_empty());
    }

    #[test]
    fn non_contiguous_views_count_the_same() {
        let g = array![[1, 1, 0], [2, 2, 2]];
        let r = array![[5, 5, 5], [0, 7, 7]];
        let gt = g.t().to_owned();
        let rt = r.t().to_owned();
        let a = Overlap::count(&gt.t().to_owned(), &rt.t().to_owned());
        let b = Overlap::count(&g, &r);
        assert_eq!(a, b);
        let c = Overlap::count(&gt.reversed_axes(), &rt.reversed_axes());
        assert_eq!(c, b);
    }

    proptest! {
        /// The sparse table equals a brute-force count over every label pair.
        #[test]
        fn equals_brute_force(data in proptest::collection::vec((0u32..5, 0u32..5), 30)) {
            let g = Array2::from_shape_vec((5, 6), data.iter().map(|x| x.0).collect()).unwrap();
            let r = Array2::from_shape_vec((5, 6), data.iter().map(|x| x.1 * 3).collect()).unwrap();
            let o = Overlap::count(&g, &r);
            for p in &o.pairs {
                let (a, b) = (o.truth[p.truth].label, o.result[p.result].label);
                let n = g.iter().zip(r.iter()).filter(|(x, y)| **x == a && **y == b).count() as u64;
                prop_assert_eq!(p.shared, n);
            }
            let total: u64 = g.iter().zip(r.iter()).filter(|(x, y)| **x != 0 && **y != 0).count() as u64;
            prop_assert_eq!(o.pairs.iter().map(|p| p.shared).sum::<u64>(), total);
            prop_assert_eq!(o.both_foreground, total);
            // Narrow label types give the same table.
            prop_assert_eq!(&Overlap::count_labels(&g.mapv(|v| v as u16), &r.mapv(|v| v as u8)), &o);
            for t in &o.truth {
                prop_assert_eq!(t.area, g.iter().filter(|x| **x == t.label).count() as u64);
            }
        }
    }
}
