//! Overlapping tiles over a frame, reflection padding, and seam-free blending weights.
use ndarray::{Array1, Array2, ArrayView2};

#[derive(Debug, Clone, PartialEq)]
struct AxisPlan {
    canvas: usize,
    tile: usize,
    starts: Vec<usize>,
}

/// One axis: a single tile of the padded length when the frame fits in a
/// tile, else tiles of `tile` pixels overlapping by at least `overlap`, the
/// last one flush with the frame's end.
fn plan_axis(len: usize, tile: Option<usize>, overlap: usize, multiple: usize) -> AxisPlan {
    let padded = len.div_ceil(multiple) * multiple;
    match tile {
        Some(t) if len > t => {
            let step = t - overlap;
            let mut starts: Vec<usize> = (0..).map(|i| i * step).take_while(|&s| s + t < len).collect();
            starts.push(len - t);
            AxisPlan { canvas: len, tile: t, starts }
        }
        _ => AxisPlan { canvas: padded, tile: padded, starts: vec![0] },
    }
}

/// Blending weight along one axis of a tile: a Hann (raised-cosine) ramp
/// `sin²(π/2 · (i + ½)/ramp)` over `ramp` pixels on each side that borders
/// another tile, 1 elsewhere. Where two tiles overlap by exactly `ramp`, the
/// two ramps sum to 1 (sin² + cos²); elsewhere the blend divides by the summed
/// weights.
fn axis_weights(tile: usize, ramp: usize, ramp_before: bool, ramp_after: bool) -> Array1<f32> {
    Array1::from_shape_fn(tile, |i| {
        let up = |k: usize| {
            if k < ramp {
                let a = std::f32::consts::FRAC_PI_2 * (k as f32 + 0.5) / ramp as f32;
                a.sin().powi(2)
            } else {
                1.0
            }
        };
        let mut v = 1.0;
        if ramp_before {
            v *= up(i);
        }
        if ramp_after {
            v *= up(tile - 1 - i);
        }
        v
    })
}

/// A tiling of one frame size: where the tiles are, and their blending weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Tiling {
    pub frame: (usize, usize),
    pub canvas: (usize, usize),
    pub tile: (usize, usize),
    y: AxisPlan,
    x: AxisPlan,
    overlap: usize,
}

impl Tiling {
    /// Plans tiles of `tile`² pixels (None: one tile over the whole padded
    /// frame) overlapping by `overlap`. `tile` must be a multiple of
    /// `multiple` and at least twice `overlap`.
    pub fn new(frame: (usize, usize), tile: Option<usize>, overlap: usize, multiple: usize) -> Result<Tiling, String> {
        if frame.0 == 0 || frame.1 == 0 {
            return Err("the frame is empty".into());
        }
        if let Some(t) = tile {
            if t == 0 || t % multiple != 0 {
                return Err(format!("tile size {t} must be a positive multiple of {multiple} (2^depth)"));
            }
            if t < 2 * overlap {
                return Err(format!("tile size {t} must be at least twice the overlap {overlap}"));
            }
        }
        let y = plan_axis(frame.0, tile, overlap, multiple);
        let x = plan_axis(frame.1, tile, overlap, multiple);
        Ok(Tiling { frame, canvas: (y.canvas, x.canvas), tile: (y.tile, x.tile), y, x, overlap })
    }

    /// Top-left corners of the tiles on the canvas, row by row.
    pub fn origins(&self) -> Vec<(usize, usize)> {
        self.y.starts.iter().flat_map(|&y| self.x.starts.iter().map(move |&x| (y, x))).collect()
    }

    /// Blending weights of the tile at `origin` (outer product of the axis ramps).
    pub fn weights(&self, origin: (usize, usize)) -> Array2<f32> {
        let axis = |plan: &AxisPlan, start: usize| {
            let first = start == plan.starts[0];
            let last = start == *plan.starts.last().unwrap();
            axis_weights(plan.tile, self.overlap, !first, !last)
        };
        let (wy, wx) = (axis(&self.y, origin.0), axis(&self.x, origin.1));
        Array2::from_shape_fn(self.tile, |(i, j)| wy[i] * wx[j])
    }

    /// The frame reflected (without repeating the edge pixel, like numpy's
    /// `reflect`) out to the canvas size, on the bottom and right.
    pub fn pad(&self, frame: ArrayView2<f32>) -> Array2<f32> {
        let (h, w) = self.frame;
        if self.canvas == self.frame {
            return frame.to_owned();
        }
        let cols: Vec<usize> = (0..self.canvas.1).map(|x| reflect(x, w)).collect();
        let mut out = Array2::zeros(self.canvas);
        for (y, mut row) in out.rows_mut().into_iter().enumerate() {
            let src = frame.row(reflect(y, h));
            for (o, &x) in row.iter_mut().zip(&cols) {
                *o = src[x];
            }
        }
        out
    }
}

/// Index `i` folded back into `0..n` by mirror reflection about the edge pixels.
pub(crate) fn reflect(i: usize, n: usize) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * (n - 1);
    let k = i % period;
    if k < n { k } else { period - k }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use proptest::prelude::*;

    #[test]
    fn reflection() {
        let f = array![[1.0f32, 2.0, 3.0]];
        let t = Tiling::new((1, 3), None, 0, 8).unwrap();
        assert_eq!(t.canvas, (8, 8));
        assert_eq!(t.pad(f.view()).row(0).to_vec(), vec![1.0, 2.0, 3.0, 2.0, 1.0, 2.0, 3.0, 2.0]);
        assert_eq!(t.pad(f.view()).column(0).to_vec(), vec![1.0; 8]);
    }

    #[test]
    fn tiles_cover_the_frame_flush() {
        let t = Tiling::new((100, 40), Some(32), 8, 8).unwrap();
        assert_eq!(t.tile, (32, 32));
        assert_eq!(t.canvas, (100, 40));
        let ys: Vec<usize> = t.origins().iter().map(|o| o.0).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        assert_eq!(ys, vec![0, 24, 48, 68]);
        let small = Tiling::new((20, 30), Some(32), 8, 8).unwrap();
        assert_eq!((small.tile, small.canvas, small.origins()), ((24, 32), (24, 32), vec![(0, 0)]));
        assert!(Tiling::new((20, 30), Some(30), 8, 8).is_err());
        assert!(Tiling::new((20, 30), Some(32), 17, 8).is_err());
    }

    #[test]
    fn exact_overlaps_form_a_partition_of_unity() {
        // Tiles of 16 with step 12 over 40 pixels: starts 0, 12, 24 (flush), overlaps of exactly 4.
        let t = Tiling::new((16, 40), Some(16), 4, 4).unwrap();
        let mut sum = Array2::<f32>::zeros(t.canvas);
        for o in t.origins() {
            let w = t.weights(o);
            let mut view = sum.slice_mut(ndarray::s![o.0..o.0 + t.tile.0, o.1..o.1 + t.tile.1]);
            view += &w;
        }
        for v in sum.iter() {
            assert!((v - 1.0).abs() < 1e-6, "{v}");
        }
    }

    proptest! {
        #[test]
        fn weights_cover_every_pixel(h in 1usize..90, w in 1usize..90, overlap in 0usize..9) {
            let t = Tiling::new((h, w), Some(24), overlap, 8).unwrap();
            let mut sum = Array2::<f32>::zeros(t.canvas);
            for o in t.origins() {
                prop_assert!(o.0 + t.tile.0 <= t.canvas.0 && o.1 + t.tile.1 <= t.canvas.1);
                let mut view = sum.slice_mut(ndarray::s![o.0..o.0 + t.tile.0, o.1..o.1 + t.tile.1]);
                view += &t.weights(o);
            }
            prop_assert!(t.canvas.0 >= h && t.canvas.1 >= w);
            prop_assert!(sum.iter().all(|&v| v > 1e-3));
        }

        #[test]
        fn pad_reflects_every_pixel(h in 1usize..40, w in 1usize..40) {
            let t = Tiling::new((h, w), None, 0, 16).unwrap();
            let f = Array2::from_shape_fn((h, w), |(y, x)| (y * 100 + x) as f32);
            let want = Array2::from_shape_fn(t.canvas, |(y, x)| f[(reflect(y, h), reflect(x, w))]);
            prop_assert_eq!(t.pad(f.view()), want);
        }

        #[test]
        fn reflect_stays_in_range(i in 0usize..1000, n in 1usize..50) {
            prop_assert!(reflect(i, n) < n);
        }
    }
}
