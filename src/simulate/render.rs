//! Turning a frame's label map into the raw image a microscope would record.
//!
//! The cells drawn are exactly the labelled ones in the truth mask (plus
//! debris, which is not in the truth); their intensity falls off towards the
//! border, so touching cells show only a faint seam. Then come the optics
//! (blur or phase-contrast halos), uneven drifting illumination, bleaching and
//! the camera's noise.
use ndarray::Array2;
use rand::RngExt;
use rand_distr::StandardNormal;

use super::body::Body;
use super::camera::Camera;
use super::optics::{bleaching, gaussian_blur, phase_contrast, Illumination};
use super::raster::Raster;
use super::texture::Texture;
use super::{Modality, SimRng};
use crate::ctc::Frame;

/// A speck of dust, a dead-cell fragment or a fluorescent aggregate: looks
/// like a small cell but is not one, so it is not in the truth.
#[derive(Debug, Clone, PartialEq)]
struct Debris {
    x: f64,
    y: f64,
    vx: f64,
    vy: f64,
    sigma: f64,
    /// Signal (fluorescence) or optical thickness (phase contrast).
    amp: f32,
    /// Phase contrast: light it scatters.
    glint: f32,
}

/// Everything about image formation that stays fixed over a sequence.
#[derive(Debug, Clone)]
pub struct Renderer {
    modality: Modality,
    h: usize,
    w: usize,
    cell_texture: Texture,
    background: Texture,
    illumination: Illumination,
    debris: Vec<Debris>,
    camera: Camera,
}

impl Renderer {
    pub fn new(modality: Modality, h: usize, w: usize, rng: &mut SimRng) -> Renderer {
        let cell_texture = Texture::new(rng, 128, &[(1.2, 1.0), (3.0, 0.8)]);
        let background = Texture::new(rng, 256, &[(1.0, 0.5), (24.0, 1.0)]);
        let illumination = Illumination {
            depth: rng.random_range(0.25..0.45),
            spread: rng.random_range(0.35..0.55),
            tilt: (rng.random_range(-0.25..0.25), rng.random_range(-0.25..0.25)),
            centre: (rng.random_range(0.3..0.7), rng.random_range(0.3..0.7)),
            wander: rng.random_range(0.05..0.15),
            period: rng.random_range(60.0..160.0),
        };
        let n_debris = match modality {
            Modality::Fluo => (h * w) as f64 / 12_000.0,
            Modality::Phase => (h * w) as f64 / 8_000.0,
            Modality::Colony => (h * w) as f64 / 20_000.0,
        }
        .round() as usize;
        let debris = (0..n_debris)
            .map(|_| {
                let moving = rng.random_bool(0.5);
                let v = if moving { 0.4 } else { 0.0 };
                Debris {
                    x: rng.random_range(0.0..w as f64),
                    y: rng.random_range(0.0..h as f64),
                    vx: v * rng.sample::<f64, _>(StandardNormal),
                    vy: v * rng.sample::<f64, _>(StandardNormal),
                    sigma: rng.random_range(0.8..2.5),
                    amp: match modality {
                        Modality::Fluo => rng.random_range(0.4..3.0),
                        _ => rng.random_range(0.3..1.2),
                    },
                    glint: if rng.random_bool(0.5) { rng.random_range(0.2..1.0) } else { 0.0 },
                }
            })
            .collect();
        let camera = match modality {
            Modality::Fluo => Camera { offset: 500.0, gain: 3.0, read_noise: 4.0, max: 65535.0 },
            _ => Camera { offset: 0.0, gain: 0.1, read_noise: 10.0, max: 255.0 },
        };
        Renderer { modality, h, w, cell_texture, background, illumination, debris, camera }
    }

    /// The raw frame `t` showing the labelled cells of `raster` (whose owners
    /// index `bodies`), debris, optics and noise.
    pub fn render(&mut self, t: usize, raster: &Raster, bodies: &[Body], rng: &mut SimRng) -> Frame {
        let (h, w) = (self.h, self.w);
        let mut signal = Array2::<f32>::zeros((h, w));
        let mut glow = Array2::<f32>::zeros((h, w));
        for y in 0..h {
            for x in 0..w {
                let o = raster.owner[[y, x]];
                if o == 0 {
                    continue;
                }
                let b = &bodies[o as usize - 1];
                let rho = raster.rho[[y, x]];
                let (cx, cy) = b.outline.centre();
                let (s, c) = b.outline.angle().sin_cos();
                let (dx, dy) = (x as f64 - cx, y as f64 - cy);
                let tex = self.cell_texture.at(b.look.texture_at.0 + c * dx + s * dy, b.look.texture_at.1 - s * dx + c * dy);
                let grain = 1.0 + b.look.texture_amp * tex;
                // Flat inside, falling steeply at the border.
                let dome = (1.0 - rho.powi(4)).max(0.0).sqrt() * grain;
                match self.modality {
                    Modality::Fluo => signal[[y, x]] = b.look.brightness * dome,
                    _ => {
                        signal[[y, x]] = b.look.thickness * dome;
                        glow[[y, x]] = b.look.glow * dome;
                    }
                }
            }
        }
        for d in &mut self.debris {
            let r = (3.0 * d.sigma).ceil() as i64;
            let (xi, yi) = (d.x.round() as i64, d.y.round() as i64);
            for y in (yi - r).max(0)..=(yi + r).min(h as i64 - 1) {
                for x in (xi - r).max(0)..=(xi + r).min(w as i64 - 1) {
                    let g = (-((x as f64 - d.x).powi(2) + (y as f64 - d.y).powi(2)) / (2.0 * d.sigma * d.sigma)).exp() as f32;
                    signal[[y as usize, x as usize]] += d.amp * g;
                    glow[[y as usize, x as usize]] += d.glint * g;
                }
            }
            d.x = (d.x + d.vx).rem_euclid(w as f64);
            d.y = (d.y + d.vy).rem_euclid(h as f64);
        }
        let light = self.illumination.field(h, w, t);
        let expected = match self.modality {
            Modality::Fluo => {
                // Widefield: PSF blur plus out-of-focus haze; 12 background and
                // ~70 signal photons for a typical nucleus, bleaching over ~3 sequences of 100 frames.
                let sharp = gaussian_blur(&signal, 1.6);
                let haze = gaussian_blur(&signal, 8.0);
                let fade = bleaching(t, 300.0);
                let mut e = Array2::<f32>::zeros((h, w));
                ndarray::Zip::from(&mut e).and(&sharp).and(&haze).and(&light).for_each(|e, &s, &z, &l| {
                    *e = l * (10.0 + fade * 70.0 * (s + 0.25 * z));
                });
                e
            }
            Modality::Phase | Modality::Colony => {
                let (psf, halo, gain, level) = match self.modality {
                    Modality::Phase => (1.2, 5.0, 0.55, 130.0),
                    _ => (1.0, 4.0, 0.75, 120.0),
                };
                let img = phase_contrast(&signal, &glow, psf, halo, gain);
                // The dish: a textured background that shifts slowly with the stage.
                let bg = self.background.frame(h, w, 0.05 * t as f64, 0.03 * t as f64);
                let mut e = Array2::<f32>::zeros((h, w));
                ndarray::Zip::from(&mut e).and(&img).and(&bg).and(&light).for_each(|e, &i, &b, &l| {
                    *e = level * l * (i + 0.02 * b) / self.camera.gain;
                });
                e
            }
        };
        let rec = self.camera.expose(rng, &expected);
        match self.modality {
            Modality::Fluo => Frame::U16(rec.mapv(|v| v as u16)),
            _ => Frame::U8(rec.mapv(|v| v as u8)),
        }
    }
}
