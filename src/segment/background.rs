//! Flattening uneven illumination: estimate the background and remove it.
use ndarray::{Array2, ArrayView2};

use super::filter::gaussian_blur;

/// Background estimate by a wide Gaussian blur of the image with its brightest
/// and darkest pixels clipped to the median ± a robust spread, so that cells
/// (which the clipping flattens) do not lift the background around them.
pub fn estimate_background(img: ArrayView2<f32>, sigma: f32) -> Array2<f32> {
    let mut v: Vec<f32> = img.iter().copied().collect();
    let n = v.len();
    if n == 0 {
        return Array2::zeros(img.raw_dim());
    }
    let mid = n / 2;
    let med = *v.select_nth_unstable_by(mid, |a, b| a.total_cmp(b)).1;
    let mut dev: Vec<f32> = img.iter().map(|x| (x - med).abs()).collect();
    let mad = *dev.select_nth_unstable_by(mid, |a, b| a.total_cmp(b)).1;
    let spread = (1.4826 * mad).max(f32::EPSILON);
    let clipped = img.mapv(|x| x.clamp(med - 2.0 * spread, med + 2.0 * spread));
    gaussian_blur(clipped.view(), sigma)
}

/// `img − background`: a flat image whose background sits near zero.
pub fn subtract_background(img: ArrayView2<f32>, sigma: f32) -> Array2<f32> {
    let bg = estimate_background(img, sigma);
    &img - &bg
}

/// Rescales to [0, 1] between the `lo` and `hi` percentiles (e.g. 1 and 99.8),
/// clipping outside: the per-frame normalisation of CSBDeep/StarDist.
pub fn percentile_normalise(img: ArrayView2<f32>, lo: f32, hi: f32) -> Array2<f32> {
    let mut v: Vec<f32> = img.iter().copied().collect();
    if v.is_empty() {
        return Array2::zeros(img.raw_dim());
    }
    let n = v.len();
    let at = |p: f32, v: &mut Vec<f32>| {
        let i = ((p / 100.0) * (n - 1) as f32).round() as usize;
        *v.select_nth_unstable_by(i.min(n - 1), |a, b| a.total_cmp(b)).1
    };
    let a = at(lo, &mut v);
    let b = at(hi, &mut v);
    let d = (b - a).max(f32::EPSILON);
    img.mapv(|x| ((x - a) / d).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ramp_is_flattened_and_a_spot_survives() {
        let (h, w) = (64, 64);
        let mut img = Array2::from_shape_fn((h, w), |(_, x)| 100.0 + x as f32);
        for y in 30..34 {
            for x in 30..34 {
                img[[y, x]] += 80.0;
            }
        }
        let flat = subtract_background(img.view(), 10.0);
        assert!(flat[[32, 32]] > 60.0, "spot {}", flat[[32, 32]]);
        assert!(flat[[10, 10]].abs() < 5.0 && flat[[10, 50]].abs() < 5.0);
    }

    #[test]
    fn percentiles_map_to_unit_range() {
        let img = Array2::from_shape_fn((10, 10), |(y, x)| (y * 10 + x) as f32);
        let n = percentile_normalise(img.view(), 0.0, 100.0);
        assert_eq!(n[[0, 0]], 0.0);
        assert_eq!(n[[9, 9]], 1.0);
    }
}
