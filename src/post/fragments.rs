//! Fragment merging: objects much smaller than a frame's typical object join the neighbour they border most.
use ndarray::ArrayView2;

use super::region_labelling::{BoundingBox, bounding_boxes, label_areas, relabel_sequential};
use crate::ctc::Mask;
use crate::measure::median_of_sorted;

/// Merges every object of `mask` smaller than `fraction` × the median object
/// area into the object it shares the longest border with (4-neighbour pixel
/// pairs; ties go to the lower label), and removes it where it borders none;
/// objects are taken smallest first, and one that has grown past the limit by
/// an earlier merge stays. The rest are numbered `1..=n` in their order.
///
/// This is small-region merging (as in region-merging segmentation, e.g.
/// Haris et al., IEEE TIP 1998, with area as the only criterion), relative to
/// the frame's own median area so that it adapts to the cells' size: on real
/// nuclei most objects a tenth of a nucleus's area are pieces of a nucleus's
/// rim. `fraction` 0 leaves `mask` as it is (renumbered).
///
/// ```
/// use cellstream::post::merge_fragments;
/// use ndarray::array;
/// // Cells 1 and 2 (4 px each), a 1-px fragment 3 on cell 1's edge and a
/// // 1-px speck 4 on its own: the median area is 2.5 px.
/// let mask = array![[1u32, 1, 3, 0, 0, 2, 2], [1, 1, 0, 4, 0, 2, 2]];
/// // At 0.2 the limit is 0.5 px: nothing is under it.
/// assert_eq!(merge_fragments(mask.view(), 0.2), mask);
/// // At 0.5 (1.25 px) the fragment joins cell 1 and the speck goes.
/// assert_eq!(merge_fragments(mask.view(), 0.5), array![[1u32, 1, 1, 0, 0, 2, 2], [1, 1, 0, 0, 0, 2, 2]]);
/// ```
pub fn merge_fragments(mask: ArrayView2<u32>, fraction: f32) -> Mask {
    let n = mask.iter().copied().max().unwrap_or(0) as usize;
    let mut areas = label_areas(mask, n);
    let mut present: Vec<u64> = areas[1..].iter().filter(|&&a| a > 0).map(|&a| a as u64).collect();
    if present.is_empty() || fraction <= 0.0 {
        return relabel_sequential(mask).0;
    }
    present.sort_unstable();
    let limit = f64::from(fraction) * median_of_sorted(&present);
    let mut out = mask.to_owned();
    let mut boxes = bounding_boxes(mask, n);
    let mut small: Vec<u32> = (1..=n as u32)
        .filter(|&l| areas[l as usize] > 0 && (areas[l as usize] as f64) < limit)
        .collect();
    small.sort_by_key(|&l| (areas[l as usize], l));
    let (h, w) = mask.dim();
    for l in small {
        if areas[l as usize] as f64 >= limit {
            continue; // grown by an earlier merge
        }
        let b = boxes[l as usize - 1].expect("a label with pixels has a box");
        let mut shared: Vec<(u32, usize)> = Vec::new();
        for y in b.y0..b.y1 {
            for x in b.x0..b.x1 {
                if out[(y, x)] != l {
                    continue;
                }
                let neighbours = [
                    (y.wrapping_sub(1), x),
                    (y + 1, x),
                    (y, x.wrapping_sub(1)),
                    (y, x + 1),
                ];
                for (ny, nx) in neighbours {
                    if ny >= h || nx >= w {
                        continue;
                    }
                    let v = out[(ny, nx)];
                    if v != 0 && v != l {
                        match shared.iter_mut().find(|(k, _)| *k == v) {
                            Some((_, c)) => *c += 1,
                            None => shared.push((v, 1)),
                        }
                    }
                }
            }
        }
        let target = shared
            .iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .map_or(0, |&(v, _)| v);
        for y in b.y0..b.y1 {
            for x in b.x0..b.x1 {
                if out[(y, x)] == l {
                    out[(y, x)] = target;
                }
            }
        }
        if target != 0 {
            let t = target as usize;
            areas[t] += areas[l as usize];
            boxes[t - 1] = boxes[t - 1].map(|tb| BoundingBox {
                y0: tb.y0.min(b.y0),
                y1: tb.y1.max(b.y1),
                x0: tb.x0.min(b.x0),
                x1: tb.x1.max(b.x1),
            });
        }
        areas[l as usize] = 0;
    }
    relabel_sequential(out.view()).0
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use proptest::prelude::*;

    /// Two 10×10 cells side by side, a 2×3 fragment on the first's right
    /// edge that also touches the second along one pixel, and a 2×2 speck on
    /// its own.
    fn scene() -> Mask {
        let mut m = Mask::zeros((20, 40));
        m.slice_mut(ndarray::s![0..10, 0..10]).fill(1);
        m.slice_mut(ndarray::s![0..10, 13..23]).fill(2);
        m.slice_mut(ndarray::s![2..5, 10..12]).fill(3);
        m[(2, 12)] = 3;
        m.slice_mut(ndarray::s![15..17, 30..32]).fill(4);
        m
    }

    #[test]
    fn a_fragment_joins_the_cell_it_borders_most_and_a_lone_speck_goes() {
        // Areas 100, 100, 7, 4: median 53.5, limit at 0.2 is 10.7 px.
        let out = merge_fragments(scene().view(), 0.2);
        assert_eq!(
            out[(3, 10)],
            1,
            "the fragment borders cell 1 on 3 pixels, cell 2 on 1"
        );
        assert_eq!(out[(2, 12)], 1);
        assert_eq!(out[(15, 30)], 0, "the speck borders nothing");
        assert_eq!(out.iter().copied().max(), Some(2));
        assert_eq!(out.iter().filter(|&&v| v == 1).count(), 107);
    }

    #[test]
    fn objects_above_the_limit_stay() {
        // Limit 0.05 × 53.5 = 2.7 px: the 4-px speck and 7-px fragment stay.
        assert_eq!(merge_fragments(scene().view(), 0.05), scene());
    }

    proptest! {
        /// Merging never creates foreground, never splits an object, keeps
        /// every object at or above the limit, and leaves none below it.
        #[test]
        fn merging_only_moves_small_objects(cells in proptest::collection::vec(0u32..5, 64), fraction in 0.0f32..1.0) {
            let mask = Array2::from_shape_vec((8, 8), cells).unwrap();
            let out = merge_fragments(mask.view(), fraction);
            let n = mask.iter().copied().max().unwrap() as usize;
            let areas = label_areas(mask.view(), n);
            let mut present: Vec<usize> = areas[1..].iter().copied().filter(|&a| a > 0).collect();
            present.sort_unstable();
            for (&a, &b) in mask.iter().zip(out.iter()) {
                prop_assert!(a != 0 || b == 0, "foreground created");
            }
            if present.is_empty() {
                return Ok(());
            }
            let k = present.len();
            let median = if k % 2 == 1 { present[k / 2] as f64 } else { (present[k / 2 - 1] + present[k / 2]) as f64 / 2.0 };
            let limit = f64::from(fraction) * median;
            // Every pixel of an object at or above the limit keeps one label together.
            for l in 1..=n as u32 {
                if areas[l as usize] as f64 >= limit && areas[l as usize] > 0 {
                    let labels: std::collections::HashSet<u32> = mask.iter().zip(out.iter()).filter(|&(&a, _)| a == l).map(|(_, &b)| b).collect();
                    prop_assert_eq!(labels.len(), 1);
                    prop_assert!(!labels.contains(&0));
                }
            }
            let out_n = out.iter().copied().max().unwrap_or(0) as usize;
            let out_areas = label_areas(out.view(), out_n);
            prop_assert!(out_areas[1..].iter().all(|&a| a as f64 >= limit), "an object under the limit is left");
            prop_assert!(out_areas[1..].iter().all(|&a| a > 0), "labels not sequential");
        }
    }
}
