//! Drawing outlines into a label map: one owner per pixel, one connected piece per cell.
//!
//! Where outlines overlap (cells pressed together), a pixel goes to the cell
//! in which it lies deepest, i.e. with the smallest normalised radius `ρ`: a
//! multiplicatively weighted Voronoi split of the overlap (Aurenhammer 1991),
//! which gives touching cells a shared border and no pixel two labels.
use std::collections::VecDeque;

use ndarray::Array2;

use super::shape::Outline;

/// The label map of one frame before track labels are given out.
#[derive(Debug, Clone)]
pub struct Raster {
    /// 0 = background, `i + 1` = the `i`-th outline.
    pub owner: Array2<u32>,
    /// The owner's normalised radius at each owned pixel (1 elsewhere).
    pub rho: Array2<f32>,
}

/// Draws `outlines` into an `h`×`w` label map (pixel (x, y) sampled at its centre).
///
/// ```
/// use cellstream::simulate::shape::{Outline, StarShape};
/// use cellstream::simulate::raster::rasterize;
/// let r = rasterize(&[Outline::Star(StarShape::disc(2.0, 2.0, 1.2))], 5, 5);
/// assert_eq!(r.owner.iter().filter(|&&o| o == 1).count(), 5); // a plus sign
/// ```
pub fn rasterize(outlines: &[Outline], h: usize, w: usize) -> Raster {
    let mut owner = Array2::<u32>::zeros((h, w));
    let mut rho = Array2::<f32>::from_elem((h, w), 1.0);
    for (i, o) in outlines.iter().enumerate() {
        let Some((y0, y1, x0, x1)) = o.pixel_box(h, w) else { continue };
        for y in y0..=y1 {
            for x in x0..=x1 {
                let r = o.rho(x as f64, y as f64) as f32;
                if r < 1.0 && r < rho[[y, x]] {
                    rho[[y, x]] = r;
                    owner[[y, x]] = i as u32 + 1;
                }
            }
        }
    }
    Raster { owner, rho }
}

/// Keeps, for every owner, only its largest 4-connected piece, and removes
/// owners left with fewer than `min_area` pixels. Returns each owner's final
/// area (index `i` for owner `i + 1`; 0 = not visible in this frame).
///
/// ```
/// use ndarray::array;
/// use cellstream::simulate::raster::keep_largest_pieces;
/// let mut m = array![[1, 1, 0, 1], [1, 0, 0, 0], [0, 0, 2, 0]];
/// let areas = keep_largest_pieces(&mut m, 2, 2);
/// assert_eq!(m, array![[1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]);
/// assert_eq!(areas, vec![3, 0]);
/// ```
pub fn keep_largest_pieces(owner: &mut Array2<u32>, n_owners: usize, min_area: usize) -> Vec<usize> {
    let (h, w) = owner.dim();
    // Pieces: flood fill every unvisited owned pixel (4-connectivity).
    let mut piece = Array2::<u32>::zeros((h, w));
    let mut piece_size: Vec<usize> = vec![0];
    let mut piece_owner: Vec<u32> = vec![0];
    let mut queue = VecDeque::new();
    for y in 0..h {
        for x in 0..w {
            let o = owner[[y, x]];
            if o == 0 || piece[[y, x]] != 0 {
                continue;
            }
            let id = piece_size.len() as u32;
            let mut size = 0;
            piece[[y, x]] = id;
            queue.push_back((y, x));
            while let Some((py, px)) = queue.pop_front() {
                size += 1;
                let mut visit = |qy: usize, qx: usize| {
                    if owner[[qy, qx]] == o && piece[[qy, qx]] == 0 {
                        piece[[qy, qx]] = id;
                        queue.push_back((qy, qx));
                    }
                };
                if py > 0 {
                    visit(py - 1, px);
                }
                if py + 1 < h {
                    visit(py + 1, px);
                }
                if px > 0 {
                    visit(py, px - 1);
                }
                if px + 1 < w {
                    visit(py, px + 1);
                }
            }
            piece_size.push(size);
            piece_owner.push(o);
        }
    }
    // The largest piece of each owner (first found wins ties: deterministic).
    let mut best: Vec<(usize, u32)> = vec![(0, 0); n_owners];
    for (id, (&size, &o)) in piece_size.iter().zip(&piece_owner).enumerate().skip(1) {
        let b = &mut best[o as usize - 1];
        if size > b.0 {
            *b = (size, id as u32);
        }
    }
    for (o, p) in owner.iter_mut().zip(piece.iter()) {
        if *o == 0 {
            continue;
        }
        let (size, id) = best[*o as usize - 1];
        if *p != id || size < min_area {
            *o = 0;
        }
    }
    best.iter().map(|&(size, _)| if size >= min_area { size } else { 0 }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::shape::StarShape;

    #[test]
    fn overlap_is_split_and_touching_cells_share_a_border() {
        let a = Outline::Star(StarShape::disc(5.0, 5.0, 4.0));
        let b = Outline::Star(StarShape::disc(11.0, 5.0, 4.0));
        let r = rasterize(&[a, b], 11, 17);
        // Each pixel has one owner; the split lies half-way between the centres.
        assert_eq!(r.owner[[5, 7]], 1);
        assert_eq!(r.owner[[5, 9]], 2);
        assert_eq!(r.owner[[5, 8]], 1, "equal ρ: the first outline keeps the pixel");
        assert!(r.rho[[5, 5]] == 0.0 && r.rho[[0, 0]] == 1.0);
    }

    #[test]
    fn slivers_are_dropped() {
        // Owner 1 is cut in two by owner 2; the small piece goes.
        let mut m = ndarray::array![
            [1, 1, 2, 1],
            [1, 1, 2, 0],
            [1, 1, 2, 0],
        ];
        let areas = keep_largest_pieces(&mut m, 2, 1);
        assert_eq!(m[[0, 3]], 0);
        assert_eq!(areas, vec![6, 3]);
    }

    #[test]
    fn diagonal_neighbours_are_separate_pieces() {
        let mut m = ndarray::array![[1, 0], [0, 1]];
        let areas = keep_largest_pieces(&mut m, 1, 1);
        assert_eq!(areas, vec![1]);
        assert_eq!(m.iter().filter(|&&v| v == 1).count(), 1);
    }
}
