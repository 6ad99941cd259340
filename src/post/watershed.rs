//! Marker-controlled watershed by priority flood (Meyer 1991; Beucher & Meyer 1993).
use std::cmp::Ordering;
use std::collections::BinaryHeap;

use ndarray::{ArrayView2, Zip};

use super::region_labelling::Connectivity;
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

    let (mut out, m) = start(image.dim(), markers, mask);
    let img = image.as_standard_layout();
    let img = img.as_slice().expect("standard layout");
    let (h, w) = image.dim();
    let mut heap = BinaryHeap::new();
    let mut age = 0u64;
    let os = out.as_slice_mut().expect("fresh array");
    for (i, &l) in os.iter().enumerate() {
        if l != 0 {
            heap.push(Item { level: f32::NEG_INFINITY, age, index: i as u32 });
            age += 1;
        }
    }
    while let Some(Item { level, index, .. }) = heap.pop() {
        let p = index as usize;
        let label = os[p];
        for_each_neighbour(p, h, w, conn, |q| {
            if m[q] && os[q] == 0 {
                os[q] = label;
                heap.push(Item { level: img[q].max(level), age, index: q as u32 });
                age += 1;
            }
        });
    }
    out
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
    let (h, w) = levels.dim();
    let (mut out, m) = start((h, w), markers, mask);
    let lv = levels.as_standard_layout();
    let lv = lv.as_slice().expect("standard layout");
    let (ranks, nlevels) = LevelRanks::new(lv, &m);
    let mut queues: Vec<Vec<u32>> = vec![Vec::new(); nlevels];
    let os = out.as_slice_mut().expect("fresh array");
    // Markers first, in raster order, at level "-infinity": each labels its free
    // neighbours, which then wait at their own level (no level is below -infinity).
    let seeds: Vec<u32> = os.iter().enumerate().filter(|(_, l)| **l != 0).map(|(i, _)| i as u32).collect();
    for &p in &seeds {
        let p = p as usize;
        let label = os[p];
        for_each_neighbour(p, h, w, conn, |q| {
            if m[q] && os[q] == 0 {
                os[q] = label;
                queues[ranks.rank(lv[q])].push(q as u32);
            }
        });
    }
    for cur in 0..nlevels {
        let mut i = 0;
        while i < queues[cur].len() {
            let p = queues[cur][i] as usize;
            i += 1;
            let label = os[p];
            for_each_neighbour(p, h, w, conn, |q| {
                if m[q] && os[q] == 0 {
                    os[q] = label;
                    queues[ranks.rank(lv[q]).max(cur)].push(q as u32);
                }
            });
        }
        queues[cur] = Vec::new();
    }
    out
}

/// The output initialised with the markers inside the mask, and the mask as a flat slice.
fn start(dim: (usize, usize), markers: ArrayView2<u32>, mask: ArrayView2<bool>) -> (Mask, Vec<bool>) {
    assert_eq!(markers.dim(), dim, "markers differ in shape from the image");
    assert_eq!(mask.dim(), dim, "mask differs in shape from the image");
    let out = Zip::from(&markers).and(&mask).map_collect(|&l, &m| if m { l } else { 0 });
    let m: Vec<bool> = mask.iter().copied().collect();
    (out, m)
}

/// Ranks of the levels present in the mask: a dense table when the largest level
/// is small (the usual case), else a sorted list searched by bisection.
enum LevelRanks {
    Dense(Vec<u32>),
    Sparse(Vec<u32>),
}

impl LevelRanks {
    fn new(lv: &[u32], mask: &[bool]) -> (LevelRanks, usize) {
        let present = || lv.iter().zip(mask).filter(|(_, m)| **m).map(|(v, _)| *v);
        let max = present().max().unwrap_or(0) as usize;
        if max <= 4 * lv.len() + 1024 {
            let mut table = vec![0u32; max + 1];
            for v in present() {
                table[v as usize] = 1;
            }
            let mut r = 0;
            for t in table.iter_mut() {
                let here = *t;
                *t = r;
                r += here;
            }
            (LevelRanks::Dense(table), (r as usize).max(1))
        } else {
            let mut s: Vec<u32> = present().collect();
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

/// Calls `f` with the index of each in-image neighbour of pixel `p`, in scikit-image's order.
#[inline(always)]
fn for_each_neighbour(p: usize, h: usize, w: usize, conn: Connectivity, mut f: impl FnMut(usize)) {
    let (y, x) = (p / w, p % w);
    if y > 0 && x > 0 && y + 1 < h && x + 1 < w {
        f(p - w);
        f(p - 1);
        f(p + 1);
        f(p + w);
        if conn == Connectivity::Eight {
            f(p - w - 1);
            f(p - w + 1);
            f(p + w - 1);
            f(p + w + 1);
        }
        return;
    }
    for &(dy, dx) in conn.offsets() {
        let (ny, nx) = (y as isize + dy, x as isize + dx);
        if ny >= 0 && nx >= 0 && (ny as usize) < h && (nx as usize) < w {
            f(ny as usize * w + nx as usize);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};
    use proptest::prelude::*;

    use crate::post::region_labelling::label_components;

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
