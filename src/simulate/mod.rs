//! Simulated time-lapse sequences with exact ground truth, for training and testing without downloads.
//!
//! Like CTC's own Fluo-N2DH-SIM+ (MitoGen / CytoPacq, CBIA Brno), a sequence
//! is made by moving cells in a world model ([`nuclei`], [`colony`]), drawing
//! their outlines into a label map ([`raster`]), giving them track labels
//! ([`lineage`]) and imaging them ([`render`]: [`optics`], [`camera`]).
//! Three modalities:
//!
//! * `fluo`: fluorescent nuclei, bright on dark, 16-bit (like Fluo-N2DL-HeLa).
//! * `phase`: migrating cells in phase contrast, 8-bit, with halos (like PhC-C2DL-PSC).
//! * `colony`: a dense, growing colony of rod-shaped bacteria in phase contrast.
//!
//! The same [`SimConfig`] always gives the same frames, bit for bit: all
//! randomness comes from one seeded PCG generator for the cells and one per
//! frame for the camera, consumed in a fixed order.
//!
//! ```
//! use cellstream::simulate::{simulate, Modality, SimConfig};
//! let cfg = SimConfig { frames: 3, width: 64, height: 48, ..SimConfig::new(Modality::Fluo) };
//! let mut sim = simulate(&cfg).unwrap();
//! let frames: Vec<_> = sim.by_ref().collect();
//! assert_eq!(frames.len(), 3);
//! assert_eq!(frames[0].mask.dim(), (48, 64));
//! let tracks = sim.tracks(); // complete once every frame was taken
//! assert!(tracks.iter().all(|t| t.end < 3));
//! ```
pub mod body;
pub mod camera;
pub mod colony;
pub mod lineage;
pub mod measure;
pub mod nuclei;
pub mod optics;
pub mod raster;
pub mod render;
pub mod shape;
pub mod texture;
mod command;
mod write;

use std::collections::HashSet;

use rand::{RngExt, SeedableRng};

use crate::ctc::{Frame, Mask, TrackRecord};
use body::World;
use colony::{Colony, ColonyParams};
use lineage::{TrackBook, MAX_LABEL};
use nuclei::{NucleusParams, Nuclei};
use raster::{keep_largest_pieces, rasterize};
use render::Renderer;

pub use measure::SimStats;
pub use command::{run_cli, SimulateArgs};
pub use write::write_sequence;

/// The random number generator of every simulation (PCG, O'Neill 2014).
pub type SimRng = rand_pcg::Pcg64Mcg;

/// What kind of microscopy a simulated sequence imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Modality {
    /// Fluorescent nuclei, 16-bit.
    Fluo,
    /// Phase-contrast cells, 8-bit.
    Phase,
    /// A growing colony of rod-shaped bacteria in phase contrast, 8-bit.
    Colony,
}

impl std::fmt::Display for Modality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Modality::Fluo => "fluo",
            Modality::Phase => "phase",
            Modality::Colony => "colony",
        })
    }
}

/// A simulation's settings. [`SimConfig::new`] fills in the defaults of a modality.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    pub modality: Modality,
    pub width: usize,
    pub height: usize,
    pub frames: usize,
    pub seed: u64,
    /// Cells in the first frame (before cells too close to the border are dropped).
    pub cells: usize,
    /// Chance that a cell, in any one frame, shows at [`DIM_CONTRAST`] of its
    /// contrast (a cell that dims, bleaches or drifts out of focus for a
    /// frame); the truth still holds it. 0 (the default) draws nothing extra,
    /// so sequences without dimming stay the same byte for byte.
    pub dim: f64,
}

/// The fraction of its contrast a dimmed cell keeps ([`SimConfig::dim`]).
pub const DIM_CONTRAST: f32 = 0.2;

/// A setting that cannot be simulated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl SimConfig {
    /// The defaults: 256×256 pixels, 50 frames, seed 1, and the modality's
    /// usual number of cells.
    pub fn new(modality: Modality) -> SimConfig {
        SimConfig { modality, width: 256, height: 256, frames: 50, seed: 1, cells: default_cells(modality, 256, 256), dim: 0.0 }
    }

    /// Errors on settings that cannot make a sequence.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.frames == 0 {
            return Err(ConfigError("--frames must be at least 1".into()));
        }
        if self.width < 32 || self.height < 32 {
            return Err(ConfigError(format!(
                "frame size {}×{} is too small; width and height must be at least 32 pixels",
                self.width, self.height
            )));
        }
        if self.width > 16_384 || self.height > 16_384 {
            return Err(ConfigError(format!("frame size {}×{} is too large (at most 16384 per side)", self.width, self.height)));
        }
        if self.frames > 9_999 {
            return Err(ConfigError(format!("{} frames is more than the CTC's 4-digit frame names allow (9999)", self.frames)));
        }
        if !(0.0..=1.0).contains(&self.dim) {
            return Err(ConfigError(format!("--dim {} is not a chance between 0 and 1", self.dim)));
        }
        if self.cells as u64 > MAX_LABEL as u64 {
            return Err(ConfigError(format!("--cells {} is more than 16-bit masks can label ({MAX_LABEL})", self.cells)));
        }
        Ok(())
    }
}

/// The usual number of starting cells for a modality on an `h`×`w` frame:
/// fluorescence ~30 nuclei per 256² (HeLa-like), phase contrast ~20 cells per
/// 256² (denser than the first frames of PhC-C2DL-PSC), a colony 8 founders.
pub fn default_cells(modality: Modality, h: usize, w: usize) -> usize {
    let area = (h * w) as f64 / 65_536.0;
    match modality {
        Modality::Fluo => (24.0 * area).round().max(1.0) as usize,
        Modality::Phase => (20.0 * area).round().max(1.0) as usize,
        Modality::Colony => 8,
    }
}

/// Cell parameters of the `fluo` modality: HeLa-like nuclei of ~400 px².
pub fn fluo_params() -> NucleusParams {
    NucleusParams {
        radius: 9.5,
        radius_spread: 0.18,
        aspect: (1.0, 1.7),
        irregularity: 0.09,
        speed: 0.7,
        persistence: 0.75,
        drift: 0.35,
        cycle: (60.0, 15.0),
        rounding: 3.0,
        parting: 2.0,
        squeeze: 0.06,
        spacing: 3.5,
        adhesion_range: 3.0,
        adhesion: 0.05,
        clustered: 0.3,
        entry_rate: 0.12,
        brightness_spread: 0.55,
        glowing: 0.0,
        glow: (0.0, 0.0),
        texture_amp: 0.22,
        tails: 0.0,
    }
}

/// Cell parameters of the `phase` modality: PSC-like elongated cells of ~200 px².
pub fn phase_params() -> NucleusParams {
    NucleusParams {
        radius: 6.5,
        radius_spread: 0.22,
        aspect: (1.6, 3.5),
        irregularity: 0.12,
        speed: 1.0,
        persistence: 0.8,
        drift: 0.4,
        cycle: (80.0, 18.0),
        rounding: 3.0,
        parting: 2.0,
        squeeze: 0.06,
        spacing: 3.0,
        adhesion_range: 3.0,
        adhesion: 0.05,
        clustered: 0.3,
        entry_rate: 0.15,
        brightness_spread: 0.3,
        glowing: 0.65,
        glow: (0.5, 1.2),
        texture_amp: 0.3,
        tails: 0.8,
    }
}

/// Cell parameters of the `colony` modality: rods 8 px wide, born ~20 px long,
/// doubling every ~8 frames.
pub fn colony_params() -> ColonyParams {
    ColonyParams { radius: 4.0, added: 20.0, doubling: 8.0, doubling_spread: 0.12, squeeze: 1.2, jitter: 0.08 }
}

/// One simulated frame and its truth.
#[derive(Debug, Clone, PartialEq)]
pub struct SimFrame {
    pub t: usize,
    /// The raw image (16-bit fluorescence, 8-bit phase contrast).
    pub raw: Frame,
    /// The truth: one label per track, 0 background (the same for SEG and TRA).
    pub mask: Mask,
}

/// A running simulation: an iterator over its frames. The track records
/// ([`Simulation::tracks`]) are complete once the iterator is exhausted.
pub struct Simulation {
    cfg: SimConfig,
    world: Box<dyn World>,
    renderer: Renderer,
    book: TrackBook,
    rng: SimRng,
    t: usize,
    /// Cells alive but not yet labelled (entering, still invisible).
    pending: usize,
    min_area: usize,
    /// Most track labels the sequence may use ([`MAX_LABEL`]; lowered in tests).
    label_limit: u32,
}

/// Splits a seed into independent seeds for different uses (SplitMix64, Steele et al. 2014).
fn derive_seed(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Starts a simulation of `cfg` (checked first).
pub fn simulate(cfg: &SimConfig) -> Result<Simulation, ConfigError> {
    cfg.check()?;
    let (h, w) = (cfg.height, cfg.width);
    let mut rng = SimRng::seed_from_u64(derive_seed(cfg.seed, 0));
    let mut look_rng = SimRng::seed_from_u64(derive_seed(cfg.seed, 1));
    let world: Box<dyn World> = match cfg.modality {
        Modality::Fluo => Box::new(Nuclei::new(fluo_params(), h, w, cfg.cells, &mut rng)),
        Modality::Phase => Box::new(Nuclei::new(phase_params(), h, w, cfg.cells, &mut rng)),
        Modality::Colony => Box::new(Colony::new(colony_params(), h, w, cfg.cells, &mut rng)),
    };
    let renderer = Renderer::new(cfg.modality, h, w, &mut look_rng);
    let min_area = match cfg.modality {
        Modality::Fluo => 20,
        Modality::Phase => 15,
        Modality::Colony => 12,
    };
    Ok(Simulation { cfg: cfg.clone(), world, renderer, book: TrackBook::new(), rng, t: 0, pending: 0, min_area, label_limit: MAX_LABEL })
}

impl Simulation {
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// Track records of the frames produced so far, sorted by label.
    pub fn tracks(&self) -> Vec<TrackRecord> {
        self.book.tracks()
    }

    /// Produces frame `self.t`.
    fn frame(&mut self) -> SimFrame {
        let t = self.t;
        if t > 0 {
            let spare = (self.label_limit as usize).saturating_sub(self.book.labels_used() as usize + self.pending);
            self.world.step(&mut self.rng, spare);
        }
        let mut bodies = self.world.bodies();
        if self.cfg.dim > 0.0 {
            // A stream of its own, so that dimming changes nothing else.
            let mut dim = SimRng::seed_from_u64(derive_seed(self.cfg.seed, 500_000 + t as u64));
            for b in &mut bodies {
                if dim.random::<f64>() < self.cfg.dim {
                    b.look.fade(DIM_CONTRAST);
                }
            }
        }
        let outlines: Vec<_> = bodies.iter().map(|b| b.outline.clone()).collect();
        let mut raster = rasterize(&outlines, self.cfg.height, self.cfg.width);
        let areas = keep_largest_pieces(&mut raster.owner, bodies.len(), self.min_area);
        let mut labels = vec![0u32; bodies.len()];
        let mut gone = HashSet::new();
        self.pending = 0;
        for (i, b) in bodies.iter().enumerate() {
            if areas[i] > 0 {
                labels[i] = self.book.observe(t, b.id, b.mother);
            } else if self.book.is_labelled(b.id) || !b.entering {
                gone.insert(b.id);
            } else {
                self.pending += 1;
            }
        }
        self.world.remove(&gone);
        let mask = raster.owner.mapv(|o| if o == 0 { 0 } else { labels[o as usize - 1] });
        let mut noise = SimRng::seed_from_u64(derive_seed(self.cfg.seed, 1000 + t as u64));
        let raw = self.renderer.render(t, &raster, &bodies, &mut noise);
        self.t += 1;
        SimFrame { t, raw, mask }
    }
}

impl Iterator for Simulation {
    type Item = SimFrame;

    fn next(&mut self) -> Option<SimFrame> {
        (self.t < self.cfg.frames).then(|| self.frame())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.cfg.frames - self.t;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Simulation {}

/// Runs a whole simulation in memory: its frames and its track records.
pub fn simulate_all(cfg: &SimConfig) -> Result<(Vec<SimFrame>, Vec<TrackRecord>), ConfigError> {
    let mut sim = simulate(cfg)?;
    let frames: Vec<SimFrame> = sim.by_ref().collect();
    Ok((frames, sim.tracks()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick(modality: Modality, seed: u64) -> SimConfig {
        SimConfig { frames: 12, width: 96, height: 80, seed, ..SimConfig::new(modality) }
    }

    #[test]
    fn same_seed_same_frames_different_seed_different_frames() {
        for m in [Modality::Fluo, Modality::Phase, Modality::Colony] {
            let (a, ta) = simulate_all(&quick(m, 4)).unwrap();
            let (b, tb) = simulate_all(&quick(m, 4)).unwrap();
            let (c, _) = simulate_all(&quick(m, 5)).unwrap();
            assert!(a == b && ta == tb, "{m:?}: same seed must repeat exactly");
            assert!(a[5].raw != c[5].raw, "{m:?}: another seed must differ");
        }
    }

    #[test]
    fn truth_follows_the_lineage_rules() {
        for m in [Modality::Fluo, Modality::Phase, Modality::Colony] {
            for seed in 0..3 {
                let (frames, tracks) = simulate_all(&quick(m, seed)).unwrap();
                let by_label: std::collections::HashMap<u32, &TrackRecord> = tracks.iter().map(|t| (t.label, t)).collect();
                for f in &frames {
                    let present: HashSet<u32> = f.mask.iter().copied().filter(|&l| l != 0).collect();
                    for (&l, tr) in &by_label {
                        assert_eq!(present.contains(&l), (tr.begin..=tr.end).contains(&f.t), "{m:?} seed {seed} label {l} frame {}", f.t);
                    }
                }
                for tr in &tracks {
                    if tr.parent != 0 {
                        assert_eq!(by_label[&tr.parent].end + 1, tr.begin, "{m:?}: mother ends the frame before");
                    }
                }
            }
        }
    }

    #[test]
    fn divisions_wait_when_labels_run_out() {
        let cfg = SimConfig { frames: 40, width: 128, height: 128, ..SimConfig::new(Modality::Colony) };
        let mut sim = simulate(&cfg).unwrap();
        sim.label_limit = 30;
        let frames: Vec<SimFrame> = sim.by_ref().collect();
        let tracks = sim.tracks();
        assert!(tracks.len() <= 30 && tracks.len() >= 20, "{} tracks", tracks.len());
        let last: HashSet<u32> = frames[39].mask.iter().copied().filter(|&l| l != 0).collect();
        assert!(!last.is_empty(), "cells live on, undivided");
    }

    #[test]
    fn bad_settings_are_refused() {
        let base = SimConfig::new(Modality::Fluo);
        let e = simulate(&SimConfig { frames: 0, ..base.clone() }).err().unwrap();
        assert!(e.0.contains("--frames"), "{e}");
        let e = simulate(&SimConfig { width: 0, ..base.clone() }).err().unwrap();
        assert!(e.0.contains("too small"), "{e}");
        assert!(simulate(&SimConfig { cells: 70_000, ..base }).is_err());
    }

    #[test]
    fn dimming_fades_some_cells_for_a_frame_and_changes_nothing_else() {
        let base = quick(Modality::Fluo, 3);
        let (plain, tp) = simulate_all(&base).unwrap();
        let (dimmed, td) = simulate_all(&SimConfig { dim: 0.3, ..base.clone() }).unwrap();
        assert_eq!(tp, td, "the same lineage");
        let mut faded = 0;
        for (a, b) in plain.iter().zip(&dimmed) {
            assert_eq!(a.mask, b.mask, "frame {}: the same truth", a.t);
            // Each cell's signal above the background: dimmed ones keep about a fifth of it.
            let (ra, rb) = (a.raw.to_f32(), b.raw.to_f32());
            let background = a.mask.iter().zip(ra.iter()).filter(|&(&m, _)| m == 0).map(|(_, &v)| f64::from(v));
            let bg = background.clone().sum::<f64>() / background.count() as f64;
            let labels: HashSet<u32> = a.mask.iter().copied().filter(|&l| l != 0).collect();
            for l in labels {
                let signal = |r: &ndarray::Array2<f32>| -> f64 {
                    a.mask.iter().zip(r.iter()).filter(|&(&m, _)| m == l).map(|(_, &v)| f64::from(v) - bg).sum()
                };
                if signal(&rb) < 0.5 * signal(&ra) {
                    faded += 1;
                }
            }
        }
        let cells: usize = plain.iter().map(|f| f.mask.iter().copied().filter(|&l| l != 0).collect::<HashSet<_>>().len()).sum();
        let share = faded as f64 / cells as f64;
        assert!((0.15..0.45).contains(&share), "{faded} of {cells} cell-frames faded");
        assert!(simulate(&SimConfig { dim: 1.5, ..base }).is_err());
    }

    #[test]
    fn derived_seeds_differ() {
        assert_ne!(derive_seed(1, 0), derive_seed(1, 1));
        assert_ne!(derive_seed(1, 0), derive_seed(2, 0));
    }
}
