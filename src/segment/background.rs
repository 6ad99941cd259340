//! Flattening uneven illumination: estimate the background and remove it.
use ndarray::{Array2, ArrayBase, ArrayView2, Data, Ix2};

use super::filter::gaussian_blur;
use crate::ctc::Frame;

/// Background estimate by a wide Gaussian blur of the image with its brightest
/// and darkest pixels clipped to the median ± 2 robust standard deviations
/// (1.4826 × the median absolute deviation, Hampel 1974), so that cells
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

/// The frame with its non-finite pixels (NaN or ±∞, which registration
/// and stitching leave where a float image has no data) set to the median
/// of its finite pixels ([`crate::measure::median`]), mostly background in a
/// microscope's frame (0 if none is finite); and how many there were.
/// Integer frames have none. [`percentile_normalise`] would otherwise make
/// the whole frame NaN.
///
/// ```
/// use cellstream::ctc::Frame;
/// use ndarray::array;
/// let (f, n) = cellstream::segment::fill_non_finite(Frame::F32(array![[1.0, f32::NAN, 3.0], [f32::INFINITY, 2.0, 5.0]]));
/// assert_eq!((f, n), (Frame::F32(array![[1.0, 2.5, 3.0], [2.5, 2.0, 5.0]]), 2));
/// ```
pub fn fill_non_finite(frame: Frame) -> (Frame, usize) {
    let Frame::F32(mut a) = frame else { return (frame, 0) };
    let bad = a.iter().filter(|v| !v.is_finite()).count();
    if bad == 0 {
        return (Frame::F32(a), 0);
    }
    let mut finite: Vec<f32> = a.iter().copied().filter(|v| v.is_finite()).collect();
    let fill = crate::measure::median(&mut finite).map_or(0.0, |m| m as f32);
    a.mapv_inplace(|v| if v.is_finite() { v } else { fill });
    (Frame::F32(a), bad)
}

/// Lower and upper percentiles [`percentile_normalise`] maps to 0 and 1 by default.
pub const PERCENTILES: (f32, f32) = (1.0, 99.8);

/// The `q`-th percentile (0–100) with linear interpolation between order
/// statistics (numpy's default); NaN for an empty slice. Reorders `values`.
pub fn percentile(values: &mut [f32], q: f32) -> f32 {
    if values.is_empty() {
        return f32::NAN;
    }
    let (lo, frac) = percentile_rank(values.len(), q);
    let (_, &mut a, rest) = values.select_nth_unstable_by(lo, f32::total_cmp);
    if frac == 0.0 || rest.is_empty() {
        return a;
    }
    let b = rest.iter().copied().min_by(f32::total_cmp).unwrap_or(a);
    a + frac * (b - a)
}

/// Where the `q`-th percentile of `n > 0` sorted values lies: the rank of
/// the order statistic below it and the fraction of the way to the next.
fn percentile_rank(n: usize, q: f32) -> (usize, f32) {
    let pos = (q.clamp(0.0, 100.0) / 100.0) * (n - 1) as f32;
    let k = pos.floor() as usize;
    (k, pos - k as f32)
}

/// Per-frame percentile normalisation (CSBDeep's `normalize`, Weigert et al.
/// 2018): maps the image's `lo`-th percentile to 0 and its `hi`-th to 1,
/// linearly, without clipping (values outside stay outside; clip the result
/// where [0, 1] is needed). A flat image becomes all zeros.
///
/// ```
/// use cellstream::segment::percentile_normalise;
/// use ndarray::array;
/// let n = percentile_normalise(&array![[0.0f32, 10.0], [20.0, 30.0]], 0.0, 100.0);
/// assert_eq!(n, array![[0.0, 1.0 / 3.0], [2.0 / 3.0, 1.0]]);
/// ```
pub fn percentile_normalise<S: Data<Elem = f32>>(img: &ArrayBase<S, Ix2>, lo: f32, hi: f32) -> Array2<f32> {
    let mut v: Vec<f32> = img.iter().copied().collect();
    let p_lo = percentile(&mut v, lo);
    let p_hi = percentile(&mut v, hi);
    let scale = if p_hi - p_lo > 1e-12 { 1.0 / (p_hi - p_lo) } else { 0.0 };
    img.mapv(|x| (x - p_lo) * scale)
}

/// [`percentile_normalise`] of a frame as stored, with the same result bit for
/// bit as `percentile_normalise(&frame.to_f32(), lo, hi)`. Integer frames take
/// their percentiles from a histogram of the sample values (one pass and a
/// scan of at most 65 536 bins, against two selections over a copy of every
/// pixel), which gives the same order statistics.
///
/// ```
/// use cellstream::ctc::Frame;
/// use cellstream::segment::{percentile_normalise, percentile_normalise_frame};
/// use ndarray::array;
/// let f = Frame::U16(array![[0u16, 10], [20, 30]]);
/// assert_eq!(percentile_normalise_frame(&f, 0.0, 100.0), percentile_normalise(&f.to_f32(), 0.0, 100.0));
/// ```
pub fn percentile_normalise_frame(frame: &Frame, lo: f32, hi: f32) -> Array2<f32> {
    fn by_histogram<T: Copy + Into<usize> + Into<f32>>(img: &Array2<T>, bins: usize, lo: f32, hi: f32) -> Array2<f32> {
        let mut hist = vec![0usize; bins];
        for &v in img.iter() {
            hist[Into::<usize>::into(v)] += 1;
        }
        let n = img.len();
        // The value of rank `k` (0-based) in sorted order.
        let rank = |k: usize| -> f32 {
            let mut seen = 0;
            for (v, &c) in hist.iter().enumerate() {
                seen += c;
                if seen > k {
                    return v as f32;
                }
            }
            unreachable!("rank {k} of {n} values")
        };
        // As `percentile`: linear interpolation between order statistics.
        let percentile = |q: f32| -> f32 {
            let (k, frac) = percentile_rank(n, q);
            let a = rank(k);
            if frac == 0.0 || k + 1 >= n {
                return a;
            }
            a + frac * (rank(k + 1) - a)
        };
        let (p_lo, p_hi) = (percentile(lo), percentile(hi));
        let scale = if p_hi - p_lo > 1e-12 { 1.0 / (p_hi - p_lo) } else { 0.0 };
        img.mapv(|x| (Into::<f32>::into(x) - p_lo) * scale)
    }
    match frame {
        _ if frame.dim().0 * frame.dim().1 == 0 => percentile_normalise(&frame.to_f32(), lo, hi),
        Frame::U8(a) => by_histogram(a, 1 << 8, lo, hi),
        Frame::U16(a) => by_histogram(a, 1 << 16, lo, hi),
        Frame::F32(a) => percentile_normalise(a, lo, hi),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use proptest::prelude::*;

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
    fn percentiles_match_numpy() {
        // numpy.percentile([1, 2, 3, 4], [0, 25, 50, 100]) = [1, 1.75, 2.5, 4]
        let v = [3.0f32, 1.0, 4.0, 2.0];
        for (q, want) in [(0.0, 1.0), (25.0, 1.75), (50.0, 2.5), (100.0, 4.0)] {
            assert_eq!(percentile(&mut v.clone(), q), want, "q={q}");
        }
        assert!(percentile(&mut [], 50.0).is_nan());
    }

    #[test]
    fn normalise_maps_percentiles_to_unit_range() {
        let img = Array2::from_shape_fn((10, 10), |(y, x)| (y * 10 + x) as f32);
        let n = percentile_normalise(&img, 0.0, 100.0);
        assert_eq!((n[[0, 0]], n[[9, 9]]), (0.0, 1.0));
        let f = array![[0.0f32, 10.0], [20.0, 30.0]];
        assert_eq!(percentile_normalise(&f.view(), 0.0, 100.0), array![[0.0, 1.0 / 3.0], [2.0 / 3.0, 1.0]]);
        assert_eq!(percentile_normalise(&Array2::from_elem((2, 2), 5.0f32), 1.0, 99.8), Array2::<f32>::zeros((2, 2)));
    }

    proptest! {
        #[test]
        fn frames_normalise_as_their_f32_copies(h in 1usize..12, w in 1usize..12, seed in 0u64..1000, span in 1u32..70_000, lo in 0.0f32..50.0, hi in 50.0f32..100.0) {
            let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let mut next = || { x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); ((x >> 33) as u32) % span };
            let v16 = Array2::from_shape_fn((h, w), |_| next().min(65535) as u16);
            let v8 = v16.mapv(|v| (v % 256) as u8);
            for f in [Frame::U16(v16), Frame::U8(v8)] {
                let (fast, slow) = (percentile_normalise_frame(&f, lo, hi), percentile_normalise(&f.to_f32(), lo, hi));
                prop_assert!(fast.iter().zip(slow.iter()).all(|(a, b)| a.to_bits() == b.to_bits()), "{:?}: {} against {}", f, fast, slow);
            }
        }

        #[test]
        fn invariant_to_gain_and_offset(v in prop::collection::vec(0.0f32..1000.0, 16), gain in 0.5f32..4.0, off in -50.0f32..50.0) {
            let a = Array2::from_shape_vec((4, 4), v).unwrap();
            let b = a.mapv(|x| gain * x + off);
            let (na, nb) = (percentile_normalise(&a, 1.0, 99.8), percentile_normalise(&b, 1.0, 99.8));
            for (x, y) in na.iter().zip(nb.iter()) {
                prop_assert!((x - y).abs() < 1e-3, "{x} vs {y}");
            }
        }
    }
}
