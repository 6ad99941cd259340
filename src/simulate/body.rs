//! What a simulated world hands to the drawing stages each frame: cells as outlines with a look.
use std::collections::HashSet;

use super::shape::Outline;
use super::SimRng;

/// How one cell looks in this frame, whatever the modality.
#[derive(Debug, Clone, PartialEq)]
pub struct Look {
    /// Fluorescence: relative amount of dye (1 = a typical nucleus).
    pub brightness: f32,
    /// Where the cell's own texture starts in the texture tile.
    pub texture_at: (f64, f64),
    /// Texture contrast (fraction of the brightness or thickness).
    pub texture_amp: f32,
    /// Phase contrast: optical thickness (1 = a typical flat cell).
    pub thickness: f32,
    /// Phase contrast: light scattered by rounded cells (0 = none).
    pub glow: f32,
}

impl Look {
    /// Keeps the fraction `k` of the cell's contrast: its dye, optical
    /// thickness and glow (texture contrast is relative, so it follows).
    pub fn fade(&mut self, k: f32) {
        self.brightness *= k;
        self.thickness *= k;
        self.glow *= k;
    }
}

/// One simulated cell in one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    /// The simulation's own name for the cell (not its track label).
    pub id: u64,
    /// The cell it divided from, if it was born by a division.
    pub mother: Option<u64>,
    pub outline: Outline,
    pub look: Look,
    /// Still entering the field: may be invisible without ending its life.
    pub entering: bool,
}

/// A population of cells moving, growing and dividing from frame to frame.
pub trait World {
    /// Advances the world by one frame. At most `spare` new cells may be
    /// created (each daughter and each cell entering the field counts one),
    /// which keeps the lineage within 16-bit labels.
    fn step(&mut self, rng: &mut SimRng, spare: usize);
    /// The cells as they are now.
    fn bodies(&self) -> Vec<Body>;
    /// Takes cells out of the simulation (they left the field or ended their track).
    fn remove(&mut self, ids: &HashSet<u64>);
}

/// Hands out cell ids 1, 2, 3, …
#[derive(Debug, Clone, Default)]
pub struct IdSource(u64);

impl IdSource {
    pub fn next_id(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }
}
