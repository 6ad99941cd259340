//! The linker: each frame's objects onto tracks, with divisions, gap closing and merges, one frame at a time.
//!
//! Per frame, in the two-step scheme of Jaqaman et al. (2008, Nature Methods 5):
//! 1. a frame-to-frame assignment of the tracks present in the previous frame
//!    to this frame's objects ([`lap::assign`], costs from [`motion_cost`]);
//! 2. a second assignment of the objects left over to the events that can
//!    explain them: a track resuming after up to `max_gap` missed frames, a
//!    cell parting from an object it had merged into, or the second daughter
//!    of a division ([`division_cost`]). What is still left is a birth.
//!
//! A resumed cell gets a new label whose parent is its earlier track (CTC
//! tracks have no holes), and a division ends the mother and starts two
//! daughters in the frame being linked, so no decision ever rewrites a frame
//! already linked: [`Linker::push`] returns each frame relabelled at once.
//! The state is the tracks seen in the last `max_gap + 1` frames (their last
//! object each) and the lineage of tracks, so memory does not grow with the
//! number of frames.
use ndarray::Array2;

use super::cost::{motion_cost, search_radius};
use super::events::{division_cost, is_merge, DivisionRules};
use super::grid::PointGrid;
use super::lap;
use super::lineage::{Descent, Lineage};
use super::objects::{extract_objects, Object, SplitRule};
use crate::ctc::Mask;

/// Settings of the linker.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkConfig {
    /// Farthest a cell's centroid moves between two frames, in pixels.
    /// Objects that overlap may link from farther away.
    pub max_displacement: f64,
    /// Most consecutive frames a cell may be missing and still be resumed.
    pub max_gap: usize,
    /// Whether to look for divisions at all.
    pub divisions: bool,
    pub division: DivisionRules,
    /// Which pieces of a label made of disconnected pieces are objects of their own.
    pub split: SplitRule,
    /// Brief branches to prune from the finished lineage, in frames (0: none;
    /// [`crate::link::prune_brief_branches`]). [`crate::link::StreamLinker`]
    /// applies it once the linker is done; the linker itself ignores it.
    pub prune_branches: usize,
    /// Move a division a frame back where the mother's last object is her
    /// two daughters side by side ([`crate::link::backdate::Backdater`]).
    /// [`crate::link::StreamLinker`] applies it to the frames the linker
    /// returns; the linker ignores it.
    pub backdate_divisions: bool,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            max_displacement: 25.0,
            max_gap: 2,
            divisions: true,
            division: DivisionRules::default(),
            split: SplitRule::default(),
            prune_branches: 0,
            backdate_divisions: true,
        }
    }
}

/// Frames pushed in a way the linker cannot follow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("frame {got} pushed after frame {prev}; frames must come one after another")]
    OutOfOrder { prev: usize, got: usize },
    #[error("frame {t} is {got:?} pixels (rows, columns) but the frames before it were {expected:?}")]
    ShapeMismatch { t: usize, expected: (usize, usize), got: (usize, usize) },
}

/// A track that may still continue: present in one of the last `max_gap + 1` frames.
#[derive(Debug, Clone)]
struct Open {
    label: u32,
    last_t: usize,
    /// Its object in frame `last_t`.
    obj: Object,
    /// The frame this cell was born by division, if that was seen.
    born: Option<usize>,
    /// Tracks that merged into this track's object and may part from it again.
    absorbed: Vec<Absorbed>,
}

#[derive(Debug, Clone, Copy)]
struct Absorbed {
    label: u32,
    born: Option<usize>,
    /// The frame of the merge.
    since: usize,
}

/// A row of the second assignment: what could explain a left-over object.
#[derive(Debug, Clone, Copy)]
enum Event {
    /// Open track `k` (missing from the previous frame) resumes.
    Gap(usize),
    /// The `a`-th track absorbed by open track `k` parts from it.
    Parting(usize, usize),
    /// Open track `k` divides; object `sister` is the daughter it was linked to.
    Division(usize, usize),
}

/// Links label masks frame by frame into tracks and a [`Lineage`].
///
/// ```
/// use cellstream::link::{Linker, LinkConfig, track_records};
/// use ndarray::array;
/// let mut linker = Linker::new(LinkConfig::default());
/// let out0 = linker.push(0, &array![[5, 5, 0, 0, 0, 0]]).unwrap();
/// let out1 = linker.push(1, &array![[0, 9, 9, 0, 0, 0]]).unwrap();
/// assert_eq!(out1[0], (1, array![[0, 1, 1, 0, 0, 0]]));
/// let (rest, lineage) = linker.finish();
/// assert!(rest.is_empty());
/// assert_eq!(track_records(&lineage).len(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct Linker {
    cfg: LinkConfig,
    shape: Option<(usize, usize)>,
    last_t: Option<usize>,
    open: Vec<Open>,
    lineage: Lineage,
}

impl Linker {
    /// A linker with no frame seen yet; frames then go to [`Linker::push`]
    /// in time order.
    ///
    /// # Panics
    /// If `cfg.max_displacement` is not a positive number.
    pub fn new(cfg: LinkConfig) -> Linker {
        assert!(cfg.max_displacement > 0.0 && cfg.max_displacement.is_finite(), "max_displacement must be positive");
        Linker { cfg, shape: None, last_t: None, open: Vec::new(), lineage: Lineage::new() }
    }

    pub fn config(&self) -> &LinkConfig {
        &self.cfg
    }

    /// The lineage so far.
    pub fn lineage(&self) -> &Lineage {
        &self.lineage
    }

    /// Links frame `t` (label mask, labels arbitrary) and returns the frames
    /// that are final, relabelled with one label per track: here always frame
    /// `t` itself, since no later decision changes a linked frame.
    pub fn push(&mut self, t: usize, mask: &Mask) -> Result<Vec<(usize, Mask)>, LinkError> {
        if let Some(prev) = self.last_t
            && t != prev + 1 {
                return Err(LinkError::OutOfOrder { prev, got: t });
            }
        let shape = mask.dim();
        if let Some(expected) = self.shape
            && expected != shape {
                return Err(LinkError::ShapeMismatch { t, expected, got: shape });
            }
        self.shape = Some(shape);
        self.last_t = Some(t);
        let objs = extract_objects(mask.view(), self.cfg.split);
        let mut out = Array2::zeros(shape);
        self.link(t, objs, &mut out);
        Ok(vec![(t, out)])
    }

    /// Ends linking: the frames not yet returned (none, see [`Linker::push`]) and the lineage.
    pub fn finish(self) -> (Vec<(usize, Mask)>, Lineage) {
        (Vec::new(), self.lineage)
    }

    /// Decides the track of each object of frame `t`, paints `out` with the
    /// track labels and updates the open tracks.
    fn link(&mut self, t: usize, objs: Vec<Object>, out: &mut Mask) {
        let near = Nearby::new(&objs, self.cfg.max_displacement);
        let next = self.frame_to_frame(t, &near);
        let merged = self.merges(t, &near, &next);
        let events = self.explain_leftovers(t, &near, &next);
        self.apply(t, objs, &next, &merged, &events, out);
    }

    /// Step 1: the object each track present in frame `t − 1` continues into.
    fn frame_to_frame(&self, t: usize, near: &Nearby) -> Vec<Option<usize>> {
        let live: Vec<usize> = (0..self.open.len()).filter(|&k| self.open[k].last_t + 1 == t).collect();
        let mut edges = Vec::new();
        for (r, &k) in live.iter().enumerate() {
            near.moved(&self.open[k].obj, self.cfg.max_displacement, |j, c| edges.push((r as u32, j as u32, c)));
        }
        let n = near.objs.len();
        // Any link within reach (cost ≤ 1) beats a death plus a birth (0.5 + 0.5).
        let links = lap::assign(live.len(), n, &edges, &vec![0.5; live.len()], &vec![0.5; n]);
        let mut next = vec![None; self.open.len()];
        for (r, j) in links.into_iter().enumerate() {
            next[live[r]] = j.map(|j| j as usize);
        }
        next
    }

    /// Tracks of frame `t − 1` left without an object because their cell is
    /// now inside another track's object ([`is_merge`]): the absorbing track
    /// of each, which from now on carries it (and what it had absorbed).
    fn merges(&mut self, t: usize, near: &Nearby, next: &[Option<usize>]) -> Vec<Option<usize>> {
        let mut owner = vec![None; near.objs.len()];
        for (k, j) in next.iter().enumerate() {
            if let Some(j) = *j {
                owner[j] = Some(k);
            }
        }
        let mut merged = vec![None; self.open.len()];
        for (k, tr) in self.open.iter().enumerate() {
            if tr.last_t + 1 != t || next[k].is_some() {
                continue;
            }
            let mut best: Option<(u64, usize)> = None;
            near.near(&tr.obj, 0.0, |j| {
                let o = tr.obj.overlap(&near.objs[j]);
                if o > 0 && best.is_none_or(|b| (o, std::cmp::Reverse(j)) > (b.0, std::cmp::Reverse(b.1))) {
                    best = Some((o, j));
                }
            });
            if let Some(h) = best.and_then(|(_, j)| owner[j])
                && is_merge(&tr.obj, &self.open[h].obj, &near.objs[next[h].expect("owner has an object")]) {
                    merged[k] = Some(h);
                }
        }
        for (k, h) in merged.iter().enumerate() {
            if let Some(h) = *h {
                let mut moved = std::mem::take(&mut self.open[k].absorbed);
                moved.push(Absorbed { label: self.open[k].label, born: self.open[k].born, since: t });
                self.open[h].absorbed.extend(moved);
            }
        }
        merged
    }

    /// Step 2: the objects no track continues into, assigned to the events
    /// that can explain them; the object each chosen event takes.
    fn explain_leftovers(&self, t: usize, near: &Nearby, next: &[Option<usize>]) -> Vec<(Event, usize)> {
        let d = self.cfg.max_displacement;
        let mut taken = vec![false; near.objs.len()];
        for j in next.iter().flatten() {
            taken[*j] = true;
        }
        let free: Vec<usize> = (0..near.objs.len()).filter(|&j| !taken[j]).collect();
        if free.is_empty() {
            return Vec::new();
        }
        let mut col = vec![u32::MAX; near.objs.len()];
        for (c, &j) in free.iter().enumerate() {
            col[j] = c as u32;
        }
        let (mut events, mut edges) = (Vec::new(), Vec::new());
        let mut row = |e: Event, cands: &mut Vec<(usize, f64)>| {
            let r = events.len() as u32;
            let before = edges.len();
            edges.extend(cands.drain(..).filter(|&(j, _)| col[j] != u32::MAX).map(|(j, c)| (r, col[j], c)));
            if edges.len() > before {
                events.push(e);
            }
        };
        let mut cands = Vec::new();
        for (k, tr) in self.open.iter().enumerate() {
            if tr.last_t + 1 < t {
                near.moved(&tr.obj, d * (t - tr.last_t) as f64, |j, c| cands.push((j, c)));
                row(Event::Gap(k), &mut cands);
                continue;
            }
            let Some(s) = next[k] else { continue };
            for (a, b) in tr.absorbed.iter().enumerate() {
                if b.since < t {
                    near.moved(&tr.obj, d, |j, c| cands.push((j, c)));
                    row(Event::Parting(k, a), &mut cands);
                }
            }
            if self.cfg.divisions && tr.absorbed.is_empty() {
                let age = tr.born.map(|b| t - b);
                near.near(&tr.obj, d + tr.obj.radius(), |j| {
                    if j == s {
                        return;
                    }
                    if let Some(c) = division_cost(&self.cfg.division, &tr.obj, age, &near.objs[s], &near.objs[j], d) {
                        cands.push((j, c));
                    }
                });
                row(Event::Division(k, s), &mut cands);
            }
        }
        // An event is worth taking if it costs less than the birth it replaces.
        let chosen = lap::assign(events.len(), free.len(), &edges, &vec![0.0; events.len()], &vec![1.0; free.len()]);
        events.into_iter().zip(chosen).filter_map(|(e, c)| Some((e, free[c? as usize]))).collect()
    }

    /// Records the decisions in the lineage, paints `out`, and moves the
    /// objects into the open tracks.
    fn apply(&mut self, t: usize, objs: Vec<Object>, next: &[Option<usize>], merged: &[Option<usize>], events: &[(Event, usize)], out: &mut Mask) {
        let n = objs.len();
        let mut labels = vec![0u32; n];
        let mut ended = vec![false; self.open.len()];
        // New tracks: (object, label, birth by division, absorbed tracks).
        let mut started: Vec<(usize, u32, Option<usize>, Vec<Absorbed>)> = Vec::new();
        let mut parted: Vec<(usize, usize)> = Vec::new();
        for &(e, u) in events {
            match e {
                Event::Gap(k) => {
                    ended[k] = true;
                    let label = self.lineage.start(t, Some((self.open[k].label, Descent::Resumed)));
                    started.push((u, label, self.open[k].born, std::mem::take(&mut self.open[k].absorbed)));
                }
                Event::Parting(k, a) => {
                    parted.push((k, a));
                    let b = self.open[k].absorbed[a];
                    let label = self.lineage.start(t, Some((b.label, Descent::Resumed)));
                    started.push((u, label, b.born, Vec::new()));
                }
                Event::Division(k, s) => {
                    ended[k] = true;
                    for j in [s, u] {
                        let label = self.lineage.start(t, Some((self.open[k].label, Descent::Division)));
                        started.push((j, label, Some(t), Vec::new()));
                    }
                }
            }
        }
        parted.sort_unstable_by(|x, y| y.cmp(x));
        for (k, a) in parted {
            self.open[k].absorbed.remove(a);
        }
        for &(j, label, ..) in &started {
            labels[j] = label;
        }
        for (k, tr) in self.open.iter().enumerate() {
            if let (Some(j), false) = (next[k], ended[k]) {
                self.lineage.extend(tr.label, t);
                labels[j] = tr.label;
            }
        }
        for (j, l) in labels.iter_mut().enumerate() {
            if *l == 0 {
                *l = self.lineage.start(t, None);
                started.push((j, *l, None, Vec::new()));
            }
        }
        for (o, &l) in objs.iter().zip(&labels) {
            o.paint(out, l);
        }

        let mut objs: Vec<Option<Object>> = objs.into_iter().map(Some).collect();
        for (k, tr) in self.open.iter_mut().enumerate() {
            if let (Some(j), false) = (next[k], ended[k]) {
                tr.obj = objs[j].take().expect("one track per object");
                tr.last_t = t;
            }
        }
        let max_gap = self.cfg.max_gap;
        let mut k = 0;
        self.open.retain(|tr| {
            let keep = !ended[k] && merged[k].is_none() && t - tr.last_t <= max_gap;
            k += 1;
            keep
        });
        for (j, label, born, absorbed) in started {
            let obj = objs[j].take().expect("one track per object");
            self.open.push(Open { label, last_t: t, obj, born, absorbed });
        }
    }
}

/// One frame's objects, bucketed for neighbour queries.
struct Nearby<'a> {
    objs: &'a [Object],
    grid: PointGrid,
    max_extent: f64,
}

impl<'a> Nearby<'a> {
    fn new(objs: &'a [Object], cell: f64) -> Nearby<'a> {
        Nearby {
            objs,
            grid: PointGrid::new(objs.iter().map(|o| o.centroid).collect(), cell),
            max_extent: objs.iter().map(|o| o.extent).fold(0.0, f64::max),
        }
    }

    /// Objects whose centroid lies within `reach` of `prev`'s, or which may overlap it.
    fn near(&self, prev: &Object, reach: f64, mut f: impl FnMut(usize)) {
        self.grid.within(prev.centroid, search_radius(prev, self.max_extent, reach), |j, _| f(j));
    }

    /// Objects that can be `prev` moved by up to `reach`, with the cost ([`motion_cost`]).
    fn moved(&self, prev: &Object, reach: f64, mut f: impl FnMut(usize, f64)) {
        self.near(prev, reach, |j| {
            if let Some(c) = motion_cost(prev, &self.objs[j], reach) {
                f(j, c)
            }
        })
    }
}
