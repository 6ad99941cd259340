//! A growing colony of rod-shaped bacteria in a monolayer (an agar pad seen in phase contrast).
//!
//! Each cell is a capsule that elongates exponentially at its own rate and
//! divides at its middle once it has added a set length since birth (the
//! "adder" rule of Taheri-Araghi et al., Current Biology 2015). Cells push each
//! other apart along their contacts (position-based dynamics over capsule
//! pairs, as in the agent-based colony models of Volfson et al., PNAS 2008),
//! which turns them and lines them up; compressed cells stop growing, so the
//! colony grows at its edge. The
//! colony spreads out of the field, where cells end their tracks.
use std::collections::{HashMap, HashSet};
use std::f64::consts::TAU;

use rand::RngExt;
use rand_distr::StandardNormal;

use super::body::{Body, IdSource, Look, World};
use super::shape::{Capsule, Outline};
use super::SimRng;

/// Parameters of a colony of rods.
#[derive(Debug, Clone, PartialEq)]
pub struct ColonyParams {
    /// Rod radius (half the width), pixels.
    pub radius: f64,
    /// Length (cap to cap) a newborn cell adds before it divides, pixels.
    pub added: f64,
    /// Doubling time in frames (mean) and its relative spread between cells.
    pub doubling: f64,
    pub doubling_spread: f64,
    /// Allowed overlap of neighbours (pixels), so that they share borders.
    pub squeeze: f64,
    /// Brownian jitter of position (pixels) and angle (radians) per frame.
    pub jitter: f64,
}

#[derive(Debug, Clone)]
struct Rod {
    id: u64,
    mother: Option<u64>,
    x: f64,
    y: f64,
    angle: f64,
    /// Length cap to cap.
    len: f64,
    birth_len: f64,
    /// Length at which it divides.
    div_len: f64,
    /// Exponential growth rate per frame.
    rate: f64,
    /// Residual compression after the last relaxation (slows growth).
    pressure: f64,
    texture_at: (f64, f64),
    thickness: f64,
}

impl Rod {
    fn capsule(&self, radius: f64) -> Capsule {
        let progress = ((self.len - self.birth_len) / (self.div_len - self.birth_len)).clamp(0.0, 1.0);
        Capsule {
            cx: self.x,
            cy: self.y,
            angle: self.angle,
            half_len: (self.len / 2.0 - radius).max(0.0),
            radius,
            constriction: 0.6 * ((progress - 0.75) / 0.25).clamp(0.0, 1.0),
        }
    }
}

/// A colony of rod-shaped cells.
#[derive(Debug, Clone)]
pub struct Colony {
    p: ColonyParams,
    h: f64,
    w: f64,
    rods: Vec<Rod>,
    ids: IdSource,
}

impl Colony {
    /// Starts `n` unsynchronised cells close together at the field's centre.
    pub fn new(p: ColonyParams, h: usize, w: usize, n: usize, rng: &mut SimRng) -> Colony {
        let mut c = Colony { p, h: h as f64, w: w as f64, rods: Vec::new(), ids: IdSource::default() };
        let spread = 2.0 * c.p.added * (n as f64).sqrt() / 2.0;
        for _ in 0..n {
            let mut r = c.new_rod(rng, None, c.p.added);
            r.len = r.birth_len + rng.random_range(0.0..1.0) * (r.div_len - r.birth_len);
            let a = rng.random_range(0.0..TAU);
            let d = spread * rng.random_range(0.0f64..1.0).sqrt();
            r.x = c.w / 2.0 + d * a.cos();
            r.y = c.h / 2.0 + d * a.sin();
            c.rods.push(r);
        }
        c.relax(40);
        c
    }

    fn new_rod(&mut self, rng: &mut SimRng, mother: Option<u64>, birth_len: f64) -> Rod {
        let p = &self.p;
        let doubling = p.doubling * (1.0 + p.doubling_spread * rng.sample::<f64, _>(StandardNormal)).clamp(0.5, 2.0);
        let added = p.added * (1.0 + 0.1 * rng.sample::<f64, _>(StandardNormal)).clamp(0.6, 1.4);
        Rod {
            id: self.ids.next_id(),
            mother,
            x: 0.0,
            y: 0.0,
            angle: rng.random_range(0.0..TAU),
            len: birth_len,
            birth_len,
            div_len: birth_len + added,
            rate: std::f64::consts::LN_2 / doubling,
            pressure: 0.0,
            texture_at: (rng.random_range(0.0..1024.0), rng.random_range(0.0..1024.0)),
            thickness: 1.0 + 0.1 * rng.sample::<f64, _>(StandardNormal),
        }
    }

    fn divide(&mut self, i: usize, rng: &mut SimRng) -> [Rod; 2] {
        let m = self.rods[i].clone();
        let (ux, uy) = (m.angle.cos(), m.angle.sin());
        let half = m.len / 2.0;
        [1.0, -1.0].map(|side| {
            let mut d = self.new_rod(rng, Some(m.id), (half - 0.5).max(2.0 * self.p.radius));
            d.x = m.x + side * ux * half / 2.0;
            d.y = m.y + side * uy * half / 2.0;
            d.angle = m.angle + 0.03 * rng.sample::<f64, _>(StandardNormal);
            d.rate = m.rate * (1.0 + 0.05 * rng.sample::<f64, _>(StandardNormal));
            d
        })
    }

    /// Position-based relaxation of rod contacts: every overlapping pair is
    /// pushed apart along the line between the closest points of their axes,
    /// which both moves and turns the rods. Records each rod's residual pressure.
    fn relax(&mut self, iterations: usize) {
        let r = self.p.radius;
        let target = 2.0 * r - self.p.squeeze;
        let n = self.rods.len();
        let cell = self.rods.iter().map(|d| d.len).fold(2.0 * r, f64::max) + 1.0;
        let mut pressure = vec![0.0; n];
        for it in 0..iterations {
            let caps: Vec<Capsule> = self.rods.iter().map(|d| d.capsule(r)).collect();
            let mut grid: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
            for (i, d) in self.rods.iter().enumerate() {
                grid.entry(((d.x / cell).floor() as i64, (d.y / cell).floor() as i64)).or_default().push(i);
            }
            let mut keys: Vec<_> = grid.keys().copied().collect();
            keys.sort_unstable();
            let last = it + 1 == iterations;
            for key in keys {
                for &i in &grid[&key] {
                    for gy in -1..=1 {
                        for gx in -1..=1 {
                            let Some(list) = grid.get(&(key.0 + gx, key.1 + gy)) else { continue };
                            for &j in list {
                                if j <= i {
                                    continue;
                                }
                                let (pi, pj) = closest_points(&caps[i], &caps[j]);
                                let (dx, dy) = (pj.0 - pi.0, pj.1 - pi.1);
                                let d = dx.hypot(dy);
                                if d >= target {
                                    continue;
                                }
                                let (nx, ny) = if d > 1e-9 {
                                    (dx / d, dy / d)
                                } else {
                                    let a = self.rods[i].angle + std::f64::consts::FRAC_PI_2;
                                    (a.cos(), a.sin())
                                };
                                let push = 0.5 * (target - d);
                                if last {
                                    pressure[i] += target - d;
                                    pressure[j] += target - d;
                                }
                                self.shove(i, pi, -push * nx, -push * ny);
                                self.shove(j, pj, push * nx, push * ny);
                            }
                        }
                    }
                }
            }
        }
        for (d, pr) in self.rods.iter_mut().zip(pressure) {
            d.pressure = pr;
        }
    }

    /// Moves rod `i` by (`dx`, `dy`) applied at point `at`: a translation plus
    /// the turn the off-centre push causes (long rods turn less).
    fn shove(&mut self, i: usize, at: (f64, f64), dx: f64, dy: f64) {
        let d = &mut self.rods[i];
        let (ax, ay) = (at.0 - d.x, at.1 - d.y);
        let inertia = d.len * d.len / 12.0 + 1.0;
        d.angle += 0.5 * (ax * dy - ay * dx) / inertia;
        d.x += 0.7 * dx;
        d.y += 0.7 * dy;
    }
}

/// Closest points between the axis segments of two capsules (Ericson,
/// Real-Time Collision Detection, 2005, §5.1.9).
fn closest_points(a: &Capsule, b: &Capsule) -> ((f64, f64), (f64, f64)) {
    let ((p1x, p1y), (q1x, q1y)) = a.ends();
    let ((p2x, p2y), (q2x, q2y)) = b.ends();
    let (d1x, d1y) = (q1x - p1x, q1y - p1y);
    let (d2x, d2y) = (q2x - p2x, q2y - p2y);
    let (rx, ry) = (p1x - p2x, p1y - p2y);
    let aa = d1x * d1x + d1y * d1y;
    let ee = d2x * d2x + d2y * d2y;
    let ff = d2x * rx + d2y * ry;
    let (s, t);
    if aa <= 1e-12 && ee <= 1e-12 {
        (s, t) = (0.0, 0.0);
    } else if aa <= 1e-12 {
        s = 0.0;
        t = (ff / ee).clamp(0.0, 1.0);
    } else {
        let c = d1x * rx + d1y * ry;
        if ee <= 1e-12 {
            t = 0.0;
            s = (-c / aa).clamp(0.0, 1.0);
        } else {
            let bb = d1x * d2x + d1y * d2y;
            let denom = aa * ee - bb * bb;
            let mut s0 = if denom > 1e-12 { ((bb * ff - c * ee) / denom).clamp(0.0, 1.0) } else { 0.5 };
            let mut t0 = (bb * s0 + ff) / ee;
            if t0 < 0.0 {
                t0 = 0.0;
                s0 = (-c / aa).clamp(0.0, 1.0);
            } else if t0 > 1.0 {
                t0 = 1.0;
                s0 = ((bb - c) / aa).clamp(0.0, 1.0);
            }
            (s, t) = (s0, t0);
        }
    }
    ((p1x + d1x * s, p1y + d1y * s), (p2x + d2x * t, p2y + d2y * t))
}

impl World for Colony {
    fn step(&mut self, rng: &mut SimRng, mut spare: usize) {
        let p = self.p.clone();
        for d in &mut self.rods {
            // Compression stops growth (a crowded colony grows at its edge).
            let slow = (1.0 - d.pressure / (0.5 * p.radius)).clamp(0.0, 1.0);
            d.len *= (d.rate * slow).exp();
            d.x += p.jitter * rng.sample::<f64, _>(StandardNormal);
            d.y += p.jitter * rng.sample::<f64, _>(StandardNormal);
            d.angle += 0.3 * p.jitter / d.len.max(1.0) * rng.sample::<f64, _>(StandardNormal);
        }
        let mut i = 0;
        while i < self.rods.len() {
            if self.rods[i].len >= self.rods[i].div_len && spare >= 2 {
                let daughters = self.divide(i, rng);
                spare -= 2;
                self.rods.swap_remove(i);
                self.rods.extend(daughters);
            } else {
                i += 1;
            }
        }
        self.relax(12);
        let (w, h) = (self.w, self.h);
        self.rods.retain(|d| {
            let m = d.len;
            d.x > -m && d.y > -m && d.x < w + m && d.y < h + m
        });
    }

    fn bodies(&self) -> Vec<Body> {
        self.rods
            .iter()
            .map(|d| Body {
                id: d.id,
                mother: d.mother,
                outline: Outline::Capsule(d.capsule(self.p.radius)),
                look: Look {
                    brightness: 1.0,
                    texture_at: d.texture_at,
                    texture_amp: 0.08,
                    thickness: d.thickness as f32,
                    glow: 0.0,
                },
                entering: false,
            })
            .collect()
    }

    fn remove(&mut self, ids: &HashSet<u64>) {
        self.rods.retain(|d| !ids.contains(&d.id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn params() -> ColonyParams {
        ColonyParams { radius: 4.0, added: 20.0, doubling: 6.0, doubling_spread: 0.1, squeeze: 0.8, jitter: 0.05 }
    }

    fn cap(cx: f64, cy: f64, angle: f64) -> Capsule {
        Capsule { cx, cy, angle, half_len: 5.0, radius: 2.0, constriction: 0.0 }
    }

    #[test]
    fn closest_points_of_parallel_and_crossing_rods() {
        let (a, b) = closest_points(&cap(0.0, 0.0, 0.0), &cap(0.0, 3.0, 0.0));
        assert!((a.1 - 0.0).abs() < 1e-9 && (b.1 - 3.0).abs() < 1e-9 && (a.0 - b.0).abs() < 1e-9);
        let (a, b) = closest_points(&cap(0.0, 0.0, 0.0), &cap(12.0, 0.0, std::f64::consts::FRAC_PI_2));
        assert!((a.0 - 5.0).abs() < 1e-9 && (b.0 - 12.0).abs() < 1e-9 && b.1.abs() < 1e-9);
    }

    #[test]
    fn colony_grows_and_divides_at_the_middle() {
        let mut rng = SimRng::seed_from_u64(2);
        let mut c = Colony::new(params(), 200, 200, 2, &mut rng);
        for _ in 0..20 {
            c.step(&mut rng, 10_000);
        }
        assert!(c.rods.len() >= 8, "6-frame doubling: {} cells after 20 frames", c.rods.len());
        // Relaxation leaves no pair overlapping by much more than the squeeze.
        let caps: Vec<Capsule> = c.rods.iter().map(|d| d.capsule(4.0)).collect();
        let mut worst: f64 = 0.0;
        for i in 0..caps.len() {
            for j in i + 1..caps.len() {
                let (a, b) = closest_points(&caps[i], &caps[j]);
                worst = worst.max(8.0 - (b.0 - a.0).hypot(b.1 - a.1));
            }
        }
        assert!(worst < 3.0, "worst overlap {worst}");
    }
}
