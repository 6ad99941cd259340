//! Linear smoothing filters: Gaussian blur and box means over float images.
use ndarray::{Array2, ArrayView2, Axis};

/// Normalised 1D Gaussian kernel of standard deviation `sigma`, truncated at 4σ
/// (the truncation scipy.ndimage uses).
pub fn gaussian_kernel(sigma: f32) -> Vec<f32> {
    if sigma <= 0.0 {
        return vec![1.0];
    }
    let r = (4.0 * sigma).ceil() as i32;
    let mut k: Vec<f32> = (-r..=r).map(|x| (-(x * x) as f32 / (2.0 * sigma * sigma)).exp()).collect();
    let s: f32 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= s);
    k
}

/// Convolves each row (axis 1) or column (axis 0) with `kernel`, reflecting at
/// the borders (scipy's `mode="reflect"`: `d c b a | a b c d | d c b a`).
///
/// Each output pixel sums its taps in kernel order, as a direct convolution
/// does, but a tap at a time over a whole row (`out += k · shifted row`), so
/// that the inner loop runs over contiguous pixels in vector registers: a
/// column pass adds whole source rows, a row pass shifted windows of the
/// reflected row. The sums, and so the results, are those of the
/// pixel-by-pixel loop to the bit.
fn convolve_axis(img: ArrayView2<f32>, kernel: &[f32], axis: Axis) -> Array2<f32> {
    let (h, w) = img.dim();
    let mut out = Array2::<f32>::zeros((h, w));
    if h == 0 || w == 0 {
        return out;
    }
    let r = kernel.len() / 2;
    let img = img.as_standard_layout();
    let src = img.as_slice().expect("standard layout");
    let dst = out.as_slice_mut().expect("a new array is contiguous");
    if axis == Axis(1) {
        let idx = reflected(w, r);
        let mut line = vec![0.0f32; w + 2 * r];
        for (row_in, row_out) in src.chunks_exact(w).zip(dst.chunks_exact_mut(w)) {
            for (v, &j) in line.iter_mut().zip(&idx) {
                *v = row_in[j];
            }
            for (t, &k) in kernel.iter().enumerate() {
                add_scaled(row_out, k, &line[t..t + w], t == 0);
            }
        }
    } else {
        let idx = reflected(h, r);
        for (y, row_out) in dst.chunks_exact_mut(w).enumerate() {
            for (t, &k) in kernel.iter().enumerate() {
                add_scaled(row_out, k, &src[idx[y + t] * w..(idx[y + t] + 1) * w], t == 0);
            }
        }
    }
    out
}

/// `out += k · src`, element by element (a multiply, then an add: never
/// fused, so every CPU gives the same sums), or with `first`, `out = k · src`
/// (which is `0 + k · src`, and leaves freshly allocated memory unread).
/// Where the CPU has AVX2 the same loop runs eight floats at a time rather
/// than SSE2's four.
fn add_scaled(out: &mut [f32], k: f32, src: &[f32], first: bool) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has just been found to support AVX2.
        unsafe { add_scaled_avx2(out, k, src, first) };
        return;
    }
    add_scaled_plain(out, k, src, first);
}

#[inline(always)]
fn add_scaled_plain(out: &mut [f32], k: f32, src: &[f32], first: bool) {
    if first {
        for (o, &v) in out.iter_mut().zip(src) {
            *o = k * v;
        }
    } else {
        for (o, &v) in out.iter_mut().zip(src) {
            *o += k * v;
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn add_scaled_avx2(out: &mut [f32], k: f32, src: &[f32], first: bool) {
    add_scaled_plain(out, k, src, first);
}

/// For a line of `n` pixels padded by `r` on each side, the pixel each
/// padded position reads under reflection (`d c b a | a b c d | d c b a`),
/// for any `r`, also longer than the line.
fn reflected(n: usize, r: usize) -> Vec<usize> {
    let (n, r) = (n as isize, r as isize);
    let period = 2 * n;
    (-r..n + r)
        .map(|i| {
            let i = i.rem_euclid(period);
            (if i >= n { period - 1 - i } else { i }) as usize
        })
        .collect()
}

/// Gaussian blur of standard deviation `sigma` pixels, separable, reflecting
/// at the borders; agrees with `scipy.ndimage.gaussian_filter(img, sigma)`.
///
/// ```
/// use ndarray::array;
/// let img = array![[0.0f32, 0.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 0.0]];
/// let b = cellstream::segment::gaussian_blur(img.view(), 1.0);
/// assert!((b.sum() - 9.0).abs() < 1e-4); // mass is preserved
/// assert!(b[[1, 1]] > b[[0, 1]] && b[[0, 1]] > b[[0, 0]]);
/// ```
pub fn gaussian_blur(img: ArrayView2<f32>, sigma: f32) -> Array2<f32> {
    let k = gaussian_kernel(sigma);
    let rows = convolve_axis(img, &k, Axis(1));
    convolve_axis(rows.view(), &k, Axis(0))
}

/// Summed-area table with a zero first row and column (Crow 1984), in f64 so
/// that sums over large 16-bit images stay exact enough.
pub fn integral_image(img: ArrayView2<f32>) -> Array2<f64> {
    let (h, w) = img.dim();
    let mut s = Array2::<f64>::zeros((h + 1, w + 1));
    for y in 0..h {
        let mut row = 0.0f64;
        for x in 0..w {
            row += img[[y, x]] as f64;
            s[[y + 1, x + 1]] = s[[y, x + 1]] + row;
        }
    }
    s
}

/// Mean over the (2r+1)² window around each pixel, the window clipped to the
/// image, in constant time per pixel from an integral image.
pub fn box_mean(img: ArrayView2<f32>, r: usize) -> Array2<f32> {
    let (h, w) = img.dim();
    let s = integral_image(img);
    Array2::from_shape_fn((h, w), |(y, x)| {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
        let sum = s[[y1, x1]] - s[[y0, x1]] - s[[y1, x0]] + s[[y0, x0]];
        (sum / ((y1 - y0) * (x1 - x0)) as f64) as f32
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use proptest::prelude::*;

    #[test]
    fn box_mean_by_hand() {
        let img = array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let m = box_mean(img.view(), 1);
        assert_eq!(m[[0, 0]], (1.0 + 2.0 + 4.0 + 5.0) / 4.0);
        assert_eq!(m[[1, 1]], 21.0 / 6.0);
    }

    /// The direct convolution, pixel by pixel: each output sums its taps in
    /// kernel order over the reflected line.
    fn convolve_axis_by_pixel(img: ArrayView2<f32>, kernel: &[f32], axis: Axis) -> Array2<f32> {
        let r = (kernel.len() / 2) as isize;
        let n = img.len_of(axis) as isize;
        let mut out = Array2::<f32>::zeros(img.raw_dim());
        for (line_in, mut line_out) in img.lanes(axis).into_iter().zip(out.lanes_mut(axis)) {
            for (i, o) in line_out.iter_mut().enumerate() {
                let mut acc = 0.0;
                for (t, k) in kernel.iter().enumerate() {
                    let j = (i as isize + t as isize - r).rem_euclid(2 * n);
                    acc += k * line_in[(if j >= n { 2 * n - 1 - j } else { j }) as usize];
                }
                *o = acc;
            }
        }
        out
    }

    #[test]
    fn reflection_by_hand() {
        // d c b a | a b c d | d c b a, and further out the pattern repeats.
        assert_eq!(reflected(4, 4), [3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0]);
        assert_eq!(reflected(2, 3), [1, 1, 0, 0, 1, 1, 0, 0]);
        assert_eq!(reflected(1, 2), [0, 0, 0, 0, 0]);
    }

    proptest! {
        #[test]
        fn rows_at_a_time_sum_as_pixel_by_pixel(data in proptest::collection::vec(-50.0f32..1000.0, 1..120), w in 1usize..13, sigma in 0.1f32..6.0, columns: bool) {
            let h = data.len() / w;
            prop_assume!(h > 0);
            let img = Array2::from_shape_vec((h, w), data[..h * w].to_vec()).unwrap();
            let k = gaussian_kernel(sigma);
            let axis = if columns { Axis(0) } else { Axis(1) };
            // To the bit, also on a transposed (non-standard) view.
            prop_assert_eq!(convolve_axis(img.view(), &k, axis), convolve_axis_by_pixel(img.view(), &k, axis));
            prop_assert_eq!(convolve_axis(img.t(), &k, axis), convolve_axis_by_pixel(img.t(), &k, axis));
        }

        #[test]
        fn blur_keeps_constants_and_bounds(v in 0.0f32..100.0, h in 1usize..12, w in 1usize..12, sigma in 0.0f32..5.0) {
            let img = Array2::from_elem((h, w), v);
            let b = gaussian_blur(img.view(), sigma);
            for x in b.iter() { prop_assert!((x - v).abs() < 1e-3 * (1.0 + v)); }
        }

        #[test]
        fn box_mean_matches_brute_force(data in proptest::collection::vec(0.0f32..10.0, 1..80), w in 1usize..9, r in 0usize..4) {
            let h = data.len() / w;
            prop_assume!(h > 0);
            let img = Array2::from_shape_vec((h, w), data[..h * w].to_vec()).unwrap();
            let m = box_mean(img.view(), r);
            for y in 0..h { for x in 0..w {
                let (mut s, mut n) = (0.0, 0.0);
                for yy in y.saturating_sub(r)..(y + r + 1).min(h) { for xx in x.saturating_sub(r)..(x + r + 1).min(w) { s += img[[yy, xx]]; n += 1.0; } }
                prop_assert!((m[[y, x]] - s / n).abs() < 1e-3);
            }}
        }
    }
}
