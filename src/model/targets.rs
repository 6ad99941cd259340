//! Training targets from instance masks: background, cell interior and cell boundary classes.
use ndarray::{Array2, ArrayView2};

pub const BACKGROUND: u8 = 0;
pub const CELL: u8 = 1;
pub const BOUNDARY: u8 = 2;

/// Three-class map of a label mask: a labelled pixel is [`BOUNDARY`] when one
/// of its 4-neighbours carries another label (background or a touching cell),
/// else [`CELL`]; unlabelled pixels are [`BACKGROUND`]. Neighbours outside the
/// image count as the same label, so cells cut by a crop edge get no ring
/// there. Touching cells are thus separated by a two-pixel interface, the
/// three-class scheme of Arbelle & Raviv (2019) and Caicedo et al. (2019).
pub fn class_map(mask: ArrayView2<u32>) -> Array2<u8> {
    let (h, w) = mask.dim();
    Array2::from_shape_fn((h, w), |(y, x)| {
        let l = mask[(y, x)];
        if l == 0 {
            return BACKGROUND;
        }
        let differs = |yy: usize, xx: usize| mask[(yy, xx)] != l;
        let edge = (y > 0 && differs(y - 1, x))
            || (y + 1 < h && differs(y + 1, x))
            || (x > 0 && differs(y, x - 1))
            || (x + 1 < w && differs(y, x + 1));
        if edge { BOUNDARY } else { CELL }
    })
}

/// [`class_map`] with the boundary widened to `ring` pixels where a cell
/// touches another: a labelled pixel is also [`BOUNDARY`] when a path of at
/// most `ring` 4-steps through its own cell reaches a pixel of another cell.
/// Edges against the background keep their one-pixel ring. `ring` 1 is
/// [`class_map`].
///
/// ```
/// use cellstream::model::{class_map_with_interfaces, BACKGROUND as O, BOUNDARY as B, CELL as C};
/// use ndarray::array;
/// let m = array![[0u32, 1, 1, 1, 1, 2, 2, 2, 2, 0]];
/// // Rows of one pixel: every pixel borders the outside above and below, so
/// // take a 3-row band and look at its middle row.
/// let band = ndarray::Array2::from_shape_fn((3, 10), |(_, x)| m[(0, x)]);
/// assert_eq!(class_map_with_interfaces(band.view(), 1).row(1).to_vec(), vec![O, B, C, C, B, B, C, C, B, O]);
/// assert_eq!(class_map_with_interfaces(band.view(), 2).row(1).to_vec(), vec![O, B, C, B, B, B, B, C, B, O]);
/// ```
pub fn class_map_with_interfaces(mask: ArrayView2<u32>, ring: usize) -> Array2<u8> {
    let mut classes = class_map(mask);
    if ring <= 1 {
        return classes;
    }
    let (h, w) = mask.dim();
    let neighbours = |y: usize, x: usize| {
        [(y.wrapping_sub(1), x), (y + 1, x), (y, x.wrapping_sub(1)), (y, x + 1)].into_iter().filter(move |&(yy, xx)| yy < h && xx < w)
    };
    // Step 1: the labelled pixels of the interfaces (a 4-neighbour of another cell).
    let mut seen = interface_map(mask);
    seen.zip_mut_with(&mask, |s, &l| *s &= l != 0);
    let mut front: Vec<(usize, usize)> = seen.indexed_iter().filter(|&(_, &s)| s).map(|(p, _)| p).collect();
    for _ in 1..ring {
        let mut next = Vec::new();
        for &(y, x) in &front {
            for p in neighbours(y, x) {
                if !seen[p] && mask[p] == mask[(y, x)] {
                    seen[p] = true;
                    next.push(p);
                }
            }
        }
        front = next;
    }
    classes.zip_mut_with(&seen, |c, &s| {
        if s {
            *c = BOUNDARY;
        }
    });
    classes
}

/// Where touching cells meet: a labelled pixel whose 4-neighbour carries
/// another cell's label, or an unlabelled pixel whose 8-neighbours carry two
/// different labels (a one-pixel gap between cells). These are the pixels
/// that decide whether two cells come out merged; U-Net's weight map
/// (Ronneberger et al., MICCAI 2015) weighs the loss most there, and
/// training can do likewise with a constant (`interface_weight`).
///
/// ```
/// use cellstream::model::interface_map;
/// use ndarray::array;
/// let m = array![[1u32, 1, 2, 2, 0, 3]];
/// // 1 meets 2 between columns 1 and 2; column 4 is a gap between 2 and 3.
/// assert_eq!(interface_map(m.view()), array![[false, true, true, false, true, false]]);
/// ```
pub fn interface_map(mask: ArrayView2<u32>) -> Array2<bool> {
    let (h, w) = mask.dim();
    Array2::from_shape_fn((h, w), |(y, x)| {
        let l = mask[(y, x)];
        let (y0, y1, x0, x1) = (y.saturating_sub(1), (y + 1).min(h - 1), x.saturating_sub(1), (x + 1).min(w - 1));
        if l != 0 {
            let other = |yy: usize, xx: usize| mask[(yy, xx)] != 0 && mask[(yy, xx)] != l;
            return (y > 0 && other(y - 1, x)) || (y + 1 < h && other(y + 1, x)) || (x > 0 && other(y, x - 1)) || (x + 1 < w && other(y, x + 1));
        }
        let mut first = 0;
        for yy in y0..=y1 {
            for xx in x0..=x1 {
                let n = mask[(yy, xx)];
                if n != 0 {
                    if first != 0 && n != first {
                        return true;
                    }
                    first = n;
                }
            }
        }
        false
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn rings_and_interfaces() {
        let m = array![
            [0u32, 0, 0, 0, 0, 0, 0],
            [0, 1, 1, 1, 2, 2, 0],
            [0, 1, 1, 1, 2, 2, 0],
            [0, 1, 1, 1, 2, 2, 0],
            [0, 0, 0, 0, 0, 0, 0],
        ];
        let c = class_map(m.view());
        let want = array![
            [0u8, 0, 0, 0, 0, 0, 0],
            [0, 2, 2, 2, 2, 2, 0],
            [0, 2, 1, 2, 2, 2, 0],
            [0, 2, 2, 2, 2, 2, 0],
            [0, 0, 0, 0, 0, 0, 0],
        ];
        assert_eq!(c, want);
    }

    #[test]
    fn interfaces_lie_between_cells_only() {
        let m = array![
            [0u32, 0, 0, 0, 0, 0, 0],
            [0, 1, 1, 2, 2, 0, 0],
            [0, 1, 1, 2, 2, 0, 3],
            [0, 0, 0, 0, 0, 0, 3],
        ];
        let i = interface_map(m.view());
        // The background pixels diagonal to where 1 meets 2 count too.
        let want = array![
            [false, false, true, true, false, false, false],
            [false, false, true, true, false, true, false],
            [false, false, true, true, false, true, false],
            [false, false, true, true, false, true, false],
        ];
        assert_eq!(i, want);
        // A lone cell has no interface, whatever its ring.
        assert!(!interface_map(array![[0u32, 1, 1], [0, 1, 1]].view()).iter().any(|&b| b));
    }

    #[test]
    fn image_edge_is_not_a_boundary() {
        let m = array![[3u32, 3, 0], [3, 3, 0], [3, 3, 0]];
        assert_eq!(class_map(m.view()), array![[1u8, 2, 0], [1, 2, 0], [1, 2, 0]]);
    }

    proptest::proptest! {
        /// Widening the interfaces only turns cell pixels into boundary, and
        /// only where another cell is within `ring` steps; ring 1 is `class_map`.
        #[test]
        fn wider_interfaces_only_take_cell_pixels_near_other_cells(
            data in proptest::collection::vec(0u32..4, 64), ring in 1usize..4,
        ) {
            let m = Array2::from_shape_vec((8, 8), data).unwrap();
            let plain = class_map(m.view());
            let wide = class_map_with_interfaces(m.view(), ring);
            if ring == 1 {
                proptest::prop_assert_eq!(&wide, &plain);
            }
            for ((y, x), &c) in wide.indexed_iter() {
                if c != plain[(y, x)] {
                    proptest::prop_assert_eq!((plain[(y, x)], c), (CELL, BOUNDARY));
                    let l = m[(y, x)];
                    let near = (0..8).flat_map(|yy| (0..8).map(move |xx| (yy, xx))).any(|(yy, xx)| {
                        let d = (yy as isize - y as isize).abs() + (xx as isize - x as isize).abs();
                        m[(yy, xx)] != 0 && m[(yy, xx)] != l && d as usize <= ring
                    });
                    proptest::prop_assert!(near, "({y}, {x}) turned boundary with no other cell within {ring} steps");
                }
            }
        }
    }
}
