//! The lineage: a graph whose nodes are tracks and whose edges lead from parent to child.
//!
//! Nodes are tracks, not detections, so the graph stays small on long movies.
//! A child is a daughter after a division, or the same cell resumed under a
//! new label after a gap or after it parted from a merged object (the CTC
//! way: a track has no holes, so a cell that was missing continues as a
//! child of its earlier track).
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;

use crate::ctc::TrackRecord;

/// A track: the frames `begin..=end` in which one label is present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Track {
    pub label: u32,
    pub begin: usize,
    pub end: usize,
}

/// Why a track is the child of another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Descent {
    /// A daughter of a division.
    Division,
    /// The same cell after a gap of missed frames, or after it parted from a
    /// cell it had merged with.
    Resumed,
}

/// Tracks and their parent → child edges. Labels are handed out 1, 2, 3, …
/// in the order tracks start, so track `l` is node `l − 1`.
#[derive(Debug, Clone, Default)]
pub struct Lineage {
    graph: DiGraph<Track, Descent, u32>,
}

fn node(label: u32) -> NodeIndex<u32> {
    NodeIndex::new(label as usize - 1)
}

impl Lineage {
    pub fn new() -> Lineage {
        Lineage::default()
    }

    /// Starts a track in frame `t`, optionally as the child of `parent`, and returns its label.
    ///
    /// ```
    /// use cellstream::link::{Descent, Lineage};
    /// let mut g = Lineage::new();
    /// let m = g.start(0, None);
    /// g.extend(m, 4);
    /// let d = g.start(5, Some((m, Descent::Division)));
    /// assert_eq!(g.parent(d), Some((m, Descent::Division)));
    /// assert_eq!(g.track(m).unwrap().end, 4);
    /// ```
    pub fn start(&mut self, t: usize, parent: Option<(u32, Descent)>) -> u32 {
        let label = self.graph.node_count() as u32 + 1;
        let n = self.graph.add_node(Track { label, begin: t, end: t });
        if let Some((p, why)) = parent {
            assert!(p >= 1 && p < label, "parent {p} of track {label} does not exist");
            assert!(self.graph[node(p)].end < t, "parent {p} must end before its child starts at {t}");
            self.graph.add_edge(node(p), n, why);
        }
        label
    }

    /// Records that track `label` is present in frame `t` (its last frame so far).
    pub fn extend(&mut self, label: u32, t: usize) {
        let tr = &mut self.graph[node(label)];
        assert!(t >= tr.end, "track {label} cannot go back from frame {} to {t}", tr.end);
        tr.end = t;
    }

    pub fn track(&self, label: u32) -> Option<&Track> {
        if label == 0 {
            return None;
        }
        self.graph.node_weight(node(label))
    }

    /// The parent of track `label`, and why.
    pub fn parent(&self, label: u32) -> Option<(u32, Descent)> {
        self.track(label)?;
        let e = self.graph.edges_directed(node(label), Direction::Incoming).next()?;
        Some((self.graph[petgraph::visit::EdgeRef::source(&e)].label, *e.weight()))
    }

    /// The children of track `label`, by label.
    pub fn children(&self, label: u32) -> Vec<(u32, Descent)> {
        if self.track(label).is_none() {
            return Vec::new();
        }
        let mut c: Vec<(u32, Descent)> = self
            .graph
            .edges_directed(node(label), Direction::Outgoing)
            .map(|e| (self.graph[petgraph::visit::EdgeRef::target(&e)].label, *e.weight()))
            .collect();
        c.sort_unstable_by_key(|x| x.0);
        c
    }

    /// Every track, by label.
    pub fn tracks(&self) -> impl Iterator<Item = &Track> {
        self.graph.node_weights()
    }

    /// Each mother track with its daughters (a track resumed after a gap is
    /// its earlier track's child, but no daughter).
    ///
    /// ```
    /// use cellstream::link::{Descent, Lineage};
    /// let mut g = Lineage::new();
    /// let m = g.start(0, None);
    /// let (a, b) = (g.start(1, Some((m, Descent::Division))), g.start(1, Some((m, Descent::Division))));
    /// let later = g.start(4, Some((a, Descent::Resumed)));
    /// assert_eq!(g.divisions(), [(m, vec![a, b])]);
    /// assert_eq!(g.children(a), [(later, Descent::Resumed)]);
    /// assert_eq!((g.len(), g.graph().edge_count()), (4, 3));
    /// ```
    pub fn divisions(&self) -> Vec<(u32, Vec<u32>)> {
        self.tracks()
            .filter_map(|t| {
                let d: Vec<u32> = self.children(t.label).into_iter().filter(|c| c.1 == Descent::Division).map(|c| c.0).collect();
                (!d.is_empty()).then_some((t.label, d))
            })
            .collect()
    }

    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    /// The underlying graph (node weights are tracks, edge weights why the child descends).
    pub fn graph(&self) -> &DiGraph<Track, Descent, u32> {
        &self.graph
    }
}

/// The lineage as the lines of a CTC track file (`res_track.txt`): `L B E P`.
///
/// ```
/// use cellstream::link::{track_records, Descent, Lineage};
/// use cellstream::ctc::TrackRecord;
/// let mut g = Lineage::new();
/// let a = g.start(0, None);
/// let b = g.start(3, Some((a, Descent::Resumed)));
/// assert_eq!(track_records(&g)[1], TrackRecord::new(b, 3, 3, a));
/// ```
pub fn track_records(lineage: &Lineage) -> Vec<TrackRecord> {
    lineage
        .tracks()
        .map(|t| TrackRecord {
            label: t.label,
            begin: t.begin,
            end: t.end,
            parent: lineage.parent(t.label).map_or(0, |p| p.0),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divisions_list_daughters_not_resumed_tracks() {
        let mut g = Lineage::new();
        let m = g.start(0, None);
        g.extend(m, 2);
        let d1 = g.start(3, Some((m, Descent::Division)));
        let d2 = g.start(3, Some((m, Descent::Division)));
        let r = g.start(5, Some((d1, Descent::Resumed)));
        assert_eq!(g.divisions(), vec![(m, vec![d1, d2])]);
        assert_eq!(g.children(d1), vec![(r, Descent::Resumed)]);
        assert_eq!(g.track(0), None);
        assert_eq!(g.track(9), None);
        assert_eq!((g.parent(0), g.parent(9), g.children(0)), (None, None, vec![]));
    }

    #[test]
    #[should_panic(expected = "must end before")]
    fn child_cannot_overlap_its_parent() {
        let mut g = Lineage::new();
        let m = g.start(0, None);
        g.extend(m, 3);
        g.start(3, Some((m, Descent::Division)));
    }
}
