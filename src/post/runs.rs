//! Run-length encoded foregrounds: runs of pixels along rows, and their connected sets.
use ndarray::{Array2, ArrayView2};

use super::region_labelling::Connectivity;
use crate::ctc::Mask;

/// A binary image as its runs `[x0, x1)` of foreground pixels, row after row: in a
/// row the runs are sorted, disjoint and separated by at least one background pixel.
/// Morphology, labelling and hole filling of cell foregrounds work on runs, which
/// are some 30 times fewer than pixels (interval coding, Ji, Piper & Tang 1989).
///
/// ```
/// use cellstream::post::Runs;
/// use ndarray::array;
/// let fg = array![[true, true, false, true], [false, false, false, false]];
/// let runs = Runs::from_mask(fg.view());
/// assert_eq!(runs.iter().collect::<Vec<_>>(), [(0, 0, 2), (0, 3, 4)]); // (row, x0, x1)
/// assert_eq!((runs.len(), runs.area(), runs.row(1)), (2, 3, &[][..]));
/// assert_eq!(runs.to_mask(), fg);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runs {
    h: usize,
    w: usize,
    runs: Vec<(u32, u32)>,
    /// Index in `runs` of the first run of each row, then `runs.len()`.
    row_start: Vec<usize>,
}

impl Runs {
    /// An image with no foreground.
    pub fn empty(h: usize, w: usize) -> Runs {
        Runs { h, w, runs: Vec::new(), row_start: vec![0; h + 1] }
    }

    /// The runs of `true` pixels of `fg`.
    pub fn from_mask(fg: ArrayView2<bool>) -> Runs {
        Runs::from_rows(fg.dim(), fg, |&v| v)
    }

    /// The runs of pixels with `prob > t`: [`Runs::from_mask`] of `prob > t`,
    /// without the mask.
    ///
    /// ```
    /// use cellstream::post::Runs;
    /// let prob = ndarray::array![[0.2, 0.6, 0.5, 0.9]];
    /// assert_eq!(Runs::from_threshold(prob.view(), 0.5).iter().collect::<Vec<_>>(), [(0, 1, 2), (0, 3, 4)]);
    /// ```
    pub fn from_threshold(prob: ArrayView2<f32>, t: f32) -> Runs {
        Runs::from_rows(prob.dim(), prob, |&p| p > t)
    }

    fn from_rows<T: Copy>(dim: (usize, usize), img: ArrayView2<T>, on: impl Fn(&T) -> bool) -> Runs {
        let (h, w) = dim;
        assert!(w < u32::MAX as usize, "image too wide");
        let mut b = Builder::new(h, w);
        // Each row becomes 0/1 bytes in one vectorisable pass, then is scanned for
        // runs eight pixels at a time.
        let mut bits = vec![0u8; w];
        for row in img.outer_iter() {
            for (d, v) in bits.iter_mut().zip(row.iter()) {
                *d = on(v) as u8;
            }
            b.scan_bits(&bits);
        }
        b.finish()
    }

    pub fn dim(&self) -> (usize, usize) {
        (self.h, self.w)
    }

    /// The runs of row `y`.
    pub fn row(&self, y: usize) -> &[(u32, u32)] {
        &self.runs[self.row_start[y]..self.row_start[y + 1]]
    }

    /// Number of runs.
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Foreground pixel count.
    pub fn area(&self) -> usize {
        self.runs.iter().map(|&(a, b)| (b - a) as usize).sum()
    }

    /// `(y, x0, x1)` of every run, in raster order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        (0..self.h).flat_map(move |y| self.row(y).iter().map(move |&(a, b)| (y, a as usize, b as usize)))
    }

    /// The image as a boolean array.
    pub fn to_mask(&self) -> Array2<bool> {
        self.fill_rows(false, |_, _| true)
    }

    /// An `h × w` image with `value(run index, run)` on each run and `background`
    /// elsewhere, every pixel written once.
    fn fill_rows<T: Copy>(&self, background: T, value: impl Fn(usize, (u32, u32)) -> T) -> Array2<T> {
        let mut v: Vec<T> = Vec::with_capacity(self.h * self.w);
        for y in 0..self.h {
            let row_end = v.len() + self.w;
            for i in self.row_start[y]..self.row_start[y + 1] {
                let (a, b) = self.runs[i];
                let at = v.len() - (row_end - self.w);
                v.resize(v.len() + (a as usize - at), background);
                v.resize(v.len() + (b - a) as usize, value(i, (a, b)));
            }
            v.resize(row_end, background);
        }
        Array2::from_shape_vec((self.h, self.w), v).expect("shape matches")
    }

    /// The background runs (within the image).
    ///
    /// ```
    /// use cellstream::post::Runs;
    /// let fg = ndarray::array![[true, false, false, true], [false, false, false, false]];
    /// let bg = Runs::from_mask(fg.view()).complement();
    /// assert_eq!(bg.to_mask(), fg.mapv(|v| !v));
    /// ```
    pub fn complement(&self) -> Runs {
        let mut b = Builder::new(self.h, self.w);
        for y in 0..self.h {
            let mut x = 0;
            for &(a, e) in self.row(y) {
                if a > x {
                    b.push(x, a);
                }
                x = e;
            }
            if (x as usize) < self.w {
                b.push(x, self.w as u32);
            }
            b.end_row();
        }
        b.finish()
    }

    /// The union of `self` and `other` (same size), row by row; runs that
    /// overlap or touch become one.
    ///
    /// ```
    /// use cellstream::post::Runs;
    /// let a = Runs::from_mask(ndarray::array![[true, false, false, false, true]].view());
    /// let b = Runs::from_mask(ndarray::array![[false, true, false, false, false]].view());
    /// assert_eq!(a.union(&b).iter().collect::<Vec<_>>(), [(0, 0, 2), (0, 4, 5)]);
    /// ```
    pub fn union(&self, other: &Runs) -> Runs {
        assert_eq!(self.dim(), other.dim(), "run images differ in size");
        let mut b = Builder::new(self.h, self.w);
        let mut merged: Vec<(u32, u32)> = Vec::new();
        for y in 0..self.h {
            merged.clear();
            merged.extend_from_slice(self.row(y));
            merged.extend_from_slice(other.row(y));
            merged.sort_unstable();
            for &(a, e) in &merged {
                b.push(a, e);
            }
            b.end_row();
        }
        b.finish()
    }

    /// Keeps the runs for which `keep(index of the run)` holds.
    pub(crate) fn retain(&self, mut keep: impl FnMut(usize) -> bool) -> Runs {
        let mut b = Builder::new(self.h, self.w);
        for y in 0..self.h {
            for i in self.row_start[y]..self.row_start[y + 1] {
                if keep(i) {
                    let (a, e) = self.runs[i];
                    b.push(a, e);
                }
            }
            b.end_row();
        }
        b.finish()
    }

    /// The connected sets of runs under `conn`, numbered 1, 2, … in the raster order
    /// of their first pixel.
    ///
    /// Run-based union-find labelling (He, Chao & Suzuki 2008, "A run-based two-scan
    /// labeling algorithm", IEEE TIP 17(5)): each run is united with the runs of the
    /// row above that it touches; sets are then numbered by their smallest run.
    ///
    /// ```
    /// use cellstream::post::{Connectivity, Runs};
    /// use ndarray::array;
    /// // Two runs that touch only at a corner.
    /// let runs = Runs::from_mask(array![[true, true, false], [false, false, true]].view());
    /// let four = runs.components(Connectivity::Four);
    /// assert_eq!((four.count(), runs.paint(&four)), (2, array![[1, 1, 0], [0, 0, 2]]));
    /// let eight = runs.components(Connectivity::Eight);
    /// assert_eq!((eight.count(), &eight.areas[..]), (1, &[3, 3][..])); // background, then the set
    /// ```
    pub fn components(&self, conn: Connectivity) -> Components {
        // A run in the row above touches [x0 - d, x1 + d).
        let d = match conn {
            Connectivity::Four => 0,
            Connectivity::Eight => 1,
        };
        let mut parent: Vec<u32> = (0..self.runs.len() as u32).collect();
        for y in 1..self.h {
            let (prev, cur) = (self.row_start[y - 1]..self.row_start[y], self.row_start[y]..self.row_start[y + 1]);
            let mut above = prev.start;
            for i in cur {
                let (lo, hi) = self.runs[i];
                // Runs above ending before this one's reach cannot touch later runs either.
                while above < prev.end && self.runs[above].1 + d <= lo {
                    above += 1;
                }
                let mut k = above;
                while k < prev.end && self.runs[k].0 < hi + d {
                    union(&mut parent, i as u32, k as u32);
                    k += 1;
                }
            }
        }
        // Each root is the smallest run of its set, so numbering roots in run order
        // numbers the sets in raster order.
        let mut label = vec![0u32; self.runs.len()];
        let mut n = 0u32;
        for i in 0..self.runs.len() {
            let r = find(&mut parent, i as u32) as usize;
            if r == i {
                n += 1;
                label[i] = n;
            } else {
                label[i] = label[r];
            }
        }
        let mut areas = vec![0usize; n as usize + 1];
        for (&(a, b), &l) in self.runs.iter().zip(&label) {
            areas[l as usize] += (b - a) as usize;
        }
        areas[0] = self.h * self.w - areas.iter().sum::<usize>();
        Components { label, areas }
    }

    /// Paints each run with the label of its set: the label image of `comps`.
    pub fn paint(&self, comps: &Components) -> Mask {
        self.fill_rows(0, |i, _| comps.label[i])
    }
}

/// The connected sets of a [`Runs`] image.
#[derive(Debug, Clone)]
pub struct Components {
    /// Label `1..=n` of each run.
    pub label: Vec<u32>,
    /// Pixel count of each label `0..=n`; index 0 counts the background.
    pub areas: Vec<usize>,
}

impl Components {
    /// Number of sets.
    pub fn count(&self) -> usize {
        self.areas.len() - 1
    }
}

fn find(parent: &mut [u32], mut a: u32) -> u32 {
    while parent[a as usize] != a {
        let up = parent[parent[a as usize] as usize];
        parent[a as usize] = up; // path halving
        a = up;
    }
    a
}

/// Joins the sets of `a` and `b` under the smaller root.
fn union(parent: &mut [u32], a: u32, b: u32) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        parent[hi as usize] = lo;
    }
}

/// Builds a [`Runs`] row by row; pushed runs of a row must come sorted, and
/// touching or overlapping ones are merged.
pub(crate) struct Builder {
    out: Runs,
    row_open: usize,
}

impl Builder {
    pub(crate) fn new(h: usize, w: usize) -> Builder {
        let mut row_start = Vec::with_capacity(h + 1);
        row_start.push(0);
        Builder { out: Runs { h, w, runs: Vec::new(), row_start }, row_open: 0 }
    }

    /// Adds `[a, b)` to the current row (`a` not before the previous run's start).
    pub(crate) fn push(&mut self, a: u32, b: u32) {
        if a >= b {
            return;
        }
        if self.out.runs.len() > self.row_open {
            let last = self.out.runs.last_mut().expect("non-empty row");
            if a <= last.1 {
                last.1 = last.1.max(b);
                return;
            }
        }
        self.out.runs.push((a, b));
    }

    pub(crate) fn end_row(&mut self) {
        self.out.row_start.push(self.out.runs.len());
        self.row_open = self.out.runs.len();
    }

    /// Adds the runs of ones of a row of 0/1 bytes as the next row.
    fn scan_bits(&mut self, bits: &[u8]) {
        const ONES: u64 = 0x0101_0101_0101_0101;
        let word = |x: usize| u64::from_ne_bytes(bits[x..x + 8].try_into().expect("8 bytes"));
        let w = bits.len();
        let mut x = 0;
        while x < w {
            while x + 8 <= w && word(x) == 0 {
                x += 8;
            }
            while x < w && bits[x] == 0 {
                x += 1;
            }
            if x == w {
                break;
            }
            let a = x;
            while x + 8 <= w && word(x) == ONES {
                x += 8;
            }
            while x < w && bits[x] != 0 {
                x += 1;
            }
            self.out.runs.push((a as u32, x as u32));
        }
        self.end_row();
    }

    pub(crate) fn finish(self) -> Runs {
        assert_eq!(self.out.row_start.len(), self.out.h + 1, "rows missing");
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use proptest::prelude::*;

    fn image(max: usize) -> impl Strategy<Value = Array2<bool>> {
        (1..max, 1..max).prop_flat_map(|(h, w)| {
            proptest::collection::vec(proptest::bool::weighted(0.5), h * w)
                .prop_map(move |v| Array2::from_shape_vec((h, w), v).unwrap())
        })
    }

    proptest! {
        #[test]
        fn round_trip_complement_and_union(a in image(20), seed in any::<u64>()) {
            let r = Runs::from_mask(a.view());
            prop_assert_eq!(r.to_mask(), a.clone());
            prop_assert_eq!(r.complement().to_mask(), a.mapv(|v| !v));
            prop_assert_eq!(r.area(), a.iter().filter(|&&v| v).count());
            let mut s = seed | 1;
            let b = a.mapv(|_| { s ^= s << 13; s ^= s >> 7; s ^= s << 17; s % 3 == 0 });
            let u = r.union(&Runs::from_mask(b.view()));
            prop_assert_eq!(u.to_mask(), ndarray::Zip::from(&a).and(&b).map_collect(|&x, &y| x || y));
            prop_assert_eq!(&Runs::from_mask(u.to_mask().view()), &u, "runs not canonical");
        }
    }

    #[test]
    fn threshold_runs() {
        let r = Runs::from_threshold(array![[0.9f32, 0.2, 0.6, 0.7], [0.0, 0.0, 0.0, 0.51]].view(), 0.5);
        assert_eq!(r.row(0), &[(0, 1), (2, 4)]);
        assert_eq!(r.row(1), &[(3, 4)]);
    }
}
