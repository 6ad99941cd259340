//! Smooth random textures: chromatin inside nuclei, cytoplasm, the background of a dish.
use ndarray::Array2;
use rand::RngExt;
use rand_distr::StandardNormal;

use super::optics::gaussian_blur;
use super::SimRng;

/// Gaussian random field: white noise blurred at each scale in `scales`
/// (σ in pixels, weight), summed and normalised to mean 0 and standard
/// deviation 1. The tile wraps around (see [`Texture::at`]).
#[derive(Debug, Clone)]
pub struct Texture {
    tile: Array2<f32>,
}

impl Texture {
    pub fn new(rng: &mut SimRng, size: usize, scales: &[(f32, f32)]) -> Texture {
        let mut tile = Array2::<f32>::zeros((size, size));
        for &(sigma, weight) in scales {
            let white = Array2::from_shape_simple_fn((size, size), || rng.sample::<f32, _>(StandardNormal));
            let mut smooth = blur_periodic(&white, sigma);
            normalise(&mut smooth);
            tile.scaled_add(weight, &smooth);
        }
        normalise(&mut tile);
        Texture { tile }
    }

    /// The texture value at (`x`, `y`), wrapping around the tile.
    pub fn at(&self, x: f64, y: f64) -> f32 {
        let n = self.tile.nrows() as i64;
        let (xi, yi) = ((x.floor() as i64).rem_euclid(n), (y.floor() as i64).rem_euclid(n));
        self.tile[[yi as usize, xi as usize]]
    }

    /// The texture over a whole `h`×`w` frame, shifted by (`dx`, `dy`).
    pub fn frame(&self, h: usize, w: usize, dx: f64, dy: f64) -> Array2<f32> {
        Array2::from_shape_fn((h, w), |(y, x)| self.at(x as f64 + dx, y as f64 + dy))
    }
}

/// Gaussian blur of a tile treated as periodic, so that the result wraps seamlessly.
fn blur_periodic(tile: &Array2<f32>, sigma: f32) -> Array2<f32> {
    let n = tile.nrows();
    let pad = (3.0 * sigma).ceil() as usize + 1;
    let padded = Array2::from_shape_fn((n + 2 * pad, n + 2 * pad), |(y, x)| tile[[(y + n * pad - pad) % n, (x + n * pad - pad) % n]]);
    gaussian_blur(&padded, sigma).slice(ndarray::s![pad..pad + n, pad..pad + n]).to_owned()
}

/// Shifts and scales `a` in place to mean 0 and standard deviation 1.
pub(crate) fn normalise(a: &mut Array2<f32>) {
    let n = a.len() as f32;
    let mean = a.sum() / n;
    let sd = (a.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n).sqrt().max(1e-12);
    a.mapv_inplace(|v| (v - mean) / sd);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn texture_is_normalised_smooth_and_wraps() {
        let mut rng = SimRng::seed_from_u64(3);
        let t = Texture::new(&mut rng, 64, &[(2.0, 1.0)]);
        let f = t.frame(64, 64, 0.0, 0.0);
        let mean = f.sum() / f.len() as f32;
        assert!(mean.abs() < 1e-4);
        // Neighbours are strongly correlated at σ = 2.
        let mut c = 0.0;
        for y in 0..64 {
            for x in 0..63 {
                c += f[[y, x]] * f[[y, x + 1]];
            }
        }
        assert!(c / (64.0 * 63.0) > 0.7);
        assert_eq!(t.at(-1.0, 0.0), t.at(63.0, 0.0));
        // Seamless: across the wrap the field is as smooth as inside.
        let seam: f32 = (0..64).map(|y| f[[y, 63]] * f[[y, 0]]).sum::<f32>() / 64.0;
        assert!(seam > 0.6, "seam correlation {seam}");
    }
}
