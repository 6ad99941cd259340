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
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            max_displacement: 25.0,
            max_gap: 2,
            divisions: true,
            division: DivisionRules::default(),
            split: SplitRule::default(),
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
    pub fn new(cfg: LinkConfig) -> Linker {
        assert!(cfg.max_displacement > 0.0, "max_displacement must be positive");
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
        if let Some(prev) = self.last_t {
            if t != prev + 1 {
                return Err(LinkError::OutOfOrder { prev, got: t });
            }
        }
        let shape = mask.dim();
        if let Some(expected) = self.shape {
            if expected != shape {
                return Err(LinkError::ShapeMismatch { t, expected, got: shape });
            }
        }
        self.shape = Some(shape);
        self.last_t = Some(t);
        let objs = extract_objects(mask.view(), self.cfg.split);
        let labels = self.link(t, &objs);
        let mut out = Array2::zeros(shape);
        for (o, &l) in objs.iter().zip(&labels) {
            o.paint(&mut out, l);
        }
        Ok(vec![(t, out)])
    }

    /// Ends linking: the frames not yet returned (none, see [`Linker::push`]) and the lineage.
    pub fn finish(self) -> (Vec<(usize, Mask)>, Lineage) {
        (Vec::new(), self.lineage)
    }

    /// Decides the track of each object of frame `t` and updates the open tracks.
    fn link(&mut self, t: usize, objs: &[Object]) -> Vec<u32> {
        let d = self.cfg.max_displacement;
        let n = objs.len();
        let grid = PointGrid::new(objs.iter().map(|o| o.centroid).collect(), d);
        let max_extent = objs.iter().map(|o| o.extent).fold(0.0, f64::max);
        let candidates = |prev: &Object, reach: f64, f: &mut dyn FnMut(usize, f64)| {
            grid.within(prev.centroid, search_radius(prev, max_extent, reach), |j, _| {
                if let Some(c) = motion_cost(prev, &objs[j], reach) {
                    f(j, c)
                }
            })
        };

        // 1. Frame to frame.
        let live: Vec<usize> = (0..self.open.len()).filter(|&k| self.open[k].last_t + 1 == t).collect();
        let mut edges = Vec::new();
        for (r, &k) in live.iter().enumerate() {
            candidates(&self.open[k].obj, d, &mut |j, c| edges.push((r as u32, j as u32, c)));
        }
        let first = lap::assign(live.len(), n, &edges, &vec![0.5; live.len()], &vec![0.5; n]);
        let mut owner: Vec<Option<usize>> = vec![None; n];
        let mut next_obj: Vec<Option<usize>> = vec![None; self.open.len()];
        for (r, j) in first.iter().enumerate() {
            if let Some(j) = *j {
                owner[j as usize] = Some(live[r]);
                next_obj[live[r]] = Some(j as usize);
            }
        }

        // Merges: an unlinked track whose cell is now inside another's object.
        let mut merged_into: Vec<Option<usize>> = vec![None; self.open.len()];
        for &k in &live {
            if next_obj[k].is_some() {
                continue;
            }
            let gone = &self.open[k].obj;
            let mut best: Option<(u64, usize)> = None;
            grid.within(gone.centroid, search_radius(gone, max_extent, 0.0), |j, _| {
                let o = gone.overlap(&objs[j]);
                if o > 0 && best.is_none_or(|b| (o, std::cmp::Reverse(j)) > (b.0, std::cmp::Reverse(b.1))) {
                    best = Some((o, j));
                }
            });
            if let Some((_, j)) = best {
                if let Some(h) = owner[j] {
                    if is_merge(gone, &self.open[h].obj, &objs[j]) {
                        merged_into[k] = Some(h);
                    }
                }
            }
        }
        for k in 0..self.open.len() {
            if let Some(h) = merged_into[k] {
                let mut moved = std::mem::take(&mut self.open[k].absorbed);
                moved.push(Absorbed { label: self.open[k].label, born: self.open[k].born, since: t });
                self.open[h].absorbed.extend(moved);
            }
        }

        // 2. Left-over objects against gaps, partings and divisions.
        let free: Vec<usize> = (0..n).filter(|&j| owner[j].is_none()).collect();
        let mut col_of = vec![u32::MAX; n];
        for (c, &j) in free.iter().enumerate() {
            col_of[j] = c as u32;
        }
        let mut events = Vec::new();
        let mut edges = Vec::new();
        let mut row: Vec<(usize, f64)> = Vec::new();
        // Adds event `e` as a row with the candidates gathered in `row`, if any are free.
        let mut add_row = |e: Event, row: &mut Vec<(usize, f64)>| {
            let r = events.len() as u32;
            for (j, c) in row.drain(..) {
                if col_of[j] != u32::MAX {
                    edges.push((r, col_of[j], c));
                }
            }
            if edges.last().is_some_and(|x| x.0 == r) {
                events.push(e);
            }
        };
        if !free.is_empty() {
            for (k, tr) in self.open.iter().enumerate() {
                if tr.last_t + 1 < t {
                    let reach = d * (t - tr.last_t) as f64;
                    candidates(&tr.obj, reach, &mut |j, c| row.push((j, c)));
                    add_row(Event::Gap(k), &mut row);
                    continue;
                }
                let Some(s) = next_obj[k] else { continue };
                for (a, b) in tr.absorbed.iter().enumerate() {
                    if b.since < t {
                        candidates(&tr.obj, d, &mut |j, c| row.push((j, c)));
                        add_row(Event::Parting(k, a), &mut row);
                    }
                }
                if self.cfg.divisions && tr.absorbed.is_empty() {
                    let age = tr.born.map(|b| t - b);
                    let reach = d + tr.obj.radius();
                    grid.within(tr.obj.centroid, search_radius(&tr.obj, max_extent, reach), |j, _| {
                        if j != s {
                            if let Some(c) = division_cost(&self.cfg.division, &tr.obj, age, &objs[s], &objs[j], d) {
                                row.push((j, c));
                            }
                        }
                    });
                    add_row(Event::Division(k, s), &mut row);
                }
            }
        }
        let second = lap::assign(events.len(), free.len(), &edges, &vec![0.0; events.len()], &vec![1.0; free.len()]);

        // Apply the decisions.
        let mut labels = vec![0u32; n];
        let mut ended = vec![false; self.open.len()];
        let mut fresh: Vec<Open> = Vec::new();
        let mut parted: Vec<(usize, usize)> = Vec::new();
        for (e, c) in events.iter().zip(&second) {
            let Some(c) = *c else { continue };
            let u = free[c as usize];
            match *e {
                Event::Gap(k) => {
                    ended[k] = true;
                    let tr = &mut self.open[k];
                    let label = self.lineage.start(t, Some((tr.label, Descent::Resumed)));
                    labels[u] = label;
                    let absorbed = std::mem::take(&mut tr.absorbed);
                    fresh.push(Open { label, last_t: t, obj: objs[u].clone(), born: tr.born, absorbed });
                }
                Event::Parting(k, a) => {
                    let b = self.open[k].absorbed[a];
                    parted.push((k, a));
                    let label = self.lineage.start(t, Some((b.label, Descent::Resumed)));
                    labels[u] = label;
                    fresh.push(Open { label, last_t: t, obj: objs[u].clone(), born: b.born, absorbed: Vec::new() });
                }
                Event::Division(k, s) => {
                    ended[k] = true;
                    let mother = self.open[k].label;
                    for j in [s, u] {
                        let label = self.lineage.start(t, Some((mother, Descent::Division)));
                        labels[j] = label;
                        fresh.push(Open { label, last_t: t, obj: objs[j].clone(), born: Some(t), absorbed: Vec::new() });
                    }
                }
            }
        }
        parted.sort_unstable_by(|x, y| y.cmp(x));
        for (k, a) in parted {
            self.open[k].absorbed.remove(a);
        }
        for (k, tr) in self.open.iter_mut().enumerate() {
            match next_obj[k] {
                Some(j) if !ended[k] => {
                    self.lineage.extend(tr.label, t);
                    labels[j] = tr.label;
                    tr.obj = objs[j].clone();
                    tr.last_t = t;
                }
                _ => {}
            }
        }
        for j in 0..n {
            if labels[j] == 0 {
                let label = self.lineage.start(t, None);
                labels[j] = label;
                fresh.push(Open { label, last_t: t, obj: objs[j].clone(), born: None, absorbed: Vec::new() });
            }
        }
        let max_gap = self.cfg.max_gap;
        let mut k = 0;
        self.open.retain(|tr| {
            let keep = !ended[k] && merged_into[k].is_none() && t - tr.last_t <= max_gap;
            k += 1;
            keep
        });
        self.open.extend(fresh);
        labels
    }
}
