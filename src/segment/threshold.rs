//! Choosing a foreground threshold: Otsu's global threshold and Sauvola's local one.
use ndarray::{Array2, ArrayView2};

use super::filter::{box_mean, integral_image};

/// Otsu's threshold (Otsu 1979): the value that maximises the between-class
/// variance of a 256-bin histogram over the image's range. Pixels `> t` are
/// foreground. Returns the minimum for a constant image.
///
/// ```
/// use ndarray::array;
/// let img = array![[0.0f32, 0.1, 0.0], [0.9, 1.0, 0.95]];
/// let t = cellstream::segment::otsu_threshold(img.view());
/// assert!(t > 0.1 && t < 0.9);
/// ```
pub fn otsu_threshold(img: ArrayView2<f32>) -> f32 {
    let (lo, hi) = img.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    #[allow(clippy::neg_cmp_op_on_partial_ord)] // also true for NaN bounds
    let flat = !(hi > lo);
    if flat {
        return lo;
    }
    const BINS: usize = 256;
    let scale = (BINS as f32 - 1.0) / (hi - lo);
    let mut hist = [0u64; BINS];
    for &v in img.iter() {
        hist[((v - lo) * scale) as usize] += 1;
    }
    let total: u64 = hist.iter().sum();
    let sum_all: f64 = hist.iter().enumerate().map(|(i, &c)| i as f64 * c as f64).sum();
    let (mut w0, mut sum0, mut best, mut best_i) = (0u64, 0.0f64, -1.0f64, 0usize);
    for (i, &c) in hist.iter().enumerate().take(BINS - 1) {
        w0 += c;
        sum0 += i as f64 * c as f64;
        let w1 = total - w0;
        if w0 == 0 || w1 == 0 {
            continue;
        }
        let m0 = sum0 / w0 as f64;
        let m1 = (sum_all - sum0) / w1 as f64;
        let between = w0 as f64 * w1 as f64 * (m0 - m1) * (m0 - m1);
        if between > best {
            best = between;
            best_i = i;
        }
    }
    // Upper edge of the last background bin.
    lo + (best_i as f32 + 1.0) / scale
}

/// Sauvola's local threshold (Sauvola & Pietikäinen 2000):
/// `T(x) = m(x) · (1 + k · (s(x)/R − 1))` over a (2r+1)² window, with `m` and
/// `s` the local mean and standard deviation and `R` the dynamic range of `s`.
/// Computed in constant time per pixel with integral images (Shafait et al. 2008).
/// For bright objects on a dark background use a negative `k`.
pub fn sauvola_threshold(img: ArrayView2<f32>, r: usize, k: f32, range: f32) -> Array2<f32> {
    let mean = box_mean(img, r);
    let sq = img.mapv(|v| v * v);
    let (h, w) = img.dim();
    let s2 = integral_image(sq.view());
    Array2::from_shape_fn((h, w), |(y, x)| {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
        let n = ((y1 - y0) * (x1 - x0)) as f64;
        let ss = (s2[[y1, x1]] - s2[[y0, x1]] - s2[[y1, x0]] + s2[[y0, x0]]) / n;
        let m = mean[[y, x]] as f64;
        let sd = (ss - m * m).max(0.0).sqrt() as f32;
        mean[[y, x]] * (1.0 + k * (sd / range - 1.0))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use proptest::prelude::*;

    #[test]
    fn otsu_splits_two_clusters() {
        let img = array![[10.0f32, 11.0, 12.0, 200.0], [201.0, 10.0, 199.0, 11.0]];
        let t = otsu_threshold(img.view());
        assert!(t > 12.0 && t < 199.0, "{t}");
    }

    proptest! {
        #[test]
        fn otsu_lies_within_the_range(data in proptest::collection::vec(-5.0f32..5.0, 2..100)) {
            let n = data.len();
            let img = Array2::from_shape_vec((1, n), data).unwrap();
            let t = otsu_threshold(img.view());
            let lo = img.iter().cloned().fold(f32::INFINITY, f32::min);
            let hi = img.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
            prop_assert!(t >= lo && t <= hi + 1e-4);
        }
    }

    #[test]
    fn sauvola_on_flat_image_is_mean_scaled() {
        let img = Array2::from_elem((5, 5), 4.0f32);
        let t = sauvola_threshold(img.view(), 1, 0.2, 1.0);
        assert!((t[[2, 2]] - 4.0 * 0.8).abs() < 1e-5);
    }
}
