//! Objects at the frame's border: which labels reach it, and clearing them (scikit-image `clear_border`).
use ndarray::ArrayView2;

use super::region_labelling::relabel_sequential;
use crate::ctc::Mask;

/// The labels (≠ 0) of `mask` with a pixel within `buffer` pixels of its
/// first or last row or column (`buffer` 0: the objects the frame's edge
/// cuts), sorted and without repeats. Only the border strips are read.
///
/// ```
/// use cellstream::post::border_labels;
/// use ndarray::array;
/// let mask = array![[1u32, 0, 0, 0], [0, 0, 2, 0], [0, 0, 0, 0], [0, 0, 0, 3]];
/// assert_eq!(border_labels(mask.view(), 0), vec![1, 3]);
/// assert_eq!(border_labels(mask.view(), 1), vec![1, 2, 3]); // a 4×4 frame is all border
/// ```
pub fn border_labels<A: Copy + Into<u32>>(mask: ArrayView2<A>, buffer: usize) -> Vec<u32> {
    let (h, w) = mask.dim();
    let m = buffer + 1;
    let mut out: Vec<u32> = Vec::new();
    let mut take = |v: A| {
        let v: u32 = v.into();
        if v != 0 {
            out.push(v);
        }
    };
    for y in 0..h {
        if y < m || y + m >= h {
            mask.row(y).iter().copied().for_each(&mut take);
        } else {
            for x in (0..w.min(m)).chain(w.saturating_sub(m).max(m)..w) {
                take(mask[[y, x]]);
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// `mask` without the objects the frame's edge cuts (a pixel in its first or
/// last row or column), the rest numbered `1..=n` in their order: scikit-image's
/// `segmentation.clear_border(labels)` followed by `relabel_sequential`, and
/// Cellpose's `exclude_on_edges`. For annotations that leave cut cells out,
/// as PhC-C2DL-PSC's silver truth does.
///
/// ```
/// use cellstream::post::clear_border;
/// use ndarray::array;
/// let mask = array![[0u32, 0, 0, 0, 0], [0, 1, 1, 0, 2], [0, 1, 1, 0, 2], [0, 0, 0, 0, 0], [3, 3, 0, 4, 0]];
/// assert_eq!(
///     clear_border(mask.view()),
///     array![[0, 0, 0, 0, 0], [0, 1, 1, 0, 0], [0, 1, 1, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]
/// );
/// ```
pub fn clear_border(mask: ArrayView2<u32>) -> Mask {
    let cut = border_labels(mask, 0);
    let kept = mask.mapv(|l| if l != 0 && cut.binary_search(&l).is_err() { l } else { 0 });
    relabel_sequential(kept.view()).0
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    proptest::proptest! {
        /// `border_labels` equals a scan of every pixel's distance to the edge.
        #[test]
        fn border_labels_equal_brute_force(
            h in 1usize..9, w in 1usize..9, buffer in 0usize..5,
            data in proptest::collection::vec(0u32..6, 64),
        ) {
            let m = Array2::from_shape_fn((h, w), |(y, x)| data[y * 8 + x]);
            let mut want: Vec<u32> = m
                .indexed_iter()
                .filter(|((y, x), v)| **v != 0 && (*y).min(*x).min(h - 1 - y).min(w - 1 - x) <= buffer)
                .map(|(_, v)| *v)
                .collect();
            want.sort_unstable();
            want.dedup();
            proptest::prop_assert_eq!(border_labels(m.view(), buffer), want);
        }

        /// `clear_border` keeps exactly the objects that touch no edge pixel,
        /// each whole, numbered from 1 without gaps.
        #[test]
        fn clear_border_keeps_exactly_the_inner_objects(
            h in 1usize..9, w in 1usize..9,
            data in proptest::collection::vec(0u32..6, 64),
        ) {
            let m = Array2::from_shape_fn((h, w), |(y, x)| data[y * 8 + x]);
            let out = clear_border(m.view());
            let cut = border_labels(m.view(), 0);
            for ((y, x), &v) in m.indexed_iter() {
                let kept = v != 0 && !cut.contains(&v);
                proptest::prop_assert_eq!(out[[y, x]] != 0, kept);
            }
            let mut labels: Vec<u32> = out.iter().copied().filter(|&l| l != 0).collect();
            labels.sort_unstable();
            labels.dedup();
            let inner: std::collections::BTreeSet<u32> = m.iter().copied().filter(|&v| v != 0 && !cut.contains(&v)).collect();
            proptest::prop_assert_eq!(labels, (1..=inner.len() as u32).collect::<Vec<u32>>());
        }
    }
}
