//! Synthetic label-mask movies of moving, growing and dividing disks with their true lineage,
//! for the linker's tests and benchmark (included with `mod link_support;` or `#[path]`).
#![allow(dead_code)]
use std::collections::{BTreeMap, HashMap};

use cellstream::ctc::{Mask, TrackRecord};
use ndarray::Array2;

/// How the simulated cells behave.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub shape: (usize, usize),
    pub cells: usize,
    /// Radius of a grown cell, in pixels.
    pub radius: f64,
    /// Standard deviation of the per-frame step, in pixels.
    pub step: f64,
    /// Cell cycle in frames, drawn uniformly from this range; `None`: no divisions.
    pub cycle: Option<(usize, usize)>,
    /// Most cells alive at once (divisions stop beyond it).
    pub max_cells: usize,
    pub seed: u64,
}

#[derive(Debug, Clone)]
struct Cell {
    id: u32,
    pos: [f64; 2],
    born: usize,
    cycle: usize,
    birth_radius: f64,
}

/// A running simulation: call [`DiskSim::frame`] for each frame in turn.
#[derive(Debug)]
pub struct DiskSim {
    cfg: SimConfig,
    rng: fastrand::Rng,
    cells: Vec<Cell>,
    t: usize,
    /// True tracks by id (the label each cell has in the frames).
    pub tracks: BTreeMap<u32, TrackRecord>,
}

impl DiskSim {
    pub fn new(cfg: SimConfig) -> DiskSim {
        let rng = fastrand::Rng::with_seed(cfg.seed);
        let mut sim = DiskSim { cfg: cfg.clone(), rng, cells: Vec::new(), t: 0, tracks: BTreeMap::new() };
        let margin = cfg.radius * 2.0;
        let mut tries = 0;
        while sim.cells.len() < cfg.cells && tries < 100 * cfg.cells {
            tries += 1;
            let pos = [
                margin + sim.rng.f64() * (cfg.shape.0 as f64 - 2.0 * margin),
                margin + sim.rng.f64() * (cfg.shape.1 as f64 - 2.0 * margin),
            ];
            if sim.cells.iter().all(|c| dist(c.pos, pos) > 3.0 * cfg.radius) {
                // Stagger the first divisions over the first cycle.
                let cycle = match cfg.cycle {
                    Some((_, b)) => sim.rng.usize(1..=b),
                    None => usize::MAX,
                };
                let id = sim.cells.len() as u32 + 1;
                let c = Cell { id, pos, born: 0, cycle, birth_radius: cfg.radius };
                sim.tracks.insert(id, TrackRecord::new(id, 0, 0, 0));
                sim.cells.push(c);
            }
        }
        sim
    }

    fn radius(&self, c: &Cell) -> f64 {
        if c.birth_radius >= self.cfg.radius {
            return self.cfg.radius;
        }
        let f = ((self.t - c.born) as f64 / c.cycle.max(1) as f64).min(1.0);
        c.birth_radius + f * (self.cfg.radius - c.birth_radius)
    }

    /// Draws the current frame (label = true track id), then moves the cells on.
    pub fn frame(&mut self) -> Mask {
        let mut m = Array2::zeros(self.cfg.shape);
        for c in &self.cells {
            draw_disk(&mut m, c.pos, self.radius(c), c.id);
            self.tracks.get_mut(&c.id).expect("known cell").end = self.t;
        }
        self.advance();
        m
    }

    fn advance(&mut self) {
        self.t += 1;
        let (h, w) = (self.cfg.shape.0 as f64, self.cfg.shape.1 as f64);
        // Divisions: the mother ends, two daughters of half her area appear on either side.
        let mut next = Vec::with_capacity(self.cells.len());
        let cells = std::mem::take(&mut self.cells);
        let mut alive = cells.len();
        for c in cells {
            if self.t - c.born >= c.cycle && alive < self.cfg.max_cells {
                alive += 1;
                let r = self.cfg.radius / std::f64::consts::SQRT_2;
                let a = self.rng.f64() * std::f64::consts::TAU;
                let off = [(r + 1.5) * a.sin(), (r + 1.5) * a.cos()];
                for s in [1.0, -1.0] {
                    let id = self.tracks.len() as u32 + 1;
                    self.tracks.insert(id, TrackRecord::new(id, self.t, self.t, c.id));
                    let cycle = draw_cycle(self.cfg.cycle, &mut self.rng);
                    next.push(Cell { id, pos: [c.pos[0] + s * off[0], c.pos[1] + s * off[1]], born: self.t, cycle, birth_radius: r });
                }
            } else {
                next.push(c);
            }
        }
        // A random step, then push apart cells that would touch.
        for c in &mut next {
            c.pos[0] += self.cfg.step * gauss(&mut self.rng);
            c.pos[1] += self.cfg.step * gauss(&mut self.rng);
        }
        let radii: Vec<f64> = next.iter().map(|c| self.radius(c)).collect();
        let grid_cell = 2.0 * self.cfg.radius + 3.0;
        for _ in 0..3 {
            let mut bins: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
            for (i, c) in next.iter().enumerate() {
                bins.entry(((c.pos[0] / grid_cell) as i64, (c.pos[1] / grid_cell) as i64)).or_default().push(i);
            }
            for i in 0..next.len() {
                let key = ((next[i].pos[0] / grid_cell) as i64, (next[i].pos[1] / grid_cell) as i64);
                for dy in -1..=1 {
                    for dx in -1..=1 {
                        for &j in bins.get(&(key.0 + dy, key.1 + dx)).map_or(&[][..], |v| v) {
                            if j <= i {
                                continue;
                            }
                            let need = radii[i] + radii[j] + 2.5;
                            let d = dist(next[i].pos, next[j].pos);
                            if d < need {
                                let (uy, ux) = if d > 1e-9 {
                                    ((next[j].pos[0] - next[i].pos[0]) / d, (next[j].pos[1] - next[i].pos[1]) / d)
                                } else {
                                    (1.0, 0.0)
                                };
                                let push = (need - d) / 2.0;
                                next[i].pos[0] -= uy * push;
                                next[i].pos[1] -= ux * push;
                                next[j].pos[0] += uy * push;
                                next[j].pos[1] += ux * push;
                            }
                        }
                    }
                }
            }
        }
        // Cells stay inside the frame.
        for (c, r) in next.iter_mut().zip(&radii) {
            c.pos[0] = c.pos[0].clamp(*r + 1.0, h - r - 2.0);
            c.pos[1] = c.pos[1].clamp(*r + 1.0, w - r - 2.0);
        }
        self.cells = next;
    }

    /// The true divisions: (mother, first frame of the daughters, [daughters]).
    pub fn divisions(&self) -> Vec<(u32, usize, [u32; 2])> {
        let mut kids: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for t in self.tracks.values() {
            if t.parent != 0 {
                kids.entry(t.parent).or_default().push(t.label);
            }
        }
        kids.into_iter()
            .filter(|(_, k)| k.len() == 2)
            .map(|(m, k)| (m, self.tracks[&k[0]].begin, [k[0], k[1]]))
            .collect()
    }
}

fn draw_cycle(cycle: Option<(usize, usize)>, rng: &mut fastrand::Rng) -> usize {
    match cycle {
        Some((a, b)) => rng.usize(a..=b),
        None => usize::MAX,
    }
}

fn dist(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

/// A standard normal draw (Box–Muller).
pub fn gauss(rng: &mut fastrand::Rng) -> f64 {
    let u = rng.f64().max(1e-12);
    let v = rng.f64();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Sets the pixels within `r` of `c` (inside the mask) to `label`.
pub fn draw_disk(m: &mut Mask, c: [f64; 2], r: f64, label: u32) {
    let (h, w) = m.dim();
    let y0 = (c[0] - r).floor().max(0.0) as usize;
    let y1 = ((c[0] + r).ceil() as usize + 1).min(h);
    let x0 = (c[1] - r).floor().max(0.0) as usize;
    let x1 = ((c[1] + r).ceil() as usize + 1).min(w);
    for y in y0..y1 {
        for x in x0..x1 {
            if (y as f64 - c[0]).hypot(x as f64 - c[1]) <= r {
                m[[y, x]] = label;
            }
        }
    }
}

/// For each label of `result`, the label of `truth` covering most of its pixels (0: none).
pub fn match_labels(result: &Mask, truth: &Mask) -> HashMap<u32, u32> {
    let mut counts: HashMap<(u32, u32), u64> = HashMap::new();
    for (&r, &g) in result.iter().zip(truth.iter()) {
        if r != 0 {
            *counts.entry((r, g)).or_default() += 1;
        }
    }
    let mut best: HashMap<u32, (u64, u32)> = HashMap::new();
    for ((r, g), n) in counts {
        let e = best.entry(r).or_insert((0, 0));
        if (n, std::cmp::Reverse(g)) > (e.0, std::cmp::Reverse(e.1)) {
            *e = (n, g);
        }
    }
    best.into_iter().map(|(r, (_, g))| (r, g)).collect()
}

/// Replaces each label by a random other one, frame by frame (a segmenter's
/// labels carry no identity across frames).
pub fn shuffle_labels(m: &Mask, rng: &mut fastrand::Rng) -> Mask {
    let mut labels: Vec<u32> = m.iter().copied().filter(|&l| l != 0).collect();
    labels.sort_unstable();
    labels.dedup();
    let mut new: Vec<u32> = (1..=labels.len() as u32).map(|x| x * 7 + 3).collect();
    rng.shuffle(&mut new);
    let map: HashMap<u32, u32> = labels.into_iter().zip(new).collect();
    m.mapv(|l| if l == 0 { 0 } else { map[&l] })
}
