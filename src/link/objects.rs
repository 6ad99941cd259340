//! Objects of a label mask: one pass gives each object's pixel runs, area, centroid and bounding box.
//!
//! An object is the pixels of one label that are 8-connected. A label made of
//! several disconnected pieces (two nuclei a tool gave the same label) becomes
//! several objects, except that small pieces stay with the label's largest
//! piece ([`SplitRule`]): stray pixels of one instance are not cells.
use ndarray::ArrayView2;
use petgraph::unionfind::UnionFind;

use crate::ctc::Mask;

/// Pixels `start..end` (end exclusive) of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Run {
    pub row: u32,
    pub start: u32,
    pub end: u32,
}

impl Run {
    pub fn len(&self) -> u32 {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// When a piece of a label made of disconnected pieces is an object of its own.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitRule {
    /// Least area of a piece, as a fraction of the label's largest piece.
    pub fraction: f64,
    /// Least area of a piece, in pixels.
    pub min_area: u64,
}

impl Default for SplitRule {
    fn default() -> Self {
        SplitRule { fraction: 0.2, min_area: 10 }
    }
}

impl SplitRule {
    /// Splits every piece, however small.
    pub const ALL: SplitRule = SplitRule { fraction: 0.0, min_area: 0 };
}

/// Rows `r0..r1` and columns `c0..c1` (ends exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BBox {
    pub r0: u32,
    pub c0: u32,
    pub r1: u32,
    pub c1: u32,
}

impl BBox {
    /// Whether the two boxes share at least one pixel.
    pub fn intersects(&self, o: &BBox) -> bool {
        self.r0 < o.r1 && o.r0 < self.r1 && self.c0 < o.c1 && o.c0 < self.c1
    }
}

/// One object of one frame: its runs in raster order and the features the linker uses.
///
/// ```
/// use cellstream::link::{extract_objects, SplitRule};
/// use ndarray::array;
/// let then = extract_objects(array![[1, 1, 1, 0], [1, 1, 1, 0]].view(), SplitRule::ALL).remove(0);
/// let now = extract_objects(array![[0, 2, 2, 2], [0, 2, 2, 2]].view(), SplitRule::ALL).remove(0);
/// assert_eq!((now.area, now.centroid, now.runs.len()), (6, [0.5, 2.0], 2));
/// assert_eq!((then.distance(&now), then.overlap(&now), then.iou(&now)), (1.0, 4, 0.5));
/// let mut mask = ndarray::Array2::zeros((2, 4));
/// now.paint(&mut mask, 7);
/// assert_eq!(mask, array![[0, 7, 7, 7], [0, 7, 7, 7]]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// Its label in the input mask (several objects share it when the label was split).
    pub label: u32,
    /// Pixel count.
    pub area: u64,
    /// Mean pixel position `[row, col]`.
    pub centroid: [f64; 2],
    pub bbox: BBox,
    /// Largest distance from the centroid to a pixel: objects whose centroids
    /// are farther apart than the sum of their extents cannot overlap.
    pub extent: f64,
    /// Runs sorted by (row, start), disjoint.
    pub runs: Vec<Run>,
}

impl Object {
    /// Builds an object from its runs (any order); `label` is recorded as given.
    pub fn from_runs(label: u32, mut runs: Vec<Run>) -> Object {
        runs.sort_unstable();
        let mut area = 0u64;
        let (mut sr, mut sc) = (0f64, 0f64);
        let mut bbox = BBox { r0: u32::MAX, c0: u32::MAX, r1: 0, c1: 0 };
        for r in &runs {
            let n = r.len() as u64;
            area += n;
            sr += r.row as f64 * n as f64;
            // sum of start..end = n * (start + end - 1) / 2
            sc += n as f64 * (r.start as f64 + r.end as f64 - 1.0) / 2.0;
            bbox.r0 = bbox.r0.min(r.row);
            bbox.r1 = bbox.r1.max(r.row + 1);
            bbox.c0 = bbox.c0.min(r.start);
            bbox.c1 = bbox.c1.max(r.end);
        }
        let a = area.max(1) as f64;
        let centroid = [sr / a, sc / a];
        let extent = runs
            .iter()
            .flat_map(|r| [r.start as f64, r.end as f64 - 1.0].map(|c| (r.row as f64 - centroid[0]).hypot(c - centroid[1])))
            .fold(0.0, f64::max);
        Object { label, area, centroid, bbox, extent, runs }
    }

    /// Radius of the disk with the object's area, a size scale for gates.
    pub fn radius(&self) -> f64 {
        (self.area as f64 / std::f64::consts::PI).sqrt()
    }

    /// Euclidean distance between the two centroids.
    pub fn distance(&self, o: &Object) -> f64 {
        let dy = self.centroid[0] - o.centroid[0];
        let dx = self.centroid[1] - o.centroid[1];
        (dy * dy + dx * dx).sqrt()
    }

    /// Pixels the two objects share (objects of different frames).
    pub fn overlap(&self, o: &Object) -> u64 {
        if !self.bbox.intersects(&o.bbox) {
            return 0;
        }
        intersect_runs(&self.runs, &o.runs)
    }

    /// Intersection over union of the two pixel sets.
    pub fn iou(&self, o: &Object) -> f64 {
        let i = self.overlap(o);
        if i == 0 {
            return 0.0;
        }
        i as f64 / (self.area + o.area - i) as f64
    }

    /// Writes `value` into every pixel of the object.
    pub fn paint(&self, mask: &mut Mask, value: u32) {
        for r in &self.runs {
            mask.row_mut(r.row as usize)
                .slice_mut(ndarray::s![r.start as usize..r.end as usize])
                .fill(value);
        }
    }
}

/// Pixels shared by two run lists, each sorted by (row, start) with disjoint runs
/// within a row: a two-pointer merge, linear in the number of runs.
///
/// ```
/// use cellstream::link::{objects::intersect_runs, Run};
/// let a = [Run { row: 0, start: 0, end: 4 }, Run { row: 1, start: 2, end: 6 }];
/// let b = [Run { row: 0, start: 3, end: 9 }, Run { row: 2, start: 0, end: 9 }];
/// assert_eq!(intersect_runs(&a, &b), 1); // pixel (0, 3) alone
/// ```
pub fn intersect_runs(a: &[Run], b: &[Run]) -> u64 {
    let (mut i, mut j, mut n) = (0, 0, 0u64);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        if x.row != y.row {
            if x.row < y.row { i += 1 } else { j += 1 }
            continue;
        }
        let lo = x.start.max(y.start);
        let hi = x.end.min(y.end);
        if hi > lo {
            n += (hi - lo) as u64;
        }
        if x.end < y.end { i += 1 } else { j += 1 }
    }
    n
}

/// The runs of equal non-zero label in each row, in raster order, with the
/// index of each row's first run (`row_start[r]..row_start[r + 1]`).
fn label_runs(mask: ArrayView2<u32>) -> (Vec<(u32, Run)>, Vec<usize>) {
    let mut runs = Vec::new();
    let mut row_start = Vec::with_capacity(mask.nrows() + 1);
    let mut buf = Vec::new();
    for (r, row) in mask.rows().into_iter().enumerate() {
        row_start.push(runs.len());
        let px: &[u32] = match row.as_slice() {
            Some(s) => s,
            None => {
                buf.clear();
                buf.extend(row.iter().copied());
                &buf
            }
        };
        let mut c = 0;
        while c < px.len() {
            let l = px[c];
            if l == 0 {
                c += 1;
                continue;
            }
            let s = c;
            while c < px.len() && px[c] == l {
                c += 1;
            }
            runs.push((l, Run { row: r as u32, start: s as u32, end: c as u32 }));
        }
    }
    row_start.push(runs.len());
    (runs, row_start)
}

/// Extracts the objects of `mask` in one raster pass plus a union-find over
/// runs (run-based connected-component labelling, as in He, Chao & Suzuki 2008,
/// "A run-based two-scan labeling algorithm", IEEE TIP 17(5)), 8-connectivity.
///
/// Pieces of one label too small by `split` are kept with the label's largest
/// piece; the others become objects of their own. Objects come in raster
/// order of their first pixel.
///
/// ```
/// use cellstream::link::{extract_objects, SplitRule};
/// use ndarray::array;
/// let m = array![[1, 1, 0, 2],
///                [0, 0, 0, 2],
///                [1, 1, 0, 0]];
/// let objs = extract_objects(m.view(), SplitRule::ALL);
/// assert_eq!(objs.len(), 3); // label 1 is in two pieces
/// assert_eq!((objs[1].label, objs[1].area, objs[1].centroid), (2, 2, [0.5, 3.0]));
/// ```
pub fn extract_objects(mask: ArrayView2<u32>, split: SplitRule) -> Vec<Object> {
    let (runs, row_start) = label_runs(mask);
    let mut uf = UnionFind::<u32>::new(runs.len());
    for r in 1..mask.nrows() {
        let prev = &runs[row_start[r - 1]..row_start[r]];
        let cur = row_start[r]..row_start[r + 1];
        let mut lo = 0;
        for bi in cur {
            let (lb, b) = runs[bi];
            // 8-connected: columns overlap once each run is widened by one.
            while lo < prev.len() && prev[lo].1.end < b.start {
                lo += 1;
            }
            let mut k = lo;
            while k < prev.len() && prev[k].1.start <= b.end {
                if prev[k].0 == lb {
                    uf.union((row_start[r - 1] + k) as u32, bi as u32);
                }
                k += 1;
            }
        }
    }
    // Components in order of their first run.
    let mut comp_of_root = std::collections::HashMap::new();
    let mut comps: Vec<(u32, Vec<Run>)> = Vec::new();
    for (i, &(l, run)) in runs.iter().enumerate() {
        let root = uf.find_mut(i as u32);
        let c = *comp_of_root.entry(root).or_insert_with(|| {
            comps.push((l, Vec::new()));
            comps.len() - 1
        });
        comps[c].1.push(run);
    }
    let mut objects: Vec<Option<Object>> =
        comps.into_iter().map(|(l, r)| Some(Object::from_runs(l, r))).collect();
    attach_fragments(&mut objects, split);
    objects.into_iter().flatten().collect()
}

/// Folds each small piece into the largest piece of its label.
fn attach_fragments(objects: &mut [Option<Object>], split: SplitRule) {
    let mut by_label: std::collections::HashMap<u32, Vec<usize>> = std::collections::HashMap::new();
    for (i, o) in objects.iter().enumerate() {
        by_label.entry(o.as_ref().expect("all present").label).or_default().push(i);
    }
    let mut several: Vec<Vec<usize>> = by_label.into_values().filter(|v| v.len() > 1).collect();
    several.sort_unstable();
    for pieces in several {
        let area = |i: usize| objects[i].as_ref().map_or(0, |o| o.area);
        let main = *pieces.iter().max_by_key(|&&i| (area(i), std::cmp::Reverse(i))).expect("non-empty");
        let limit = (split.fraction * area(main) as f64).max(split.min_area as f64);
        let small: Vec<usize> = pieces.into_iter().filter(|&i| i != main && (area(i) as f64) < limit).collect();
        if small.is_empty() {
            continue;
        }
        let mut runs = objects[main].take().expect("present").runs;
        let label = objects[small[0]].as_ref().expect("present").label;
        for i in small {
            runs.extend(objects[i].take().expect("present").runs);
        }
        objects[main] = Some(Object::from_runs(label, runs));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};
    use proptest::prelude::*;

    #[test]
    fn diagonal_pixels_are_connected() {
        let m = array![[3, 0, 0], [0, 3, 0], [0, 0, 3]];
        let o = extract_objects(m.view(), SplitRule::default());
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].area, 3);
        assert_eq!(o[0].bbox, BBox { r0: 0, c0: 0, r1: 3, c1: 3 });
    }

    #[test]
    fn touching_labels_stay_apart() {
        let m = array![[1, 1, 2, 2], [1, 1, 2, 2]];
        let o = extract_objects(m.view(), SplitRule::default());
        assert_eq!(o.iter().map(|o| (o.label, o.area)).collect::<Vec<_>>(), vec![(1, 4), (2, 4)]);
    }

    #[test]
    fn run_ending_where_next_label_starts_still_connects_diagonally() {
        // Row 1's run of 5 (cols 1..3) touches row 0's run of 5 at col 3 diagonally.
        let m = array![[7, 7, 7, 5, 5], [0, 5, 5, 0, 0]];
        let o = extract_objects(m.view(), SplitRule::default());
        assert_eq!(o.iter().map(|o| (o.label, o.area)).collect::<Vec<_>>(), vec![(7, 3), (5, 4)]);
    }

    #[test]
    fn stray_pixels_stay_with_their_instance() {
        let mut m = Array2::<u32>::zeros((8, 8));
        m.slice_mut(ndarray::s![0..4, 0..4]).fill(4);
        m[[7, 7]] = 4; // a stray pixel of label 4
        m.slice_mut(ndarray::s![6..8, 0..2]).fill(4); // a second piece: 4 px = 1/4 of 16
        let o = extract_objects(m.view(), SplitRule { fraction: 0.2, min_area: 0 });
        assert_eq!(o.len(), 2, "{o:?}");
        assert_eq!(o[0].area, 17, "the stray pixel joins the 16-pixel piece");
        assert_eq!(o[1].area, 4);
        let one = |rule| extract_objects(m.view(), rule).len() == 1;
        assert!(one(SplitRule { fraction: 0.5, min_area: 0 }), "with a larger fraction both small pieces join");
        assert!(one(SplitRule::default()), "pieces under 10 pixels join");
        assert_eq!(extract_objects(m.view(), SplitRule::ALL).len(), 3);
    }

    #[test]
    fn overlap_and_iou() {
        let a = extract_objects(array![[1, 1, 0], [1, 1, 0]].view(), SplitRule::ALL).remove(0);
        let b = extract_objects(array![[0, 2, 2], [0, 2, 2]].view(), SplitRule::ALL).remove(0);
        assert_eq!(a.overlap(&b), 2);
        assert!((a.iou(&b) - 2.0 / 6.0).abs() < 1e-12);
        let mut m = Array2::zeros((2, 3));
        b.paint(&mut m, 9);
        assert_eq!(m, array![[0, 9, 9], [0, 9, 9]]);
    }

    fn small_mask() -> impl Strategy<Value = Array2<u32>> {
        (1usize..12, 1usize..12).prop_flat_map(|(h, w)| {
            proptest::collection::vec(0u32..4, h * w).prop_map(move |v| Array2::from_shape_vec((h, w), v).unwrap())
        })
    }

    /// Reference: flood fill with 8-connectivity.
    fn count_components(m: &Array2<u32>) -> usize {
        let (h, w) = m.dim();
        let mut seen = Array2::from_elem((h, w), false);
        let mut n = 0;
        for r in 0..h {
            for c in 0..w {
                if m[[r, c]] == 0 || seen[[r, c]] {
                    continue;
                }
                n += 1;
                let mut stack = vec![(r, c)];
                seen[[r, c]] = true;
                while let Some((y, x)) = stack.pop() {
                    for dy in -1i64..=1 {
                        for dx in -1i64..=1 {
                            let (yy, xx) = (y as i64 + dy, x as i64 + dx);
                            if yy < 0 || xx < 0 || yy >= h as i64 || xx >= w as i64 {
                                continue;
                            }
                            let (yy, xx) = (yy as usize, xx as usize);
                            if !seen[[yy, xx]] && m[[yy, xx]] == m[[y, x]] {
                                seen[[yy, xx]] = true;
                                stack.push((yy, xx));
                            }
                        }
                    }
                }
            }
        }
        n
    }

    proptest! {
        #[test]
        fn objects_partition_the_foreground(m in small_mask()) {
            let objs = extract_objects(m.view(), SplitRule::ALL);
            prop_assert_eq!(objs.len(), count_components(&m));
            let mut back = Array2::<u32>::zeros(m.dim());
            for o in &objs {
                prop_assert_eq!(o.area, o.runs.iter().map(|r| r.len() as u64).sum::<u64>());
                for r in &o.runs {
                    for c in r.start..r.end {
                        prop_assert_eq!(back[[r.row as usize, c as usize]], 0);
                        prop_assert_eq!(m[[r.row as usize, c as usize]], o.label);
                    }
                }
                o.paint(&mut back, o.label);
            }
            prop_assert_eq!(back, m);
        }

        #[test]
        fn run_intersection_matches_pixel_count(a in small_mask(), b in small_mask()) {
            let (h, w) = (a.nrows().min(b.nrows()), a.ncols().min(b.ncols()));
            let a = a.slice(ndarray::s![..h, ..w]).mapv(|v| (v > 1) as u32);
            let b = b.slice(ndarray::s![..h, ..w]).mapv(|v| (v > 1) as u32);
            let truth = ndarray::Zip::from(&a).and(&b).fold(0u64, |n, &x, &y| n + (x == 1 && y == 1) as u64);
            let ra: Vec<Run> = extract_objects(a.view(), SplitRule::ALL).into_iter().flat_map(|o| o.runs).collect();
            let rb: Vec<Run> = extract_objects(b.view(), SplitRule::ALL).into_iter().flat_map(|o| o.runs).collect();
            let (oa, ob) = (Object::from_runs(1, ra), Object::from_runs(1, rb));
            prop_assert_eq!(oa.overlap(&ob), truth);
        }
    }
}
