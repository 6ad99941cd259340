//! How hard a sequence is: divisions per frame and how many cells touch a neighbour.
use std::collections::HashSet;

use crate::ctc::{Mask, TrackRecord};

/// The labels of `mask` that share a 4-connected border with another label.
///
/// ```
/// use ndarray::array;
/// use cellstream::simulate::measure::touching_labels;
/// let m = array![[1, 2, 0, 3], [0, 0, 0, 3], [4, 0, 0, 0], [0, 5, 0, 0]];
/// let t = touching_labels(&m);
/// assert!(t.contains(&1) && t.contains(&2));
/// assert_eq!(t.len(), 2); // 4 and 5 meet only at a corner
/// ```
pub fn touching_labels(mask: &Mask) -> HashSet<u32> {
    let (h, w) = mask.dim();
    let mut out = HashSet::new();
    for y in 0..h {
        for x in 0..w {
            let a = mask[[y, x]];
            if a == 0 {
                continue;
            }
            for (ny, nx) in [(y + 1, x), (y, x + 1)] {
                if ny < h && nx < w {
                    let b = mask[[ny, nx]];
                    if b != 0 && b != a {
                        out.insert(a);
                        out.insert(b);
                    }
                }
            }
        }
    }
    out
}

/// Number of divisions in a lineage: tracks that are the parent of another.
pub fn division_count(tracks: &[TrackRecord]) -> usize {
    tracks.iter().filter(|t| t.parent != 0).map(|t| t.parent).collect::<HashSet<_>>().len()
}

/// Difficulty figures of a simulated (or any labelled) sequence.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SimStats {
    pub frames: usize,
    pub tracks: usize,
    pub divisions: usize,
    /// Cell instances: (label, frame) pairs over the whole sequence.
    pub instances: usize,
    /// Instances sharing a 4-connected border with another label.
    pub touching: usize,
    /// Mean instance area, pixels.
    pub mean_area: f64,
}

impl SimStats {
    /// Adds one frame's truth mask.
    pub fn add_mask(&mut self, mask: &Mask) {
        let labels: HashSet<u32> = mask.iter().copied().filter(|&l| l != 0).collect();
        let pixels = mask.iter().filter(|&&l| l != 0).count();
        let before = self.instances;
        self.instances += labels.len();
        self.touching += touching_labels(mask).len();
        if self.instances > 0 {
            self.mean_area = (self.mean_area * before as f64 + pixels as f64) / self.instances as f64;
        }
        self.frames += 1;
    }

    /// Records the lineage once all frames are in.
    pub fn set_tracks(&mut self, tracks: &[TrackRecord]) {
        self.tracks = tracks.len();
        self.divisions = division_count(tracks);
    }

    /// Divisions per frame transition.
    pub fn division_rate(&self) -> f64 {
        self.divisions as f64 / self.frames.saturating_sub(1).max(1) as f64
    }

    /// Fraction of cell instances touching another cell.
    pub fn touching_fraction(&self) -> f64 {
        self.touching as f64 / self.instances.max(1) as f64
    }
}

impl std::fmt::Display for SimStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rate = match self.divisions {
            0 => String::new(),
            _ => format!(" ({:.3} per frame, one per {:.1} frames)", self.division_rate(), 1.0 / self.division_rate()),
        };
        write!(
            f,
            "{} frames, {} tracks, {} divisions{rate}, {} cell instances of {:.0} px on average, {:.1}% touching a neighbour",
            self.frames,
            self.tracks,
            self.divisions,
            self.instances,
            self.mean_area,
            100.0 * self.touching_fraction()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn stats_add_up() {
        let mut s = SimStats::default();
        s.add_mask(&array![[1, 2], [0, 0]]);
        s.add_mask(&array![[3, 0], [0, 4]]);
        s.set_tracks(&[
            TrackRecord::new(1, 0, 0, 0),
            TrackRecord::new(2, 0, 0, 0),
            TrackRecord::new(3, 1, 1, 1),
            TrackRecord::new(4, 1, 1, 1),
        ]);
        assert_eq!((s.instances, s.touching, s.divisions), (4, 2, 1));
        assert_eq!(s.touching_fraction(), 0.5);
        assert_eq!(s.division_rate(), 1.0);
        assert_eq!(s.mean_area, 1.0);
    }
}
