//! Cells merged into one object, split again by the frame before them: cells do not fuse.
use std::collections::{BTreeMap, HashMap};

use ndarray::{s, Array2, ArrayView2};

use super::distance_transform::distance_transform;
use super::morphology::erode_disk;
use super::region_labelling::Connectivity;
use super::watershed::watershed;
use crate::ctc::Mask;

/// When [`split_merges`] splits an object, and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MergeSplit {
    /// A cell of the previous frame counts as inside the object when at least
    /// this fraction of its area lies in it.
    pub min_cover: f32,
    /// ... and when its area is at least this × the previous frame's median
    /// object area, so that the pieces of a cell cut in two there do not cut
    /// the whole cell here.
    pub min_size: f32,
    /// The object must be at least this × the summed area of the cells it
    /// covers: big enough to hold them all.
    pub min_area_ratio: f32,
    /// Each covered cell, eroded by a disk of this radius (for the motion
    /// between the frames), marks its part of the object.
    pub erosion: usize,
    /// Connectivity of the watershed flood.
    pub connectivity: Connectivity,
    /// Along a stream ([`MergeSplitter`]), a split is carried into at most
    /// this many frames after the last one whose segmentation held the cells
    /// apart, so that a cell cut in two once is not cut in every frame after.
    pub max_age: usize,
}

impl Default for MergeSplit {
    /// The settings chosen on the training sequences of the three simulated
    /// modalities (docs/notebook.md, Splitting merges with the frame before).
    fn default() -> Self {
        MergeSplit { min_cover: 0.7, min_size: 0.6, min_area_ratio: 0.8, erosion: 1, connectivity: Connectivity::Eight, max_age: 5 }
    }
}

/// `current` with every object that covers two or more cells of `previous`
/// split into one object per cell, and the number of objects split.
///
/// Cells do not fuse (cells divide; they do not join), so an object that
/// holds two cells of the frame before is two cells the segmentation failed
/// to part. Each object of `current` is split when at least two objects of
/// `previous` each lie for [`MergeSplit::min_cover`] of their area inside it,
/// are each at least [`MergeSplit::min_size`] × the median object area of
/// `previous`, and together cover no more than 1 / [`MergeSplit::min_area_ratio`]
/// of it. The parts of those cells inside the object, eroded by
/// [`MergeSplit::erosion`], mark a watershed of its negated distance
/// transform (the marker-controlled watershed of touching objects, Beucher &
/// Meyer 1993, seeded from the previous frame as in tracking-by-segmentation
/// correction of under-segmentation). The first cell (lowest label) keeps the
/// object's label, the others get new labels above every label of `current`;
/// pixels no marker reaches keep the object's label. Nothing else changes: the
/// foreground is the same, and every object of the result lies inside one
/// object of `current`. [`MergeSplitter`] feeds each result to the next
/// frame, so that a merge that lasts is split for as long as it lasts (up to
/// [`MergeSplit::max_age`] frames). Masks of different shapes are returned
/// unchanged.
///
/// ```
/// use cellstream::post::{split_merges, MergeSplit};
/// use ndarray::Array2;
/// // Frame t − 1: two cells side by side; frame t: one object over both.
/// let mut previous = Array2::<u32>::zeros((6, 12));
/// previous.slice_mut(ndarray::s![1..5, 1..6]).fill(1);
/// previous.slice_mut(ndarray::s![1..5, 6..11]).fill(2);
/// let current = previous.mapv(|l| if l > 0 { 7 } else { 0 });
/// let (split, n) = split_merges(previous.view(), current.view(), &MergeSplit::default());
/// assert_eq!(n, 1);
/// assert_eq!(split, previous.mapv(|l| match l { 1 => 7, 2 => 8, _ => 0 }));
/// ```
pub fn split_merges(previous: ArrayView2<u32>, current: ArrayView2<u32>, p: &MergeSplit) -> (Mask, usize) {
    let mut out = current.to_owned();
    let n = split_merges_mut(previous, &mut out, p);
    (out, n)
}

/// [`split_merges`] in place: splits the merged objects of `current` and
/// returns how many it split.
///
/// ```
/// use cellstream::post::{split_merges_mut, MergeSplit};
/// use ndarray::Array2;
/// let mut previous = Array2::<u32>::zeros((6, 12));
/// previous.slice_mut(ndarray::s![1..5, 1..6]).fill(1);
/// previous.slice_mut(ndarray::s![1..5, 6..11]).fill(2);
/// let mut current = previous.mapv(|l| u32::from(l > 0) * 3);
/// assert_eq!(split_merges_mut(previous.view(), &mut current, &MergeSplit::default()), 1);
/// assert_eq!(current, previous.mapv(|l| [0, 3, 4][l as usize])); // the first cell keeps label 3
/// ```
pub fn split_merges_mut(previous: ArrayView2<u32>, current: &mut Mask, p: &MergeSplit) -> usize {
    split_aged(previous, &HashMap::new(), current, p).0
}

/// Splits `current` by `previous`, whose objects made by a split carry
/// their age in `ages` (frames since the segmentation held their cells
/// apart; others are 0): the number of objects split, and the labels of
/// their parts with their ages.
fn split_aged(previous: ArrayView2<u32>, ages: &HashMap<u32, usize>, current: &mut Mask, p: &MergeSplit) -> (usize, Vec<(u32, usize)>) {
    let mut parts_made = Vec::new();
    if previous.dim() != current.dim() {
        return (0, parts_made);
    }
    let age = |q: u32| ages.get(&q).copied().unwrap_or(0);
    let (h, w) = current.dim();
    // One pass for the extents of both masks and, for each previous cell,
    // the pixels each object of `current` holds of it.
    let max = |m: ArrayView2<u32>| match m.as_slice() {
        Some(v) => v.iter().copied().max(),
        None => m.iter().copied().max(),
    };
    let (max_prev, max_cur) = (max(previous).unwrap_or(0), max(current.view()).unwrap_or(0));
    let mut prev_boxes: Table<Extent> = Table::new(max_prev);
    let mut cur_boxes: Table<Extent> = Table::new(max_cur);
    let mut held: Table<Vec<(u32, usize)>> = Table::new(max_prev);
    for_each_run(previous, current.view(), |y, x0, x1, q, c| {
        if c != 0 {
            cur_boxes.entry(c).add(y, x0, x1);
        }
        if q != 0 {
            prev_boxes.entry(q).add(y, x0, x1);
            if c != 0 {
                let objects = held.entry(q);
                match objects.iter_mut().find(|(o, _)| *o == c) {
                    Some((_, n)) => *n += x1 - x0,
                    None => objects.push((c, x1 - x0)),
                }
            }
        }
    });
    let prev_cells = prev_boxes.labels();
    let median = median_area(&prev_cells);
    // The previous cells each object covers, lowest label first.
    let mut covers: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for &(q, e) in &prev_cells {
        let area = e.area as f32;
        if area < p.min_size * median {
            continue;
        }
        for (c, n) in held.get(q) {
            if n as f32 >= p.min_cover * area {
                covers.entry(c).or_default().push(q);
            }
        }
    }
    let mut next = u64::from(max_cur) + 1;
    let mut split = 0;
    for (c, mut cells) in covers {
        let cover: usize = cells.iter().map(|&q| prev_boxes.get(q).area).sum();
        if cells.len() < 2 || (cur_boxes.get(c).area as f32) < p.min_area_ratio * cover as f32 {
            continue;
        }
        let part_age = 1 + cells.iter().map(|&q| age(q)).max().unwrap_or(0);
        if part_age > p.max_age {
            continue;
        }
        cells.sort_unstable();
        // The object's box, grown so that an erosion near its edge sees the cell's true extent.
        let b = cur_boxes.get(c).grown(p.erosion + 1, h, w);
        let window = s![b.y0..b.y1, b.x0..b.x1];
        let object = current.slice(window).mapv(|l| l == c);
        let mut markers = Array2::<u32>::zeros(object.dim());
        // The marker numbers (1-based, by cell) of the cells that keep pixels after the erosion.
        let mut marked = Vec::new();
        for (i, &q) in cells.iter().enumerate() {
            let core = erode_disk(previous.slice(window).mapv(|l| l == q).view(), p.erosion);
            let n = i as u32 + 1;
            ndarray::Zip::from(&mut markers).and(&core).and(&object).for_each(|m, &k, &o| {
                if k && o {
                    *m = n;
                }
            });
            if markers.iter().any(|&m| m == n) {
                marked.push(n as usize);
            }
        }
        // New labels go above every label of `current`, while 32 bits hold them.
        if marked.len() < 2 || next + marked.len() as u64 - 2 > u64::from(u32::MAX) {
            continue;
        }
        let landscape = distance_transform(object.view()).mapv(|d| -d);
        let parts = watershed(landscape.view(), markers.view(), object.view(), p.connectivity);
        // The first marked cell keeps the object's label; each other gets a new one.
        let mut label_of = vec![c; cells.len() + 1];
        for &i in &marked[1..] {
            label_of[i] = next as u32;
            next += 1;
        }
        parts_made.extend(marked.iter().map(|&i| (label_of[i], part_age)));
        ndarray::Zip::from(current.slice_mut(window)).and(&parts).and(&object).for_each(|o, &v, &inside| {
            if inside && v != 0 {
                *o = label_of[v as usize];
            }
        });
        split += 1;
    }
    (split, parts_made)
}

/// [`split_merges`] along a stream of masks, each split by the one before
/// as split, so that a merge that lasts is split for as long as it lasts,
/// up to [`MergeSplit::max_age`] frames after the segmentation last held
/// the cells apart.
///
/// ```
/// use cellstream::post::{MergeSplit, MergeSplitter};
/// use ndarray::{s, Array2};
/// // Two cells, then one object over both for eight frames.
/// let mut apart = Array2::<u32>::zeros((6, 12));
/// apart.slice_mut(s![1..5, 1..6]).fill(1);
/// apart.slice_mut(s![1..5, 6..11]).fill(2);
/// let merged = apart.mapv(|l| u32::from(l > 0));
/// let mut splitter = MergeSplitter::new(MergeSplit { max_age: 5, ..MergeSplit::default() });
/// let mut objects = Vec::new();
/// for t in 0..9 {
///     let mut mask = if t == 0 { apart.clone() } else { merged.clone() };
///     splitter.split(&mut mask);
///     objects.push(mask.iter().max().copied().unwrap());
///     splitter.keep(mask);
/// }
/// assert_eq!(objects, [2, 2, 2, 2, 2, 2, 1, 1, 1]); // split in frames 1–5, not after
/// assert_eq!(splitter.objects_split(), 5);
/// ```
#[derive(Debug, Clone)]
pub struct MergeSplitter {
    params: MergeSplit,
    previous: Option<Mask>,
    /// The ages of the previous mask's objects made by a split.
    ages: HashMap<u32, usize>,
    /// The same for the mask split last, until it is kept.
    pending: HashMap<u32, usize>,
    split: usize,
}

impl MergeSplitter {
    pub fn new(params: MergeSplit) -> Self {
        MergeSplitter { params, previous: None, ages: HashMap::new(), pending: HashMap::new(), split: 0 }
    }

    /// Splits `mask` in place by the mask kept last (none before the first).
    pub fn split(&mut self, mask: &mut Mask) {
        self.pending.clear();
        if let Some(previous) = &self.previous {
            let (n, parts) = split_aged(previous.view(), &self.ages, mask, &self.params);
            self.split += n;
            self.pending.extend(parts);
        }
    }

    /// Keeps `mask`, as [`MergeSplitter::split`] left it, to split the next mask by.
    pub fn keep(&mut self, mask: Mask) {
        self.previous = Some(mask);
        std::mem::swap(&mut self.ages, &mut self.pending);
        self.pending.clear();
    }

    /// How many objects were split so far.
    pub fn objects_split(&self) -> usize {
        self.split
    }
}

/// An object's area and bounding box (rows `y0..y1`, columns `x0..x1`).
#[derive(Debug, Clone, Copy)]
struct Extent {
    area: usize,
    y0: usize,
    y1: usize,
    x0: usize,
    x1: usize,
}

impl Default for Extent {
    fn default() -> Self {
        Extent { area: 0, y0: usize::MAX, y1: 0, x0: usize::MAX, x1: 0 }
    }
}

impl Extent {
    /// Adds the pixels `x0..x1` of row `y`.
    fn add(&mut self, y: usize, x0: usize, x1: usize) {
        self.area += x1 - x0;
        self.y0 = self.y0.min(y);
        self.y1 = self.y1.max(y + 1);
        self.x0 = self.x0.min(x0);
        self.x1 = self.x1.max(x1);
    }

    fn grown(self, by: usize, h: usize, w: usize) -> Extent {
        Extent { y0: self.y0.saturating_sub(by), y1: (self.y1 + by).min(h), x0: self.x0.saturating_sub(by), x1: (self.x1 + by).min(w), ..self }
    }
}

/// Something for each label: in a vector indexed by label where the labels
/// are small enough (any segmentation of a frame), in a hash map where not
/// (arbitrary 32-bit labels).
enum Table<T> {
    Dense(Vec<T>),
    Sparse(HashMap<u32, T>),
}

impl<T: Default + Clone> Table<T> {
    /// Labels up to this are indexed directly.
    const DENSE: u32 = 1 << 20;

    fn new(max: u32) -> Self {
        if max <= Self::DENSE { Table::Dense(vec![T::default(); max as usize + 1]) } else { Table::Sparse(HashMap::new()) }
    }

    fn entry(&mut self, label: u32) -> &mut T {
        match self {
            Table::Dense(v) => &mut v[label as usize],
            Table::Sparse(m) => m.entry(label).or_default(),
        }
    }

    fn get(&self, label: u32) -> T {
        match self {
            Table::Dense(v) => v[label as usize].clone(),
            Table::Sparse(m) => m.get(&label).cloned().unwrap_or_default(),
        }
    }
}

impl Table<Extent> {
    /// The labels present (area > 0) with their extents, in increasing order.
    fn labels(&self) -> Vec<(u32, Extent)> {
        let mut out: Vec<(u32, Extent)> = match self {
            Table::Dense(v) => v.iter().enumerate().map(|(l, e)| (l as u32, *e)).collect(),
            Table::Sparse(m) => m.iter().map(|(&l, e)| (l, *e)).collect(),
        };
        out.retain(|(l, e)| *l != 0 && e.area > 0);
        out.sort_unstable_by_key(|(l, _)| *l);
        out
    }
}

/// Calls `f(y, x0, x1, a, b)` for each run of pixels `x0..x1` of row `y`
/// along which `a` (from the first mask) and `b` (the second) stay the same,
/// skipping runs where both are 0.
fn for_each_run(first: ArrayView2<u32>, second: ArrayView2<u32>, mut f: impl FnMut(usize, usize, usize, u32, u32)) {
    for (y, (ra, rb)) in first.rows().into_iter().zip(second.rows()).enumerate() {
        let (ra, rb) = (ra.as_slice().map_or_else(|| ra.to_vec().into(), std::borrow::Cow::Borrowed), rb.as_slice().map_or_else(|| rb.to_vec().into(), std::borrow::Cow::Borrowed));
        let mut x = 0;
        while x < ra.len() {
            let (a, b) = (ra[x], rb[x]);
            let mut end = x + 1;
            while end < ra.len() && ra[end] == a && rb[end] == b {
                end += 1;
            }
            if a != 0 || b != 0 {
                f(y, x, end, a, b);
            }
            x = end;
        }
    }
}

/// The median of the objects' areas (the mean of the middle two for an even
/// count, as numpy's); 0 without objects.
fn median_area(objects: &[(u32, Extent)]) -> f32 {
    let mut a: Vec<usize> = objects.iter().map(|(_, e)| e.area).collect();
    if a.is_empty() {
        return 0.0;
    }
    a.sort_unstable();
    let n = a.len();
    if n % 2 == 1 { a[n / 2] as f32 } else { (a[n / 2 - 1] + a[n / 2]) as f32 / 2.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Two 5×4 cells side by side (labels 1 and 2) in a 6×12 frame.
    fn pair() -> Mask {
        let mut m = Mask::zeros((6, 12));
        m.slice_mut(s![1..5, 1..6]).fill(1);
        m.slice_mut(s![1..5, 6..11]).fill(2);
        m
    }

    #[test]
    fn an_object_over_one_cell_is_left_alone() {
        let prev = pair();
        let cur = prev.mapv(|l| if l == 1 { 4 } else { 0 });
        assert_eq!(split_merges(prev.view(), cur.view(), &MergeSplit::default()), (cur, 0));
    }

    #[test]
    fn a_merge_that_moved_a_pixel_is_split_at_the_neck_between_the_cells() {
        // Two disks touching at a neck; in the frame before, each a little to the left.
        let disk = |cy: i32, cx: i32, r: i32, l: u32, m: &mut Mask| {
            for ((y, x), v) in m.indexed_iter_mut() {
                if (y as i32 - cy).pow(2) + (x as i32 - cx).pow(2) <= r * r {
                    *v = l;
                }
            }
        };
        let mut prev = Mask::zeros((16, 26));
        disk(8, 6, 4, 1, &mut prev);
        disk(8, 15, 4, 2, &mut prev);
        let mut cur = Mask::zeros((16, 26));
        disk(8, 7, 4, 5, &mut cur);
        disk(8, 16, 4, 5, &mut cur);
        cur.slice_mut(s![7..10, 10..14]).fill(5); // the neck
        let (out, n) = split_merges(prev.view(), cur.view(), &MergeSplit::default());
        assert_eq!(n, 1);
        assert_eq!(out[[8, 7]], 5, "the left cell keeps the label");
        assert_eq!(out[[8, 16]], 6, "the right cell gets a new one");
        assert!(out.indexed_iter().all(|((_, x), &l)| l == 0 || (l == 5) == (x <= 11)), "parted at the neck's middle:\n{out:?}");
    }

    #[test]
    fn pieces_of_a_cell_cut_in_two_before_do_not_cut_it_now() {
        // Frame t − 1 cut one cell (the object of frame t) into two small pieces,
        // beside three whole cells that set the median area.
        let mut prev = Mask::zeros((20, 30));
        prev.slice_mut(s![1..5, 1..4]).fill(1);
        prev.slice_mut(s![1..5, 4..7]).fill(2);
        for (i, x) in [10usize, 17, 24].into_iter().enumerate() {
            prev.slice_mut(s![10..15, x..x + 5]).fill(3 + i as u32);
        }
        let mut cur = Mask::zeros((20, 30));
        cur.slice_mut(s![1..5, 1..7]).fill(1);
        let (_, n) = split_merges(prev.view(), cur.view(), &MergeSplit::default());
        assert_eq!(n, 0, "each piece (12 px) is under 0.6 × the median area (25 px)");
    }

    #[test]
    fn an_object_too_small_to_hold_both_cells_is_left_alone() {
        let prev = pair();
        // Covers 80% of each cell, and 32 px: 0.8 × their 40 px, but not 0.9 ×.
        let mut cur = Mask::zeros((6, 12));
        cur.slice_mut(s![1..5, 2..10]).fill(3);
        assert_eq!(split_merges(prev.view(), cur.view(), &MergeSplit::default()).1, 1);
        let strict = MergeSplit { min_area_ratio: 0.9, ..MergeSplit::default() };
        assert_eq!(split_merges(prev.view(), cur.view(), &strict).1, 0);
    }

    #[test]
    fn labels_too_large_to_index_split_alike() {
        // Any 32-bit labels (a tool's own numbering): the hash-map tables give the same split.
        let prev = pair();
        let cur = prev.mapv(|l| if l > 0 { 7 } else { 0 });
        let (small, n) = split_merges(prev.view(), cur.view(), &MergeSplit::default());
        let big = |m: &Mask, by: u32| m.mapv(|l| if l > 0 { l + by } else { 0 });
        let (large, n_large) = split_merges(big(&prev, 3_000_000_000).view(), big(&cur, 4_000_000_000).view(), &MergeSplit::default());
        assert_eq!((n, n_large), (1, 1));
        assert_eq!(large, big(&small, 4_000_000_000));
    }

    #[test]
    fn no_split_without_a_free_label() {
        let prev = pair();
        let cur = prev.mapv(|l| if l > 0 { u32::MAX } else { 0 });
        assert_eq!(split_merges(prev.view(), cur.view(), &MergeSplit::default()), (cur, 0));
        let cur = prev.mapv(|l| if l > 0 { u32::MAX - 1 } else { 0 });
        assert_eq!(split_merges(prev.view(), cur.view(), &MergeSplit::default()).1, 1, "one label left above it is enough");
    }

    #[test]
    fn masks_of_different_shapes_come_back_unchanged() {
        let cur = Mask::from_elem((3, 3), 1);
        assert_eq!(split_merges(pair().view(), cur.view(), &MergeSplit::default()), (cur, 0));
    }

    fn random_mask(h: usize, w: usize, n: usize, seed: u64) -> Mask {
        // Rectangles of labels 1..=n painted in turn, later over earlier.
        let mut m = Mask::zeros((h, w));
        let mut s = seed;
        let mut next = |k: usize| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 33) as usize) % k
        };
        for l in 1..=n as u32 {
            let (y, x) = (next(h), next(w));
            let (dy, dx) = (1 + next(6), 1 + next(6));
            m.slice_mut(s![y..(y + dy).min(h), x..(x + dx).min(w)]).fill(l);
        }
        m
    }

    proptest! {
        #[test]
        fn splitting_keeps_the_foreground_and_only_ever_divides_objects(
            h in 4usize..24, w in 4usize..24, n in 0usize..8, seed in any::<u64>(), merge in any::<bool>()
        ) {
            let prev = random_mask(h, w, n, seed);
            // The frame after: the same cells, or some merged into their neighbours.
            let cur = if merge { prev.mapv(|l| if l == 0 { 0 } else { l.div_ceil(2) }) } else { random_mask(h, w, n, seed ^ 1) };
            let (out, split) = split_merges(prev.view(), cur.view(), &MergeSplit::default());
            prop_assert!(out.iter().zip(cur.iter()).all(|(&o, &c)| (o == 0) == (c == 0)));
            // Every result object lies inside one object of `current`.
            let mut inside: HashMap<u32, u32> = HashMap::new();
            for (&o, &c) in out.iter().zip(cur.iter()) {
                if o != 0 {
                    prop_assert_eq!(*inside.entry(o).or_insert(c), c);
                }
            }
            let count = |m: &Mask| { let mut l: Vec<u32> = m.iter().copied().filter(|&v| v != 0).collect(); l.sort_unstable(); l.dedup(); l.len() };
            prop_assert!(count(&out) >= count(&cur) + split);
            prop_assert_eq!(split == 0, out == cur);
        }
    }
}
