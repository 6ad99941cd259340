//! The camera: photon shot noise, read noise, offset, gain and quantisation.
use ndarray::Array2;
use rand::RngExt;
use rand_distr::{Poisson, StandardNormal};

use super::SimRng;

/// A scientific camera's noise model (the Poisson–Gaussian model of Foi et
/// al., "Practical Poissonian-Gaussian noise modeling and fitting for
/// single-image raw-data", IEEE TIP 2008): each pixel counts
/// `Poisson(photons)` electrons, adds Gaussian read noise, is scaled by
/// `gain` (grey levels per electron) and offset, then rounded and clipped.
#[derive(Debug, Clone, PartialEq)]
pub struct Camera {
    pub offset: f32,
    pub gain: f32,
    /// Read noise, electrons (standard deviation).
    pub read_noise: f32,
    /// Largest grey value the sensor stores (255 or 65535).
    pub max: f32,
}

/// Poisson sample of mean `lambda` (a normal approximation above 1000, where
/// the two agree to well below one grey level).
pub fn poisson(rng: &mut SimRng, lambda: f32) -> f32 {
    if lambda <= 0.0 {
        0.0
    } else if lambda > 1000.0 {
        (lambda + lambda.sqrt() * rng.sample::<f32, _>(StandardNormal)).max(0.0).round()
    } else {
        rng.sample(Poisson::new(lambda).expect("finite positive mean"))
    }
}

impl Camera {
    /// Records a frame whose expected photon count per pixel is `photons`.
    pub fn expose(&self, rng: &mut SimRng, photons: &Array2<f32>) -> Array2<f32> {
        photons.map(|&p| {
            let e = poisson(rng, p) + self.read_noise * rng.sample::<f32, _>(StandardNormal);
            (self.offset + self.gain * e).round().clamp(0.0, self.max)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn mean_and_variance_follow_the_model() {
        let cam = Camera { offset: 100.0, gain: 2.0, read_noise: 3.0, max: 65535.0 };
        let mut rng = SimRng::seed_from_u64(1);
        let img = cam.expose(&mut rng, &Array2::from_elem((200, 200), 50.0));
        let n = img.len() as f32;
        let mean = img.sum() / n;
        let var = img.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n;
        // mean = offset + gain·λ; variance = gain²(λ + read²) (+ 1/12 rounding)
        assert!((mean - 200.0).abs() < 0.5, "{mean}");
        assert!((var - 4.0 * 59.0).abs() < 10.0, "{var}");
    }

    #[test]
    fn clips_to_the_sensor_range() {
        let cam = Camera { offset: 10.0, gain: 1.0, read_noise: 0.0, max: 255.0 };
        let mut rng = SimRng::seed_from_u64(1);
        let img = cam.expose(&mut rng, &ndarray::array![[0.0, 5000.0]]);
        assert_eq!(img, ndarray::array![[10.0, 255.0]]);
    }
}
