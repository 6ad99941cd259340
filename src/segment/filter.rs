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
fn convolve_axis(img: ArrayView2<f32>, kernel: &[f32], axis: Axis) -> Array2<f32> {
    let r = (kernel.len() / 2) as isize;
    let mut out = Array2::<f32>::zeros(img.raw_dim());
    let n = img.len_of(axis) as isize;
    let reflect = |mut i: isize| -> usize {
        // Works for any offset, also when the kernel is longer than the line.
        let period = 2 * n;
        i = i.rem_euclid(period);
        if i >= n { (period - 1 - i) as usize } else { i as usize }
    };
    let idx: Vec<Vec<usize>> = (0..n).map(|i| (-r..=r).map(|o| reflect(i + o)).collect()).collect();
    for (line_in, mut line_out) in img.lanes(axis).into_iter().zip(out.lanes_mut(axis)) {
        let buf: Vec<f32> = line_in.iter().copied().collect();
        for (i, o) in line_out.iter_mut().enumerate() {
            let mut acc = 0.0;
            for (k, &j) in kernel.iter().zip(&idx[i]) {
                acc += k * buf[j];
            }
            *o = acc;
        }
    }
    out
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

    proptest! {
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
