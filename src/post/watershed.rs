//! Marker-controlled watershed by priority flood (Meyer 1991; Beucher & Meyer 1993).
use std::cmp::Ordering;
use std::collections::BinaryHeap;

use ndarray::ArrayView2;

use super::region_labelling::{label_components, Connectivity};
use crate::ctc::Mask;

/// Floods `image` from `markers` inside `mask` and returns the labels: scikit-image's
/// `watershed(image, markers, mask=mask, connectivity=…)`.
///
/// Meyer's flooding algorithm (F. Meyer 1991, "Un algorithme optimal de ligne de
/// partage des eaux"; Beucher & Meyer 1993): a priority queue holds pixels by
/// flooding level, the lowest first, ties in order of insertion. Markers enter first
/// (raster order); popping a pixel gives each unlabelled mask neighbour its label and
/// queues it at `max(its value, the popped pixel's level)`. Marker pixels outside
/// `mask` are ignored; mask pixels no marker can reach stay 0. O(n log n) with a
/// binary heap; see [`watershed_levels`] for integer levels in O(n).
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
    #[derive(PartialEq)]
    struct Item {
        level: f32,
        age: u64,
        index: u32,
    }
    impl Eq for Item {}
    impl Ord for Item {
        fn cmp(&self, other: &Self) -> Ordering {
            // BinaryHeap pops the greatest: reverse both keys.
            other.level.total_cmp(&self.level).then(other.age.cmp(&self.age))
        }
    }
    impl PartialOrd for Item {
        fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
            Some(self.cmp(other))
        }
    }

    let mut f = Flood::new(Markers::Image(markers), mask, conn);
    let img = f.pad_map(image, 0.0, |v| v);
    let mut heap = BinaryHeap::new();
    let mut age = 0u64;
    for p in f.marker_pixels() {
        heap.push(Item { level: f32::NEG_INFINITY, age, index: p });
        age += 1;
    }
    let (labels, offsets) = (&mut f.labels, &f.offsets[..f.neighbours]);
    while let Some(Item { level, index, .. }) = heap.pop() {
        let p = index as usize;
        let label = labels[p];
        for &o in offsets {
            let q = p.wrapping_add_signed(o);
            if labels[q] == 0 {
                labels[q] = label;
                heap.push(Item { level: img[q].max(level), age, index: q as u32 });
                age += 1;
            }
        }
    }
    f.into_mask()
}

/// [`watershed`] on an image of integer levels (lower floods first), in O(n) with
/// Meyer's hierarchical queue: one FIFO per level. Levels are compressed to the
/// ranks of the values present in the mask. Gives the same labels as [`watershed`]
/// on `levels as f32`.
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

/// [`watershed_levels`], flooding the highest level first when `highest_first`
/// (`watershed(-distance)` on squared distances without negating them).
/// `components`, if given, must be the connected components of `mask` under `conn`
/// (labels `1..=n`); they are computed otherwise.
///
/// Pixels of different components never meet, and restricted to one component the
/// (level, insertion order) sequence of the flood is the same whether the others are
/// flooded alongside or not. So components are flooded one after the other: the
/// queues then only ever hold pixels of one component, whose rows stay in cache,
/// instead of jumping across the whole frame at every pop.
pub(crate) fn flood_levels(
    levels: ArrayView2<u32>,
    highest_first: bool,
    markers: Markers,
    mask: ArrayView2<bool>,
    conn: Connectivity,
    components: Option<(ArrayView2<u32>, usize)>,
) -> Mask {
    let mut f = Flood::new(markers, mask, conn);
    let (h, w, pw) = (f.h, f.w, f.w + 2);
    // Rank of each pixel's level among the levels present, on the padded grid.
    let (ranks, nlevels) = LevelRanks::new(levels, mask);
    let top = nlevels as u32 - 1;
    let rank = match (&ranks, highest_first) {
        (LevelRanks::Dense(t), false) => f.pad_map(levels, 0, |v| t[v as usize]),
        (LevelRanks::Dense(t), true) => f.pad_map(levels, 0, |v| top - t[v as usize]),
        (r, false) => f.pad_map(levels, 0, |v| r.rank(v) as u32),
        (r, true) => f.pad_map(levels, 0, |v| top - r.rank(v) as u32),
    };
    drop(ranks);
    let computed;
    let (comp, ncomp) = match components {
        Some(c) => c,
        None => {
            computed = label_components(mask, conn);
            (computed.0.view(), computed.1)
        }
    };
    assert_eq!(comp.dim(), (h, w), "components differ in shape from the mask");
    // Marker pixels (padded index) grouped by component, raster order within each.
    let comp = comp.as_standard_layout();
    let cs = comp.as_slice().expect("standard layout");
    let mut seeds: Vec<(u32, u32)> = Vec::new();
    for (i, &l) in f.labels.iter().enumerate() {
        if l != 0 && l != BLOCKED {
            let (y, x) = (i / pw - 1, i % pw - 1);
            let c = cs[y * w + x];
            assert!(c != 0 && c as usize <= ncomp, "components do not match the mask");
            seeds.push((c, i as u32));
        }
    }
    seeds.sort_by_key(|&(c, _)| c); // stable: raster order within a component
    let mut queues: Vec<Vec<u32>> = vec![Vec::new(); nlevels];
    let (labels, offsets) = (&mut f.labels, &f.offsets[..f.neighbours]);
    for group in seeds.chunk_by(|a, b| a.0 == b.0) {
        let (mut lo, mut hi) = (usize::MAX, 0usize);
        // Markers first, in raster order, at level "-infinity": each labels its free
        // neighbours, which then wait at their own level.
        for &(_, p) in group {
            let p = p as usize;
            let label = labels[p];
            for &o in offsets {
                let q = p.wrapping_add_signed(o);
                if labels[q] == 0 {
                    labels[q] = label;
                    let r = rank[q] as usize;
                    queues[r].push(q as u32);
                    lo = lo.min(r);
                    hi = hi.max(r);
                }
            }
        }
        let mut cur = lo;
        while cur <= hi {
            let mut i = 0;
            while i < queues[cur].len() {
                let p = queues[cur][i] as usize;
                i += 1;
                let label = labels[p];
                // Gather the free neighbours without a branch per neighbour (whether
                // a neighbour is free is unpredictable), then label and queue them.
                let mut free = [0usize; 8];
                let mut n = 0;
                for &o in offsets {
                    let q = p.wrapping_add_signed(o);
                    free[n] = q;
                    n += (labels[q] == 0) as usize;
                }
                for &q in &free[..n] {
                    labels[q] = label;
                    let r = (rank[q] as usize).max(cur);
                    queues[r].push(q as u32);
                    hi = hi.max(r);
                }
            }
            queues[cur].clear(); // keeps the capacity for the next component
            cur += 1;
        }
    }
    f.into_mask()
}

/// Label of pixels that are never flooded: outside the mask, and the one-pixel pad.
const BLOCKED: u32 = u32::MAX;

/// Flooding state on the frame padded by one pixel on each side (as scikit-image
/// does), so that neighbours are fixed offsets and need no bounds checks.
struct Flood {
    h: usize,
    w: usize,
    /// Marker label, 0 for a mask pixel still unlabelled, [`BLOCKED`] elsewhere.
    labels: Vec<u32>,
    /// Neighbour offsets in scikit-image's order; the first `neighbours` are used.
    offsets: [isize; 8],
    neighbours: usize,
}

impl Flood {
    fn new(markers: Markers, mask: ArrayView2<bool>, conn: Connectivity) -> Flood {
        let (h, w) = mask.dim();
        assert!((h + 2) * (w + 2) < u32::MAX as usize, "image too large");
        let pw = w + 2;
        let mut labels = vec![BLOCKED; (h + 2) * pw];
        let mask = mask.as_standard_layout();
        let ks = mask.as_slice().expect("standard layout");
        if w > 0 {
            for (y, krow) in ks.chunks_exact(w).enumerate() {
                let out = &mut labels[(y + 1) * pw + 1..(y + 1) * pw + 1 + w];
                for (o, &k) in out.iter_mut().zip(krow) {
                    *o = if k { 0 } else { BLOCKED };
                }
            }
        }
        match markers {
            Markers::Image(m) => {
                assert_eq!(m.dim(), (h, w), "markers differ in shape from the mask");
                let m = m.as_standard_layout();
                let ms = m.as_slice().expect("standard layout");
                if w > 0 {
                    for (y, mrow) in ms.chunks_exact(w).enumerate() {
                        let out = &mut labels[(y + 1) * pw + 1..(y + 1) * pw + 1 + w];
                        for (o, &l) in out.iter_mut().zip(mrow) {
                            if l != 0 && *o != BLOCKED {
                                *o = l.min(BLOCKED - 1);
                            }
                        }
                    }
                }
            }
            Markers::Points(pts) => {
                assert!(pts.len() < BLOCKED as usize, "too many markers");
                for (i, &(y, x)) in pts.iter().enumerate() {
                    assert!(y < h && x < w, "marker ({y}, {x}) outside the {h}×{w} image");
                    let o = &mut labels[(y + 1) * pw + x + 1];
                    if *o != BLOCKED {
                        *o = i as u32 + 1;
                    }
                }
            }
        }
        let mut offsets = [0isize; 8];
        for (o, &(dy, dx)) in offsets.iter_mut().zip(conn.offsets()) {
            *o = dy * pw as isize + dx;
        }
        Flood { h, w, labels, offsets, neighbours: conn.offsets().len() }
    }

    /// `f` of `img`'s floodable pixels on the padded grid, `fill` elsewhere.
    fn pad_map<T: Copy, U: Copy>(&self, img: ArrayView2<T>, fill: U, f: impl Fn(T) -> U) -> Vec<U> {
        assert_eq!(img.dim(), (self.h, self.w), "image differs in shape from the markers");
        let (w, pw) = (self.w, self.w + 2);
        let mut out = vec![fill; (self.h + 2) * pw];
        let img = img.as_standard_layout();
        let src = img.as_slice().expect("standard layout");
        if w > 0 {
            for (y, row) in src.chunks_exact(w).enumerate() {
                let o = (y + 1) * pw + 1;
                for ((o, &v), &l) in out[o..o + w].iter_mut().zip(row).zip(&self.labels[o..o + w]) {
                    if l != BLOCKED {
                        *o = f(v);
                    }
                }
            }
        }
        out
    }

    /// Padded indices of the marker pixels inside the mask, in raster order.
    fn marker_pixels(&self) -> Vec<u32> {
        self.labels.iter().enumerate().filter(|&(_, &l)| l != 0 && l != BLOCKED).map(|(i, _)| i as u32).collect()
    }

    /// The labels without the pad, [`BLOCKED`] turned to 0, reusing the buffer:
    /// row y moves from `(y + 1)·(w + 2) + 1` down to `y·w`, never over unread data.
    fn into_mask(self) -> Mask {
        let (h, w, pw) = (self.h, self.w, self.w + 2);
        let mut v = self.labels;
        for y in 0..h {
            let from = (y + 1) * pw + 1;
            v.copy_within(from..from + w, y * w);
            for l in &mut v[y * w..(y + 1) * w] {
                if *l == BLOCKED {
                    *l = 0;
                }
            }
        }
        v.truncate(h * w);
        Mask::from_shape_vec((h, w), v).expect("shape matches")
    }
}

/// Ranks of the levels present in the mask: a dense table when the largest level
/// is small (the usual case), else a sorted list searched by bisection.
enum LevelRanks {
    Dense(Vec<u32>),
    Sparse(Vec<u32>),
}

impl LevelRanks {
    /// Ranks of the levels under `mask` and their count (≥ 1), in one pass while the
    /// levels stay below a table of a few times the pixel count.
    fn new(levels: ArrayView2<u32>, mask: ArrayView2<bool>) -> (LevelRanks, usize) {
        let limit = 4 * levels.len() + 1024;
        let (levels, mask) = (levels.as_standard_layout(), mask.as_standard_layout());
        let (lv, ks) = (levels.as_slice().expect("standard layout"), mask.as_slice().expect("standard layout"));
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
            let a = watershed_levels(levels.view(), markers.view(), mask.view(), conn);
            let b = watershed(levels.mapv(|v| v as f32).view(), markers.view(), mask.view(), conn);
            prop_assert_eq!(a, b);
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
