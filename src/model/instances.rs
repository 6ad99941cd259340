//! Provisional instance extraction from class probabilities: seeds, connected components, growth.
//!
//! Kept minimal and private to the model module for validation during
//! training; the `post` stage's watershed replaces it in the pipeline.
use std::collections::VecDeque;

use ndarray::Array2;

use crate::ctc::Mask;

/// The cell region: pixels where `p(background)` is below this.
pub(crate) const FOREGROUND_THRESHOLD: f32 = 0.5;
/// Seeds smaller than this many pixels are dropped.
pub(crate) const MIN_SEED: usize = 3;

/// Labels cells: seeds (pixels whose most likely class is the cell
/// interior) are split into 4-connected components, components under
/// [`MIN_SEED`] pixels dropped, and the rest grown breadth-first (nearest
/// seed in 4-connected steps) through the cell region
/// (`background < FOREGROUND_THRESHOLD`).
pub(crate) fn instances(background: &Array2<f32>, cell: &Array2<f32>, boundary: &Array2<f32>) -> Mask {
    let (h, w) = cell.dim();
    let seed = Array2::from_shape_fn((h, w), |p| cell[p] > boundary[p] && cell[p] > background[p]);
    let mut labels = Mask::zeros((h, w));
    let mut next = 0u32;
    let mut queue = VecDeque::new();
    let mut grow_from = VecDeque::new();
    for y in 0..h {
        for x in 0..w {
            if !seed[(y, x)] || labels[(y, x)] != 0 {
                continue;
            }
            next += 1;
            let mut members = vec![(y, x)];
            labels[(y, x)] = next;
            queue.push_back((y, x));
            while let Some(p) = queue.pop_front() {
                for q in neighbours(p, h, w) {
                    if seed[q] && labels[q] == 0 {
                        labels[q] = next;
                        members.push(q);
                        queue.push_back(q);
                    }
                }
            }
            if members.len() < MIN_SEED {
                for p in members {
                    labels[p] = u32::MAX; // dropped seed: may be claimed by growth
                }
                next -= 1;
            } else {
                grow_from.extend(members);
            }
        }
    }
    labels.mapv_inplace(|l| if l == u32::MAX { 0 } else { l });
    while let Some(p) = grow_from.pop_front() {
        for q in neighbours(p, h, w) {
            if labels[q] == 0 && background[q] < FOREGROUND_THRESHOLD {
                labels[q] = labels[p];
                grow_from.push_back(q);
            }
        }
    }
    labels
}

fn neighbours((y, x): (usize, usize), h: usize, w: usize) -> impl Iterator<Item = (usize, usize)> {
    [(y.wrapping_sub(1), x), (y + 1, x), (y, x.wrapping_sub(1)), (y, x + 1)].into_iter().filter(move |&(a, b)| a < h && b < w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn touching_cells_split_at_the_boundary() {
        // Two cells side by side: interiors in columns 1–2 and 5–6, boundary at 3–4.
        let cell = array![
            [0.0f32, 0.9, 0.9, 0.1, 0.1, 0.9, 0.9, 0.0],
            [0.0, 0.9, 0.9, 0.1, 0.1, 0.9, 0.9, 0.0],
        ];
        let boundary = array![
            [0.1f32, 0.1, 0.1, 0.8, 0.8, 0.1, 0.1, 0.1],
            [0.1, 0.1, 0.1, 0.8, 0.8, 0.1, 0.1, 0.1],
        ];
        let background = (1.0 - &cell - &boundary).mapv(|v: f32| v.max(0.0));
        let m = instances(&background, &cell, &boundary);
        assert_eq!(m, array![[0, 1, 1, 1, 2, 2, 2, 0], [0, 1, 1, 1, 2, 2, 2, 0]]);
    }

    #[test]
    fn tiny_seeds_are_dropped() {
        let cell = array![[0.9f32, 0.0, 0.0, 0.0], [0.0, 0.0, 0.9, 0.9], [0.0, 0.0, 0.9, 0.9]];
        let boundary = Array2::zeros((3, 4));
        let background = 1.0 - &cell;
        let m = instances(&background, &cell, &boundary);
        assert_eq!(m, array![[0, 0, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]]);
    }
}
