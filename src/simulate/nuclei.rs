//! Migrating, dividing cells with star-convex outlines (fluorescent nuclei, phase-contrast cells).
//!
//! The model follows the MitoGen simulator behind CTC's Fluo-N2DH-SIM+
//! (Svoboda & Ulman, "MitoGen: a framework for generating 3D synthetic
//! time-lapse sequences of cell populations in fluorescence microscopy",
//! IEEE TMI 2017) in 2D: each cell drifts with the dish, walks randomly
//! (an Ornstein–Uhlenbeck velocity, i.e. a persistent random walk), grows
//! through its cycle, rounds up and brightens in mitosis, and splits into two
//! daughters that part along its long axis. Neighbours are kept from
//! overlapping by position-based contact relaxation (Müller et al., "Position
//! based dynamics", 2007) with a short-range adhesion that lets them settle
//! against each other, so cells touch along shared borders. New cells drift in
//! across the borders, and cells leave through them.
use std::collections::HashSet;
use std::f64::consts::{PI, TAU};

use rand::RngExt;
use rand_distr::{Distribution, LogNormal, Normal, StandardNormal};

use super::body::{Body, IdSource, Look, World};
use super::shape::{Outline, StarShape};
use super::SimRng;

/// Parameters of a population of star-convex cells.
#[derive(Debug, Clone, PartialEq)]
pub struct NucleusParams {
    /// Median equivalent radius at birth (pixels) and its log-normal spread.
    pub radius: f64,
    pub radius_spread: f64,
    /// Range of the aspect ratio (long / short axis).
    pub aspect: (f64, f64),
    /// Largest amplitude of the Fourier modes k = 2…5 that make outlines irregular.
    pub irregularity: f64,
    /// Random-walk speed (pixels per frame) and persistence (0…1) of the velocity.
    pub speed: f64,
    pub persistence: f64,
    /// Speed of the common drift (pixels per frame).
    pub drift: f64,
    /// Cell-cycle length in frames: mean and standard deviation.
    pub cycle: (f64, f64),
    /// Frames a mother spends rounding up before it divides.
    pub rounding: f64,
    /// Daughters' parting speed (pixels per frame, right after division).
    pub parting: f64,
    /// Allowed overlap of touching cells, as a fraction of their radii.
    pub squeeze: f64,
    /// Largest personal space (pixels) a cell keeps around its outline, like
    /// the cytoplasm around a nucleus; drawn per cell between 0 and this, and
    /// grown over the first 10 frames of a daughter's life (sisters stay close).
    /// Two cells keep twice the smaller of their spaces between them.
    pub spacing: f64,
    /// Range (pixels) and strength (0…1) of the adhesion between neighbours.
    pub adhesion_range: f64,
    pub adhesion: f64,
    /// Fraction of initial cells placed against another cell.
    pub clustered: f64,
    /// Expected cells entering per frame, per 1000 pixels of frame border.
    pub entry_rate: f64,
    /// Log-normal spread of the dye content between cells (fluorescence).
    pub brightness_spread: f64,
    /// Fraction of cells that scatter light at rest (phase contrast: thick,
    /// bright cells, like most PhC-C2DL-PSC cells; the others look dark and flat),
    /// and the range of their glow.
    pub glowing: f64,
    pub glow: (f64, f64),
    /// Texture contrast of a cell.
    pub texture_amp: f32,
    /// Largest relative length of the thin tails at either end (0 = none).
    pub tails: f64,
}

#[derive(Debug, Clone)]
struct Nucleus {
    id: u64,
    mother: Option<u64>,
    x: f64,
    y: f64,
    /// Persistent random-walk velocity.
    vx: f64,
    vy: f64,
    /// Parting velocity after a division, decaying.
    kx: f64,
    ky: f64,
    angle: f64,
    spin: f64,
    r_birth: f64,
    aspect: f64,
    modes: Vec<(u32, f64, f64)>,
    tails: (f64, f64),
    margin: f64,
    age: f64,
    cycle: f64,
    brightness: f64,
    flash: f64,
    glow: f64,
    texture_at: (f64, f64),
    entering_until: Option<usize>,
}

impl Nucleus {
    /// Personal space kept around the outline now.
    fn space(&self) -> f64 {
        self.margin * (self.age / 10.0).min(1.0)
    }

    /// Progress of mitotic rounding: 0 in interphase, 1 just before division.
    fn mitosis(&self, rounding: f64) -> f64 {
        ((self.age - (self.cycle - rounding)) / rounding).clamp(0.0, 1.0)
    }

    fn shape(&self, p: &NucleusParams) -> StarShape {
        let m = self.mitosis(p.rounding);
        // Area doubles over the cycle; the mother shrinks a little as it rounds.
        let r = self.r_birth * (1.0 + (self.age / self.cycle).min(1.0)).sqrt() * (1.0 - 0.18 * m);
        // Daughters are born round and spread out over their first frames.
        let spread = (self.age / 4.0).min(1.0) * (1.0 - m);
        let aspect = 1.0 + (self.aspect - 1.0) * spread;
        let modes = self.modes.iter().map(|&(k, a, ph)| (k, a * spread.max(0.25 * (1.0 - m)), ph)).collect();
        let tails = (self.tails.0 * spread, self.tails.1 * spread);
        StarShape { cx: self.x, cy: self.y, angle: self.angle, a: r * aspect.sqrt(), b: r / aspect.sqrt(), modes, tails }
    }
}

/// A field of migrating, dividing cells.
#[derive(Debug, Clone)]
pub struct Nuclei {
    p: NucleusParams,
    h: f64,
    w: f64,
    t: usize,
    cells: Vec<Nucleus>,
    ids: IdSource,
    drift_dir: f64,
}

impl Nuclei {
    /// Places `n` cells in an `h`×`w` field, some of them against each other,
    /// at random points of their cycles.
    pub fn new(p: NucleusParams, h: usize, w: usize, n: usize, rng: &mut SimRng) -> Nuclei {
        let mut world = Nuclei { p, h: h as f64, w: w as f64, t: 0, cells: Vec::new(), ids: IdSource::default(), drift_dir: rng.random_range(0.0..TAU) };
        for _ in 0..n {
            let mut c = world.new_cell(rng, None);
            c.age = rng.random_range(0.0..c.cycle);
            for _try in 0..60 {
                if !world.cells.is_empty() && rng.random_bool(world.p.clustered) {
                    c.age = rng.random_range(0.0..4.0); // a recent daughter, still close to others
                    let other = &world.cells[rng.random_range(0..world.cells.len())];
                    let dir = rng.random_range(0.0..TAU);
                    let reach = contact(&other.shape(&world.p), &c.shape(&world.p), dir) * (1.0 - world.p.squeeze * 0.5);
                    c.x = other.x + reach * dir.cos();
                    c.y = other.y + reach * dir.sin();
                } else {
                    c.x = rng.random_range(0.0..world.w);
                    c.y = rng.random_range(0.0..world.h);
                }
                if world.fits(&c) {
                    break;
                }
            }
            world.cells.push(c);
        }
        world.relax(8);
        world
    }

    fn new_cell(&mut self, rng: &mut SimRng, mother: Option<u64>) -> Nucleus {
        let p = &self.p;
        let r_birth = p.radius * LogNormal::new(0.0, p.radius_spread).unwrap().sample(rng);
        let modes = (2..=5)
            .map(|k| (k, rng.random_range(0.0..p.irregularity) / (k as f64 - 1.0).sqrt(), rng.random_range(0.0..TAU)))
            .collect();
        let cycle = Normal::new(p.cycle.0, p.cycle.1).unwrap().sample(rng).max(p.cycle.0 * 0.4);
        Nucleus {
            id: self.ids.next_id(),
            mother,
            x: 0.0,
            y: 0.0,
            vx: p.speed * rng.sample::<f64, _>(StandardNormal),
            vy: p.speed * rng.sample::<f64, _>(StandardNormal),
            kx: 0.0,
            ky: 0.0,
            angle: rng.random_range(0.0..PI),
            spin: 0.03 * rng.sample::<f64, _>(StandardNormal),
            r_birth,
            aspect: rng.random_range(p.aspect.0..=p.aspect.1),
            modes,
            tails: (rng.random_range(0.0..=p.tails), rng.random_range(0.0..=p.tails) * 0.5),
            margin: rng.random_range(0.0..=p.spacing),
            age: 0.0,
            cycle,
            brightness: LogNormal::new(0.0, p.brightness_spread).unwrap().sample(rng),
            flash: 0.0,
            glow: if rng.random_bool(p.glowing) { rng.random_range(p.glow.0..=p.glow.1) } else { 0.0 },
            texture_at: (rng.random_range(0.0..1024.0), rng.random_range(0.0..1024.0)),
            entering_until: None,
        }
    }

    /// Whether `c` overlaps no placed cell by more than the allowed squeeze.
    fn fits(&self, c: &Nucleus) -> bool {
        let s = c.shape(&self.p);
        self.cells.iter().all(|o| {
            let (dx, dy) = (c.x - o.x, c.y - o.y);
            dx.hypot(dy) >= contact(&o.shape(&self.p), &s, dy.atan2(dx)) * (1.0 - self.p.squeeze) + pair_space(c, o)
        })
    }

    /// Position-based contact relaxation: pushes overlapping pairs apart to
    /// their allowed overlap and pulls near neighbours together (adhesion).
    fn relax(&mut self, iterations: usize) {
        let n = self.cells.len();
        for _ in 0..iterations {
            let shapes: Vec<StarShape> = self.cells.iter().map(|c| c.shape(&self.p)).collect();
            let mut moves = vec![(0.0, 0.0); n];
            for i in 0..n {
                for j in i + 1..n {
                    let (dx, dy) = (self.cells[j].x - self.cells[i].x, self.cells[j].y - self.cells[i].y);
                    let d = dx.hypot(dy).max(1e-6);
                    if d > shapes[i].max_radius() + shapes[j].max_radius() + self.p.adhesion_range + 2.0 * self.p.spacing {
                        continue;
                    }
                    let space = pair_space(&self.cells[i], &self.cells[j]);
                    let target = contact(&shapes[i], &shapes[j], dy.atan2(dx)) * (1.0 - self.p.squeeze) + space;
                    let push = if d < target {
                        (target - d) * 0.5
                    } else if d < target + self.p.adhesion_range {
                        -(d - target) * 0.5 * self.p.adhesion
                    } else {
                        0.0
                    };
                    let (ux, uy) = (dx / d, dy / d);
                    moves[i].0 -= push * ux;
                    moves[i].1 -= push * uy;
                    moves[j].0 += push * ux;
                    moves[j].1 += push * uy;
                }
            }
            for (c, m) in self.cells.iter_mut().zip(&moves) {
                c.x += m.0.clamp(-3.0, 3.0);
                c.y += m.1.clamp(-3.0, 3.0);
            }
        }
    }

    fn divide(&mut self, i: usize, rng: &mut SimRng) -> [Nucleus; 2] {
        let m = self.cells[i].clone();
        let axis = m.angle + 0.2 * rng.sample::<f64, _>(StandardNormal);
        let (ux, uy) = (axis.cos(), axis.sin());
        let full = m.r_birth * 2f64.sqrt();
        [1.0, -1.0].map(|side| {
            let mut d = self.new_cell(rng, Some(m.id));
            d.r_birth = full / 2f64.sqrt() * (1.0 + 0.05 * rng.sample::<f64, _>(StandardNormal));
            d.x = m.x + side * ux * d.r_birth * 0.6;
            d.y = m.y + side * uy * d.r_birth * 0.6;
            d.kx = side * ux * self.p.parting;
            d.ky = side * uy * self.p.parting;
            d.vx = m.vx;
            d.vy = m.vy;
            d.angle = axis + PI / 2.0;
            d.brightness = m.brightness * (1.0 + 0.1 * rng.sample::<f64, _>(StandardNormal)).max(0.5);
            d.flash = 0.6;
            d.glow = m.glow;
            d
        })
    }

    /// A cell placed just outside a border, heading in. Cells come in more
    /// often from the side the drift blows from.
    fn entering_cell(&mut self, rng: &mut SimRng) -> Nucleus {
        let mut c = self.new_cell(rng, None);
        c.age = rng.random_range(0.0..c.cycle * 0.8);
        let (dx, dy) = (self.drift_dir.cos(), self.drift_dir.sin());
        // Weights of the four sides: length × (1 + inflow along the drift).
        let sides = [
            (self.w * (1.0 + dy.max(0.0) * 3.0), 0usize), // top, drift pointing down
            (self.w * (1.0 + (-dy).max(0.0) * 3.0), 1),   // bottom
            (self.h * (1.0 + dx.max(0.0) * 3.0), 2),      // left
            (self.h * (1.0 + (-dx).max(0.0) * 3.0), 3),   // right
        ];
        let total: f64 = sides.iter().map(|s| s.0).sum();
        let mut pick = rng.random_range(0.0..total);
        let mut side = 3;
        for (wt, s) in sides {
            if pick < wt {
                side = s;
                break;
            }
            pick -= wt;
        }
        let out = c.r_birth * 1.1;
        let inward = self.p.speed.max(0.3) * 1.5;
        (c.x, c.y, c.vx, c.vy) = match side {
            0 => (rng.random_range(0.0..self.w), -out, 0.0, inward),
            1 => (rng.random_range(0.0..self.w), self.h - 1.0 + out, 0.0, -inward),
            2 => (-out, rng.random_range(0.0..self.h), inward, 0.0),
            _ => (self.w - 1.0 + out, rng.random_range(0.0..self.h), -inward, 0.0),
        };
        c.entering_until = Some(self.t + 12);
        c
    }
}

/// Gap two cells keep between their outlines: the smaller personal space
/// counts (twice), so a cell without one can settle against any neighbour.
fn pair_space(a: &Nucleus, b: &Nucleus) -> f64 {
    2.0 * a.space().min(b.space())
}

/// Centre distance at which shapes `a` and `b` just touch when `b` lies in
/// direction `theta` from `a`.
fn contact(a: &StarShape, b: &StarShape, theta: f64) -> f64 {
    a.radius_toward(theta) + b.radius_toward(theta + PI)
}

impl World for Nuclei {
    fn step(&mut self, rng: &mut SimRng, mut spare: usize) {
        self.t += 1;
        let p = self.p.clone();
        self.drift_dir += 0.05 * rng.sample::<f64, _>(StandardNormal);
        let (gx, gy) = (p.drift * self.drift_dir.cos(), p.drift * self.drift_dir.sin());
        let q = (1.0 - p.persistence * p.persistence).sqrt();
        for c in &mut self.cells {
            c.age += 1.0;
            let slow = 1.0 - 0.7 * c.mitosis(p.rounding);
            c.vx = p.persistence * c.vx + q * p.speed * rng.sample::<f64, _>(StandardNormal);
            c.vy = p.persistence * c.vy + q * p.speed * rng.sample::<f64, _>(StandardNormal);
            c.x += gx + slow * c.vx + c.kx;
            c.y += gy + slow * c.vy + c.ky;
            c.kx *= 0.6;
            c.ky *= 0.6;
            c.spin = 0.8 * c.spin + 0.02 * rng.sample::<f64, _>(StandardNormal);
            c.angle += c.spin;
            for m in &mut c.modes {
                m.2 += 0.08 * rng.sample::<f64, _>(StandardNormal);
            }
            c.flash *= 0.7;
        }
        // Divisions.
        let mut i = 0;
        while i < self.cells.len() {
            if self.cells[i].age >= self.cells[i].cycle && spare >= 2 {
                let daughters = self.divide(i, rng);
                spare -= 2;
                self.cells.swap_remove(i);
                self.cells.extend(daughters);
            } else {
                i += 1;
            }
        }
        // Cells drifting in across the borders.
        let lambda = p.entry_rate * 2.0 * (self.w + self.h) / 1000.0;
        if lambda > 0.0 {
            let k = super::camera::poisson(rng, lambda as f32) as usize;
            for _ in 0..k.min(spare) {
                let c = self.entering_cell(rng);
                self.cells.push(c);
            }
        }
        self.relax(4);
        // Cells far outside the field will never be seen again.
        let (w, h) = (self.w, self.h);
        self.cells.retain(|c| {
            let m = 3.0 * c.r_birth + 4.0;
            c.x > -m && c.y > -m && c.x < w + m && c.y < h + m
        });
    }

    fn bodies(&self) -> Vec<Body> {
        let p = &self.p;
        self.cells
            .iter()
            .map(|c| {
                let m = c.mitosis(p.rounding);
                Body {
                    id: c.id,
                    mother: c.mother,
                    outline: Outline::Star(c.shape(p)),
                    look: Look {
                        brightness: (c.brightness * (1.0 + 0.9 * m + c.flash)) as f32,
                        texture_at: c.texture_at,
                        texture_amp: p.texture_amp * (1.0 - 0.5 * m as f32),
                        thickness: (1.0 + 1.2 * m + c.flash) as f32,
                        glow: (c.glow + (1.0 - c.glow) * m.max(c.flash)) as f32,
                    },
                    entering: c.entering_until.is_some_and(|u| self.t <= u),
                }
            })
            .collect()
    }

    fn remove(&mut self, ids: &HashSet<u64>) {
        self.cells.retain(|c| !ids.contains(&c.id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn params() -> NucleusParams {
        NucleusParams {
            radius: 8.0,
            radius_spread: 0.1,
            aspect: (1.0, 1.5),
            irregularity: 0.08,
            speed: 0.5,
            persistence: 0.7,
            drift: 0.2,
            cycle: (10.0, 1.0),
            rounding: 3.0,
            parting: 1.5,
            squeeze: 0.1,
            spacing: 0.0,
            adhesion_range: 4.0,
            adhesion: 0.3,
            clustered: 0.5,
            entry_rate: 0.0,
            brightness_spread: 0.3,
            glowing: 0.5,
            glow: (0.0, 0.2),
            texture_amp: 0.2,
            tails: 0.3,
        }
    }

    #[test]
    fn cells_divide_into_two_daughters_of_the_mother() {
        let mut rng = SimRng::seed_from_u64(5);
        let mut w = Nuclei::new(params(), 100, 100, 4, &mut rng);
        let before: HashSet<u64> = w.bodies().iter().map(|b| b.id).collect();
        for _ in 0..15 {
            w.step(&mut rng, 1000);
        }
        let after = w.bodies();
        let daughters: Vec<&Body> = after.iter().filter(|b| b.mother.is_some_and(|m| before.contains(&m))).collect();
        assert!(!daughters.is_empty(), "a 10-frame cycle divides within 15 frames");
        for d in &daughters {
            let sisters = after.iter().filter(|b| b.mother == d.mother).count();
            assert!(sisters <= 2);
        }
    }

    #[test]
    fn spare_labels_hold_back_divisions() {
        let mut rng = SimRng::seed_from_u64(5);
        let mut w = Nuclei::new(params(), 100, 100, 4, &mut rng);
        for _ in 0..30 {
            w.step(&mut rng, 0);
        }
        assert!(w.bodies().iter().all(|b| b.mother.is_none()));
    }

    #[test]
    fn relaxation_separates_overlapping_cells_to_the_allowed_squeeze() {
        let mut rng = SimRng::seed_from_u64(1);
        let mut w = Nuclei::new(params(), 100, 100, 0, &mut rng);
        for x in [50.0, 52.0] {
            let mut c = w.new_cell(&mut rng, None);
            c.aspect = 1.0;
            c.modes.clear();
            (c.x, c.y) = (x, 50.0);
            w.cells.push(c);
        }
        w.relax(30);
        let (a, b) = (w.cells[0].shape(&w.p), w.cells[1].shape(&w.p));
        let d = (w.cells[1].x - w.cells[0].x).abs();
        let touch = a.radius_toward(0.0) + b.radius_toward(PI);
        assert!(d > touch * 0.85 && d < touch, "d={d} touch={touch}");
    }
}
