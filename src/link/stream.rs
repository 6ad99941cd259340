//! Linking as the frames stream past: the linker, divisions backdated two frames behind it, and brief branches pruned once the lineage is whole.
//!
//! [`StreamLinker`] is what `track` runs on its linking thread: frames go in
//! in time order and leave relabelled, at most two frames later, and
//! [`StreamLinker::finish`] gives the last ones and the finished lineage as
//! [`LinkedLineage`], the track records with what was done to them. It
//! applies the two settings of [`LinkConfig`] that the [`Linker`] itself
//! leaves alone: `backdate_divisions` ([`Backdater`]) and `prune_branches`
//! ([`prune_brief_branches`]).
use std::collections::BTreeMap;

use super::backdate::{apply_moves, BackdateRules, Backdater, Move};
use super::lineage::{track_records, Descent, Lineage};
use super::linker::{LinkConfig, LinkError, Linker};
use super::prune::prune_brief_branches;
use crate::ctc::{Mask, TrackRecord};

/// A finished lineage, and what was done to it after linking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedLineage {
    /// The tracks as the track file lists them.
    pub tracks: Vec<TrackRecord>,
    /// Divisions in `tracks`.
    pub divisions: usize,
    /// Tracks resumed after a gap under a new label.
    pub resumed: usize,
    /// Tracks pruned as brief branches: the masks already released still
    /// hold them, and their pixels must be erased ([`pruned_labels_by_frame`]).
    pub pruned: Vec<TrackRecord>,
    /// Divisions moved a frame back.
    pub backdated: usize,
    /// Divisions moved a frame back as the frames streamed past, then undone
    /// because pruning took a daughter: in the frame of each, the mother's
    /// object must be given back to her (her daughters' labels there become
    /// hers).
    pub restored: Vec<Move>,
}

/// The linker with backdating and pruning, as frames stream past.
///
/// A cell that divides between frames 1 and 2, drawn as two daughters side
/// by side in frame 1, is backdated: the daughters begin in frame 1.
///
/// ```
/// use cellstream::ctc::TrackRecord;
/// use cellstream::link::{LinkConfig, StreamLinker};
/// use ndarray::{s, Array2};
/// let mut masks = vec![Array2::<u32>::zeros((8, 14)); 4];
/// masks[0].slice_mut(s![1..7, 4..10]).fill(1); // round mother
/// masks[1].slice_mut(s![1..7, 1..13]).fill(1); // two daughters as one object
/// for m in &mut masks[2..] {
///     m.slice_mut(s![1..7, 1..7]).fill(1);
///     m.slice_mut(s![1..7, 7..13]).fill(2);
/// }
/// let mut linker = StreamLinker::new(LinkConfig::default());
/// let mut out = Vec::new();
/// for (t, m) in masks.iter().enumerate() {
///     out.extend(linker.push(t, m).unwrap());
/// }
/// let (rest, lineage) = linker.finish();
/// out.extend(rest);
/// assert_eq!(out.iter().map(|(t, _)| *t).collect::<Vec<_>>(), [0, 1, 2, 3]);
/// assert_eq!(lineage.tracks, [TrackRecord::new(1, 0, 0, 0), TrackRecord::new(2, 1, 3, 1), TrackRecord::new(3, 1, 3, 1)]);
/// assert_eq!((lineage.divisions, lineage.backdated), (1, 1));
/// assert_eq!((out[1].1[[3, 2]], out[1].1[[3, 11]]), (2, 3)); // frame 1 split between the daughters
/// ```
#[derive(Debug)]
pub struct StreamLinker {
    linker: Linker,
    backdater: Option<Backdater>,
}

impl StreamLinker {
    /// A linker for `cfg`, backdating divisions if it says so.
    ///
    /// # Panics
    /// As [`Linker::new`].
    pub fn new(cfg: LinkConfig) -> StreamLinker {
        let backdater = cfg.backdate_divisions.then(|| Backdater::new(BackdateRules::default()));
        StreamLinker { linker: Linker::new(cfg), backdater }
    }

    /// Links frame `t`'s mask (frames in time order, as [`Linker::push`])
    /// and returns the frames now final, relabelled, in time order: with
    /// backdating, each frame leaves two frames later.
    pub fn push(&mut self, t: usize, mask: &Mask) -> Result<Vec<(usize, Mask)>, LinkError> {
        // Labels are handed out in order: the tracks this frame starts.
        let first_new = self.linker.lineage().len() as u32 + 1;
        let linked = self.linker.push(t, mask)?;
        let Some(backdater) = &mut self.backdater else { return Ok(linked) };
        let divisions = divisions_begun_at(self.linker.lineage(), t, first_new);
        let mut ready = Vec::new();
        for (ft, frame) in linked {
            ready.extend(backdater.push(ft, frame, if ft == t { &divisions } else { &[] }));
        }
        Ok(ready)
    }

    /// The frames still held, and the finished lineage: brief branches
    /// pruned (`prune_branches`), then the backdated divisions told to it
    /// ([`apply_moves`]).
    pub fn finish(self) -> (Vec<(usize, Mask)>, LinkedLineage) {
        let prune = self.linker.config().prune_branches;
        let (mut rest, lineage) = self.linker.finish();
        let mut moves = Vec::new();
        if let Some(mut b) = self.backdater {
            let mut out = Vec::new();
            for (t, frame) in rest {
                out.extend(b.push(t, frame, &[]));
            }
            let (held, m) = b.finish();
            out.extend(held);
            (rest, moves) = (out, m);
        }
        // Pruning sees the lineage as linked; a division it takes apart
        // keeps its frames as linked too.
        let (tracks, pruned) = prune_brief_branches(&track_records(&lineage), prune);
        let (tracks, restored) = apply_moves(&tracks, &moves);
        // Each pruned branch was one daughter of a division that is no more.
        let divisions = lineage.divisions().len() - pruned.len();
        let resumed = lineage.tracks().filter(|t| lineage.parent(t.label).is_some_and(|p| p.1 == Descent::Resumed)).count();
        let backdated = moves.len() - restored.len();
        (rest, LinkedLineage { tracks, divisions, resumed, pruned, backdated, restored })
    }
}

/// The divisions whose two daughters begin in frame `t`, as
/// [`Backdater::push`] takes them: each mother with exactly two daughters
/// among the tracks labelled `first_new` or more (those frame `t` started),
/// who ended in frame `t − 1` and lasted more than one frame (a mother of
/// one frame has no frame before her last to tell her shape by).
///
/// ```
/// use cellstream::link::{divisions_begun_at, Descent, Lineage};
/// let mut g = Lineage::new();
/// let m = g.start(0, None);
/// g.extend(m, 4);
/// let brief = g.start(4, None); // one frame only
/// let first_new = g.len() as u32 + 1;
/// let a = g.start(5, Some((m, Descent::Division)));
/// let b = g.start(5, Some((m, Descent::Division)));
/// let c = g.start(5, Some((brief, Descent::Division)));
/// let d = g.start(5, Some((brief, Descent::Division)));
/// assert_eq!(divisions_begun_at(&g, 5, first_new), [(m, [a, b])]);
/// # let _ = (c, d);
/// ```
pub fn divisions_begun_at(lineage: &Lineage, t: usize, first_new: u32) -> Vec<(u32, [u32; 2])> {
    let mut daughters: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for label in first_new..=lineage.len() as u32 {
        if let Some((mother, Descent::Division)) = lineage.parent(label) {
            daughters.entry(mother).or_default().push(label);
        }
    }
    daughters
        .into_iter()
        .filter_map(|(m, d)| {
            let mother = lineage.track(m)?;
            match d[..] {
                [a, b] if mother.end + 1 == t && mother.begin < mother.end => Some((m, [a, b])),
                _ => None,
            }
        })
        .collect()
}

/// The labels to erase from each frame's mask for `pruned` tracks: every
/// label in every frame from its begin to its end.
///
/// ```
/// use cellstream::ctc::TrackRecord;
/// use cellstream::link::pruned_labels_by_frame;
/// let by_frame = pruned_labels_by_frame(&[TrackRecord::new(3, 5, 6, 1), TrackRecord::new(7, 6, 6, 4)]);
/// assert_eq!(by_frame.into_iter().collect::<Vec<_>>(), [(5, vec![3]), (6, vec![3, 7])]);
/// ```
pub fn pruned_labels_by_frame(pruned: &[TrackRecord]) -> BTreeMap<usize, Vec<u32>> {
    let mut erase: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
    for p in pruned {
        for t in p.begin..=p.end {
            erase.entry(t).or_default().push(p.label);
        }
    }
    erase
}
