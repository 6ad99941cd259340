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
    fn image_edge_is_not_a_boundary() {
        let m = array![[3u32, 3, 0], [3, 3, 0], [3, 3, 0]];
        assert_eq!(class_map(m.view()), array![[1u8, 2, 0], [1, 2, 0], [1, 2, 0]]);
    }
}
