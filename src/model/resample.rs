//! Resizing images by a scale factor: separable linear resampling, antialiased when shrinking.
use ndarray::{Array2, ArrayView2, Axis};

/// The taps of one output sample: the first input index and the weights from it on.
struct Taps {
    first: usize,
    weights: Vec<f32>,
}

/// For each of `out` samples along an axis of `len` input samples, the input
/// samples it reads and their weights: a triangle (linear) filter centred on
/// the output sample's centre mapped into the input, `(i + 0.5) · len / out`,
/// widened by `len / out` when shrinking so that every input sample counts
/// (antialiasing), and renormalised where it overhangs the edge. This is
/// Pillow's `ImagingResample` with its bilinear filter.
fn taps(len: usize, out: usize) -> Vec<Taps> {
    let ratio = len as f64 / out as f64;
    let support = ratio.max(1.0);
    (0..out)
        .map(|i| {
            let centre = (i as f64 + 0.5) * ratio;
            let lo = ((centre - support).floor().max(0.0)) as usize;
            let hi = ((centre + support).ceil() as usize).min(len);
            let mut weights: Vec<f32> =
                (lo..hi).map(|j| (1.0 - ((j as f64 + 0.5 - centre) / support).abs()).max(0.0) as f32).collect();
            let sum: f32 = weights.iter().sum();
            for w in &mut weights {
                *w /= sum;
            }
            Taps { first: lo, weights }
        })
        .collect()
}

/// Resamples one axis of `image` to `out` samples.
fn resample_axis(image: ArrayView2<f32>, axis: Axis, out: usize) -> Array2<f32> {
    let taps = taps(image.len_of(axis), out);
    let (h, w) = image.dim();
    let shape = if axis == Axis(0) { (out, w) } else { (h, out) };
    let mut result = Array2::zeros(shape);
    for (lane_in, mut lane_out) in image.lanes(axis).into_iter().zip(result.lanes_mut(axis)) {
        for (o, t) in lane_out.iter_mut().zip(&taps) {
            *o = t.weights.iter().enumerate().map(|(k, w)| w * lane_in[t.first + k]).sum();
        }
    }
    result
}

/// `image` resized to `(height, width)` by separable linear resampling
/// (columns, then rows; the taps of `taps` below): bilinear interpolation between pixel
/// centres when enlarging, a triangle filter as wide as the reduction when
/// shrinking, so that no pixel is skipped. Each output is a weighted mean of
/// inputs, so values stay within the input's range and per-pixel class
/// probabilities still sum to 1.
///
/// ```
/// use cellstream::model::resize;
/// use ndarray::array;
/// // Enlarging: pixel centres interpolate, the edges hold their value.
/// assert_eq!(resize(array![[0.0f32, 1.0]].view(), (1, 4)), array![[0.0, 0.25, 0.75, 1.0]]);
/// // Shrinking by 2: each output is a weighted mean of the pixels under its
/// // filter (weights 3, 3, 1 from its centre out), never one pixel picked.
/// let half = resize(array![[0.0f32, 1.0, 0.0, 1.0, 0.0, 1.0]].view(), (1, 3));
/// assert!(half.iter().all(|&v| (v - 0.5).abs() < 0.1), "{half}");
/// ```
pub fn resize(image: ArrayView2<f32>, (height, width): (usize, usize)) -> Array2<f32> {
    assert!(height > 0 && width > 0, "cannot resize to an empty image");
    let (h, w) = image.dim();
    let columns = if width == w { image.to_owned() } else { resample_axis(image, Axis(1), width) };
    if height == h { columns } else { resample_axis(columns.view(), Axis(0), height) }
}

/// The size of a `(height, width)` image scaled by `scale`: each side
/// rounded, at least one pixel.
pub fn scaled_dim((h, w): (usize, usize), scale: f32) -> (usize, usize) {
    let side = |n: usize| ((n as f64 * scale as f64).round() as usize).max(1);
    (side(h), side(w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_same_size_is_the_image_itself() {
        let a = Array2::from_shape_fn((5, 7), |(y, x)| (y * 7 + x) as f32);
        assert_eq!(resize(a.view(), (5, 7)), a);
    }

    #[test]
    fn a_linear_ramp_stays_linear_inside_when_enlarged() {
        let a = Array2::from_shape_fn((1, 8), |(_, x)| x as f32);
        let b = resize(a.view(), (1, 16));
        // Away from the edges, output x samples the input at (x + 0.5) / 2 − 0.5.
        for x in 1..15 {
            assert!((b[[0, x]] - ((x as f32 + 0.5) / 2.0 - 0.5)).abs() < 1e-5, "{x}: {}", b[[0, x]]);
        }
    }

    #[test]
    fn shrinking_a_checkerboard_averages_it_instead_of_picking_pixels() {
        let a = Array2::from_shape_fn((8, 8), |(y, x)| ((y + x) % 2) as f32);
        let b = resize(a.view(), (4, 4));
        assert!(b.iter().all(|&v| (v - 0.5).abs() < 0.13), "{b}");
    }

    proptest! {
        #[test]
        fn outputs_are_weighted_means(h in 1usize..12, w in 1usize..12, oh in 1usize..20, ow in 1usize..20, seed in 0u64..1000) {
            let a = Array2::from_shape_fn((h, w), |(y, x)| (((y * 31 + x * 17) as u64 * (seed + 7)) % 101) as f32 / 100.0);
            let b = resize(a.view(), (oh, ow));
            prop_assert_eq!(b.dim(), (oh, ow));
            let (lo, hi) = a.iter().fold((f32::MAX, f32::MIN), |(l, u), &v| (l.min(v), u.max(v)));
            prop_assert!(b.iter().all(|&v| v >= lo - 1e-5 && v <= hi + 1e-5));
            // A constant image stays constant.
            let c = resize(Array2::from_elem((h, w), 0.3f32).view(), (oh, ow));
            prop_assert!(c.iter().all(|&v| (v - 0.3).abs() < 1e-6));
        }
    }
}
