//! Pruning brief branches: a division whose one daughter vanishes within a few frames was a cell cut in two for a moment.

use std::collections::{BTreeMap, HashSet};

use crate::ctc::TrackRecord;

/// The tracks of a finished lineage without its brief branches, and the
/// tracks pruned. A branch is brief when a mother has exactly two daughters
/// and exactly one of them lasts at most `frames` frames, ends before the
/// lineage's last frame and has no daughters of her own: real daughters do
/// not vanish, so she was a piece of a cell cut in two for a moment. Her
/// sister stays, now the mother's only child (a continuation under a new
/// label, as CTC writes a track resumed after a gap). Divisions where both
/// daughters are brief are kept. `frames` 0 prunes nothing. (The
/// "short-lived branch" pruning of trackers that see past the current
/// frame, here on the whole lineage once it is done.)
///
/// ```
/// use cellstream::ctc::TrackRecord;
/// use cellstream::link::prune_brief_branches;
/// // Mother 1 "divides" at frame 5; daughter 3 is gone after two frames.
/// let tracks = [TrackRecord::new(1, 0, 4, 0), TrackRecord::new(2, 5, 20, 1), TrackRecord::new(3, 5, 6, 1), TrackRecord::new(4, 0, 20, 0)];
/// let (kept, pruned) = prune_brief_branches(&tracks, 3);
/// assert_eq!(kept, [TrackRecord::new(1, 0, 4, 0), TrackRecord::new(2, 5, 20, 1), TrackRecord::new(4, 0, 20, 0)]);
/// assert_eq!(pruned, [TrackRecord::new(3, 5, 6, 1)]);
/// ```
pub fn prune_brief_branches(tracks: &[TrackRecord], frames: usize) -> (Vec<TrackRecord>, Vec<TrackRecord>) {
    if frames == 0 {
        return (tracks.to_vec(), Vec::new());
    }
    let last = tracks.iter().map(|t| t.end).max().unwrap_or(0);
    let mut children: BTreeMap<u32, Vec<&TrackRecord>> = BTreeMap::new();
    for t in tracks.iter().filter(|t| t.parent != 0) {
        children.entry(t.parent).or_default().push(t);
    }
    let brief = |t: &TrackRecord| t.end - t.begin < frames && t.end < last && !children.contains_key(&t.label);
    let mut pruned: HashSet<u32> = HashSet::new();
    for daughters in children.values() {
        if let [a, b] = daughters[..] {
            match (brief(a), brief(b)) {
                (true, false) => pruned.insert(a.label),
                (false, true) => pruned.insert(b.label),
                _ => false,
            };
        }
    }
    tracks.iter().partition(|t| !pruned.contains(&t.label))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn real_divisions_and_long_branches_stay() {
        let tracks = [
            TrackRecord::new(1, 0, 4, 0),
            TrackRecord::new(2, 5, 20, 1),
            TrackRecord::new(3, 5, 9, 1), // five frames: more than 3
            TrackRecord::new(4, 0, 9, 0),
            TrackRecord::new(5, 10, 11, 4), // both daughters brief: kept
            TrackRecord::new(6, 10, 12, 4),
            TrackRecord::new(7, 0, 2, 0),
            TrackRecord::new(8, 3, 20, 7), // only child (resumed after a gap): no division
            TrackRecord::new(9, 0, 4, 0),
            TrackRecord::new(10, 5, 7, 9), // brief, but divides
            TrackRecord::new(11, 8, 20, 10),
            TrackRecord::new(12, 8, 20, 10),
            TrackRecord::new(13, 5, 20, 9),
            TrackRecord::new(14, 0, 17, 0),
            TrackRecord::new(15, 18, 20, 14), // brief, but lasts to the last frame
            TrackRecord::new(16, 18, 20, 14),
        ];
        let (kept, pruned) = prune_brief_branches(&tracks, 3);
        assert!(pruned.is_empty(), "{pruned:?}");
        assert_eq!(kept, tracks);
        assert_eq!(prune_brief_branches(&tracks, 0).0, tracks);
    }

    #[test]
    fn a_brief_daughter_goes_however_the_records_are_ordered() {
        let tracks = vec![TrackRecord::new(3, 5, 5, 1), TrackRecord::new(1, 0, 4, 0), TrackRecord::new(2, 5, 20, 1)];
        let (kept, pruned) = prune_brief_branches(&tracks, 1);
        assert_eq!(kept, [TrackRecord::new(1, 0, 4, 0), TrackRecord::new(2, 5, 20, 1)]);
        assert_eq!(pruned, [TrackRecord::new(3, 5, 5, 1)]);
        // One frame longer than allowed: kept.
        let (_, pruned) = prune_brief_branches(&[TrackRecord::new(1, 0, 4, 0), TrackRecord::new(2, 5, 20, 1), TrackRecord::new(3, 5, 6, 1)], 1);
        assert!(pruned.is_empty());
    }

    proptest! {
        /// Whatever the lineage, pruning removes only childless tracks that
        /// had a sister, keeps every other record as it was, and leaves each
        /// mother at least one daughter.
        #[test]
        fn pruning_removes_only_childless_brief_sisters(
            spans in proptest::collection::vec((0usize..30, 0usize..10, 0u32..12), 1..12),
            frames in 1usize..5,
        ) {
            let tracks: Vec<TrackRecord> = spans.iter().enumerate()
                .map(|(i, &(b, len, p))| TrackRecord::new(i as u32 + 1, b, b + len, if (p as usize) <= i && p > 0 { p } else { 0 }))
                .collect();
            let (kept, pruned) = prune_brief_branches(&tracks, frames);
            prop_assert_eq!(kept.len() + pruned.len(), tracks.len());
            for p in &pruned {
                prop_assert!(p.parent != 0 && p.end - p.begin < frames);
                prop_assert!(!tracks.iter().any(|t| t.parent == p.label));
                prop_assert!(kept.iter().any(|t| t.parent == p.parent), "a mother lost every daughter");
            }
            let all: Vec<&TrackRecord> = tracks.iter().filter(|t| !pruned.contains(t)).collect();
            prop_assert_eq!(all, kept.iter().collect::<Vec<_>>());
        }
    }
}
