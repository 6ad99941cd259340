//! Marker-controlled watershed by priority flood (Meyer 1991; Beucher & Meyer 1993).
use ndarray::ArrayView2;

use super::region_labelling::{label_components, Connectivity};
use crate::ctc::Mask;

/// Floods `image` from `markers` inside `mask` and returns the labels: scikit-image's
/// `watershed(image, markers, mask=mask, connectivity=…)`.
///
/// Meyer's flooding algorithm (F. Meyer 1991, "Un algorithme optimal de ligne de
/// partage des eaux"; Beucher & Meyer 1993): a priority queue holds pixels by
/// flooding level, the lowest first, ties in order of insertion. Marker pixels enter
/// first, at their own value (raster order, all older than any other pixel);
/// popping a pixel gives each unlabelled mask neighbour its label and queues it at
/// `max(its value, the popped pixel's level)`. The binary heap is scikit-image's own
/// (same sift rules), so even ties between markers come out in the same order. Marker pixels outside `mask` are
/// ignored; mask pixels no marker can reach stay 0. O(n log n); see
/// [`watershed_levels`] for integer levels in O(n).
///
/// ```
/// use cellstream::post::{watershed, Connectivity};
/// use ndarray::array;
/// let image = array![[0.0f32, 1.0, 3.0, 1.0, 0.0]];
/// let markers = array![[1u32, 0, 0, 0, 2]];
/// let mask = array![[true, true, true, true, true]];
/// let labels = watershed(image.view(), markers.view(), mask.view(), Connectivity::Four);
/// assert_eq!(labels, array![[1, 1, 1, 2, 2]]);
/// ```
pub fn watershed(image: ArrayView2<f32>, markers: ArrayView2<u32>, mask: ArrayView2<bool>, conn: Connectivity) -> Mask {
    let grid = Grid::new(mask.dim(), conn);
    let (mut cells, seeds) = grid.cells::<u64>(Markers::Image(markers), mask, None);
    let img = grid.pad(image, 0.0);
    let mut heap = SkHeap::default();
    for &p in &seeds {
        heap.push(img[p as usize], 0, p);
    }
    let mut age = 0u64;
    while let Some((level, _, p)) = heap.pop() {
        let p = p as usize;
        let label = cells[p].label();
        for &o in grid.offsets() {
            let q = p.wrapping_add_signed(o);
            if cells[q].is_free() {
                cells[q] = cells[q].labelled(label);
                age += 1;
                heap.push(if img[q] < level { level } else { img[q] }, age, q as u32);
            }
        }
    }
    grid.labels(&cells)
}

/// [`watershed`] on an image of integer levels (lower floods first), in O(n) with
/// Meyer's hierarchical queue: one FIFO per level. Gives the same labels as
/// [`watershed`] on `levels as f32`.
///
/// ```
/// use cellstream::post::{watershed_levels, Connectivity};
/// use ndarray::array;
/// // The two basins meet at the ridge (level 9).
/// let levels = array![[0u32, 1, 4, 5, 9, 2, 0]];
/// let markers = array![[1u32, 0, 0, 0, 0, 0, 2]];
/// let mask = levels.mapv(|_| true);
/// let labels = watershed_levels(levels.view(), markers.view(), mask.view(), Connectivity::Four);
/// assert_eq!(labels, array![[1, 1, 1, 1, 2, 2, 2]]);
/// ```
pub fn watershed_levels(levels: ArrayView2<u32>, markers: ArrayView2<u32>, mask: ArrayView2<bool>, conn: Connectivity) -> Mask {
    flood_levels(levels, false, Markers::Image(markers), mask, conn, None)
}

/// Where the flood starts: a marker image (0 = no marker), or points, the i-th
/// labelled i + 1 (as `markers[tuple(points.T)] = arange(1, n + 1)` in NumPy).
#[derive(Clone, Copy)]
pub(crate) enum Markers<'a> {
    Image(ArrayView2<'a, u32>),
    Points(&'a [(usize, usize)]),
}

impl Markers<'_> {
    /// The largest marker label.
    fn max_label(&self) -> u32 {
        match self {
            Markers::Image(m) => m.iter().copied().max().unwrap_or(0),
            Markers::Points(p) => p.len() as u32,
        }
    }
}

/// [`watershed_levels`], flooding the highest level first when `highest_first`
/// (`watershed(-distance)` on squared distances without negating them).
/// `components`, if given, must be the connected components of `mask` under `conn`
/// (labels `1..=n`); they are computed otherwise.
///
/// Pixels of different components never meet, and restricted to one component the
/// (level, insertion order) sequence of the flood is the same whether the others are
/// flooded alongside or not. So components are flooded one after the other, which
/// keeps the queues short. Each pixel's label and queue share one word (16 + 16 bits
/// when they fit, else 32 + 32), so that looking at a neighbour touches one cache
/// line, not two: the flood is bound by memory latency.
pub(crate) fn flood_levels(
    levels: ArrayView2<u32>,
    highest_first: bool,
    markers: Markers,
    mask: ArrayView2<bool>,
    conn: Connectivity,
    components: Option<(ArrayView2<u32>, usize)>,
) -> Mask {
    let grid = Grid::new(mask.dim(), conn);
    let queues = LevelQueues::new(levels, mask, highest_first);
    let computed;
    let (comp, ncomp) = match components {
        Some(c) => c,
        None => {
            computed = label_components(mask, conn);
            (computed.0.view(), computed.1)
        }
    };
    if markers.max_label() < u16::MAX as u32 && queues.count <= 1 << 16 {
        let (mut cells, seeds) = grid.cells::<u32>(markers, mask, Some((levels, &queues)));
        flood(&grid, &mut cells, &seeds, queues.count, comp, ncomp);
        grid.labels(&cells)
    } else {
        let (mut cells, seeds) = grid.cells::<u64>(markers, mask, Some((levels, &queues)));
        flood(&grid, &mut cells, &seeds, queues.count, comp, ncomp);
        grid.labels(&cells)
    }
}

/// Meyer's hierarchical-queue flood over `cells`, one component of the mask after
/// the other (`comp`: components on the unpadded grid).
fn flood<C: Cell>(grid: &Grid, cells: &mut [C], seeds: &[u32], nqueues: usize, comp: ArrayView2<u32>, ncomp: usize) {
    // A fixed neighbour count lets the compiler unroll the neighbour loops.
    match grid.neighbours {
        4 => flood_n::<C, 4>(grid, cells, seeds, nqueues, comp, ncomp),
        _ => flood_n::<C, 8>(grid, cells, seeds, nqueues, comp, ncomp),
    }
}

fn flood_n<C: Cell, const N: usize>(grid: &Grid, cells: &mut [C], seeds: &[u32], nqueues: usize, comp: ArrayView2<u32>, ncomp: usize) {
    assert_eq!(comp.dim(), (grid.h, grid.w), "components differ in shape from the mask");
    let (w, pw) = (grid.w, grid.w + 2);
    let comp = comp.as_standard_layout();
    let cs = comp.as_slice().expect("standard layout");
    let component = |i: u32| {
        let (y, x) = (i as usize / pw - 1, i as usize % pw - 1);
        let c = cs[y * w + x];
        assert!(c != 0 && c as usize <= ncomp, "components do not match the mask");
        c
    };
    let offsets: [isize; N] = grid.offsets[..N].try_into().expect("N neighbours");
    // Markers grouped by component, then by level, raster order among equals.
    let mut markers: Vec<(u32, usize, u32)> = seeds.iter().map(|&p| (component(p), cells[p as usize].queue(), p)).collect();
    markers.sort_by_key(|&(c, k, _)| (c, k)); // stable
    let mut queues: Vec<Vec<u32>> = vec![Vec::new(); nqueues.max(1)];
    // The levels whose queue is not empty: a component spans a few hundred of
    // the 65 536 levels, and stepping through the empty ones one by one cost
    // more than the flood itself.
    let mut active = LevelSet::new(nqueues.max(1));
    for group in markers.chunk_by(|a, b| a.0 == b.0) {
        let mut next_marker = 0;
        let mut cur = group[0].1;
        loop {
            // Markers of this level first: they entered the queue first (age 0).
            while next_marker < group.len() && group[next_marker].1 == cur {
                let p = group[next_marker].2 as usize;
                next_marker += 1;
                let label = cells[p].label();
                for o in offsets {
                    let q = p.wrapping_add_signed(o);
                    if cells[q].is_free() {
                        let c = cells[q].labelled(label);
                        cells[q] = c;
                        let k = c.queue().max(cur);
                        queues[k].push(q as u32);
                        active.insert(k);
                    }
                }
            }
            let mut i = 0;
            while i < queues[cur].len() {
                let p = queues[cur][i] as usize;
                i += 1;
                let label = cells[p].label();
                // Gather the free neighbours without a branch per neighbour (whether
                // a neighbour is free is unpredictable), then label and queue them.
                let mut free = [0usize; N];
                let mut n = 0;
                for o in offsets {
                    let q = p.wrapping_add_signed(o);
                    free[n] = q;
                    n += cells[q].is_free() as usize;
                }
                for &q in &free[..n] {
                    let c = cells[q].labelled(label);
                    cells[q] = c;
                    let k = c.queue().max(cur);
                    queues[k].push(q as u32);
                    active.insert(k);
                }
            }
            queues[cur].clear(); // keeps the capacity for the next component
            active.remove(cur);
            // Queues only ever grow at or above `cur`, so the next level is the
            // lowest non-empty queue above it, or the next marker's level if
            // that is lower (the scan stops there: marker pixels are many).
            let marker = group.get(next_marker).map_or(usize::MAX, |m| m.1);
            cur = match active.first_in(cur + 1, marker) {
                Some(k) => k,
                None if marker != usize::MAX => marker,
                None => break,
            };
        }
    }
}

/// A set of queue indices as a bitmap, with a scan for the lowest member at or
/// above an index.
struct LevelSet {
    words: Vec<u64>,
}

impl LevelSet {
    fn new(n: usize) -> LevelSet {
        LevelSet { words: vec![0; n.div_ceil(64)] }
    }

    #[inline(always)]
    fn insert(&mut self, i: usize) {
        self.words[i / 64] |= 1 << (i % 64);
    }

    #[inline(always)]
    fn remove(&mut self, i: usize) {
        self.words[i / 64] &= !(1 << (i % 64));
    }

    /// The lowest member in `from..=to`.
    fn first_in(&self, from: usize, to: usize) -> Option<usize> {
        let last = to.min(self.words.len() * 64 - 1);
        if from > last {
            return None;
        }
        let mut w = from / 64;
        let mut bits = self.words[w] & (u64::MAX << (from % 64));
        loop {
            if bits != 0 {
                let i = w * 64 + bits.trailing_zeros() as usize;
                return (i <= last).then_some(i);
            }
            w += 1;
            if w > last / 64 {
                return None;
            }
            bits = self.words[w];
        }
    }
}

/// scikit-image's binary min-heap (`heap_general.pxi`): items ordered by level, then
/// age; the same sift-up and sift-down rules, so that items with equal keys come
/// out in the same order as there.
struct SkHeap<K> {
    items: Vec<(K, u64, u32)>,
}

impl<K> Default for SkHeap<K> {
    fn default() -> Self {
        SkHeap { items: Vec::new() }
    }
}

impl<K: Copy + PartialOrd> SkHeap<K> {
    #[inline]
    fn smaller(a: &(K, u64, u32), b: &(K, u64, u32)) -> bool {
        if a.0 != b.0 { a.0 < b.0 } else { a.1 < b.1 }
    }

    fn push(&mut self, level: K, age: u64, index: u32) {
        self.items.push((level, age, index));
        let mut child = self.items.len() - 1;
        while child > 0 {
            let parent = child.div_ceil(2) - 1;
            if Self::smaller(&self.items[child], &self.items[parent]) {
                self.items.swap(parent, child);
                child = parent;
            } else {
                break;
            }
        }
    }

    fn pop(&mut self) -> Option<(K, u64, u32)> {
        let n = self.items.len().checked_sub(1)?;
        self.items.swap(0, n);
        let top = self.items.pop();
        let (mut i, mut smallest) = (0, 0);
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            if l >= n {
                break;
            }
            if Self::smaller(&self.items[l], &self.items[i]) {
                smallest = l;
            }
            if r < n && Self::smaller(&self.items[r], &self.items[smallest]) {
                smallest = r;
            }
            if smallest == i {
                break;
            }
            self.items.swap(i, smallest);
            i = smallest;
        }
        top
    }
}

/// A pixel of the flood: its label and the queue of its level, side by side.
trait Cell: Copy {
    /// Not floodable: outside the mask, or the pad.
    const BLOCKED: Self;
    fn new(label: u32, queue: usize) -> Self;
    fn label(self) -> u32;
    fn queue(self) -> usize;
    fn is_free(self) -> bool;
    fn labelled(self, label: u32) -> Self;
}

/// Label in the low 16 bits (0xFFFF: blocked), queue in the high 16.
impl Cell for u32 {
    const BLOCKED: u32 = 0xFFFF;
    #[inline(always)]
    fn new(label: u32, queue: usize) -> u32 {
        (queue as u32) << 16 | label
    }
    #[inline(always)]
    fn label(self) -> u32 {
        self & 0xFFFF
    }
    #[inline(always)]
    fn queue(self) -> usize {
        (self >> 16) as usize
    }
    #[inline(always)]
    fn is_free(self) -> bool {
        self & 0xFFFF == 0
    }
    #[inline(always)]
    fn labelled(self, label: u32) -> u32 {
        self | label
    }
}

/// Label in the low 32 bits (u32::MAX: blocked), queue in the high 32.
impl Cell for u64 {
    const BLOCKED: u64 = u32::MAX as u64;
    #[inline(always)]
    fn new(label: u32, queue: usize) -> u64 {
        (queue as u64) << 32 | label as u64
    }
    #[inline(always)]
    fn label(self) -> u32 {
        self as u32
    }
    #[inline(always)]
    fn queue(self) -> usize {
        (self >> 32) as usize
    }
    #[inline(always)]
    fn is_free(self) -> bool {
        self as u32 == 0
    }
    #[inline(always)]
    fn labelled(self, label: u32) -> u64 {
        self | label as u64
    }
}

/// The frame padded by one pixel on each side (as scikit-image does), so that
/// neighbours are fixed offsets and need no bounds checks.
struct Grid {
    h: usize,
    w: usize,
    /// Neighbour offsets in scikit-image's order; the first `neighbours` are used.
    offsets: [isize; 8],
    neighbours: usize,
}

impl Grid {
    fn new((h, w): (usize, usize), conn: Connectivity) -> Grid {
        assert!((h + 2) * (w + 2) < u32::MAX as usize, "image too large");
        let mut offsets = [0isize; 8];
        for (o, &(dy, dx)) in offsets.iter_mut().zip(conn.offsets()) {
            *o = dy * (w + 2) as isize + dx;
        }
        Grid { h, w, offsets, neighbours: conn.offsets().len() }
    }

    fn offsets(&self) -> &[isize] {
        &self.offsets[..self.neighbours]
    }

    /// The cells of the padded frame, and the padded indices of the marker pixels
    /// inside the mask in raster order. Without `levels`, every queue is 0.
    fn cells<C: Cell>(&self, markers: Markers, mask: ArrayView2<bool>, levels: Option<(ArrayView2<u32>, &LevelQueues)>) -> (Vec<C>, Vec<u32>) {
        let (h, w, pw) = (self.h, self.w, self.w + 2);
        let mut cells = vec![C::BLOCKED; (h + 2) * pw];
        let mask = mask.as_standard_layout();
        let ks = mask.as_slice().expect("standard layout");
        let owned: Option<Vec<u32>> = levels.and_then(|(l, _)| {
            assert_eq!(l.dim(), (h, w), "levels differ in shape from the mask");
            l.to_slice().is_none().then(|| l.iter().copied().collect())
        });
        let lv: Option<(&[u32], &LevelQueues)> =
            levels.map(|(l, q)| (owned.as_deref().or_else(|| l.to_slice()).expect("levels as a slice"), q));
        if w > 0 {
            for (y, krow) in ks.chunks_exact(w).enumerate() {
                let o = (y + 1) * pw + 1;
                let out = &mut cells[o..o + w];
                match &lv {
                    Some((l, q)) => {
                        let lrow = &l[y * w..(y + 1) * w];
                        // The queue rule chosen once per row, not per pixel.
                        fn fill<C: Cell>(out: &mut [C], krow: &[bool], lrow: &[u32], key: impl Fn(u32) -> usize) {
                            for ((c, &k), &v) in out.iter_mut().zip(krow).zip(lrow) {
                                if k {
                                    *c = C::new(0, key(v));
                                }
                            }
                        }
                        match (&q.ranks, q.highest_first) {
                            (None, true) => fill(out, krow, lrow, |v| (q.hi - v) as usize),
                            (None, false) => fill(out, krow, lrow, |v| (v - q.lo) as usize),
                            _ => fill(out, krow, lrow, |v| q.queue(v)),
                        }
                    }
                    None => {
                        for (c, &k) in out.iter_mut().zip(krow) {
                            if k {
                                *c = C::new(0, 0);
                            }
                        }
                    }
                }
            }
        }
        let mut seeds = Vec::new();
        let mut mark = |cells: &mut [C], p: usize, label: u32| {
            let c = cells[p];
            if c.label() != C::BLOCKED.label() {
                if c.is_free() {
                    seeds.push(p as u32);
                }
                cells[p] = C::new(label, c.queue());
            }
        };
        match markers {
            Markers::Image(m) => {
                assert_eq!(m.dim(), (h, w), "markers differ in shape from the mask");
                for (y, row) in m.outer_iter().enumerate() {
                    let row = row.to_slice().map_or_else(|| row.to_vec().into(), std::borrow::Cow::Borrowed);
                    for (x, &l) in row.iter().enumerate() {
                        if l != 0 {
                            mark(&mut cells, (y + 1) * pw + x + 1, l);
                        }
                    }
                }
            }
            Markers::Points(pts) => {
                for (i, &(y, x)) in pts.iter().enumerate() {
                    assert!(y < h && x < w, "marker ({y}, {x}) outside the {h}×{w} image");
                    mark(&mut cells, (y + 1) * pw + x + 1, i as u32 + 1);
                }
            }
        }
        seeds.sort_unstable();
        (cells, seeds)
    }

    /// `img` on the padded grid, `fill` on the pad.
    fn pad<T: Copy>(&self, img: ArrayView2<T>, fill: T) -> Vec<T> {
        assert_eq!(img.dim(), (self.h, self.w), "image differs in shape from the mask");
        let pw = self.w + 2;
        let mut out = vec![fill; (self.h + 2) * pw];
        for (y, row) in img.outer_iter().enumerate() {
            for (o, &v) in out[(y + 1) * pw + 1..].iter_mut().zip(row.iter()) {
                *o = v;
            }
        }
        out
    }

    /// The labels of the cells without the pad; blocked and unreached pixels are 0.
    fn labels<C: Cell>(&self, cells: &[C]) -> Mask {
        let (h, w, pw) = (self.h, self.w, self.w + 2);
        let blocked = C::BLOCKED.label();
        let mut v = Vec::with_capacity(h * w);
        for y in 0..h {
            v.extend(cells[(y + 1) * pw + 1..(y + 1) * pw + 1 + w].iter().map(|c| {
                let l = c.label();
                if l == blocked { 0 } else { l }
            }));
        }
        Mask::from_shape_vec((h, w), v).expect("shape matches")
    }
}

/// The queue of each level: its offset from the first level to flood when the levels
/// under the mask span a modest range, else its rank among the levels present
/// (a dense table, or a sorted list when the levels are sparse and huge).
struct LevelQueues {
    lo: u32,
    hi: u32,
    highest_first: bool,
    ranks: Option<LevelRanks>,
    /// Number of queues.
    count: usize,
}

impl LevelQueues {
    fn new(levels: ArrayView2<u32>, mask: ArrayView2<bool>, highest_first: bool) -> LevelQueues {
        assert_eq!(levels.dim(), mask.dim(), "levels differ in shape from the mask");
        let (levels, maskc) = (levels.as_standard_layout(), mask.as_standard_layout());
        let (lv, ks) = (levels.as_slice().expect("standard layout"), maskc.as_slice().expect("standard layout"));
        let (lo, hi) = lv.iter().zip(ks).fold((u32::MAX, 0u32), |(a, b), (&v, &k)| if k { (a.min(v), b.max(v)) } else { (a, b) });
        let span = hi.saturating_sub(lo) as usize + 1;
        if span <= (1 << 16).max(lv.len() / 4) {
            LevelQueues { lo, hi, highest_first, ranks: None, count: span }
        } else {
            let (ranks, count) = LevelRanks::new(lv, ks);
            LevelQueues { lo, hi, highest_first, ranks: Some(ranks), count }
        }
    }

    #[inline(always)]
    fn queue(&self, v: u32) -> usize {
        match &self.ranks {
            None if self.highest_first => (self.hi - v) as usize,
            None => (v - self.lo) as usize,
            Some(r) if self.highest_first => self.count - 1 - r.rank(v),
            Some(r) => r.rank(v),
        }
    }
}

/// Ranks of the levels present in the mask: a dense table when the largest level
/// is small, else a sorted list searched by bisection.
enum LevelRanks {
    Dense(Vec<u32>),
    Sparse(Vec<u32>),
}

impl LevelRanks {
    /// Ranks of the levels under the mask and their count (≥ 1).
    fn new(lv: &[u32], ks: &[bool]) -> (LevelRanks, usize) {
        let limit = 4 * lv.len() + 1024;
        let mut table: Vec<u32> = Vec::new();
        let mut dense = true;
        for (&v, &m) in lv.iter().zip(ks) {
            if m {
                let v = v as usize;
                if v >= table.len() {
                    if v >= limit {
                        dense = false;
                        break;
                    }
                    table.resize((v + 1).max(2 * table.len()).min(limit), 0);
                }
                table[v] = 1;
            }
        }
        if dense {
            let mut r = 0;
            for t in table.iter_mut() {
                let here = *t;
                *t = r;
                r += here;
            }
            (LevelRanks::Dense(table), (r as usize).max(1))
        } else {
            let mut s: Vec<u32> = lv.iter().zip(ks).filter(|(_, m)| **m).map(|(v, _)| *v).collect();
            s.sort_unstable();
            s.dedup();
            let n = s.len().max(1);
            (LevelRanks::Sparse(s), n)
        }
    }

    #[inline(always)]
    fn rank(&self, v: u32) -> usize {
        match self {
            LevelRanks::Dense(t) => t[v as usize] as usize,
            LevelRanks::Sparse(s) => s.binary_search(&v).expect("level present in the mask"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};
    use proptest::prelude::*;

    fn inputs() -> impl Strategy<Value = (Array2<u32>, Array2<u32>, Array2<bool>)> {
        (1usize..16, 1usize..16).prop_flat_map(|(h, w)| {
            let n = h * w;
            (
                proptest::collection::vec(0u32..8, n),
                proptest::collection::vec(prop_oneof![8 => Just(0u32), 1 => 1u32..5], n),
                proptest::collection::vec(proptest::bool::weighted(0.8), n),
            )
                .prop_map(move |(l, m, k)| {
                    (
                        Array2::from_shape_vec((h, w), l).unwrap(),
                        Array2::from_shape_vec((h, w), m).unwrap(),
                        Array2::from_shape_vec((h, w), k).unwrap(),
                    )
                })
        })
    }

    proptest! {
        #[test]
        fn levels_and_heap_agree((levels, markers, mask) in inputs(), eight in any::<bool>()) {
            let conn = if eight { Connectivity::Eight } else { Connectivity::Four };
            // Marker pixels at distinct levels: ties between markers are broken by
            // the heap's layout in one and by raster order in the other.
            let mut next = 100;
            let levels = ndarray::Zip::from(&levels).and(&markers).map_collect(|&v, &m| if m != 0 { next += 1; next } else { v });
            let a = watershed_levels(levels.view(), markers.view(), mask.view(), conn);
            let b = watershed(levels.mapv(|v| v as f32).view(), markers.view(), mask.view(), conn);
            prop_assert_eq!(&a, &b);
            // Labels beyond 16 bits take the wide cells; the flood is the same.
            let shift = |m: &Mask| m.mapv(|l| if l == 0 { 0 } else { l + 70_000 });
            let wide = watershed_levels(levels.view(), shift(&markers).view(), mask.view(), conn);
            prop_assert_eq!(wide, shift(&a));
        }

        #[test]
        fn levels_and_heap_agree_across_wide_gaps_between_levels(
            (levels, markers, mask) in inputs(), eight in any::<bool>(), spread in 1u32..2000, step in 1u32..250,
        ) {
            // Levels hundreds of bitmap words apart, markers interleaved among
            // them: the flood skips empty levels up to the next marker's.
            let conn = if eight { Connectivity::Eight } else { Connectivity::Four };
            let mut next = 0;
            let levels = ndarray::Zip::from(&levels).and(&markers).map_collect(|&v, &m| if m != 0 { next += step; next } else { v * spread });
            let a = watershed_levels(levels.view(), markers.view(), mask.view(), conn);
            let b = watershed(levels.mapv(|v| v as f32).view(), markers.view(), mask.view(), conn);
            prop_assert_eq!(&a, &b);
        }

        #[test]
        fn covers_exactly_the_reachable_mask((levels, markers, mask) in inputs(), eight in any::<bool>()) {
            let conn = if eight { Connectivity::Eight } else { Connectivity::Four };
            let out = watershed_levels(levels.view(), markers.view(), mask.view(), conn);
            // A mask component is covered iff it holds a marker; nothing outside the mask is labelled.
            let (comp, n) = label_components(mask.view(), conn);
            let mut has_marker = vec![false; n + 1];
            for (&c, &mk) in comp.iter().zip(markers.iter()) {
                if mk != 0 { has_marker[c as usize] = true; }
            }
            for ((&o, &c), &k) in out.iter().zip(comp.iter()).zip(mask.iter()) {
                prop_assert_eq!(o != 0, k && has_marker[c as usize]);
            }
            // Every region holds a pixel of its own marker label and is connected.
            let labels: std::collections::BTreeSet<u32> = out.iter().copied().filter(|&l| l != 0).collect();
            for l in labels {
                let region = out.mapv(|v| v == l);
                prop_assert!(region.iter().zip(markers.iter()).zip(mask.iter()).any(|((&r, &mk), &k)| r && k && mk == l));
                // Regions grow from their markers: connected once marker pixels are joined.
                let (_, pieces) = label_components(region.view(), conn);
                let marker_pieces = {
                    let mk = ndarray::Zip::from(&markers).and(&mask).map_collect(|&m, &k| k && m == l);
                    label_components(mk.view(), conn).1
                };
                prop_assert!(pieces <= marker_pieces);
            }
        }
    }

    #[test]
    fn a_level_set_finds_its_lowest_member_in_a_range() {
        let mut s = LevelSet::new(200);
        assert_eq!(s.first_in(0, usize::MAX), None);
        for i in [3, 64, 65, 199] {
            s.insert(i);
        }
        assert_eq!(s.first_in(0, usize::MAX), Some(3));
        assert_eq!(s.first_in(3, 3), Some(3));
        assert_eq!(s.first_in(0, 2), None);
        assert_eq!(s.first_in(4, usize::MAX), Some(64));
        assert_eq!(s.first_in(4, 63), None);
        assert_eq!(s.first_in(65, 65), Some(65));
        assert_eq!(s.first_in(66, 198), None);
        assert_eq!(s.first_in(66, usize::MAX), Some(199));
        assert_eq!(s.first_in(200, usize::MAX), None);
        s.remove(64);
        s.remove(199);
        assert_eq!(s.first_in(4, usize::MAX), Some(65));
        assert_eq!(s.first_in(66, usize::MAX), None);
    }

    #[test]
    fn splits_two_touching_discs_along_the_neck() {
        // Distance-like surface of two touching blobs, flooded from their centres.
        let d = array![
            [0u32, 1, 1, 1, 0, 1, 1, 1, 0],
            [1, 2, 3, 2, 1, 2, 3, 2, 1],
            [0, 1, 1, 1, 0, 1, 1, 1, 0]
        ];
        let levels = d.mapv(|v| 3 - v);
        let markers = array![[0u32, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0, 2, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0]];
        let mask = d.mapv(|v| v > 0);
        let out = watershed_levels(levels.view(), markers.view(), mask.view(), Connectivity::Eight);
        assert_eq!(
            out,
            array![[0, 1, 1, 1, 0, 2, 2, 2, 0], [1, 1, 1, 1, 1, 2, 2, 2, 2], [0, 1, 1, 1, 0, 2, 2, 2, 0]]
        );
    }
}
