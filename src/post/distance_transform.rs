//! Exact Euclidean distance transform in linear time (Meijster, Roerdink & Hesselink 2000).
use ndarray::{Array2, ArrayView2};

use super::runs::Runs;

/// Value of [`squared_distance_transform`] where the image holds no background pixel at all.
pub const NO_BACKGROUND: u32 = u32::MAX;

/// Squared Euclidean distance from each pixel to the nearest background (`false`)
/// pixel of `fg`; 0 on the background. Pixels outside the image do not count as
/// background, as in `scipy.ndimage.distance_transform_edt`. If `fg` has no
/// background pixel, every value is [`NO_BACKGROUND`].
///
/// Exact, O(pixels): the two-phase algorithm of Meijster, Roerdink & Hesselink
/// (2000, "A general algorithm for computing distance transforms in linear time").
/// Phase 1 finds the distance to the nearest background pixel in each column with
/// a downward and an upward scan over whole rows; phase 2 takes, along each row,
/// the lower envelope of the parabolas `(x - i)² + g(i)²` with integer arithmetic.
///
/// ```
/// use cellstream::post::squared_distance_transform;
/// use ndarray::array;
/// let fg = array![
///     [false, false, false, false, false],
///     [false, true,  true,  true,  false],
///     [false, true,  true,  true,  false],
///     [false, true,  true,  true,  false],
///     [false, false, false, false, false],
/// ];
/// let d2 = squared_distance_transform(fg.view());
/// assert_eq!(d2.row(2).to_vec(), vec![0, 1, 4, 1, 0]);
/// ```
pub fn squared_distance_transform(fg: ArrayView2<bool>) -> Array2<u32> {
    squared_distance_transform_with_runs(fg, &Runs::from_mask(fg))
}

/// [`squared_distance_transform`] given the foreground's runs too (`runs` must be
/// those of `fg`): phase 2 then visits the foreground runs only.
pub(crate) fn squared_distance_transform_with_runs(fg: ArrayView2<bool>, runs: &Runs) -> Array2<u32> {
    let (h, w) = fg.dim();
    assert_eq!(runs.dim(), (h, w), "runs differ in shape from the foreground");
    if runs.area() == h * w {
        return Array2::from_elem((h, w), NO_BACKGROUND);
    }
    // "Infinity" for phase 1: larger than any in-image distance, small enough that
    // its square plus a squared column offset fits in i64 (Meijster et al. use m + n).
    let inf = (h + w) as u32;
    // Phase 1 writes the column distances into the output; phase 2 replaces the
    // foreground of each row by its envelope, reading a copy of the row. A
    // background column (g = 0) is nearer than any column beyond it, so each run of
    // foreground is solved alone, with the background pixel on each side of it.
    let mut out = column_distances(fg, inf, |f| !f);
    let mut s = vec![0u32; w + 2];
    let mut t = vec![0i32; w + 2];
    let mut g = vec![0u32; w];
    for (y, mut row) in out.rows_mut().into_iter().enumerate() {
        let row = row.as_slice_mut().expect("standard layout");
        g.copy_from_slice(row);
        for &(a, b) in runs.row(y) {
            let (lo, hi) = ((a as usize).saturating_sub(1), (b as usize + 1).min(w));
            envelope(&g[lo..hi], &mut row[lo..hi], &mut s, &mut t);
        }
    }
    out
}

/// Euclidean distance from each pixel of `fg` to the nearest background pixel
/// (`scipy.ndimage.distance_transform_edt`), from [`squared_distance_transform`].
/// Background pixels are 0; without any background every pixel is infinite.
///
/// ```
/// use cellstream::post::distance_transform;
/// use ndarray::array;
/// let fg = array![[false, true, true, true], [true, true, true, true]];
/// let d = distance_transform(fg.view());
/// assert_eq!(d.row(0).to_vec(), [0.0, 1.0, 2.0, 3.0]);
/// assert_eq!(d[[1, 0]], 1.0);
/// assert!((d[[1, 1]] - 2f32.sqrt()).abs() < 1e-6); // diagonal to (0, 0)
/// assert!(distance_transform(ndarray::Array2::from_elem((2, 2), true).view())[[0, 0]].is_infinite());
/// ```
pub fn distance_transform(fg: ArrayView2<bool>) -> Array2<f32> {
    squared_distance_transform(fg).mapv(|d| if d == NO_BACKGROUND { f32::INFINITY } else { (d as f32).sqrt() })
}

/// Phase 1 of Meijster et al.: for every pixel, the distance along its column to the
/// nearest pixel where `is_site` holds, capped at `cap` (< 2³¹). Scans whole rows at
/// a time, so the loops run along memory; the minima are taken as `i32`, which
/// plain SSE2 vectorises (distances stay below 2³¹).
fn column_distances(img: ArrayView2<bool>, cap: u32, is_site: impl Fn(bool) -> bool) -> Array2<u32> {
    let (h, w) = img.dim();
    let img = img.as_standard_layout();
    let src = img.as_slice().expect("standard layout");
    let mut g = Array2::<u32>::zeros((h, w));
    let gs = g.as_slice_mut().expect("fresh array");
    if h == 0 || w == 0 {
        return g;
    }
    let cap = cap as i32;
    let step = |p: u32| (p as i32 + 1).min(cap) as u32;
    for (d, &v) in gs[..w].iter_mut().zip(&src[..w]) {
        *d = if is_site(v) { 0 } else { cap as u32 };
    }
    for y in 1..h {
        let (prev, cur) = gs[(y - 1) * w..(y + 1) * w].split_at_mut(w);
        let row = &src[y * w..(y + 1) * w];
        for ((c, &p), &v) in cur.iter_mut().zip(prev.iter()).zip(row) {
            *c = if is_site(v) { 0 } else { step(p) };
        }
    }
    for y in (0..h - 1).rev() {
        let (cur, next) = gs[y * w..(y + 2) * w].split_at_mut(w);
        for (c, &n) in cur.iter_mut().zip(next.iter()) {
            *c = (*c as i32).min(step(n) as i32) as u32;
        }
    }
    g
}

/// Phase 2 of Meijster et al. on one row: `out[x] = min_i (x - i)² + g[i]²`.
///
/// A background column (`g = 0`) is nearer than any column beyond it, so the row
/// splits at background pixels into independent runs of foreground, each solved
/// with the background pixels that bound it.
/// Lower envelope of the parabolas `(x - i)² + g[i]²` over a slice (Meijster et al.
/// 2000), `s` holding the parabolas of the envelope and `t` where each takes over.
fn envelope(g: &[u32], out: &mut [u32], s: &mut [u32], t: &mut [i32]) {
    let n = g.len();
    let g2 = |i: usize| (g[i] as i64) * (g[i] as i64);
    let f = |x: i64, i: usize| -> i64 {
        let dx = x - i as i64;
        dx * dx + g2(i)
    };
    // The first column where parabola u lies below parabola i (i < u), floored.
    let sep = |i: usize, u: usize| -> i64 {
        let num = (u * u) as i64 - (i * i) as i64 + g2(u) - g2(i);
        let den = 2 * (u - i) as i64;
        // A 32-bit division is several times faster; it serves all but huge images.
        if num.unsigned_abs() < 1 << 31 && den < 1 << 31 {
            (num as i32).div_euclid(den as i32) as i64
        } else {
            num.div_euclid(den)
        }
    };
    let (s, t) = (&mut s[..n], &mut t[..n]);
    let mut q: usize = 0;
    s[0] = 0;
    t[0] = 0;
    for u in 1..n {
        loop {
            let (sq, tq) = (s[q] as usize, t[q] as i64);
            if f(tq, sq) <= f(tq, u) {
                let start = 1 + sep(sq, u);
                if start < n as i64 {
                    q += 1;
                    s[q] = u as u32;
                    t[q] = start as i32;
                }
                break;
            }
            if q == 0 {
                s[0] = u as u32;
                break;
            }
            q -= 1;
        }
    }
    for x in (0..n).rev() {
        out[x] = f(x as i64, s[q] as usize).min(u32::MAX as i64 - 1) as u32;
        if q > 0 && x as i32 == t[q] {
            q -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use proptest::prelude::*;

    fn brute(fg: &Array2<bool>) -> Array2<u32> {
        let (h, w) = fg.dim();
        let bg: Vec<(usize, usize)> = fg.indexed_iter().filter(|(_, f)| !**f).map(|(p, _)| p).collect();
        Array2::from_shape_fn((h, w), |(y, x)| {
            bg.iter()
                .map(|&(by, bx)| ((by as i64 - y as i64).pow(2) + (bx as i64 - x as i64).pow(2)) as u32)
                .min()
                .unwrap_or(NO_BACKGROUND)
        })
    }

    proptest! {
        #[test]
        fn equals_brute_force(h in 1usize..20, w in 1usize..20, p in 0.3f64..0.99, seed in any::<u64>()) {
            let mut state = seed | 1;
            let fg = Array2::from_shape_fn((h, w), |_| {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                (state % 1000) as f64 / 1000.0 < p
            });
            prop_assert_eq!(squared_distance_transform(fg.view()), brute(&fg));
        }
    }

    #[test]
    fn equals_brute_force_on_a_larger_image() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let fg = Array2::from_shape_fn((70, 90), |(y, x)| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Blobs: mostly foreground with sparse background specks and a bar.
            !state.is_multiple_of(50) && (y != 35 || x <= 10)
        });
        assert_eq!(squared_distance_transform(fg.view()), brute(&fg));
    }

    #[test]
    fn single_background_pixel_in_a_corner() {
        let mut fg = Array2::from_elem((4, 6), true);
        fg[[0, 0]] = false;
        let d2 = squared_distance_transform(fg.view());
        assert_eq!(d2[[3, 5]], 9 + 25);
        assert_eq!(d2[[0, 0]], 0);
    }

    #[test]
    fn all_foreground_has_no_distance() {
        let fg = Array2::from_elem((3, 2), true);
        assert!(squared_distance_transform(fg.view()).iter().all(|&d| d == NO_BACKGROUND));
        assert!(distance_transform(fg.view()).iter().all(|d| d.is_infinite()));
    }

    #[test]
    fn euclidean_not_chessboard() {
        let fg = array![[true, true, true], [true, true, true], [true, true, false]];
        assert_eq!(distance_transform(fg.view())[[0, 0]], 8f32.sqrt());
    }
}
