//! Binary morphology on foregrounds: disk dilation, erosion and closing, hole filling, area opening.
use ndarray::{Array2, ArrayView2};

use super::region_labelling::Connectivity;
use super::runs::{Builder, Runs};

/// Dilation of `fg` by the disk of radius `r`, `{(dy, dx) : dy² + dx² ≤ r²}`
/// (scikit-image `disk(r)`); pixels outside the image are background.
/// See [`dilate_runs`].
///
/// ```
/// use cellstream::post::dilate_disk;
/// use ndarray::Array2;
/// let mut fg = Array2::from_elem((5, 5), false);
/// fg[[2, 2]] = true;
/// let d = dilate_disk(fg.view(), 1);
/// assert_eq!(d.mapv(u8::from), ndarray::array![
///     [0, 0, 0, 0, 0],
///     [0, 0, 1, 0, 0],
///     [0, 1, 1, 1, 0],
///     [0, 0, 1, 0, 0],
///     [0, 0, 0, 0, 0],
/// ]);
/// ```
pub fn dilate_disk(fg: ArrayView2<bool>, r: usize) -> Array2<bool> {
    dilate_runs(&Runs::from_mask(fg), r).to_mask()
}

/// Erosion of `fg` by the disk of radius `r`; pixels outside the image count as
/// foreground, so objects touching the border are not eaten from outside
/// (scikit-image `binary_erosion`'s default `mode='ignore'`). See [`erode_runs`].
///
/// ```
/// use cellstream::post::erode_disk;
/// use ndarray::Array2;
/// let mut fg = Array2::from_elem((5, 5), false);
/// fg.slice_mut(ndarray::s![1..4, 1..4]).fill(true);
/// let e = erode_disk(fg.view(), 1);
/// assert_eq!(e.iter().filter(|&&v| v).count(), 1); // the 3×3 square shrinks to its centre
/// assert!(e[[2, 2]]);
/// // The image's edge is not background: a full image stays full.
/// assert!(erode_disk(Array2::from_elem((3, 3), true).view(), 1).iter().all(|&v| v));
/// ```
pub fn erode_disk(fg: ArrayView2<bool>, r: usize) -> Array2<bool> {
    erode_runs(&Runs::from_mask(fg), r).to_mask()
}

/// Closing of `fg` by the disk of radius `r`: [`dilate_disk`] then [`erode_disk`],
/// as scikit-image's `binary_closing(fg, disk(r))`. It contains `fg` and is
/// idempotent.
///
/// ```
/// use cellstream::post::close_disk;
/// use ndarray::array;
/// let fg = array![
///     [true, true, true, true, true],
///     [true, true, false, true, true],
///     [true, true, true, true, true],
/// ];
/// assert!(close_disk(fg.view(), 1).iter().all(|&b| b));
/// ```
pub fn close_disk(fg: ArrayView2<bool>, r: usize) -> Array2<bool> {
    close_runs(&Runs::from_mask(fg), r).to_mask()
}

/// Dilation of a run-encoded foreground by the disk of radius `r`.
///
/// The disk is decomposed into its 2r + 1 chords (horizontal segments) and the
/// foreground is taken as runs (interval coding: Ji, Piper & Tang 1989, "Erosion
/// and dilation of binary images by arbitrary structuring elements using interval
/// coding", Pattern Recognition Letters 9(3)): output row y is the union of the runs
/// of rows y + dy, each widened by the half-chord at dy, merged row after row (each
/// merge is linear in the spans). Cost O((2r + 1) · runs): no work per pixel, and the
/// radius enters only through the number of rows merged, never as r² per pixel.
///
/// ```
/// use cellstream::post::{dilate_disk, dilate_runs, Runs};
/// use ndarray::Array2;
/// let mut fg = Array2::from_elem((7, 7), false);
/// fg[[3, 3]] = true;
/// let grown = dilate_runs(&Runs::from_mask(fg.view()), 2);
/// // The disk of radius 2 (x² + y² ≤ 4): chords of half-width 0, 1, 2, 1, 0; 13 pixels in all.
/// assert_eq!(grown.iter().collect::<Vec<_>>(), [(1, 3, 4), (2, 2, 5), (3, 1, 6), (4, 2, 5), (5, 3, 4)]);
/// assert_eq!(grown.to_mask(), dilate_disk(fg.view(), 2));
/// ```
pub fn dilate_runs(fg: &Runs, r: usize) -> Runs {
    let (h, w) = fg.dim();
    if r == 0 {
        return fg.clone();
    }
    // half[|dy|]: half-width of the disk's chord at vertical offset dy.
    let r2 = r * r;
    let half: Vec<u32> = (0..=r).map(|dy| (0..=r).rev().find(|hw| hw * hw + dy * dy <= r2).unwrap_or(0) as u32).collect();
    let mut out = Builder::new(h, w);
    let mut acc: Vec<(u32, u32)> = Vec::new();
    let mut next: Vec<(u32, u32)> = Vec::new();
    for y in 0..h {
        // Union of the widened runs of rows y - r ..= y + r, one row at a time:
        // each is sorted, so each union is a linear merge of two sorted lists.
        acc.clear();
        for sy in y.saturating_sub(r)..(y + r + 1).min(h) {
            let hw = half[sy.abs_diff(y)];
            let widened = fg.row(sy).iter().map(|&(a, b)| (a.saturating_sub(hw), (b + hw).min(w as u32)));
            merge_union(&acc, widened, &mut next);
            std::mem::swap(&mut acc, &mut next);
        }
        for &(a, b) in &acc {
            out.push(a, b);
        }
        out.end_row();
    }
    out.finish()
}

/// The union of two sorted lists of disjoint spans, as a sorted list of disjoint,
/// non-touching spans in `out`.
fn merge_union(a: &[(u32, u32)], b: impl Iterator<Item = (u32, u32)>, out: &mut Vec<(u32, u32)>) {
    out.clear();
    let mut b = b.peekable();
    let mut a = a.iter().copied().peekable();
    loop {
        let s = match (a.peek(), b.peek()) {
            (Some(&x), Some(&y)) => {
                if x.0 <= y.0 {
                    a.next();
                    x
                } else {
                    b.next();
                    y
                }
            }
            (Some(&x), None) => {
                a.next();
                x
            }
            (None, Some(&y)) => {
                b.next();
                y
            }
            (None, None) => break,
        };
        match out.last_mut() {
            Some(last) if s.0 <= last.1 => last.1 = last.1.max(s.1),
            _ => out.push(s),
        }
    }
}

/// Erosion of a run-encoded foreground by the disk of radius `r`, pixels outside
/// the image counting as foreground: the complement of the [`dilate_runs`] of the
/// in-image background.
///
/// ```
/// use cellstream::post::{erode_runs, Runs};
/// use ndarray::Array2;
/// // A 5×5 square in the corner of a 6×6 image: its sides on the image's
/// // edge are kept, the two inner sides lose a pixel each.
/// let mut fg = Array2::from_elem((6, 6), false);
/// fg.slice_mut(ndarray::s![..5, ..5]).fill(true);
/// let eroded = erode_runs(&Runs::from_mask(fg.view()), 1);
/// assert_eq!(eroded.area(), 16);
/// assert!(eroded.to_mask()[[0, 0]] && !eroded.to_mask()[[4, 0]]);
/// ```
pub fn erode_runs(fg: &Runs, r: usize) -> Runs {
    if r == 0 {
        return fg.clone();
    }
    dilate_runs(&fg.complement(), r).complement()
}

/// Closing of a run-encoded foreground by the disk of radius `r`:
/// [`dilate_runs`] then [`erode_runs`], as [`close_disk`] on a mask.
///
/// ```
/// use cellstream::post::{close_runs, Runs};
/// // Two runs a pixel apart join; a gap of three stays at radius 1.
/// let fg = ndarray::array![[false, false, true, true, false, true, true, false, false, false, true, false, false]];
/// let closed = close_runs(&Runs::from_mask(fg.view()), 1);
/// assert_eq!(closed.iter().collect::<Vec<_>>(), [(0, 2, 7), (0, 10, 11)]);
/// ```
pub fn close_runs(fg: &Runs, r: usize) -> Runs {
    erode_runs(&dilate_runs(fg, r), r)
}

/// Fills the holes of `fg`: background regions (4-connected) that do not reach the
/// image border become foreground, as `scipy.ndimage.binary_fill_holes`.
/// See [`fill_holes_runs`].
///
/// ```
/// use cellstream::post::fill_holes;
/// use ndarray::array;
/// let ring = array![
///     [false, true, true, true],
///     [false, true, false, true],
///     [false, true, true, true],
/// ];
/// assert_eq!(fill_holes(ring.view())[[1, 2]], true);
/// assert_eq!(fill_holes(ring.view())[[1, 0]], false);
/// ```
pub fn fill_holes(fg: ArrayView2<bool>) -> Array2<bool> {
    fill_holes_runs(&Runs::from_mask(fg)).to_mask()
}

/// Hole filling on runs. Holes are the background components that miss the border
/// (Soille 2003, "Morphological Image Analysis", §6.3.7, by reconstruction from the
/// border); the background components come from run-based labelling of the
/// complement (He, Chao & Suzuki 2008): a set of background runs is a hole unless
/// one of its runs lies on the border.
///
/// ```
/// use cellstream::post::{fill_holes_runs, Runs};
/// use ndarray::array;
/// let ring = array![[true, true, true, false], [true, false, true, false], [true, true, true, false]];
/// let filled = fill_holes_runs(&Runs::from_mask(ring.view()));
/// assert_eq!(filled.iter().collect::<Vec<_>>(), [(0, 0, 3), (1, 0, 3), (2, 0, 3)]); // the column on the border stays background
/// ```
pub fn fill_holes_runs(fg: &Runs) -> Runs {
    let (h, w) = fg.dim();
    let bg = fg.complement();
    let comps = bg.components(Connectivity::Four);
    let mut outside = vec![false; comps.count() + 1];
    for ((y, a, b), &l) in bg.iter().zip(&comps.label) {
        if y == 0 || y + 1 == h || a == 0 || b == w {
            outside[l as usize] = true;
        }
    }
    if outside.iter().skip(1).all(|&o| o) {
        return fg.clone();
    }
    let holes = bg.retain(|i| !outside[comps.label[i] as usize]);
    fg.union(&holes)
}

/// Removes the connected components of `fg` with fewer than `min_area` pixels
/// (binary area opening, Vincent 1992; scikit-image
/// `remove_small_objects(fg, max_size=min_area - 1, connectivity=…)`).
///
/// ```
/// use cellstream::post::{remove_small_components, Connectivity};
/// use ndarray::array;
/// let fg = array![[true, false, true, true], [false, false, true, true]];
/// let kept = remove_small_components(fg.view(), 2, Connectivity::Eight);
/// assert_eq!(kept, array![[false, false, true, true], [false, false, true, true]]);
/// ```
pub fn remove_small_components(fg: ArrayView2<bool>, min_area: usize, conn: Connectivity) -> Array2<bool> {
    remove_small_runs(&Runs::from_mask(fg), min_area, conn).to_mask()
}

/// Area opening on runs: drops the runs of components under `min_area` pixels
/// (see [`remove_small_components`]).
///
/// ```
/// use cellstream::post::{remove_small_runs, Connectivity, Runs};
/// use ndarray::array;
/// // Three pixels joined at a corner: one object of 3 under 8-connectivity, three of 1 under 4.
/// let fg = Runs::from_mask(array![[true, false, false], [false, true, false], [false, false, true]].view());
/// assert_eq!(remove_small_runs(&fg, 2, Connectivity::Eight).area(), 3);
/// assert!(remove_small_runs(&fg, 2, Connectivity::Four).is_empty());
/// ```
pub fn remove_small_runs(fg: &Runs, min_area: usize, conn: Connectivity) -> Runs {
    let comps = fg.components(conn);
    if comps.areas.iter().skip(1).all(|&a| a >= min_area) {
        return fg.clone();
    }
    fg.retain(|i| comps.areas[comps.label[i] as usize] >= min_area)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::post::region_labelling::{label_areas, label_components};
    use ndarray::array;
    use proptest::prelude::*;

    fn random_image(h: usize, w: usize, p: f64, seed: u64) -> Array2<bool> {
        let mut state = seed | 1;
        Array2::from_shape_fn((h, w), |_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 1000) as f64 / 1000.0 < p
        })
    }

    fn brute_dilate(fg: &Array2<bool>, r: usize) -> Array2<bool> {
        let (h, w) = fg.dim();
        let r = r as i64;
        Array2::from_shape_fn((h, w), |(y, x)| {
            for dy in -r..=r {
                for dx in -r..=r {
                    let (ny, nx) = (y as i64 + dy, x as i64 + dx);
                    if dy * dy + dx * dx <= r * r && ny >= 0 && nx >= 0 && ny < h as i64 && nx < w as i64
                        && fg[[ny as usize, nx as usize]]
                    {
                        return true;
                    }
                }
            }
            false
        })
    }

    fn brute_erode(fg: &Array2<bool>, r: usize) -> Array2<bool> {
        let (h, w) = fg.dim();
        let r = r as i64;
        Array2::from_shape_fn((h, w), |(y, x)| {
            for dy in -r..=r {
                for dx in -r..=r {
                    let (ny, nx) = (y as i64 + dy, x as i64 + dx);
                    let inside = ny >= 0 && nx >= 0 && ny < h as i64 && nx < w as i64;
                    if dy * dy + dx * dx <= r * r && inside && !fg[[ny as usize, nx as usize]] {
                        return false;
                    }
                }
            }
            true
        })
    }

    /// Holes by definition: background pixels with no 4-path of background to the border.
    fn brute_fill(fg: &Array2<bool>) -> Array2<bool> {
        let (h, w) = fg.dim();
        let mut reached = Array2::from_elem((h, w), false);
        loop {
            let mut changed = false;
            for y in 0..h {
                for x in 0..w {
                    if fg[[y, x]] || reached[[y, x]] {
                        continue;
                    }
                    let border = y == 0 || x == 0 || y == h - 1 || x == w - 1;
                    let near = (y > 0 && reached[[y - 1, x]])
                        || (x > 0 && reached[[y, x - 1]])
                        || (y + 1 < h && reached[[y + 1, x]])
                        || (x + 1 < w && reached[[y, x + 1]]);
                    if border || near {
                        reached[[y, x]] = true;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        reached.mapv(|r| !r)
    }

    proptest! {
        #[test]
        fn dilation_and_erosion_equal_brute_force(h in 1usize..18, w in 1usize..18, p in 0.05f64..0.95, r in 0usize..6, seed in any::<u64>()) {
            let fg = random_image(h, w, p, seed);
            prop_assert_eq!(dilate_disk(fg.view(), r), brute_dilate(&fg, r));
            prop_assert_eq!(erode_disk(fg.view(), r), brute_erode(&fg, r));
        }

        #[test]
        fn closing_is_extensive_and_idempotent(h in 1usize..24, w in 1usize..24, p in 0.2f64..0.9, r in 0usize..5, seed in any::<u64>()) {
            let fg = random_image(h, w, p, seed);
            let c = close_disk(fg.view(), r);
            prop_assert!(fg.iter().zip(c.iter()).all(|(&a, &b)| !a || b), "closing removed a pixel");
            prop_assert_eq!(close_disk(c.view(), r), c);
        }

        #[test]
        fn fill_holes_is_exact_and_idempotent(h in 1usize..20, w in 1usize..20, p in 0.3f64..0.9, seed in any::<u64>()) {
            let fg = random_image(h, w, p, seed);
            let f = fill_holes(fg.view());
            prop_assert_eq!(&f, &brute_fill(&fg));
            prop_assert_eq!(fill_holes(f.view()), f);
        }

        #[test]
        fn area_opening_keeps_exactly_the_large_components(h in 1usize..20, w in 1usize..20, p in 0.2f64..0.8, min_area in 0usize..8, seed in any::<u64>()) {
            let fg = random_image(h, w, p, seed);
            let kept = remove_small_components(fg.view(), min_area, Connectivity::Eight);
            let (labels, n) = label_components(fg.view(), Connectivity::Eight);
            let areas = label_areas(labels.view(), n);
            for (l, k) in labels.iter().zip(kept.iter()) {
                prop_assert_eq!(*k, *l != 0 && areas[*l as usize] >= min_area);
            }
        }
    }

    #[test]
    fn disk_radius_two_matches_scikit_image() {
        // skimage.morphology.disk(2)
        let mut fg = Array2::from_elem((5, 5), false);
        fg[[2, 2]] = true;
        let d = dilate_disk(fg.view(), 2).mapv(u8::from);
        assert_eq!(
            d,
            array![[0, 0, 1, 0, 0], [0, 1, 1, 1, 0], [1, 1, 1, 1, 1], [0, 1, 1, 1, 0], [0, 0, 1, 0, 0]]
        );
    }

    #[test]
    fn erosion_keeps_objects_at_the_border() {
        let fg = array![[true, true, false], [true, true, false], [true, true, false]];
        let e = erode_disk(fg.view(), 1);
        assert_eq!(e, array![[true, false, false], [true, false, false], [true, false, false]]);
    }
}
