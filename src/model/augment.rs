//! Training views: one random crop, geometric and intensity transform shared by a whole window of frames.
use ndarray::Array2;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

use super::targets::{class_map_with_interfaces, interface_map};
use super::tiles::reflect;
use crate::ctc::Mask;

/// Random augmentation settings (all on by default; zero a range to turn it off).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AugmentConfig {
    /// Random horizontal/vertical flips.
    pub flips: bool,
    /// Random multiples of 90° rotation.
    pub rot90: bool,
    /// Further rotation uniformly within ±this many degrees.
    pub rotate_degrees: f32,
    /// Scale uniformly within 1 ± this.
    pub scale: f32,
    /// Shear uniformly within ± this (dimensionless).
    pub shear: f32,
    /// Intensity gain uniformly within 1 ± this, offset within ± this/2.
    pub gain: f32,
    /// Gamma uniformly within [1/(1+g), 1+g], applied to normalised intensities.
    pub gamma: f32,
    /// Gaussian noise of standard deviation up to this (normalised units).
    pub noise: f32,
    /// Chance that a training stream runs backwards in time.
    pub reverse: f32,
    /// Largest temporal stride (frames skipped between steps).
    pub max_stride: usize,
    /// Chance of a stride above 1.
    pub stride_chance: f32,
    /// Chance that a crop is centred on a cell (else anywhere).
    pub cell_crop: f32,
    /// Largest standard deviation (normalised units) of a faint pattern that
    /// persists through a training stream's frames and changes slowly, as the
    /// fine structure of a real background does (`PersistentPattern`);
    /// 0 (the default) draws nothing, so earlier runs train as they did.
    pub persistent_noise: f32,
    /// Largest amplitude of a fine multiplicative texture drawn afresh on
    /// every frame (`apply_texture`), as chromatin and nucleoli mottle real
    /// nuclei; 0 (the default) draws nothing, so earlier runs train as they did.
    pub texture: f32,
}

impl Default for AugmentConfig {
    fn default() -> Self {
        AugmentConfig {
            flips: true,
            rot90: true,
            rotate_degrees: 10.0,
            scale: 0.1,
            shear: 0.05,
            gain: 0.2,
            gamma: 0.25,
            noise: 0.05,
            reverse: 0.2,
            max_stride: 2,
            stride_chance: 0.2,
            cell_crop: 0.7,
            persistent_noise: 0.0,
            texture: 0.0,
        }
    }
}

impl AugmentConfig {
    /// No augmentation at all: crops only (centred on cells as configured).
    pub fn none() -> AugmentConfig {
        AugmentConfig {
            flips: false,
            rot90: false,
            rotate_degrees: 0.0,
            scale: 0.0,
            shear: 0.0,
            gain: 0.0,
            gamma: 0.0,
            noise: 0.0,
            reverse: 0.0,
            max_stride: 1,
            stride_chance: 0.0,
            ..Default::default()
        }
    }
}

/// One sampled view: the crop's centre in the frame, the linear map from
/// crop offsets to frame offsets, and the intensity transform.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct View {
    pub centre: (f32, f32),
    /// `[[a, b], [c, d]]`: frame offset (y, x) = M · crop offset (y, x).
    pub map: [[f32; 2]; 2],
    pub gain: f32,
    pub offset: f32,
    pub gamma: f32,
    pub noise: f32,
    /// Amplitude and smoothing σ (px) of [`apply_texture`] for this stream.
    pub texture: (f32, f32),
}

impl View {
    /// The identity view centred in a frame of size `dim`.
    #[cfg(test)]
    pub(crate) fn centred(dim: (usize, usize)) -> View {
        View { centre: ((dim.0 / 2) as f32, (dim.1 / 2) as f32), map: [[1.0, 0.0], [0.0, 1.0]], gain: 1.0, offset: 0.0, gamma: 1.0, noise: 0.0, texture: (0.0, 1.0) }
    }

    /// Samples a view of a frame of size `dim`; `cell_pixel`, when given, is
    /// a pixel inside a cell to centre on (used with chance `cell_crop`).
    pub(crate) fn sample(cfg: &AugmentConfig, dim: (usize, usize), cell_pixel: Option<(usize, usize)>, rng: &mut impl Rng) -> View {
        let centre = match cell_pixel {
            Some((y, x)) if rng.random::<f32>() < cfg.cell_crop => (y as f32, x as f32),
            _ => (rng.random_range(0..dim.0) as f32, rng.random_range(0..dim.1) as f32),
        };
        let sym = |rng: &mut dyn Rng, r: f32| if r > 0.0 { rng.random_range(-r..=r) } else { 0.0 };
        let quarter = if cfg.rot90 { rng.random_range(0..4) as f32 } else { 0.0 };
        let angle = quarter * std::f32::consts::FRAC_PI_2 + sym(rng, cfg.rotate_degrees).to_radians();
        let scale = 1.0 + sym(rng, cfg.scale);
        let shear = sym(rng, cfg.shear);
        let flip = if cfg.flips && rng.random::<bool>() { -1.0 } else { 1.0 };
        let (s, c) = angle.sin_cos();
        // M = R(angle) · Shear · diag(scale·flip, scale)
        let sh = [[1.0, shear], [0.0, 1.0]];
        let d = [[scale * flip, 0.0], [0.0, scale]];
        let r = [[c, -s], [s, c]];
        let map = mul(r, mul(sh, d));
        let gain = 1.0 + sym(rng, cfg.gain);
        let offset = sym(rng, cfg.gain / 2.0);
        let g = if cfg.gamma > 0.0 { rng.random_range((1.0 + cfg.gamma).recip()..=1.0 + cfg.gamma) } else { 1.0 };
        let noise = if cfg.noise > 0.0 { rng.random_range(0.0..=cfg.noise) } else { 0.0 };
        let texture = if cfg.texture > 0.0 { (rng.random_range(0.0..=cfg.texture), rng.random_range(0.7..=2.0)) } else { (0.0, 1.0) };
        View { centre, map, gain, offset, gamma: g, noise, texture }
    }

    fn source(&self, i: usize, j: usize, crop: usize) -> (f32, f32) {
        // Integer offsets: an identity view (or a rot90/flip of it) samples
        // pixel centres exactly, so image and labels stay registered.
        let half = (crop / 2) as f32;
        let (dy, dx) = (i as f32 - half, j as f32 - half);
        (self.centre.0 + self.map[0][0] * dy + self.map[0][1] * dx, self.centre.1 + self.map[1][0] * dy + self.map[1][1] * dx)
    }

    /// The crop of a normalised frame: bilinear interpolation, mirror
    /// reflection beyond the frame, then gain·sign(v)|v|^γ + offset.
    pub(crate) fn image(&self, frame: &Array2<f32>, crop: usize) -> Array2<f32> {
        let (h, w) = frame.dim();
        let at = |y: isize, x: isize| frame[(reflect(y.unsigned_abs(), h), reflect(x.unsigned_abs(), w))];
        Array2::from_shape_fn((crop, crop), |(i, j)| {
            let (y, x) = self.source(i, j, crop);
            let (y0, x0) = (y.floor(), x.floor());
            let (fy, fx) = (y - y0, x - x0);
            let (y0, x0) = (y0 as isize, x0 as isize);
            let v = (1.0 - fy) * ((1.0 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1.0 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
            self.gain * v.signum() * v.abs().powf(self.gamma) + self.offset
        })
    }

    /// The crop of a label mask (nearest neighbour) as classes, with pixel
    /// weights: 1 where the crop samples inside the frame, 0 outside, and
    /// `interface_weight` on the inside pixels where cells meet ([`interface_map`]).
    /// The boundary class is `interface_ring` pixels wide where cells touch
    /// ([`class_map_with_interfaces`]).
    pub(crate) fn target(&self, mask: &Mask, crop: usize, interface_weight: f32, interface_ring: usize) -> (Array2<u8>, Array2<f32>) {
        let (h, w) = mask.dim();
        let mut weight = Array2::zeros((crop, crop));
        let labels = Array2::from_shape_fn((crop, crop), |(i, j)| {
            let (y, x) = self.source(i, j, crop);
            let (y, x) = (y.round(), x.round());
            if y < 0.0 || x < 0.0 || y >= h as f32 || x >= w as f32 {
                return 0;
            }
            weight[(i, j)] = 1.0;
            mask[(y as usize, x as usize)]
        });
        if interface_weight != 1.0 {
            weight.zip_mut_with(&interface_map(labels.view()), |w, &at| {
                if at {
                    *w *= interface_weight;
                }
            });
        }
        (class_map_with_interfaces(labels.view(), interface_ring), weight)
    }
}

fn mul(a: [[f32; 2]; 2], b: [[f32; 2]; 2]) -> [[f32; 2]; 2] {
    [[a[0][0] * b[0][0] + a[0][1] * b[1][0], a[0][0] * b[0][1] + a[0][1] * b[1][1]], [a[1][0] * b[0][0] + a[1][1] * b[1][0], a[1][0] * b[0][1] + a[1][1] * b[1][1]]]
}

/// A faint pattern added to every frame of a training stream: Gaussian noise
/// smoothed by a Gaussian of σ 0.5–2 px and scaled to unit variance, then
/// `amplitude` × it; from one frame to the next it keeps correlation `rho`
/// (0.8–1) and takes the rest from fresh smoothed noise (an AR(1) process),
/// so that it persists for several frames and drifts. Real backgrounds
/// behave so (HeLa's fine structure correlates 0.43 from frame to frame;
/// docs/notebook.md, Memory on real images); a recurrent network that sees only
/// fresh noise learns to trust whatever persists.
#[derive(Debug, Clone)]
pub(crate) struct PersistentPattern {
    field: Array2<f32>,
    amplitude: f32,
    rho: f32,
    sigma: f32,
}

impl PersistentPattern {
    pub(crate) fn sample(max_amplitude: f32, crop: usize, rng: &mut impl Rng) -> PersistentPattern {
        let amplitude = rng.random_range(0.0..=max_amplitude);
        let rho = rng.random_range(0.8..=1.0);
        let sigma = rng.random_range(0.5..=2.0);
        let field = smooth_noise(crop, sigma, rng);
        PersistentPattern { field, amplitude, rho, sigma }
    }

    /// Adds the pattern to `crop` (a frame's crop, row-major), then moves it one frame on.
    pub(crate) fn apply_and_step(&mut self, crop: &mut [f32], rng: &mut impl Rng) {
        for (v, &f) in crop.iter_mut().zip(self.field.iter()) {
            *v += self.amplitude * f;
        }
        let fresh = smooth_noise(self.field.nrows(), self.sigma, rng);
        let keep = (1.0 - self.rho * self.rho).max(0.0).sqrt();
        self.field.zip_mut_with(&fresh, |f, &n| *f = self.rho * *f + keep * n);
    }
}

/// Multiplies a square crop (row-major) by `1 + amplitude · n`, floored at 0,
/// where `n` is fresh Gaussian noise smoothed by σ `sigma` px and scaled to
/// unit variance ([`smooth_noise`]): bright pixels take a mottled texture a
/// few pixels across and the dark background keeps its level, so a network
/// learns that such texture inside a cell is no edge.
pub(crate) fn apply_texture(crop: &mut [f32], amplitude: f32, sigma: f32, rng: &mut impl Rng) {
    let side = (crop.len() as f64).sqrt() as usize;
    assert_eq!(side * side, crop.len(), "a square crop");
    let field = smooth_noise(side, sigma, rng);
    for (v, &n) in crop.iter_mut().zip(field.iter()) {
        *v *= (1.0 + amplitude * n).max(0.0);
    }
}

/// A `size`² field of Gaussian noise blurred by σ `sigma`, scaled to unit variance.
fn smooth_noise(size: usize, sigma: f32, rng: &mut impl Rng) -> Array2<f32> {
    let raw = Array2::from_shape_simple_fn((size, size), || rng.sample::<f32, _>(rand_distr::StandardNormal));
    let mut f = crate::simulate::optics::gaussian_blur(&raw, sigma);
    crate::simulate::texture::normalise(&mut f);
    f
}

/// A uniformly chosen labelled pixel of `mask`, if it has any.
pub(crate) fn random_cell_pixel(mask: &Mask, rng: &mut impl Rng) -> Option<(usize, usize)> {
    let n = mask.iter().filter(|&&l| l != 0).count();
    if n == 0 {
        return None;
    }
    let k = rng.random_range(0..n);
    mask.indexed_iter().filter(|(_, l)| **l != 0).nth(k).map(|(p, _)| p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use rand::SeedableRng;

    #[test]
    fn a_persistent_pattern_persists_and_drifts() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(3);
        let mut p = PersistentPattern::sample(0.05, 64, &mut rng);
        let (a, rho) = (p.amplitude, p.rho);
        assert!((0.0..=0.05).contains(&a) && (0.8..=1.0).contains(&rho));
        let mut frames = Vec::new();
        for _ in 0..3 {
            let mut crop = vec![0.0f32; 64 * 64];
            p.apply_and_step(&mut crop, &mut rng);
            frames.push(crop);
        }
        let corr = |x: &[f32], y: &[f32]| {
            let dot: f32 = x.iter().zip(y).map(|(a, b)| a * b).sum();
            let nx: f32 = x.iter().map(|a| a * a).sum::<f32>().sqrt();
            let ny: f32 = y.iter().map(|a| a * a).sum::<f32>().sqrt();
            dot / (nx * ny)
        };
        let sd = (frames[0].iter().map(|v| v * v).sum::<f32>() / frames[0].len() as f32).sqrt();
        assert!((sd - a).abs() < 0.01 * a.max(1e-3) + 1e-4, "amplitude {a}, standard deviation {sd}");
        let c = corr(&frames[0], &frames[1]);
        assert!(c > 0.7 && c <= 1.0 + 1e-4, "frame-to-frame correlation {c} with rho {rho}");
    }

    #[test]
    fn texture_mottles_bright_pixels_and_leaves_zero_alone() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(4);
        let mut crop: Vec<f32> = (0..64 * 64).map(|i| if i % 64 < 32 { 0.0 } else { 1.0 }).collect();
        apply_texture(&mut crop, 0.3, 1.5, &mut rng);
        type Pixels = Vec<(usize, f32)>;
        let (dark, bright): (Pixels, Pixels) = crop.iter().copied().enumerate().partition(|(i, _)| i % 64 < 32);
        assert!(dark.iter().all(|&(_, v)| v == 0.0));
        let n = bright.len() as f32;
        let mean = bright.iter().map(|&(_, v)| v).sum::<f32>() / n;
        let sd = (bright.iter().map(|&(_, v)| (v - mean) * (v - mean)).sum::<f32>() / n).sqrt();
        assert!((mean - 1.0).abs() < 0.05, "mean {mean}");
        assert!((sd - 0.3).abs() < 0.05, "standard deviation {sd}, amplitude 0.3");
        assert!(bright.iter().all(|&(_, v)| v >= 0.0));
        // Smoothed: neighbours correlate.
        let pairs: Vec<(f32, f32)> = bright.windows(2).filter(|w| w[1].0 == w[0].0 + 1).map(|w| (w[0].1 - mean, w[1].1 - mean)).collect();
        let corr = pairs.iter().map(|(a, b)| a * b).sum::<f32>() / pairs.iter().map(|(a, _)| a * a).sum::<f32>();
        assert!(corr > 0.5, "neighbour correlation {corr}");
    }

    #[test]
    fn identity_view_reproduces_the_frame() {
        let f = array![[0.0f32, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0], [12.0, 13.0, 14.0, 15.0]];
        let v = View::centred((4, 4));
        assert_eq!(v.image(&f, 4), f);
        let m = f.mapv(|x| (x as u32) % 3);
        let (classes, weight) = v.target(&m, 4, 1.0, 1);
        assert_eq!(classes, crate::model::class_map(m.view()));
        assert!(weight.iter().all(|&w| w == 1.0));
    }

    #[test]
    fn image_and_labels_move_together() {
        // A bright 3×3 square labelled 1: under any sampled transform, bright crop pixels are labelled.
        let mut f = Array2::<f32>::zeros((32, 32));
        let mut m = Mask::zeros((32, 32));
        for y in 14..17 {
            for x in 10..13 {
                f[(y, x)] = 1.0;
                m[(y, x)] = 1;
            }
        }
        let cfg = AugmentConfig { gain: 0.0, gamma: 0.0, noise: 0.0, cell_crop: 1.0, ..Default::default() };
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(5);
        for _ in 0..20 {
            let v = View::sample(&cfg, (32, 32), Some((15, 11)), &mut rng);
            let img = v.image(&f, 16);
            let (classes, weight) = v.target(&m, 16, 1.0, 1);
            assert!(weight.iter().all(|&w| w == 1.0));
            for (p, &c) in classes.indexed_iter() {
                if img[p] > 0.99 {
                    assert_ne!(c, 0, "bright pixel {p:?} not labelled under {v:?}");
                }
            }
            assert!(classes.iter().any(|&c| c != 0));
        }
    }

    #[test]
    fn outside_the_frame_weighs_nothing() {
        let m = Mask::from_elem((4, 4), 1);
        let v = View { centre: (0.0, 0.0), ..View::centred((4, 4)) };
        let (_, weight) = v.target(&m, 4, 1.0, 1);
        // crop offsets −2…1 from the corner: rows/cols 2, 3 of the crop fall inside.
        assert_eq!(weight.sum(), 4.0);
    }

    #[test]
    fn interfaces_weigh_more_inside_the_frame_only() {
        let m = ndarray::array![[1u32, 1, 2, 2], [1, 1, 2, 2], [0, 0, 0, 0], [3, 3, 3, 3]];
        let (classes, weight) = View::centred((4, 4)).target(&m, 4, 5.0, 1);
        assert_eq!(classes, crate::model::class_map(m.view()));
        let want = ndarray::array![[1.0f32, 5.0, 5.0, 1.0], [1.0, 5.0, 5.0, 1.0], [5.0, 5.0, 5.0, 5.0], [1.0, 1.0, 1.0, 1.0]];
        assert_eq!(weight, want);
        // Off the frame the weight stays 0, though the pixels there next to
        // cells 1 and 2 lie between two labels.
        let m = ndarray::array![[1u32, 2, 2, 2], [1, 2, 2, 2], [0, 0, 0, 0], [0, 0, 0, 0]];
        let v = View { centre: (0.0, 0.0), ..View::centred((4, 4)) };
        let (plain, weighted) = (v.target(&m, 4, 1.0, 1).1, v.target(&m, 4, 5.0, 1).1);
        assert_eq!((plain.sum(), weighted.sum()), (4.0, 20.0));
        assert!(plain.iter().zip(weighted.iter()).all(|(&p, &w)| p != 0.0 || w == 0.0));
    }
}
