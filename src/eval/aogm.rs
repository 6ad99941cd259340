//! AOGM: the cost of turning the result's acyclic oriented graph into the truth's; DET, LNK and TRA.
//!
//! Matula et al. 2015 ("Cell tracking accuracy measurement based on
//! comparison of acyclic oriented graphs", PLoS ONE 10(12)) write a tracking
//! as a graph: one vertex per object per frame, one edge per link between
//! frames. A *continuation* edge joins a label to the same label in the next
//! frame; a *parent* edge joins the last object of a parent track to the first
//! object of a child track (from the track file). After matching the objects
//! of each frame ([`FrameMatch`]), the graph operations are counted:
//!
//! - NS: vertex splits, Σ (k − 1) over result objects matching k ≥ 1 truth objects;
//! - FN: truth objects no result object matches; FP: result objects matching none;
//! - ED: result edges between one-to-one matched objects that the truth lacks;
//! - EA: truth edges the (matched) result lacks;
//! - EC: edges present in both whose semantics differ (continuation vs parent).
//!
//! AOGM = 5·NS + 10·FN + 1·FP + 1·ED + 1.5·EA + 1·EC. DET, LNK and TRA
//! normalise their part by the cost of building the truth from an empty
//! result: DET = 1 − min(AOGM_D, 10·|V|)/(10·|V|), LNK = 1 − min(AOGM_A,
//! 1.5·|E|)/(1.5·|E|), TRA = 1 − min(AOGM, AOGM_0)/AOGM_0 with AOGM_0 =
//! 10·|V| + 1.5·|E|.
//!
//! This follows py-ctcmetrics 1.3.3 (`count_acyclic_graph_correction_operations`)
//! exactly; it is our reference where it and the CTC's Java evaluator
//! (java-ctcmetrics `TRA.java`) differ. The Java evaluator walks the track
//! files (edges inside each track's B..E span, plus parent links) and takes
//! AOGM_0 from the truth track file (|V| = Σ(E − B + 1), |E| = Σ(E − B) +
//! number of tracks with a parent); py-ctcmetrics, and this module, take every
//! label present in two consecutive frames as a continuation edge and count
//! |V| and |E| in the masks. The two agree whenever masks and track files
//! agree. DET, LNK and TRA are `None` when the truth has no object or no edge,
//! where py-ctcmetrics divides by zero.
use std::collections::HashMap;

use super::matching::FrameMatch;
use crate::ctc::TrackRecord;

/// AOGM weights of the CTC.
pub const W_NS: f64 = 5.0;
pub const W_FN: f64 = 10.0;
pub const W_FP: f64 = 1.0;
pub const W_ED: f64 = 1.0;
pub const W_EA: f64 = 1.5;
pub const W_EC: f64 = 1.0;

/// Vertex operations (the detection part of AOGM).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct DetectionErrors {
    pub ns: u64,
    pub fn_: u64,
    pub fp: u64,
    /// Truth objects, summed over frames: |V| of the truth graph.
    pub truth_vertices: u64,
}

impl DetectionErrors {
    /// 5·NS + 10·FN + FP.
    pub fn aogm_d(&self) -> f64 {
        W_NS * self.ns as f64 + W_FN * self.fn_ as f64 + W_FP * self.fp as f64
    }

    /// DET = 1 − min(AOGM_D, 10·|V|) / (10·|V|), |V| the truth objects
    /// summed over frames; `None` without truth objects.
    ///
    /// ```
    /// use cellstream::eval::DetectionErrors;
    /// // 20 truth objects, one missed (10) and one false (1): 1 − 11/200.
    /// let e = DetectionErrors { ns: 0, fn_: 1, fp: 1, truth_vertices: 20 };
    /// assert!((e.det().unwrap() - 0.945).abs() < 1e-12);
    /// // A result that misses everything and adds more costs no more than nothing.
    /// assert_eq!(DetectionErrors { ns: 0, fn_: 20, fp: 50, truth_vertices: 20 }.det(), Some(0.0));
    /// ```
    pub fn det(&self) -> Option<f64> {
        normalised(self.aogm_d(), W_FN * self.truth_vertices as f64)
    }
}

/// Edge operations (the association part of AOGM).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct LinkErrors {
    pub ed: u64,
    pub ea: u64,
    pub ec: u64,
    /// Truth edges: |E| of the truth graph.
    pub truth_edges: u64,
}

impl LinkErrors {
    /// ED + 1.5·EA + EC.
    pub fn aogm_a(&self) -> f64 {
        W_ED * self.ed as f64 + W_EA * self.ea as f64 + W_EC * self.ec as f64
    }

    /// LNK = 1 − min(AOGM_A, 1.5·|E|) / (1.5·|E|), |E| the truth's
    /// edges (continuations and parent links); `None` without truth edges.
    ///
    /// ```
    /// use cellstream::eval::LinkErrors;
    /// // 10 truth edges, one missing (1.5) and one wrong (1): 1 − 2.5/15.
    /// let e = LinkErrors { ed: 1, ea: 1, ec: 0, truth_edges: 10 };
    /// assert!((e.lnk().unwrap() - (1.0 - 2.5 / 15.0)).abs() < 1e-12);
    /// assert_eq!(LinkErrors::default().lnk(), None);
    /// ```
    pub fn lnk(&self) -> Option<f64> {
        normalised(self.aogm_a(), W_EA * self.truth_edges as f64)
    }
}

/// All graph operations: AOGM and TRA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct GraphErrors {
    pub detection: DetectionErrors,
    pub links: LinkErrors,
}

impl GraphErrors {
    /// AOGM = 5·NS + 10·FN + FP + ED + 1.5·EA + EC.
    pub fn aogm(&self) -> f64 {
        self.detection.aogm_d() + self.links.aogm_a()
    }

    /// AOGM_0: the cost of building the truth graph from nothing.
    pub fn aogm_empty(&self) -> f64 {
        W_FN * self.detection.truth_vertices as f64 + W_EA * self.links.truth_edges as f64
    }

    /// TRA = 1 − min(AOGM, AOGM_0) / AOGM_0, AOGM_0 = 10·|V| + 1.5·|E|;
    /// `None` for an empty truth.
    ///
    /// ```
    /// use cellstream::eval::{DetectionErrors, GraphErrors, LinkErrors};
    /// // One truth cell over 3 frames (3 objects, 2 edges), its middle object
    /// // split in two (NS 1) and the edges around it therefore missing (EA 2).
    /// let e = GraphErrors {
    ///     detection: DetectionErrors { ns: 1, fn_: 0, fp: 0, truth_vertices: 3 },
    ///     links: LinkErrors { ed: 0, ea: 2, ec: 0, truth_edges: 2 },
    /// };
    /// assert_eq!((e.aogm(), e.aogm_empty()), (8.0, 33.0));
    /// assert!((e.tra().unwrap() - 25.0 / 33.0).abs() < 1e-12);
    /// ```
    pub fn tra(&self) -> Option<f64> {
        normalised(self.aogm(), self.aogm_empty())
    }
}

fn normalised(cost: f64, empty: f64) -> Option<f64> {
    (empty > 0.0).then(|| 1.0 - cost.min(empty) / empty)
}

/// Counts NS, FN and FP over the matched frames.
///
/// ```
/// use cellstream::ctc::TrackRecord;
/// use cellstream::eval::match_frame;
/// use ndarray::array;
/// // Truth: cell 1 divides into 2 and 3 after frame 1; cell 4 is there throughout.
/// // The result finds the division a frame late (as 5 → 6, 7) and loses 4 in frame 2.
/// let truth = [array![[1, 1, 0, 0, 4]], array![[1, 1, 0, 0, 4]], array![[2, 0, 0, 3, 4]], array![[2, 0, 0, 3, 4]]];
/// let result = [array![[5, 5, 0, 0, 8]], array![[5, 5, 0, 0, 8]], array![[5, 5, 0, 5, 0]], array![[6, 0, 0, 7, 9]]];
/// let gt = [TrackRecord::new(1, 0, 1, 0), TrackRecord::new(2, 2, 3, 1), TrackRecord::new(3, 2, 3, 1), TrackRecord::new(4, 0, 3, 0)];
/// let res = [TrackRecord::new(5, 0, 2, 0), TrackRecord::new(6, 3, 3, 5), TrackRecord::new(7, 3, 3, 5), TrackRecord::new(8, 0, 1, 0), TrackRecord::new(9, 3, 3, 0)];
/// let frames: Vec<_> = truth.iter().zip(&result).map(|(g, r)| match_frame(g, r)).collect();
/// use cellstream::eval::aogm::detection_errors;
/// // Frame 2: result 5 covers both daughters (a split, NS 1) and cell 4 is missed (FN 1).
/// let e = detection_errors(&frames);
/// assert_eq!((e.ns, e.fn_, e.fp, e.truth_vertices), (1, 1, 0, 10));
/// ```
pub fn detection_errors(frames: &[FrameMatch]) -> DetectionErrors {
    let mut e = DetectionErrors::default();
    for f in frames {
        let mut matched = f.pairs.iter().map(|p| p.1).collect::<Vec<_>>();
        matched.sort_unstable();
        matched.dedup();
        e.truth_vertices += f.truth.len() as u64;
        e.fn_ += (f.truth.len() - f.pairs.len()) as u64;
        e.fp += (f.result.len() - matched.len()) as u64;
        e.ns += (f.pairs.len() - matched.len()) as u64;
    }
    e
}

/// An edge of a tracking graph: (frame index, label) → (frame index, label),
/// and whether it is a parent link (true) or a continuation (false).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Edge {
    pub from: (usize, u32),
    pub to: (usize, u32),
    pub parent_link: bool,
}

/// The edges of one side's graph. `labels(i)` gives the labels of frame
/// index `i` (sorted); frame index = time − `first`. Parent edges whose end
/// points are absent from the masks are left out (validated results never
/// have them).
pub fn graph_edges<'a>(
    tracks: &[TrackRecord],
    first: usize,
    n_frames: usize,
    labels: impl Fn(usize) -> &'a [u32],
) -> Vec<Edge> {
    let mut edges = Vec::new();
    for i in 1..n_frames {
        let (a, b) = (labels(i - 1), labels(i));
        let (mut x, mut y) = (0, 0);
        while x < a.len() && y < b.len() {
            match a[x].cmp(&b[y]) {
                std::cmp::Ordering::Less => x += 1,
                std::cmp::Ordering::Greater => y += 1,
                std::cmp::Ordering::Equal => {
                    edges.push(Edge { from: (i - 1, a[x]), to: (i, a[x]), parent_link: false });
                    x += 1;
                    y += 1;
                }
            }
        }
    }
    let by_label: HashMap<u32, &TrackRecord> = tracks.iter().map(|t| (t.label, t)).collect();
    let present = |t: usize, l: u32| -> Option<usize> {
        let i = t.checked_sub(first).filter(|&i| i < n_frames)?;
        labels(i).binary_search(&l).ok().map(|_| i)
    };
    for child in tracks.iter().filter(|t| t.parent != 0) {
        let Some(parent) = by_label.get(&child.parent) else { continue };
        if let (Some(i), Some(j)) = (present(parent.end, parent.label), present(child.begin, child.label)) {
            edges.push(Edge { from: (i, parent.label), to: (j, child.label), parent_link: true });
        }
    }
    edges
}

/// Counts ED, EA and EC between the truth graph and the result graph.
/// `frames[i]` holds the matches of time `first + i`.
///
/// On the worked sequence of [`detection_errors`] (a division found a frame
/// late, a cell lost for a frame):
///
/// ```
/// # use cellstream::ctc::TrackRecord;
/// # use cellstream::eval::match_frame;
/// # use ndarray::array;
/// # let truth = [array![[1, 1, 0, 0, 4]], array![[1, 1, 0, 0, 4]], array![[2, 0, 0, 3, 4]], array![[2, 0, 0, 3, 4]]];
/// # let result = [array![[5, 5, 0, 0, 8]], array![[5, 5, 0, 0, 8]], array![[5, 5, 0, 5, 0]], array![[6, 0, 0, 7, 9]]];
/// # let gt = [TrackRecord::new(1, 0, 1, 0), TrackRecord::new(2, 2, 3, 1), TrackRecord::new(3, 2, 3, 1), TrackRecord::new(4, 0, 3, 0)];
/// # let res = [TrackRecord::new(5, 0, 2, 0), TrackRecord::new(6, 3, 3, 5), TrackRecord::new(7, 3, 3, 5), TrackRecord::new(8, 0, 1, 0), TrackRecord::new(9, 3, 3, 0)];
/// # let frames: Vec<_> = truth.iter().zip(&result).map(|(g, r)| match_frame(g, r)).collect();
/// use cellstream::eval::aogm::link_errors;
/// let e = link_errors(&gt, &res, 0, &frames);
/// // 8 truth edges. Missing (EA): cell 4's two edges into and out of frame 2,
/// // where it is lost, and the four edges at the merged object of frame 2
/// // (1 → 2, 1 → 3, and 2 and 3 on into frame 3), which matches no vertex one to one.
/// assert_eq!((e.ed, e.ea, e.ec, e.truth_edges), (0, 6, 0, 8));
/// ```
pub fn link_errors(
    truth_tracks: &[TrackRecord],
    result_tracks: &[TrackRecord],
    first: usize,
    frames: &[FrameMatch],
) -> LinkErrors {
    let n = frames.len();
    let truth_edges = graph_edges(truth_tracks, first, n, |i| &frames[i].truth);
    let result_edges = graph_edges(result_tracks, first, n, |i| &frames[i].result);
    // One-to-one matched result objects → their truth object, per frame.
    let to_truth: Vec<Vec<(u32, u32)>> = frames
        .iter()
        .map(|f| {
            let mut v: Vec<(u32, u32)> =
                f.pairs.iter().filter(|p| f.truth_count(p.1) == 1).map(|&(g, r)| (r, g)).collect();
            v.sort_unstable();
            v
        })
        .collect();
    let map = |(i, r): (usize, u32)| -> Option<(usize, u32)> {
        let v = &to_truth[i];
        v.binary_search_by_key(&r, |x| x.0).ok().map(|k| (i, v[k].1))
    };
    // Truth edge (from, to) → (is a parent link, found in the result).
    type Vertex = (usize, u32);
    let mut truth: HashMap<(Vertex, Vertex), (bool, bool)> =
        truth_edges.iter().map(|e| ((e.from, e.to), (e.parent_link, false))).collect();
    let mut errors = LinkErrors { truth_edges: truth_edges.len() as u64, ..Default::default() };
    for e in &result_edges {
        let (Some(a), Some(b)) = (map(e.from), map(e.to)) else { continue };
        match truth.get_mut(&(a, b)) {
            None => errors.ed += 1,
            Some((semantic, seen)) => {
                *seen = true;
                if *semantic != e.parent_link {
                    errors.ec += 1;
                }
            }
        }
    }
    errors.ea = truth.values().filter(|(_, seen)| !seen).count() as u64;
    errors
}

/// Detection and link errors together (see [`detection_errors`], [`link_errors`]).
pub fn graph_errors(
    truth_tracks: &[TrackRecord],
    result_tracks: &[TrackRecord],
    first: usize,
    frames: &[FrameMatch],
) -> GraphErrors {
    GraphErrors {
        detection: detection_errors(frames),
        links: link_errors(truth_tracks, result_tracks, first, frames),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::matching::match_frames as frames;
    use crate::ctc::TrackRecord;
    use ndarray::array;

    #[test]
    fn perfect_result_costs_nothing() {
        let g = [array![[1, 1, 0, 0]], array![[0, 2, 0, 3]]];
        let tracks = [TrackRecord::new(1, 0, 0, 0), TrackRecord::new(2, 1, 1, 1), TrackRecord::new(3, 1, 1, 1)];
        let f = frames(&g, &g);
        let e = graph_errors(&tracks, &tracks, 0, &f);
        assert_eq!(e.detection, DetectionErrors { ns: 0, fn_: 0, fp: 0, truth_vertices: 3 });
        assert_eq!(e.links, LinkErrors { ed: 0, ea: 0, ec: 0, truth_edges: 2 });
        assert_eq!(e.tra(), Some(1.0));
        assert_eq!(e.aogm_empty(), 33.0);
    }

    #[test]
    fn hand_computed_operations() {
        // Truth: track 1 over frames 0-2; track 2 in frame 1-2.
        // Result: frame 0 finds 1 as 5; frame 1 merges 1 and 2 into 5 (NS);
        // frame 2 finds 1 as 6 (new track, parent 5) and misses 2 (FN), plus a
        // false positive 9.
        let g = [array![[1, 1, 0, 0, 0]], array![[1, 1, 0, 2, 2]], array![[1, 1, 0, 2, 2]]];
        let r = [array![[5, 5, 0, 0, 0]], array![[5, 5, 5, 5, 5]], array![[6, 6, 0, 0, 9]]];
        let gt = [TrackRecord::new(1, 0, 2, 0), TrackRecord::new(2, 1, 2, 0)];
        let rt = [TrackRecord::new(5, 0, 1, 0), TrackRecord::new(6, 2, 2, 5), TrackRecord::new(9, 2, 2, 0)];
        let f = frames(&g, &r);
        let e = graph_errors(&gt, &rt, 0, &f);
        // Vertices: truth 5 (1,1,2,1,2). Frame 1: 5 matches 1 and 2 → NS 1.
        // Frame 2: 2 is covered half by 9 (1 of 2 px): FN; 9 FP.
        assert_eq!(e.detection, DetectionErrors { ns: 1, fn_: 1, fp: 1, truth_vertices: 5 });
        // Truth edges: (0,1)→(1,1), (1,1)→(2,1), (1,2)→(2,2): 3.
        // Result edges: (0,5)→(1,5) has an end point in a merged vertex: ignored;
        // (1,5)→(2,6) parent link, ignored too (5 is not one-to-one in frame 1).
        // So all 3 truth edges are missing.
        assert_eq!(e.links, LinkErrors { ed: 0, ea: 3, ec: 0, truth_edges: 3 });
        assert_eq!(e.aogm(), 5.0 + 10.0 + 1.0 + 4.5);
        assert_eq!(e.aogm_empty(), 50.0 + 4.5);
        assert!((e.tra().unwrap() - (1.0 - 20.5 / 54.5)).abs() < 1e-12);
        assert!((e.detection.det().unwrap() - (1.0 - 16.0 / 50.0)).abs() < 1e-12);
        assert_eq!(e.links.lnk(), Some(0.0));
    }

    #[test]
    fn wrong_semantics_and_extra_edges() {
        // Truth: 1 continues through frames 0-1; 2 (frame 0) and 3 (frame 1)
        // are unrelated. Result: 5 in frame 0, then a new track 6 with parent 5
        // in frame 1, where truth has a continuation: EC. Result parent link
        // 7→8 joins the objects matching 2 and 3, which truth does not link: ED.
        let g = [array![[1, 1, 0, 2, 2, 0]], array![[1, 1, 0, 3, 3, 0]]];
        let r = [array![[5, 5, 0, 7, 7, 0]], array![[6, 6, 0, 8, 8, 0]]];
        let gt = [TrackRecord::new(1, 0, 1, 0), TrackRecord::new(2, 0, 0, 0), TrackRecord::new(3, 1, 1, 0)];
        let rt = [TrackRecord::new(5, 0, 0, 0), TrackRecord::new(6, 1, 1, 5), TrackRecord::new(7, 0, 0, 0), TrackRecord::new(8, 1, 1, 7)];
        let e = graph_errors(&gt, &rt, 0, &frames(&g, &r));
        assert_eq!(e.links, LinkErrors { ed: 1, ea: 0, ec: 1, truth_edges: 1 });
        assert_eq!(e.links.lnk(), Some(1.0 - 1.5_f64.min(2.0) / 1.5));
    }

    #[test]
    fn division_is_two_parent_edges() {
        let g = [array![[1, 1, 0, 0]], array![[2, 0, 0, 3]]];
        let gt = [TrackRecord::new(1, 0, 0, 0), TrackRecord::new(2, 1, 1, 1), TrackRecord::new(3, 1, 1, 1)];
        let edges = graph_edges(&gt, 0, 2, |i| if i == 0 { &[1][..] } else { &[2, 3][..] });
        assert_eq!(edges.len(), 2);
        assert!(edges.iter().all(|e| e.parent_link && e.from == (0, 1)));
        // Missing the division: the result continues 1 into 2's place.
        let r = [array![[1, 1, 0, 0]], array![[1, 0, 0, 4]]];
        let rt = [TrackRecord::new(1, 0, 1, 0), TrackRecord::new(4, 1, 1, 0)];
        let e = link_errors(&gt, &rt, 0, &frames(&g, &r));
        // (0,1)→(1,2): result has it as continuation → EC; (0,1)→(1,3) missing → EA.
        assert_eq!(e, LinkErrors { ed: 0, ea: 1, ec: 1, truth_edges: 2 });
    }

    #[test]
    fn empty_truth_has_no_scores() {
        let e = GraphErrors::default();
        assert_eq!(e.tra(), None);
        assert_eq!(e.detection.det(), None);
        assert_eq!(e.links.lnk(), None);
    }

    #[test]
    fn first_frame_offset() {
        // Times 10-11: parent links refer to absolute times.
        let g = [array![[1, 1, 0, 0]], array![[0, 2, 0, 3]]];
        let t = [TrackRecord::new(1, 10, 10, 0), TrackRecord::new(2, 11, 11, 1), TrackRecord::new(3, 11, 11, 1)];
        let e = graph_errors(&t, &t, 10, &frames(&g, &g));
        assert_eq!(e.links.truth_edges, 2);
        assert_eq!(e.tra(), Some(1.0));
    }
}
