//! Measures of whole-track association: HOTA, CHOTA, MOTA, IDF1, MT/ML and FAF, as py-ctcmetrics computes them.
//!
//! All of them read the per-frame CTC matches of the TRA truth
//! ([`FrameMatch`]) after py-ctcmetrics' `merge_tracks`: a track that is its
//! mother's only daughter (CTC's way of continuing a track across a gap)
//! joins her, so that each track is a path without branches. Over those
//! tracks, the *track confusion matrix* M counts, for truth track i and
//! result track j, the frames in which they match; M\[i, 0\] counts the frames
//! in which truth track i matches nothing (false negatives), M\[0, j\] those
//! in which result track j matches nothing (false positives). Then, with
//! row(i) and col(j) the sums of M's row and column (the 0 entries included),
//! TP = Σ M\[i ≥ 1, j ≥ 1\], FN = Σ M\[i, 0\], FP = Σ M\[0, j\]:
//!
//! - HOTA (Luiten et al. 2021, "HOTA: a higher order metric for evaluating
//!   multi-object tracking", IJCV 129): √(Σ M\[i,j\]·A(i,j) / (TP+FN+FP)), with
//!   the association A(i,j) = M\[i,j\] / (row(i) + col(j) − M\[i,j\]), at one
//!   localisation threshold (the CTC match);
//! - CHOTA (Kaiser et al. 2024, "CHOTA: a higher order accuracy metric for
//!   cell tracking", ECCV BioImage Computing): HOTA with A(i,j) taken over
//!   lineages: i's clique (i with all its ancestors and descendants) against
//!   j's, TPA = Σ M over the two cliques, FNA = Σ row over i's clique − TPA,
//!   FPA = Σ col over j's clique − TPA;
//! - MOTA (Bernardin & Stiefelhagen 2008, "Evaluating multiple object
//!   tracking performance: the CLEAR MOT metrics", EURASIP JIVP): 1 − (FN +
//!   FP + IDSW + MA)/(TP + FN) frame by frame, where a result object matched
//!   to k > 1 truth objects adds k − 1 to FP and to the multi-assignments MA,
//!   and an identity switch is a truth track matched to another result track
//!   than at its last match;
//! - IDF1 (Ristani et al. 2016, "Performance measures and a data set for
//!   multi-target, multi-camera tracking", ECCV workshops): IDTP is the
//!   largest Σ M\[i,j\] over one-to-one pairings of truth and result tracks;
//!   IDFN = Σ row − IDTP, IDFP = Σ col − IDTP, IDF1 = 2 IDTP / (2 IDTP +
//!   IDFP + IDFN);
//! - MT / ML: the share of truth tracks whose largest entry of their row
//!   (M\[i, 0\] included, as py-ctcmetrics takes it) is at least 80% / under
//!   20% of the row;
//! - FAF: result objects per frame that match no truth object or several.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use ndarray::Array2;

use super::assignment::min_cost_assignment;
use super::matching::FrameMatch;
use crate::ctc::TrackRecord;

/// The association measures of one evaluation; each `None` where there is
/// nothing to divide by.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Association {
    pub hota: Option<f64>,
    pub chota: Option<f64>,
    pub mota: Option<f64>,
    /// MOTA's counts: matched truth objects, false positives (multi-assignments
    /// included), false negatives, identity switches, multi-assignments.
    pub tp: u64,
    pub fp: u64,
    pub fn_: u64,
    pub idsw: u64,
    pub multi_assignments: u64,
    pub idf1: Option<f64>,
    pub idp: Option<f64>,
    pub idr: Option<f64>,
    pub idtp: u64,
    pub idfp: u64,
    pub idfn: u64,
    pub mt: Option<f64>,
    pub ml: Option<f64>,
    /// False alarms per frame.
    pub faf: Option<f64>,
}

impl Association {
    /// MOTA's precision TP / (TP + FP).
    pub fn precision(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fp)
    }
    /// MOTA's recall TP / (TP + FN).
    pub fn recall(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fn_)
    }
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// Tracks joined as py-ctcmetrics' `merge_tracks` joins them: each label to
/// the label of the first track of its unbranched chain, and each joined
/// track's parent (joined too) as the first line of the track file with
/// that joined label gives it.
struct Merged {
    of: BTreeMap<u32, u32>,
    parent: BTreeMap<u32, u32>,
}

impl Merged {
    fn new(tracks: &[TrackRecord]) -> Merged {
        let of = crate::ctc::chain_starts(tracks);
        let mut parent = BTreeMap::new();
        for r in tracks {
            let p = if r.parent == 0 { 0 } else { of.get(&r.parent).copied().unwrap_or(r.parent) };
            parent.entry(of[&r.label]).or_insert(p);
        }
        Merged { of, parent }
    }

    fn label(&self, l: u32) -> u32 {
        self.of.get(&l).copied().unwrap_or(l)
    }

    /// Each joined track's clique: itself, its descendants and its ancestors.
    fn cliques(&self) -> HashMap<u32, BTreeSet<u32>> {
        let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
        for (&l, &p) in &self.parent {
            if p != 0 && p != l {
                children.entry(p).or_default().push(l);
            }
        }
        let mut cliques: HashMap<u32, BTreeSet<u32>> = HashMap::new();
        for &l in self.parent.keys() {
            let mut clique: BTreeSet<u32> = [l].into();
            let mut stack = vec![l];
            while let Some(a) = stack.pop() {
                for &c in children.get(&a).into_iter().flatten() {
                    if clique.insert(c) {
                        stack.push(c);
                    }
                }
            }
            cliques.insert(l, clique);
        }
        // Ancestors: every track whose descendants hold this one.
        let descendants = cliques.clone();
        for (&a, below) in &descendants {
            for &d in below {
                if d != a {
                    cliques.get_mut(&d).expect("a listed track").insert(a);
                }
            }
        }
        cliques
    }
}

/// The track confusion matrix, sparse: M\[i, j\] by (truth, result) joined
/// label, 0 for nothing.
struct Confusion {
    cells: HashMap<(u32, u32), u64>,
    rows: HashMap<u32, u64>,
    cols: HashMap<u32, u64>,
    by_row: HashMap<u32, Vec<(u32, u64)>>,
}

impl Confusion {
    fn new(frames: &[FrameMatch], truth: &Merged, result: &Merged) -> Confusion {
        let mut cells: HashMap<(u32, u32), u64> = HashMap::new();
        for f in frames {
            let matched_truth: BTreeSet<u32> = f.pairs.iter().map(|p| p.0).collect();
            let matched_result: BTreeSet<u32> = f.pairs.iter().map(|p| p.1).collect();
            for &(g, r) in &f.pairs {
                *cells.entry((truth.label(g), result.label(r))).or_default() += 1;
            }
            for &g in f.truth.iter().filter(|g| !matched_truth.contains(g)) {
                *cells.entry((truth.label(g), 0)).or_default() += 1;
            }
            for &r in f.result.iter().filter(|r| !matched_result.contains(r)) {
                *cells.entry((0, result.label(r))).or_default() += 1;
            }
        }
        let (mut rows, mut cols, mut by_row) = (HashMap::new(), HashMap::new(), HashMap::<u32, Vec<(u32, u64)>>::new());
        for (&(i, j), &n) in &cells {
            *rows.entry(i).or_default() += n;
            *cols.entry(j).or_default() += n;
            by_row.entry(i).or_default().push((j, n));
        }
        Confusion { cells, rows, cols, by_row }
    }

    /// TP, FN, FP.
    fn totals(&self) -> (u64, u64, u64) {
        let (mut tp, mut fn_, mut fp) = (0, 0, 0);
        for (&(i, j), &n) in &self.cells {
            match (i, j) {
                (0, 0) => {}
                (_, 0) => fn_ += n,
                (0, _) => fp += n,
                _ => tp += n,
            }
        }
        (tp, fn_, fp)
    }

    /// The matched cells M\[i ≥ 1, j ≥ 1\], in label order (so that sums add
    /// up in one order).
    fn matched(&self) -> Vec<Cell> {
        let mut m: Vec<Cell> = self.cells.iter().filter(|((i, j), _)| *i != 0 && *j != 0).map(|(&k, &n)| (k, n)).collect();
        m.sort_unstable();
        m
    }

    /// √(Σ M·A / (TP + FN + FP)) for the association `a` of each matched cell.
    fn higher_order(&self, a: impl Fn(u32, u32, u64) -> f64) -> Option<f64> {
        let (tp, fn_, fp) = self.totals();
        let all = tp + fn_ + fp;
        let sum: f64 = self.matched().into_iter().map(|((i, j), n)| n as f64 * a(i, j, n)).sum();
        (all > 0).then(|| (sum / all as f64).sqrt())
    }
}

/// HOTA, CHOTA, MOTA, IDF1, MT/ML and FAF of the matches `frames` (the TRA
/// frames, in time order) between the truth and result track files.
pub fn association(truth_tracks: &[TrackRecord], result_tracks: &[TrackRecord], frames: &[FrameMatch]) -> Association {
    let truth = Merged::new(truth_tracks);
    let result = Merged::new(result_tracks);
    let m = Confusion::new(frames, &truth, &result);
    let row = |i: u32| m.rows.get(&i).copied().unwrap_or(0);
    let col = |j: u32| m.cols.get(&j).copied().unwrap_or(0);
    let mut out = Association { hota: m.higher_order(|i, j, n| n as f64 / (row(i) + col(j) - n) as f64), ..Default::default() };
    let (truth_cliques, result_cliques) = (truth.cliques(), result.cliques());
    let alone = |l: u32| BTreeSet::from([l]);
    out.chota = m.higher_order(|i, j, _| {
        let ci = truth_cliques.get(&i).cloned().unwrap_or_else(|| alone(i));
        let cj = result_cliques.get(&j).cloned().unwrap_or_else(|| alone(j));
        let tpa: u64 = ci.iter().flat_map(|r| m.by_row.get(r).into_iter().flatten()).filter(|(c, _)| cj.contains(c)).map(|(_, n)| n).sum();
        let fna = ci.iter().map(|&r| row(r)).sum::<u64>() - tpa;
        let fpa = cj.iter().map(|&c| col(c)).sum::<u64>() - tpa;
        tpa as f64 / (tpa + fna + fpa) as f64
    });

    // MOTA, frame by frame.
    let mut last: HashMap<u32, u32> = HashMap::new();
    for f in frames {
        let mut times: HashMap<u32, u64> = HashMap::new();
        for &(_, r) in &f.pairs {
            *times.entry(result.label(r)).or_default() += 1;
        }
        let extra: u64 = times.values().filter(|&&n| n > 1).map(|n| n - 1).sum();
        out.tp += f.pairs.len() as u64;
        out.fn_ += (f.truth.len() - f.pairs.len()) as u64;
        out.fp += (f.result.len() as u64 + extra).saturating_sub(f.pairs.len() as u64);
        out.multi_assignments += extra;
        for &(g, r) in &f.pairs {
            let (g, r) = (truth.label(g), result.label(r));
            if last.get(&g).is_some_and(|&before| before != r) {
                out.idsw += 1;
            }
            last.insert(g, r);
        }
    }
    out.mota = (out.tp + out.fn_ > 0).then(|| 1.0 - (out.fn_ + out.fp + out.idsw + out.multi_assignments) as f64 / (out.tp + out.fn_) as f64);

    // IDF1: the heaviest one-to-one pairing of truth and result tracks.
    let idtp = heaviest_pairing(&m.matched());
    let truth_total: u64 = m.rows.iter().filter(|(i, _)| **i != 0).map(|(_, n)| n).sum();
    let result_total: u64 = m.cols.iter().filter(|(j, _)| **j != 0).map(|(_, n)| n).sum();
    (out.idtp, out.idfn, out.idfp) = (idtp, truth_total - idtp, result_total - idtp);
    out.idp = ratio(out.idtp, out.idtp + out.idfp);
    out.idr = ratio(out.idtp, out.idtp + out.idfn);
    out.idf1 = ratio(2 * out.idtp, 2 * out.idtp + out.idfp + out.idfn);

    // MT / ML over the truth tracks seen in the frames.
    let mut largest: HashMap<u32, u64> = HashMap::new();
    for (&(i, _), &n) in m.cells.iter().filter(|((i, _), _)| *i != 0) {
        let e = largest.entry(i).or_default();
        *e = (*e).max(n);
    }
    let ratios: Vec<f64> = largest.iter().map(|(i, &n)| n as f64 / row(*i).max(1) as f64).collect();
    let seen = ratios.len() as u64;
    out.mt = ratio(ratios.iter().filter(|&&r| r >= 0.8).count() as u64, seen);
    out.ml = ratio(ratios.iter().filter(|&&r| r < 0.2).count() as u64, seen);

    // FAF: result objects matching no truth object or several.
    let alarms: u64 = frames
        .iter()
        .map(|f| {
            let mut times: HashMap<u32, u64> = HashMap::new();
            for &(_, r) in &f.pairs {
                *times.entry(r).or_default() += 1;
            }
            (f.result.len() - times.values().filter(|&&n| n == 1).count()) as u64
        })
        .sum();
    out.faf = (!frames.is_empty()).then(|| alarms as f64 / frames.len() as f64);
    out
}

/// A weighted cell of a sparse matrix: ((row, column), weight).
pub type Cell = ((u32, u32), u64);

/// The largest total weight of a one-to-one pairing of the rows and columns
/// of the weighted pairs `cells` ((row, column), weight): the Hungarian
/// method on each connected group of rows and columns alone.
///
/// ```
/// // Row 1 can take column 1 or 2; row 2 only column 1: 1→2 and 2→1 (3 + 4) beat 1→1 alone (5).
/// let cells = [((1, 1), 5), ((1, 2), 3), ((2, 1), 4)];
/// assert_eq!(cellstream::eval::heaviest_pairing(&cells), 7);
/// ```
pub fn heaviest_pairing(cells: &[Cell]) -> u64 {
    // Union-find over rows (even ids) and columns (odd ids).
    let mut ids: HashMap<(bool, u32), usize> = HashMap::new();
    for &((i, j), _) in cells {
        let n = ids.len();
        ids.entry((false, i)).or_insert(n);
        let n = ids.len();
        ids.entry((true, j)).or_insert(n);
    }
    let mut up: Vec<usize> = (0..ids.len()).collect();
    fn root(up: &mut [usize], mut a: usize) -> usize {
        while up[a] != a {
            up[a] = up[up[a]];
            a = up[a];
        }
        a
    }
    for &((i, j), _) in cells {
        let (a, b) = (root(&mut up, ids[&(false, i)]), root(&mut up, ids[&(true, j)]));
        up[a] = b;
    }
    let mut groups: BTreeMap<usize, Vec<Cell>> = BTreeMap::new();
    for &c in cells {
        let g = root(&mut up, ids[&(false, c.0 .0)]);
        groups.entry(g).or_default().push(c);
    }
    let mut total = 0;
    for group in groups.values() {
        let rows: Vec<u32> = group.iter().map(|c| c.0 .0).collect::<BTreeSet<_>>().into_iter().collect();
        let cols: Vec<u32> = group.iter().map(|c| c.0 .1).collect::<BTreeSet<_>>().into_iter().collect();
        let mut cost = Array2::<f64>::zeros((rows.len(), cols.len()));
        for &((i, j), n) in group {
            cost[[rows.binary_search(&i).unwrap(), cols.binary_search(&j).unwrap()]] = -(n as f64);
        }
        total += min_cost_assignment(&cost).into_iter().map(|(r, c)| (-cost[[r, c]]) as u64).sum::<u64>();
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(truth: &[u32], result: &[u32], pairs: &[(u32, u32)]) -> FrameMatch {
        FrameMatch::from_parts(truth.to_vec(), result.to_vec(), pairs.to_vec())
    }

    /// A perfect result scores 1 everywhere; a result whose one track
    /// switches identity halfway scores less, by the formulas worked by hand.
    #[test]
    fn worked_by_hand() {
        let tracks = [TrackRecord::new(1, 0, 3, 0)];
        let perfect: Vec<FrameMatch> = (0..4).map(|_| frame(&[1], &[1], &[(1, 1)])).collect();
        let a = association(&tracks, &tracks, &perfect);
        assert_eq!((a.hota, a.chota, a.mota, a.idf1, a.mt, a.ml, a.faf), (Some(1.0), Some(1.0), Some(1.0), Some(1.0), Some(1.0), Some(0.0), Some(0.0)));
        // Truth track 1 over 4 frames; result tracks 1 (frames 0–1) and 2 (frames 2–3).
        let result = [TrackRecord::new(1, 0, 1, 0), TrackRecord::new(2, 2, 3, 0)];
        let switched: Vec<FrameMatch> = [1, 1, 2, 2].iter().map(|&r| frame(&[1], &[r], &[(1, r)])).collect();
        let a = association(&tracks, &result, &switched);
        // M[1,1] = M[1,2] = 2; A = 2 / (4 + 2 − 2) = 0.5 each; HOTA = √((2·0.5 + 2·0.5) / 4).
        assert!((a.hota.unwrap() - 0.5f64.sqrt()).abs() < 1e-12);
        assert_eq!((a.idsw, a.mota), (1, Some(0.75)));
        assert_eq!((a.idtp, a.idfn, a.idfp), (2, 2, 2));
        assert_eq!(a.idf1, Some(0.5));
        assert_eq!((a.mt, a.ml), (Some(0.0), Some(0.0)));
        // Were result track 2 the only daughter of 1 (a gap continued), the two would be one track.
        let continued = [TrackRecord::new(1, 0, 1, 0), TrackRecord::new(2, 2, 3, 1)];
        let a = association(&tracks, &continued, &switched);
        assert_eq!((a.hota, a.idsw, a.idf1), (Some(1.0), 0, Some(1.0)));
    }

    /// CHOTA credits a lineage found whole where HOTA sees two tracks: a
    /// mother divides into two daughters, and the result labels the mother
    /// and her first daughter as one track.
    #[test]
    fn chota_scores_lineages() {
        let truth = [TrackRecord::new(1, 0, 1, 0), TrackRecord::new(2, 2, 3, 1), TrackRecord::new(3, 2, 3, 1)];
        let result = [TrackRecord::new(1, 0, 3, 0), TrackRecord::new(3, 2, 3, 0)];
        let frames = vec![
            frame(&[1], &[1], &[(1, 1)]),
            frame(&[1], &[1], &[(1, 1)]),
            frame(&[2, 3], &[1, 3], &[(2, 1), (3, 3)]),
            frame(&[2, 3], &[1, 3], &[(2, 1), (3, 3)]),
        ];
        let a = association(&truth, &result, &frames);
        assert!(a.chota.unwrap() > a.hota.unwrap());
        // Truth cliques: 1 {1,2,3}, 2 {1,2}, 3 {1,3}; result cliques {1}, {3}.
        // (1,1): TPA 4, FNA 6 − 4, FPA 4 − 4: 4/6; (2,1): TPA 4, FNA 0, FPA 0: 1; (3,3): TPA 2, FNA 4 − 2, FPA 0: 2/4.
        let expect = ((2.0 * 4.0 / 6.0 + 2.0 * 1.0 + 2.0 * (2.0 / 4.0)) / 6.0f64).sqrt();
        assert!((a.chota.unwrap() - expect).abs() < 1e-12, "{:?} against {expect}", a.chota);
    }
}
