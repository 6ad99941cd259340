//! Backdating divisions: where a mother's last object is her two daughters side by side, they were born a frame earlier.
//!
//! A segmenter that sees one frame at a time often draws two daughters as one
//! object in their first frame: they touch, and nothing in that frame parts
//! them. The linker then ends the mother a frame late. The frame after
//! shows where each daughter lies, and the shape tells
//! the two cases apart: a dividing animal cell rounds up, so her last object
//! is round, while two newborn daughters side by side make a long one.
//! [`Backdater`] does it as the linked frames stream past, two frames
//! behind the linker; [`backdate_divisions`] on a finished result in memory.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::ctc::{Mask, TrackRecord};

/// A pixel as (row, column).
pub type Pixel = (usize, usize);

/// When a division moves a frame back ([`split_mother`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackdateRules {
    /// Share of each daughter's first object that the mother's last object
    /// must cover: the daughters were born inside it.
    pub min_cover: f64,
    /// Largest axis ratio of the mother's object the frame before her last:
    /// she was round then. Rod-shaped cells never are, so their divisions
    /// stay where the linker put them.
    pub max_round: f64,
    /// Smallest axis ratio of the mother's last object.
    pub min_elongation: f64,
    /// How many times the axis ratio of the frame before her last the
    /// mother's last object must reach: it became long at once.
    pub min_growth: f64,
    /// Fewest pixels each daughter gets of the split object.
    pub min_part: usize,
}

impl Default for BackdateRules {
    /// The values chosen on the training sequences of the three simulated
    /// modalities (docs/notebook.md, Divisions).
    fn default() -> Self {
        BackdateRules { min_cover: 0.5, max_round: 2.0, min_elongation: 1.5, min_growth: 1.2, min_part: 10 }
    }
}

/// The ratio of the major to the minor axis of a set of pixels: the square
/// root of the ratio of the eigenvalues of their coordinates' covariance
/// (the axes of the ellipse with the same second moments). 1 for fewer than
/// five pixels; a line of pixels gives a large finite number.
///
/// ```
/// use cellstream::link::backdate::axis_ratio;
/// let square: Vec<_> = (0..4).flat_map(|r| (0..4).map(move |c| (r, c))).collect();
/// assert!((axis_ratio(&square) - 1.0).abs() < 1e-9);
/// let bar: Vec<_> = (0..2).flat_map(|r| (0..8).map(move |c| (r, c))).collect();
/// // Variances 0.25 and 5.25 (population): √21 ≈ 4.58.
/// assert!((axis_ratio(&bar) - 21f64.sqrt()).abs() < 1e-9);
/// ```
pub fn axis_ratio(pixels: &[Pixel]) -> f64 {
    if pixels.len() < 5 {
        return 1.0;
    }
    let n = pixels.len() as f64;
    let (mr, mc) = pixels.iter().fold((0.0, 0.0), |(r, c), &(y, x)| (r + y as f64, c + x as f64));
    let (mr, mc) = (mr / n, mc / n);
    let (mut srr, mut scc, mut src) = (0.0, 0.0, 0.0);
    for &(y, x) in pixels {
        let (dy, dx) = (y as f64 - mr, x as f64 - mc);
        srr += dy * dy;
        scc += dx * dx;
        src += dy * dx;
    }
    let (a, b, c) = (srr / n, scc / n, src / n);
    let mid = (a + b) / 2.0;
    let half = (((a - b) / 2.0).powi(2) + c * c).sqrt();
    ((mid + half) / (mid - half).max(1e-6)).sqrt()
}

/// Splits a mother's last object between her two daughters when the
/// division looks a frame late ([`BackdateRules`]): her last object covers
/// enough of each daughter's first object, her object the frame before was
/// round, and her last object is long, and longer than before. `before`,
/// `last` and each of `first` are pixels in raster order. Returns, for each
/// pixel of `last` in order, the daughter (0 or 1) whose first object lies
/// nearest to it (ties to 0), or `None` where the division stays.
///
/// ```
/// use cellstream::link::backdate::{split_mother, BackdateRules};
/// let block = |r0: usize, r1: usize, c0: usize, c1: usize| -> Vec<(usize, usize)> {
///     (r0..r1).flat_map(|r| (c0..c1).map(move |c| (r, c))).collect()
/// };
/// // A round mother (6×6), then one long object (6×12), then two daughters of 6×6.
/// let (before, last) = (block(0, 6, 3, 9), block(0, 6, 0, 12));
/// let (left, right) = (block(0, 6, 0, 6), block(0, 6, 6, 12));
/// let parts = split_mother(&before, &last, [&left, &right], &BackdateRules::default()).unwrap();
/// assert_eq!(&parts[..12], &[0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
/// // A mother as long the frame before (a rod) keeps her division.
/// assert_eq!(split_mother(&last, &last, [&left, &right], &BackdateRules::default()), None);
/// ```
pub fn split_mother(before: &[Pixel], last: &[Pixel], first: [&[Pixel]; 2], rules: &BackdateRules) -> Option<Vec<u8>> {
    if first.iter().any(|d| d.is_empty()) {
        return None;
    }
    let covered = |d: &[Pixel]| d.iter().filter(|p| last.binary_search(p).is_ok()).count() as f64;
    if first.iter().any(|d| covered(d) < rules.min_cover * d.len() as f64) {
        return None;
    }
    let (was, now) = (axis_ratio(before), axis_ratio(last));
    if was > rules.max_round || now < rules.min_elongation || now < rules.min_growth * was {
        return None;
    }
    let nearest = |p: &Pixel, d: &[Pixel]| {
        d.iter().map(|q| p.0.abs_diff(q.0).pow(2) + p.1.abs_diff(q.1).pow(2)).min().unwrap_or(usize::MAX)
    };
    let parts: Vec<u8> = last.iter().map(|p| u8::from(nearest(p, first[1]) < nearest(p, first[0]))).collect();
    let ones = parts.iter().filter(|&&k| k == 1).count();
    (ones >= rules.min_part && parts.len() - ones >= rules.min_part).then_some(parts)
}

/// The pixels of every label of `mask`, in raster order, indexed by label:
/// one pass over the frame.
fn pixels_by_label(mask: &Mask) -> Vec<Vec<Pixel>> {
    let mut found: Vec<Vec<Pixel>> = Vec::new();
    for (r, row) in mask.rows().into_iter().enumerate() {
        let row = row.to_slice().map_or_else(|| row.to_vec().into(), std::borrow::Cow::Borrowed);
        for (c, &l) in row.iter().enumerate() {
            if l != 0 {
                if found.len() <= l as usize {
                    found.resize(l as usize + 1, Vec::new());
                }
                found[l as usize].push((r, c));
            }
        }
    }
    found
}

/// The pixels of `label` in an index of [`pixels_by_label`].
fn pixels(index: &[Vec<Pixel>], label: u32) -> &[Pixel] {
    index.get(label as usize).map_or(&[], Vec::as_slice)
}

/// A frame held back, with its pixels by label once a division needs them.
#[derive(Debug)]
struct Held {
    t: usize,
    mask: Mask,
    index: Option<Vec<Vec<Pixel>>>,
}

impl Held {
    fn index(&mut self) -> &mut Vec<Vec<Pixel>> {
        self.index.get_or_insert_with(|| pixels_by_label(&self.mask))
    }
}

/// A division moved a frame back: `mother`'s object in `frame`, her last
/// frame as linked, went to her `daughters`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    pub frame: usize,
    pub mother: u32,
    pub daughters: [u32; 2],
}

/// Backdating as the linked frames stream past, so that no frame is
/// written twice. It holds the last two frames back: when frame `t` comes
/// with the divisions whose daughters begin in it, the mother's objects in
/// frames `t − 2` and `t − 1` and the daughters' in `t` are at hand, and
/// frame `t − 1` can still be split ([`split_mother`]). Frames leave in
/// order, two behind; [`Backdater::finish`] lets the last ones go. The moves
/// are told to the lineage afterwards ([`apply_moves`]).
#[derive(Debug)]
pub struct Backdater {
    rules: BackdateRules,
    held: VecDeque<Held>,
    moves: Vec<Move>,
}

impl Backdater {
    pub fn new(rules: BackdateRules) -> Backdater {
        Backdater { rules, held: VecDeque::new(), moves: Vec::new() }
    }

    /// Takes linked frame `t` and `divisions`, each a mother whose two
    /// daughters begin in frame `t` (she ended in `t − 1`), and returns the
    /// frames that are final, in order.
    pub fn push(&mut self, t: usize, frame: Mask, divisions: &[(u32, [u32; 2])]) -> Vec<(usize, Mask)> {
        let mut now = Held { t, mask: frame, index: None };
        let n = self.held.len();
        let ready = n >= 2 && t >= 2 && self.held[n - 2].t == t - 2 && self.held[n - 1].t == t - 1;
        if ready && !divisions.is_empty() {
            // Each frame is indexed once, the first time a division needs it.
            self.held[n - 2].index();
            self.held[n - 1].index();
            now.index();
            let mut recent = self.held.range_mut(n - 2..);
            let (before, last) = (recent.next().expect("two held"), recent.next().expect("two held"));
            let first = now.index.as_deref().expect("indexed above");
            for &(mother, [a, b]) in divisions {
                let index = last.index.as_mut().expect("indexed above");
                let obj = pixels(index, mother);
                let before = pixels(before.index.as_deref().expect("indexed above"), mother);
                let Some(parts) = split_mother(before, obj, [pixels(first, a), pixels(first, b)], &self.rules) else {
                    continue;
                };
                let obj = std::mem::take(&mut index[mother as usize]);
                for (&p, &k) in obj.iter().zip(&parts) {
                    let d = if k == 0 { a } else { b };
                    last.mask[p] = d;
                    if index.len() <= d as usize {
                        index.resize(d as usize + 1, Vec::new());
                    }
                    index[d as usize].push(p);
                }
                self.moves.push(Move { frame: t - 1, mother, daughters: [a, b] });
            }
        }
        self.held.push_back(now);
        let keep = 2.min(self.held.len());
        self.held.drain(..self.held.len() - keep).map(|h| (h.t, h.mask)).collect()
    }

    /// The frames still held, and every division moved.
    pub fn finish(self) -> (Vec<(usize, Mask)>, Vec<Move>) {
        (self.held.into_iter().map(|h| (h.t, h.mask)).collect(), self.moves)
    }
}

/// Tells finished tracks of the `moves`: each mother ends a frame earlier
/// and her daughters begin a frame earlier. A move whose division is no
/// longer what it was (the mother has other children than the two
/// daughters, e.g. after [`crate::link::prune_brief_branches`] took one, or
/// they do not begin right after her) is not applied and is returned, for
/// the masks to give the mother her object back.
///
/// ```
/// use cellstream::ctc::TrackRecord;
/// use cellstream::link::backdate::{apply_moves, Move};
/// let moved = Move { frame: 4, mother: 1, daughters: [2, 3] };
/// let (tracks, undone) = apply_moves(&[TrackRecord::new(1, 0, 4, 0), TrackRecord::new(2, 5, 9, 1), TrackRecord::new(3, 5, 9, 1)], &[moved]);
/// assert_eq!((tracks, undone), (vec![TrackRecord::new(1, 0, 3, 0), TrackRecord::new(2, 4, 9, 1), TrackRecord::new(3, 4, 9, 1)], vec![]));
/// // Daughter 3 was pruned: the division is gone, and so is the move.
/// let (tracks, undone) = apply_moves(&[TrackRecord::new(1, 0, 4, 0), TrackRecord::new(2, 5, 9, 1)], &[moved]);
/// assert_eq!((tracks, undone), (vec![TrackRecord::new(1, 0, 4, 0), TrackRecord::new(2, 5, 9, 1)], vec![moved]));
/// ```
pub fn apply_moves(tracks: &[TrackRecord], moves: &[Move]) -> (Vec<TrackRecord>, Vec<Move>) {
    let index: HashMap<u32, usize> = tracks.iter().enumerate().map(|(i, t)| (t.label, i)).collect();
    let movable = movable_divisions(tracks);
    let mut out = tracks.to_vec();
    let mut undone = Vec::new();
    for m in moves {
        let sorted = |[a, b]: [u32; 2]| [a.min(b), a.max(b)];
        let holds = movable.get(&m.mother).is_some_and(|&(last, d)| last == m.frame && sorted(d) == sorted(m.daughters));
        if !holds {
            undone.push(*m);
            continue;
        }
        out[index[&m.mother]].end -= 1;
        for d in m.daughters {
            out[index[&d]].begin -= 1;
        }
    }
    (out, undone)
}

/// The divisions of finished tracks that may move a frame back, by mother:
/// her last frame and her daughters. A mother qualifies with exactly two
/// children, both beginning the frame after her last, and a frame to spare
/// (she began before her last frame).
fn movable_divisions(tracks: &[TrackRecord]) -> BTreeMap<u32, (usize, [u32; 2])> {
    let index: HashMap<u32, &TrackRecord> = tracks.iter().map(|t| (t.label, t)).collect();
    let mut children: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for t in tracks.iter().filter(|t| t.parent != 0) {
        children.entry(t.parent).or_default().push(t.label);
    }
    children
        .into_iter()
        .filter_map(|(mother, kids)| {
            let m = index.get(&mother)?;
            match kids[..] {
                [a, b] if m.end > m.begin && index[&a].begin == m.end + 1 && index[&b].begin == m.end + 1 => Some((mother, (m.end, [a, b]))),
                _ => None,
            }
        })
        .collect()
}

/// Moves each division of a finished result a frame back where
/// [`split_mother`] says the daughters were born inside their mother's last
/// object, in masks held in memory (`masks[t]` is frame `t`): that object is
/// split between them, the mother ends a frame earlier and the daughters
/// begin a frame earlier. A division is one mother with exactly two
/// daughters, both beginning the frame after her last, and she must keep a
/// frame of her own. Each division moves at most one frame. Returns the
/// tracks, in the same order, and how many divisions moved. (`track` does
/// the same with a [`Backdater`] as the frames stream past.)
///
/// ```
/// use cellstream::ctc::TrackRecord;
/// use cellstream::link::backdate::{backdate_divisions, BackdateRules};
/// use ndarray::Array2;
/// let mut masks = vec![Array2::<u32>::zeros((8, 14)); 3];
/// masks[0].slice_mut(ndarray::s![1..7, 4..10]).fill(1); // round mother
/// masks[1].slice_mut(ndarray::s![1..7, 1..13]).fill(1); // two daughters as one
/// masks[2].slice_mut(ndarray::s![1..7, 1..7]).fill(2);
/// masks[2].slice_mut(ndarray::s![1..7, 7..13]).fill(3);
/// let (tracks, moved) =
///     backdate_divisions(&[TrackRecord::new(1, 0, 1, 0), TrackRecord::new(2, 2, 2, 1), TrackRecord::new(3, 2, 2, 1)], &mut masks, &BackdateRules::default());
/// assert_eq!(moved, 1);
/// assert_eq!(tracks, [TrackRecord::new(1, 0, 0, 0), TrackRecord::new(2, 1, 2, 1), TrackRecord::new(3, 1, 2, 1)]);
/// assert_eq!((masks[1][[3, 2]], masks[1][[3, 11]]), (2, 3));
/// ```
pub fn backdate_divisions(tracks: &[TrackRecord], masks: &mut [Mask], rules: &BackdateRules) -> (Vec<TrackRecord>, usize) {
    // The divisions by the frame their daughters begin in.
    let mut by_first: BTreeMap<usize, Vec<(u32, [u32; 2])>> = BTreeMap::new();
    for (mother, (last, daughters)) in movable_divisions(tracks) {
        by_first.entry(last + 1).or_default().push((mother, daughters));
    }
    let mut stream = Backdater::new(*rules);
    let mut done = Vec::new();
    for (t, frame) in masks.iter().enumerate() {
        let divisions = by_first.get(&t).map_or(&[][..], |d| &d[..]);
        done.extend(stream.push(t, frame.clone(), divisions));
    }
    let (rest, moves) = stream.finish();
    done.extend(rest);
    for (t, frame) in done {
        masks[t] = frame;
    }
    let (out, undone) = apply_moves(tracks, &moves);
    debug_assert!(undone.is_empty(), "a division chosen from these tracks still holds");
    (out, moves.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{s, Array2};
    use proptest::prelude::*;

    fn block(r0: usize, r1: usize, c0: usize, c1: usize) -> Vec<Pixel> {
        (r0..r1).flat_map(|r| (c0..c1).map(move |c| (r, c))).collect()
    }

    /// Mother 1 round in frames 0–1, one long object in frame 2 (`long`
    /// columns wide), daughters 2 and 3 side by side in frame 3.
    fn late_division(long: usize) -> Vec<Mask> {
        let mut m = vec![Array2::<u32>::zeros((10, 20)); 4];
        m[0].slice_mut(s![2..8, 6..12]).fill(1);
        m[1].slice_mut(s![2..8, 6..12]).fill(1);
        m[2].slice_mut(s![2..8, 9 - long / 2..9 + long - long / 2]).fill(1);
        m[3].slice_mut(s![2..8, 3..9]).fill(2);
        m[3].slice_mut(s![2..8, 9..15]).fill(3);
        m
    }

    #[test]
    fn a_late_division_moves_back_and_its_frame_is_split_at_the_daughters() {
        let mut masks = late_division(12);
        let tracks = [TrackRecord::new(1, 0, 2, 0), TrackRecord::new(2, 3, 3, 1), TrackRecord::new(3, 3, 3, 1)];
        let (out, n) = backdate_divisions(&tracks, &mut masks, &BackdateRules::default());
        assert_eq!(n, 1);
        assert_eq!(out, [TrackRecord::new(1, 0, 1, 0), TrackRecord::new(2, 2, 3, 1), TrackRecord::new(3, 2, 3, 1)]);
        let f = &masks[2];
        assert!(f.iter().all(|&l| l != 1), "the mother is gone from frame 2");
        assert!(f.slice(s![2..8, 3..9]).iter().all(|&l| l == 2));
        assert!(f.slice(s![2..8, 9..15]).iter().all(|&l| l == 3));
        // Frames other than the split one are as they were.
        assert_eq!(masks[1], late_division(12)[1]);
        assert_eq!(masks[3], late_division(12)[3]);
    }

    #[test]
    fn a_division_in_its_frame_stays() {
        // The mother's last object is as round as before: the linker was right.
        let mut masks = late_division(6);
        let tracks = [TrackRecord::new(1, 0, 2, 0), TrackRecord::new(2, 3, 3, 1), TrackRecord::new(3, 3, 3, 1)];
        let (out, n) = backdate_divisions(&tracks, &mut masks, &BackdateRules::default());
        assert_eq!((out.as_slice(), n), (tracks.as_slice(), 0));
        assert_eq!(masks, late_division(6));
    }

    #[test]
    fn only_two_daughters_born_the_frame_after_and_a_mother_with_a_frame_to_spare_count() {
        let rules = BackdateRules::default();
        // One child only (a resumed track).
        let mut masks = late_division(12);
        let one = [TrackRecord::new(1, 0, 2, 0), TrackRecord::new(2, 3, 3, 1), TrackRecord::new(3, 3, 3, 0)];
        assert_eq!(backdate_divisions(&one, &mut masks, &rules).1, 0);
        // A daughter born later than the frame after.
        let late = [TrackRecord::new(1, 0, 2, 0), TrackRecord::new(2, 3, 3, 1), TrackRecord::new(3, 4, 4, 1)];
        assert_eq!(backdate_divisions(&late, &mut masks, &rules).1, 0);
        // A mother of one frame would vanish.
        let short = [TrackRecord::new(1, 2, 2, 0), TrackRecord::new(2, 3, 3, 1), TrackRecord::new(3, 3, 3, 1)];
        assert_eq!(backdate_divisions(&short, &mut masks, &rules).1, 0);
        assert_eq!(masks, late_division(12));
    }

    #[test]
    fn daughters_outside_the_mother_keep_their_division() {
        let mut masks = late_division(12);
        // Move daughter 3 away from where the mother lay.
        masks[3].mapv_inplace(|l| if l == 3 { 0 } else { l });
        masks[3].slice_mut(s![0..2, 14..20]).fill(3);
        let tracks = [TrackRecord::new(1, 0, 2, 0), TrackRecord::new(2, 3, 3, 1), TrackRecord::new(3, 3, 3, 1)];
        assert_eq!(backdate_divisions(&tracks, &mut masks, &BackdateRules::default()).1, 0);
    }

    #[test]
    fn frames_leave_the_backdater_in_order_two_behind_and_finish_lets_the_rest_go() {
        let masks = late_division(12);
        let mut b = Backdater::new(BackdateRules::default());
        let mut out = Vec::new();
        for (t, m) in masks.iter().enumerate() {
            let got = b.push(t, m.clone(), if t == 3 { &[(1, [2, 3])] } else { &[] });
            assert_eq!(got.iter().map(|f| f.0).collect::<Vec<_>>(), if t >= 2 { vec![t - 2] } else { vec![] });
            out.extend(got);
        }
        let (rest, moves) = b.finish();
        assert_eq!(rest.iter().map(|f| f.0).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(moves, [Move { frame: 2, mother: 1, daughters: [2, 3] }]);
        out.extend(rest);
        assert!(out[2].1.iter().all(|&l| l != 1), "frame 2 went to the daughters");
        assert_eq!(out[3].1, masks[3]);
    }

    #[test]
    fn a_bar_has_the_ratio_of_its_sides_in_second_moments() {
        // A 1-pixel-wide line: the minor variance is 0, the ratio large but finite.
        assert!(axis_ratio(&block(0, 1, 0, 10)) > 100.0);
        assert_eq!(axis_ratio(&block(0, 2, 0, 2)), 1.0);
        // Rotating a shape by 90° keeps its ratio.
        let a = axis_ratio(&block(0, 3, 0, 7));
        let b = axis_ratio(&block(0, 7, 0, 3));
        assert!((a - b).abs() < 1e-12);
    }

    proptest! {
        /// Whatever the masks, backdating keeps every track's label and
        /// parent, moves a mother's end and her daughters' begin together by
        /// one frame, never empties a track, and only relabels pixels of a
        /// moved mother in her old last frame to her daughters' labels. The
        /// masks are drawn near the rule's edge: a mother of `side`², then
        /// one object `h` × `w`, then two daughters that split it at column
        /// `cut`, each shifted by up to two pixels; some divisions move and
        /// some do not.
        #[test]
        fn backdating_moves_whole_divisions_by_one_frame(
            side in 3usize..9,
            (h, w) in (3usize..8, 4usize..17),
            cut in 1usize..16,
            shifts in proptest::collection::vec((0usize..5, 0usize..5), 2),
        ) {
            let mut masks = vec![Array2::<u32>::zeros((16, 24)); 4];
            masks[0].slice_mut(s![4..4 + side, 6..6 + side]).fill(1);
            masks[1].slice_mut(s![4..4 + side, 6..6 + side]).fill(1);
            masks[2].slice_mut(s![4..4 + h, 2..2 + w]).fill(1);
            let cut = cut.min(w - 1);
            let [(y1, x1), (y2, x2)] = [shifts[0], shifts[1]];
            masks[3].slice_mut(s![2 + y1..2 + y1 + h, x1..x1 + cut]).fill(2);
            masks[3].slice_mut(s![2 + y2..2 + y2 + h, 2 + x2 + cut..2 + x2 + w]).fill(3);
            let before = masks.clone();
            let tracks = [TrackRecord::new(1, 0, 2, 0), TrackRecord::new(2, 3, 3, 1), TrackRecord::new(3, 3, 3, 1)];
            let (out, n) = backdate_divisions(&tracks, &mut masks, &BackdateRules::default());
            prop_assert!(n <= 1);
            for (o, t) in out.iter().zip(&tracks) {
                prop_assert_eq!((o.label, o.parent), (t.label, t.parent));
                prop_assert!(o.begin <= o.end);
            }
            if n == 1 {
                prop_assert_eq!(&out, &[TrackRecord::new(1, 0, 1, 0), TrackRecord::new(2, 2, 3, 1), TrackRecord::new(3, 2, 3, 1)]);
                for (p, &l) in before[2].indexed_iter() {
                    let now = masks[2][p];
                    let kept = if l == 1 { now == 2 || now == 3 } else { now == l };
                    prop_assert!(kept, "pixel {:?}: {} became {}", p, l, now);
                }
            } else {
                prop_assert_eq!(&out[..], &tracks[..]);
                prop_assert_eq!(&masks, &before);
            }
            for t in [0, 1, 3] {
                prop_assert_eq!(&masks[t], &before[t]);
            }
        }
    }
}
