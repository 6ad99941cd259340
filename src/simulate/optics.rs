//! Image formation: the microscope's blur, phase-contrast halos, uneven illumination, bleaching.
use ndarray::{Array2, Axis};

/// Gaussian kernel of standard deviation `sigma`, truncated at 3σ and summing to 1.
///
/// The simulator keeps this blur of its own (3σ, mirrored borders that do not
/// repeat the edge pixel) rather than [`crate::segment::gaussian_blur`] (4σ,
/// scipy's `reflect`), so that a seed simulates the same sequence, to the
/// bit, as when the shipped models were trained on it.
pub fn gaussian_kernel(sigma: f32) -> Vec<f32> {
    let r = (3.0 * sigma).ceil().max(1.0) as i32;
    let k: Vec<f32> = (-r..=r).map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp()).collect();
    let s: f32 = k.iter().sum();
    k.into_iter().map(|v| v / s).collect()
}

/// Convolves the lines of `img` along `axis` with `kernel`, mirroring at the
/// borders (`d c b | a b c d | c b a`).
fn convolve_axis(img: &Array2<f32>, kernel: &[f32], axis: Axis) -> Array2<f32> {
    let r = (kernel.len() / 2) as isize;
    let mut out = Array2::<f32>::zeros(img.dim());
    let mut line = Vec::new();
    for (src, mut dst) in img.lanes(axis).into_iter().zip(out.lanes_mut(axis)) {
        let n = src.len() as isize;
        line.clear();
        line.extend((-r..n + r).map(|i| {
            let mut j = i;
            if n > 1 {
                let period = 2 * (n - 1);
                j = j.rem_euclid(period);
                if j >= n {
                    j = period - j;
                }
            } else {
                j = 0;
            }
            src[j as usize]
        }));
        for (i, d) in dst.iter_mut().enumerate() {
            *d = kernel.iter().zip(&line[i..]).map(|(k, v)| k * v).sum();
        }
    }
    out
}

/// Blurs `img` with a Gaussian point-spread function of standard deviation
/// `sigma` pixels (separable convolution; the Gaussian approximation of a
/// widefield PSF, Zhang, Zerubia & Olivo-Marin, Applied Optics 2007).
/// `sigma` ≤ 0 returns a copy.
///
/// ```
/// use cellstream::simulate::optics::gaussian_blur;
/// let mut img = ndarray::Array2::<f32>::zeros((9, 9));
/// img[[4, 4]] = 1.0;
/// let b = gaussian_blur(&img, 1.0);
/// assert!((b.sum() - 1.0).abs() < 1e-5);
/// assert!(b[[4, 4]] > b[[4, 5]] && b[[4, 5]] > b[[4, 6]]);
/// ```
pub fn gaussian_blur(img: &Array2<f32>, sigma: f32) -> Array2<f32> {
    if sigma <= 0.0 {
        return img.clone();
    }
    let k = gaussian_kernel(sigma);
    convolve_axis(&convolve_axis(img, &k, Axis(1)), &k, Axis(0))
}

/// Phase-contrast image formation after Yin, Kanade & Chen, "Understanding the
/// phase contrast optics to restore artifact-free microscopy images", Medical
/// Image Analysis 16(5), 2012: the image is `1 − (δ − airy) ∗ f` for optical
/// path `f`; the airy pattern is approximated here by a wide Gaussian of
/// `halo_sigma`, and the objective's blur by one of `psf_sigma`. Thick cells
/// come out dark inside with a bright halo around them (`gain` sets the
/// contrast). `bright` adds light where cells round up and scatter (mitotic
/// cells, PSC-like spindles), blurred by the PSF.
pub fn phase_contrast(path: &Array2<f32>, bright: &Array2<f32>, psf_sigma: f32, halo_sigma: f32, gain: f32) -> Array2<f32> {
    let near = gaussian_blur(path, psf_sigma);
    let wide = gaussian_blur(path, halo_sigma);
    let glow = gaussian_blur(bright, psf_sigma);
    let mut out = Array2::<f32>::zeros(path.dim());
    ndarray::Zip::from(&mut out).and(&near).and(&wide).and(&glow).for_each(|o, &n, &w, &g| {
        *o = 1.0 - gain * (n - w) + g;
    });
    out
}

/// Smooth, uneven illumination drifting with time: a broad spot whose centre
/// wanders on a slow ellipse, times a tilted plane. Values are 1 at the spot's
/// centre and `1 − depth` far away (a typical widefield vignetting).
#[derive(Debug, Clone, PartialEq)]
pub struct Illumination {
    /// Fractional fall-off from centre to far corner.
    pub depth: f32,
    /// Width of the spot relative to the frame diagonal.
    pub spread: f32,
    /// Tilt: fractional change across the frame along x and y.
    pub tilt: (f32, f32),
    /// Centre at time 0, in fractions of the frame (x, y).
    pub centre: (f32, f32),
    /// Amplitude of the centre's wander (fractions of the frame) and its period in frames.
    pub wander: f32,
    pub period: f32,
}

impl Illumination {
    /// The relative illumination over an `h`×`w` frame at time `t`.
    pub fn field(&self, h: usize, w: usize, t: usize) -> Array2<f32> {
        let ph = 2.0 * std::f32::consts::PI * t as f32 / self.period;
        let cx = (self.centre.0 + self.wander * ph.cos()) * w as f32;
        let cy = (self.centre.1 + 0.7 * self.wander * ph.sin()) * h as f32;
        let diag = ((h * h + w * w) as f32).sqrt();
        let s2 = 2.0 * (self.spread * diag).powi(2);
        Array2::from_shape_fn((h, w), |(y, x)| {
            let d2 = (x as f32 - cx).powi(2) + (y as f32 - cy).powi(2);
            let spot = 1.0 - self.depth + self.depth * (-d2 / s2).exp();
            let plane = 1.0 + self.tilt.0 * (x as f32 / w as f32 - 0.5) + self.tilt.1 * (y as f32 / h as f32 - 0.5);
            spot * plane
        })
    }
}

/// Fraction of fluorophores left after `t` frames of single-exponential
/// photobleaching with time constant `tau` frames.
pub fn bleaching(t: usize, tau: f32) -> f32 {
    (-(t as f32) / tau).exp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn kernel_sums_to_one_and_is_symmetric() {
        let k = gaussian_kernel(1.5);
        assert_eq!(k.len(), 11);
        assert!((k.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(k[0], k[10]);
    }

    #[test]
    fn blur_keeps_constants_and_mirrors_borders() {
        let c = Array2::from_elem((4, 7), 3.0f32);
        let b = gaussian_blur(&c, 2.0);
        assert!(b.iter().all(|v| (v - 3.0).abs() < 1e-5));
        // A single row and column are handled.
        let line = array![[1.0f32, 2.0, 3.0]];
        let b = gaussian_blur(&line, 0.8);
        assert!((b[[0, 1]] - 2.0).abs() < 1e-5, "symmetric neighbourhood");
    }

    #[test]
    fn phase_contrast_gives_dark_cell_and_bright_halo() {
        let mut f = Array2::<f32>::zeros((41, 41));
        for y in 15..26 {
            for x in 15..26 {
                f[[y, x]] = 1.0;
            }
        }
        let img = phase_contrast(&f, &Array2::zeros((41, 41)), 1.0, 6.0, 0.5);
        assert!(img[[20, 20]] < 1.0, "cell interior is darker than the background");
        assert!(img[[20, 28]] > 1.0, "just outside: bright halo");
        assert!((img[[0, 0]] - 1.0).abs() < 0.02, "far away: background");
    }

    #[test]
    fn illumination_is_brightest_at_its_centre() {
        let il = Illumination { depth: 0.4, spread: 0.4, tilt: (0.0, 0.0), centre: (0.5, 0.5), wander: 0.0, period: 10.0 };
        let f = il.field(21, 21, 3);
        assert!((f[[10, 10]] - 1.0).abs() < 0.01);
        assert!(f[[0, 0]] < 0.9 && f[[0, 0]] > 0.6);
        assert!((bleaching(10, 10.0) - (-1.0f32).exp()).abs() < 1e-6);
    }
}
