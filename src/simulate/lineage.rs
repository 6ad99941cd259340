//! The ground-truth lineage: giving simulated cells CTC track labels frame by frame.
//!
//! A cell gets a label the first frame it is visible and keeps it while it
//! stays visible; the simulation removes a labelled cell the first frame it is
//! not (it left the field or was squeezed to a sliver), so every track is
//! present in every frame from its begin `B` to its end `E`. A daughter's
//! parent is its mother's label when the mother's track ended the frame before.
use std::collections::HashMap;

use crate::ctc::TrackRecord;

/// Largest label a 16-bit CTC mask can hold.
pub const MAX_LABEL: u32 = u16::MAX as u32;

/// Track records of one simulated sequence, built as frames are drawn.
#[derive(Debug, Default, Clone)]
pub struct TrackBook {
    records: Vec<TrackRecord>,
    label_of: HashMap<u64, u32>,
}

impl TrackBook {
    pub fn new() -> TrackBook {
        TrackBook::default()
    }

    /// Notes that cell `id` (daughter of cell `mother`, if any) is visible in
    /// frame `t` and returns its track label. Labels run 1, 2, 3, … in order of
    /// first appearance.
    ///
    /// # Panics
    /// When more than [`MAX_LABEL`] tracks would be needed (the simulation
    /// holds back divisions and entries before that can happen), or when a
    /// labelled cell comes back after a frame in which it was not seen.
    ///
    /// ```
    /// use cellstream::simulate::lineage::TrackBook;
    /// let mut book = TrackBook::new();
    /// assert_eq!(book.observe(0, 70, None), 1);
    /// assert_eq!(book.observe(1, 71, Some(70)), 2); // mother 70 ended in frame 0
    /// let t = book.tracks();
    /// assert_eq!((t[1].begin, t[1].parent), (1, 1));
    /// ```
    pub fn observe(&mut self, t: usize, id: u64, mother: Option<u64>) -> u32 {
        if let Some(&label) = self.label_of.get(&id) {
            let rec = &mut self.records[label as usize - 1];
            assert!(rec.end + 1 == t || rec.end == t, "track {label} has a hole before frame {t}");
            rec.end = t;
            return label;
        }
        let label = self.records.len() as u32 + 1;
        assert!(label <= MAX_LABEL, "more than {MAX_LABEL} tracks");
        let parent = mother
            .and_then(|m| self.label_of.get(&m))
            .copied()
            .filter(|&p| t > 0 && self.records[p as usize - 1].end == t - 1)
            .unwrap_or(0);
        self.records.push(TrackRecord { label, begin: t, end: t, parent });
        self.label_of.insert(id, label);
        label
    }

    /// Whether cell `id` has been given a label.
    pub fn is_labelled(&self, id: u64) -> bool {
        self.label_of.contains_key(&id)
    }

    /// Labels given out so far.
    pub fn labels_used(&self) -> u32 {
        self.records.len() as u32
    }

    /// All track records so far, sorted by label.
    pub fn tracks(&self) -> Vec<TrackRecord> {
        self.records.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mother_must_end_the_frame_before() {
        let mut b = TrackBook::new();
        b.observe(0, 1, None);
        b.observe(1, 1, None);
        // The mother is still seen in frame 1, so a cell appearing in frame 1
        // cannot be its daughter in the truth.
        assert_eq!(b.observe(1, 2, Some(1)), 2);
        assert_eq!(b.tracks()[1].parent, 0);
        assert_eq!(b.observe(2, 3, Some(1)), 3);
        assert_eq!(b.tracks()[2].parent, 1);
        assert_eq!(b.observe(2, 4, Some(99)), 4, "unknown mother: no parent");
        assert_eq!(b.tracks()[3].parent, 0);
    }

    #[test]
    #[should_panic(expected = "hole")]
    fn a_returning_cell_is_a_bug() {
        let mut b = TrackBook::new();
        b.observe(0, 5, None);
        b.observe(2, 5, None);
    }
}
