//! Connected components of a foreground: labelling, areas, bounding boxes, relabelling.
use ndarray::{Array2, ArrayView2};

use super::runs::Runs;
use crate::ctc::Mask;

/// Which pixels touch: the 4 edge neighbours, or those 4 and the 4 corner neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Connectivity {
    /// Edge neighbours only (scipy/scikit-image `connectivity=1`).
    Four,
    /// Edge and corner neighbours (scikit-image `connectivity=2`, the default of `skimage.measure.label`).
    #[default]
    Eight,
}

impl Connectivity {
    /// Neighbour offsets `(dy, dx)` in scikit-image's order: edge neighbours first
    /// (up, left, right, down), then corners (up-left, up-right, down-left, down-right).
    pub fn offsets(self) -> &'static [(isize, isize)] {
        const EIGHT: [(isize, isize); 8] = [(-1, 0), (0, -1), (0, 1), (1, 0), (-1, -1), (-1, 1), (1, -1), (1, 1)];
        match self {
            Connectivity::Four => &EIGHT[..4],
            Connectivity::Eight => &EIGHT,
        }
    }
}

/// Labels the connected components of `fg` 1, 2, … in the raster order of their
/// first pixel (as `scipy.ndimage.label` does) and returns the labels and their count.
///
/// Run-based two-scan labelling (He, Chao & Suzuki 2008, "A run-based two-scan
/// labeling algorithm", IEEE TIP 17(5)), see [`Runs::components`]: work is per run
/// of foreground pixels, apart from finding and painting the runs.
///
/// ```
/// use cellstream::post::{label_components, Connectivity};
/// use ndarray::array;
/// let fg = array![[true, false, true], [false, true, false], [false, false, true]];
/// let (labels, n) = label_components(fg.view(), Connectivity::Eight);
/// assert_eq!(n, 1);
/// let (labels4, n4) = label_components(fg.view(), Connectivity::Four);
/// assert_eq!(n4, 4);
/// assert_eq!(labels4, array![[1, 0, 2], [0, 3, 0], [0, 0, 4]]);
/// # let _ = labels;
/// ```
pub fn label_components(fg: ArrayView2<bool>, conn: Connectivity) -> (Mask, usize) {
    let (labels, areas) = label_components_with_areas(fg, conn);
    (labels, areas.len() - 1)
}

/// [`label_components`], also returning the pixel count of each label `0..=n`
/// (index 0 counts the background), taken from the runs.
///
/// ```
/// use cellstream::post::{label_components_with_areas, Connectivity};
/// use ndarray::array;
/// let fg = array![[true, false, true], [true, false, false]];
/// let (labels, areas) = label_components_with_areas(fg.view(), Connectivity::Four);
/// assert_eq!(labels, array![[1, 0, 2], [1, 0, 0]]);
/// assert_eq!(areas, [3, 2, 1]);
/// ```
pub fn label_components_with_areas(fg: ArrayView2<bool>, conn: Connectivity) -> (Mask, Vec<usize>) {
    let runs = Runs::from_mask(fg);
    let comps = runs.components(conn);
    (runs.paint(&comps), comps.areas)
}

/// Pixel count of each label `0..=n` (index 0 counts the background).
///
/// ```
/// use cellstream::post::label_areas;
/// use ndarray::array;
/// assert_eq!(label_areas(array![[0, 2, 2], [1, 2, 0]].view(), 3), [2, 1, 3, 0]);
/// ```
pub fn label_areas(labels: ArrayView2<u32>, n: usize) -> Vec<usize> {
    let mut areas = vec![0usize; n + 1];
    for &l in labels.iter() {
        areas[l as usize] += 1;
    }
    areas
}

/// The smallest rectangle holding every pixel of one label: rows `y0..y1`, columns `x0..x1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoundingBox {
    pub y0: usize,
    pub y1: usize,
    pub x0: usize,
    pub x1: usize,
}

impl BoundingBox {
    pub fn height(&self) -> usize {
        self.y1 - self.y0
    }
    pub fn width(&self) -> usize {
        self.x1 - self.x0
    }
}

/// Bounding box of each label `1..=n` (index `l - 1`); `None` for a label with no pixel.
/// Like `scipy.ndimage.find_objects`: `y0..y1` and `x0..x1` are half-open.
///
/// ```
/// use cellstream::post::{bounding_boxes, BoundingBox};
/// use ndarray::array;
/// let boxes = bounding_boxes(array![[0, 1, 1], [0, 0, 1], [2, 0, 0]].view(), 3);
/// assert_eq!(boxes[0], Some(BoundingBox { y0: 0, y1: 2, x0: 1, x1: 3 }));
/// assert_eq!((boxes[1].unwrap().height(), boxes[1].unwrap().width()), (1, 1));
/// assert_eq!(boxes[2], None);
/// ```
pub fn bounding_boxes(labels: ArrayView2<u32>, n: usize) -> Vec<Option<BoundingBox>> {
    let mut boxes: Vec<Option<BoundingBox>> = vec![None; n];
    for (y, row) in labels.outer_iter().enumerate() {
        for (x, &l) in row.iter().enumerate() {
            if l == 0 {
                continue;
            }
            let b = &mut boxes[l as usize - 1];
            match b {
                None => *b = Some(BoundingBox { y0: y, y1: y + 1, x0: x, x1: x + 1 }),
                Some(b) => {
                    b.y1 = y + 1; // raster order: y only grows
                    b.x0 = b.x0.min(x);
                    b.x1 = b.x1.max(x + 1);
                }
            }
        }
    }
    boxes
}

/// Renumbers the labels of `mask` to `1..=n` keeping their order (label 7 stays
/// before label 9), like scikit-image's `relabel_sequential`; returns the count `n`.
///
/// ```
/// use cellstream::post::relabel_sequential;
/// use ndarray::array;
/// let (m, n) = relabel_sequential(array![[0, 7, 7], [40, 0, 9]].view());
/// assert_eq!((m, n), (array![[0, 1, 1], [3, 0, 2]], 3));
/// ```
pub fn relabel_sequential(mask: ArrayView2<u32>) -> (Mask, usize) {
    let max = mask.iter().copied().max().unwrap_or(0) as usize;
    if max <= 4 * mask.len() + 1024 {
        let mut map = vec![0u32; max + 1];
        for &l in mask.iter() {
            map[l as usize] = 1;
        }
        map[0] = 0;
        let mut n = 0u32;
        for v in map.iter_mut().skip(1) {
            if *v != 0 {
                n += 1;
                *v = n;
            }
        }
        (mask.mapv(|l| map[l as usize]), n as usize)
    } else {
        let mut present: Vec<u32> = mask.iter().copied().filter(|&l| l != 0).collect();
        present.sort_unstable();
        present.dedup();
        let out = mask.mapv(|l| if l == 0 { 0 } else { present.binary_search(&l).expect("present") as u32 + 1 });
        (out, present.len())
    }
}

/// Keeps only the labels for which `keep[l]` holds and renumbers the kept ones `1..=n`
/// in their original order; returns `n`, the labels renumbered in place. `keep[0]` is ignored.
///
/// ```
/// use cellstream::post::region_labelling::keep_labels;
/// use ndarray::array;
/// let mut labels = array![[1, 2, 3], [3, 0, 1]];
/// assert_eq!(keep_labels(&mut labels, &[false, false, true, true]), 2);
/// assert_eq!(labels, array![[0, 1, 2], [2, 0, 0]]);
/// ```
pub fn keep_labels(labels: &mut Array2<u32>, keep: &[bool]) -> usize {
    let mut map = vec![0u32; keep.len()];
    let mut n = 0u32;
    for (l, &k) in keep.iter().enumerate().skip(1) {
        if k {
            n += 1;
            map[l] = n;
        }
    }
    labels.mapv_inplace(|l| map[l as usize]);
    n as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use proptest::prelude::*;

    /// Reference: flood fill from every unvisited foreground pixel.
    fn flood_count(fg: &Array2<bool>, conn: Connectivity) -> (Mask, usize) {
        let (h, w) = fg.dim();
        let mut out = Mask::zeros((h, w));
        let mut n = 0;
        for y in 0..h {
            for x in 0..w {
                if !fg[[y, x]] || out[[y, x]] != 0 {
                    continue;
                }
                n += 1;
                let mut stack = vec![(y, x)];
                out[[y, x]] = n;
                while let Some((cy, cx)) = stack.pop() {
                    for &(dy, dx) in conn.offsets() {
                        let (ny, nx) = (cy as isize + dy, cx as isize + dx);
                        if ny < 0 || nx < 0 || ny >= h as isize || nx >= w as isize {
                            continue;
                        }
                        let (ny, nx) = (ny as usize, nx as usize);
                        if fg[[ny, nx]] && out[[ny, nx]] == 0 {
                            out[[ny, nx]] = n;
                            stack.push((ny, nx));
                        }
                    }
                }
            }
        }
        (out, n as usize)
    }

    fn image(max: usize) -> impl Strategy<Value = Array2<bool>> {
        (1..max, 1..max).prop_flat_map(|(h, w)| {
            proptest::collection::vec(proptest::bool::weighted(0.55), h * w)
                .prop_map(move |v| Array2::from_shape_vec((h, w), v).unwrap())
        })
    }

    proptest! {
        #[test]
        fn labelling_equals_flood_fill(fg in image(24), eight in any::<bool>()) {
            let conn = if eight { Connectivity::Eight } else { Connectivity::Four };
            let (ours, n) = label_components(fg.view(), conn);
            let (reference, m) = flood_count(&fg, conn);
            prop_assert_eq!(n, m);
            // Both number components in raster order of their first pixel.
            prop_assert_eq!(ours, reference);
        }

        #[test]
        fn relabelled_labels_are_consecutive(v in proptest::collection::vec(0u32..50, 1..80)) {
            let n = v.len();
            let m = Array2::from_shape_vec((1, n), v).unwrap();
            let (r, k) = relabel_sequential(m.view());
            let mut seen: Vec<u32> = r.iter().copied().filter(|&l| l != 0).collect();
            seen.sort_unstable();
            seen.dedup();
            prop_assert_eq!(seen, (1..=k as u32).collect::<Vec<_>>());
            for (a, b) in m.iter().zip(r.iter()) {
                prop_assert_eq!(*a == 0, *b == 0);
            }
        }
    }

    #[test]
    fn u_shape_merges_in_both_connectivities() {
        let fg = array![[true, false, true], [true, false, true], [true, true, true]];
        for conn in [Connectivity::Four, Connectivity::Eight] {
            let (l, n) = label_components(fg.view(), conn);
            assert_eq!(n, 1);
            assert!(l.iter().zip(fg.iter()).all(|(&l, &f)| (l == 1) == f));
        }
    }

    #[test]
    fn areas_and_boxes() {
        let labels = array![[0, 1, 1], [2, 0, 1], [2, 2, 0]];
        assert_eq!(label_areas(labels.view(), 2), vec![3, 3, 3]);
        let b = bounding_boxes(labels.view(), 3);
        assert_eq!(b[0], Some(BoundingBox { y0: 0, y1: 2, x0: 1, x1: 3 }));
        assert_eq!(b[1], Some(BoundingBox { y0: 1, y1: 3, x0: 0, x1: 2 }));
        assert_eq!(b[2], None);
    }

    #[test]
    fn keep_labels_renumbers() {
        let mut l = array![[1, 2, 3], [3, 0, 2]];
        assert_eq!(keep_labels(&mut l, &[false, false, true, true]), 2);
        assert_eq!(l, array![[0, 1, 2], [2, 0, 1]]);
    }
}
