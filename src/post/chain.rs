//! The whole post-processing chain: probability map → foreground → markers → watershed → instance mask.
use ndarray::{Array2, ArrayView2, Zip};

use super::distance_transform::{squared_distance_transform_with_runs, NO_BACKGROUND};
use super::border::clear_border;
use super::fragments::merge_fragments;
use super::markers::{h_maxima, local_maxima, seeds_from_probability};
use super::morphology::{close_runs, fill_holes_runs, remove_small_runs};
use super::region_labelling::{label_components, relabel_sequential, Connectivity};
use super::runs::Runs;
use super::watershed::{flood_levels, Markers};
use crate::ctc::Mask;

/// How touching cells in one foreground component are told apart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SeedMode {
    /// One marker per local maximum of the distance transform within each component,
    /// maxima at least `min_distance` pixels apart (skimage
    /// `peak_local_max(distance, min_distance, labels=components, exclude_border=False)`).
    DistanceMaxima { min_distance: usize },
    /// One marker per h-maximum of the distance transform: domes at least `h`
    /// pixels higher than the saddle to a neighbouring dome (skimage `h_maxima`).
    DistanceHMaxima { h: f32 },
    /// No splitting: each foreground component is one object.
    Components,
}

/// Parameters of the chain; [`PostParams::default`] suits probability maps of
/// cells some 10–40 pixels across.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PostParams {
    /// Foreground is `probability > threshold`.
    pub threshold: f32,
    /// Radius of the disk of the binary closing (0: no closing).
    pub closing_radius: usize,
    /// Components with fewer pixels are removed (after the closing).
    pub min_area: usize,
    /// Fill background regions enclosed by a component.
    pub fill_holes: bool,
    /// Connectivity of components, maxima and the watershed flood.
    pub connectivity: Connectivity,
    /// Markers for [`instances_from_probability`].
    pub seeds: SeedMode,
    /// Seeds for [`instances_from_seeds`] are `seed probability > seed_threshold`.
    pub seed_threshold: f32,
    /// Objects whose mean probability (of the map the foreground comes from)
    /// is below this are removed ([`remove_unsure_objects`]; 0: keep all).
    pub min_confidence: f32,
    /// Objects smaller than this × the frame's median object area join the
    /// neighbour they border most, or go where they border none
    /// ([`merge_fragments`]; 0: off).
    pub merge_fragments: f32,
    /// Remove the objects the frame's edge cuts, last ([`clear_border`]).
    pub exclude_on_edges: bool,
}

impl Default for PostParams {
    fn default() -> Self {
        PostParams {
            threshold: 0.5,
            closing_radius: 2,
            min_area: 30,
            fill_holes: true,
            connectivity: Connectivity::Eight,
            seeds: SeedMode::DistanceMaxima { min_distance: 7 },
            seed_threshold: 0.5,
            min_confidence: 0.0,
            merge_fragments: 0.0,
            exclude_on_edges: false,
        }
    }
}

/// The cleaned foreground of a probability map, as labelled components `1..=n`:
/// threshold, closing with a disk, removal of components under `min_area`, hole
/// filling — in this order, each stage as in [`super`]'s functions.
///
/// ```
/// use cellstream::post::{foreground_components, PostParams};
/// use ndarray::array;
/// let prob = array![
///     [0.9, 0.9, 0.9, 0.0, 0.0, 0.0],
///     [0.9, 0.1, 0.9, 0.0, 0.0, 0.7],
///     [0.9, 0.9, 0.9, 0.0, 0.0, 0.0],
/// ];
/// // A ring of 8 pixels, its hole filled; the lone pixel is under min_area.
/// let p = PostParams { closing_radius: 0, min_area: 2, ..PostParams::default() };
/// let (labels, n) = foreground_components(prob.view(), &p);
/// assert_eq!(n, 1);
/// assert_eq!(labels, array![[1, 1, 1, 0, 0, 0], [1, 1, 1, 0, 0, 0], [1, 1, 1, 0, 0, 0]]);
/// ```
pub fn foreground_components(prob: ArrayView2<f32>, params: &PostParams) -> (Mask, usize) {
    let (labels, n, _, _) = clean_foreground(prob, params);
    (labels, n)
}

/// [`foreground_components`] and the foreground itself. The cleaning runs on the
/// run-length encoded foreground ([`Runs`]); pixels are painted once at the end.
fn clean_foreground(prob: ArrayView2<f32>, params: &PostParams) -> (Mask, usize, Array2<bool>, Runs) {
    let mut fg = Runs::from_threshold(prob, params.threshold);
    if params.closing_radius > 0 {
        fg = close_runs(&fg, params.closing_radius);
    }
    if params.min_area > 1 {
        fg = remove_small_runs(&fg, params.min_area, params.connectivity);
    }
    if params.fill_holes {
        fg = fill_holes_runs(&fg);
    }
    let comps = fg.components(params.connectivity);
    (fg.paint(&comps), comps.count(), fg.to_mask(), fg)
}

/// Instance mask (labels `1..=n`, 0 background) from a foreground probability map:
/// [`foreground_components`], then markers by [`PostParams::seeds`] on the Euclidean
/// distance transform, then a marker-controlled [`super::watershed_levels`] of the negated
/// distance inside the foreground — the classical "distance watershed" that splits
/// touching round cells (e.g. scikit-image's gallery "Watershed segmentation").
/// A component that receives no marker becomes one object (scikit-image would
/// leave it unlabelled). Last, objects under [`PostParams::min_confidence`] go,
/// then fragments merge ([`PostParams::merge_fragments`]), then the objects the
/// frame's edge cuts go if [`PostParams::exclude_on_edges`] asks.
///
/// ```
/// use cellstream::post::{instances_from_probability, PostParams, SeedMode};
/// use ndarray::Array2;
/// // Two overlapping discs of radius 6: one component, two cells.
/// let prob = Array2::from_shape_fn((16, 28), |(y, x)| {
///     let d = |cx: f32| ((y as f32 - 8.0).powi(2) + (x as f32 - cx).powi(2)).sqrt();
///     if d(8.0) <= 6.0 || d(19.0) <= 6.0 { 0.9 } else { 0.1 }
/// });
/// let p = PostParams { seeds: SeedMode::DistanceMaxima { min_distance: 4 }, ..PostParams::default() };
/// let mask = instances_from_probability(prob.view(), &p);
/// assert_eq!(mask.iter().copied().max(), Some(2));
/// assert_ne!(mask[[8, 8]], mask[[8, 19]]);
/// ```
pub fn instances_from_probability(prob: ArrayView2<f32>, params: &PostParams) -> Mask {
    finish_objects(split_foreground(prob, params), prob, params)
}

/// [`instances_from_probability`] before [`PostParams::min_confidence`].
fn split_foreground(prob: ArrayView2<f32>, params: &PostParams) -> Mask {
    let (labels, n, fg, runs) = clean_foreground(prob, params);
    if params.seeds == SeedMode::Components {
        return labels;
    }
    let d2 = squared_distance_transform_with_runs(fg.view(), &runs);
    let comps = Some((labels.view(), n));
    match params.seeds {
        SeedMode::DistanceMaxima { min_distance } => {
            let mut peaks = local_maxima(d2.view(), labels.view(), min_distance);
            let mut marked = vec![false; n + 1];
            for &p in &peaks {
                marked[labels[p] as usize] = true;
            }
            peaks.extend(unmarked_component_tops(&labels, &marked, d2.view()));
            flood_levels(d2.view(), true, Markers::Points(&peaks), fg.view(), params.connectivity, comps)
        }
        SeedMode::DistanceHMaxima { h } => {
            let d = d2.mapv(|v| if v == NO_BACKGROUND { f32::INFINITY } else { (v as f32).sqrt() });
            let hm = Zip::from(&h_maxima(d.view(), h)).and(&fg).map_collect(|&m, &f| m && f);
            let markers = mark_unmarked_components(label_components(hm.view(), params.connectivity).0, &labels, n, d2.view());
            flood_levels(d2.view(), true, Markers::Image(markers.view()), fg.view(), params.connectivity, comps)
        }
        SeedMode::Components => unreachable!("returned above"),
    }
}

/// Instance mask from a foreground probability and a seed probability (e.g. a
/// network's cell and cell-minus-boundary outputs): the cleaned foreground of
/// `cell_prob` ([`foreground_components`]), seeds = components of
/// `seed_prob > seed_threshold` inside it, then a marker-controlled watershed of
/// `1 − seed_prob` (quantised to 1/65535) inside the foreground, so that regions meet
/// where the seed probability is lowest — the post-processing of boundary-aware
/// networks (e.g. Scherr et al. 2020, PLoS ONE 15(12)). A component without a seed
/// becomes one object. Last, objects whose mean `cell_prob` is under
/// [`PostParams::min_confidence`] go, then fragments merge
/// ([`PostParams::merge_fragments`]), then the objects the frame's edge cuts
/// go if [`PostParams::exclude_on_edges`] asks.
///
/// ```
/// use cellstream::post::{instances_from_seeds, PostParams};
/// use ndarray::array;
/// let cell = array![[0.9f32, 0.9, 0.9, 0.9, 0.9]];
/// let seed = array![[0.9f32, 0.6, 0.1, 0.7, 0.9]];
/// let p = PostParams { closing_radius: 0, min_area: 1, ..PostParams::default() };
/// // The unseeded pixel goes to the seed flooded first (0.7 beats 0.6), as in
/// // scikit-image's `watershed(1 - seed, markers, mask)`.
/// assert_eq!(instances_from_seeds(cell.view(), seed.view(), &p), array![[1, 1, 2, 2, 2]]);
/// ```
pub fn instances_from_seeds(cell_prob: ArrayView2<f32>, seed_prob: ArrayView2<f32>, params: &PostParams) -> Mask {
    assert_eq!(cell_prob.dim(), seed_prob.dim(), "cell and seed maps differ in shape");
    let (labels, n, fg, _) = clean_foreground(cell_prob, params);
    let (seeds, _) = seeds_from_probability(seed_prob, params.seed_threshold, fg.view(), params.connectivity);
    let levels = seed_prob.mapv(|p| ((1.0 - p.clamp(0.0, 1.0)) * 65535.0).round() as u32);
    let priority = levels.mapv(|l| 65535 - l);
    let markers = mark_unmarked_components(seeds, &labels, n, priority.view());
    let comps = Some((labels.view(), n));
    let cells = flood_levels(levels.view(), false, Markers::Image(markers.view()), fg.view(), params.connectivity, comps);
    finish_objects(cells, cell_prob, params)
}

/// The chain's last steps: `cells` without the objects [`PostParams::min_confidence`] rejects, then
/// with fragments merged ([`PostParams::merge_fragments`]), then without the
/// objects at the frame's edge ([`PostParams::exclude_on_edges`]).
fn finish_objects(cells: Mask, prob: ArrayView2<f32>, params: &PostParams) -> Mask {
    let cells = if params.min_confidence > 0.0 { remove_unsure_objects(cells.view(), prob, params.min_confidence) } else { cells };
    let cells = if params.merge_fragments > 0.0 { merge_fragments(cells.view(), params.merge_fragments) } else { cells };
    if params.exclude_on_edges { clear_border(cells.view()) } else { cells }
}

/// Removes the objects of `mask` whose mean `prob` over their pixels is below
/// `min_mean`, and numbers the rest `1..=n` in their order: a confidence
/// filter on whole objects, as StarDist's `prob_thresh` on its candidates
/// (Schmidt et al., MICCAI 2018), here on the mean foreground probability.
///
/// ```
/// use cellstream::post::chain::remove_unsure_objects;
/// use ndarray::array;
/// let mask = array![[1u32, 1, 0, 2, 2, 0, 3]];
/// let prob = array![[0.9f32, 0.7, 0.1, 0.6, 0.5, 0.2, 0.95]];
/// // Object 2 averages 0.55: removed; 3 becomes 2.
/// assert_eq!(remove_unsure_objects(mask.view(), prob.view(), 0.6), array![[1, 1, 0, 0, 0, 0, 2]]);
/// ```
pub fn remove_unsure_objects(mask: ArrayView2<u32>, prob: ArrayView2<f32>, min_mean: f32) -> Mask {
    assert_eq!(mask.dim(), prob.dim(), "mask and probability map differ in shape");
    let n = mask.iter().copied().max().unwrap_or(0) as usize;
    let mut sums = vec![(0.0f64, 0usize); n + 1];
    for (&l, &p) in mask.iter().zip(prob.iter()) {
        sums[l as usize].0 += f64::from(p);
        sums[l as usize].1 += 1;
    }
    let keep: Vec<bool> = sums.iter().map(|&(s, c)| c > 0 && s / c as f64 >= f64::from(min_mean)).collect();
    let kept = mask.mapv(|l| if l != 0 && keep[l as usize] { l } else { 0 });
    relabel_sequential(kept.view()).0
}

/// Gives each component of `labels` (1..=n) that holds no marker a marker of its own
/// (labels after the largest marker label), at its pixel of greatest `priority`.
fn mark_unmarked_components(mut markers: Mask, labels: &Mask, n: usize, priority: ArrayView2<u32>) -> Mask {
    let mut marked = vec![false; n + 1];
    for (&m, &l) in markers.iter().zip(labels.iter()) {
        if m != 0 {
            marked[l as usize] = true;
        }
    }
    let tops = unmarked_component_tops(labels, &marked, priority);
    let mut next = markers.iter().copied().max().unwrap_or(0);
    for p in tops {
        next += 1;
        markers[p] = next;
    }
    markers
}

/// For each component `l` of `labels` with `!marked[l]`, its pixel of greatest
/// `priority` (the first in raster order among equals), in label order.
fn unmarked_component_tops(labels: &Mask, marked: &[bool], priority: ArrayView2<u32>) -> Vec<(usize, usize)> {
    if marked.iter().skip(1).all(|&m| m) {
        return Vec::new();
    }
    let w = labels.ncols();
    let mut best: Vec<Option<(usize, u32)>> = vec![None; marked.len()];
    let prio = priority.as_standard_layout();
    let ls = labels.as_slice().expect("standard layout");
    for (i, (&l, &v)) in ls.iter().zip(prio.as_slice().expect("standard layout")).enumerate() {
        if l != 0 && !marked[l as usize] && best[l as usize].is_none_or(|(_, b)| v > b) {
            best[l as usize] = Some((i, v));
        }
    }
    best.into_iter().flatten().map(|(i, _)| (i / w, i % w)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use proptest::prelude::*;

    fn blobs(h: usize, w: usize, centres: &[(f32, f32, f32)]) -> Array2<f32> {
        Array2::from_shape_fn((h, w), |(y, x)| {
            let inside = centres.iter().any(|&(cy, cx, r)| (y as f32 - cy).powi(2) + (x as f32 - cx).powi(2) <= r * r);
            if inside { 0.8 } else { 0.2 }
        })
    }

    #[test]
    fn min_confidence_drops_a_faint_cell_and_keeps_a_sure_one() {
        // Two separate discs, one at p = 0.95 and one at p = 0.6; both seeded.
        let cell = Array2::from_shape_fn((20, 40), |(y, x)| {
            let d = |cx: f32| (y as f32 - 10.0).powi(2) + (x as f32 - cx).powi(2);
            if d(10.0) <= 36.0 { 0.95 } else if d(30.0) <= 36.0 { 0.6 } else { 0.05 }
        });
        let seed = cell.mapv(|p| if p > 0.5 { 0.9 } else { 0.0 });
        let p = PostParams { closing_radius: 0, min_area: 5, ..PostParams::default() };
        assert_eq!(instances_from_seeds(cell.view(), seed.view(), &p).iter().max(), Some(&2));
        let strict = instances_from_seeds(cell.view(), seed.view(), &PostParams { min_confidence: 0.8, ..p });
        assert_eq!(strict.iter().max(), Some(&1));
        assert_eq!((strict[[10, 10]], strict[[10, 30]]), (1, 0));
        let by_probability = instances_from_probability(cell.view(), &PostParams { min_confidence: 0.8, seeds: SeedMode::Components, ..p });
        assert_eq!((by_probability[[10, 10]], by_probability[[10, 30]]), (1, 0));
    }

    #[test]
    fn exclude_on_edges_drops_the_cut_cells_in_both_chains() {
        // A whole disc in the middle and one cut by the right edge.
        let cell = blobs(20, 40, &[(10.0, 14.0, 6.0), (10.0, 38.0, 6.0)]);
        let seed = cell.mapv(|p| if p > 0.5 { 0.9 } else { 0.0 });
        let p = PostParams { closing_radius: 0, min_area: 5, ..PostParams::default() };
        assert_eq!(instances_from_seeds(cell.view(), seed.view(), &p).iter().max(), Some(&2));
        let p = PostParams { exclude_on_edges: true, ..p };
        for mask in [instances_from_seeds(cell.view(), seed.view(), &p), instances_from_probability(cell.view(), &p)] {
            assert_eq!(mask.iter().max(), Some(&1));
            assert_eq!((mask[[10, 14]], mask[[10, 38]]), (1, 0));
        }
    }

    proptest! {
        #[test]
        fn remove_unsure_objects_keeps_exactly_the_sure_ones(labels in prop::collection::vec(0u32..6, 24), probs in prop::collection::vec(0.0f32..1.0, 24), min in 0.0f32..1.0) {
            let mask = Array2::from_shape_vec((4, 6), labels).unwrap();
            let prob = Array2::from_shape_vec((4, 6), probs).unwrap();
            let out = remove_unsure_objects(mask.view(), prob.view(), min);
            let mut kept = std::collections::BTreeMap::new();
            for l in 1..6u32 {
                let px: Vec<usize> = (0..24).filter(|&i| mask.as_slice().unwrap()[i] == l).collect();
                if px.is_empty() {
                    continue;
                }
                let mean = px.iter().map(|&i| f64::from(prob.as_slice().unwrap()[i])).sum::<f64>() / px.len() as f64;
                let new: std::collections::BTreeSet<u32> = px.iter().map(|&i| out.as_slice().unwrap()[i]).collect();
                prop_assert_eq!(new.len(), 1, "an object keeps one label");
                let n = *new.iter().next().unwrap();
                prop_assert_eq!(n != 0, mean >= f64::from(min), "object {} (mean {}) against {}", l, mean, min);
                if n != 0 {
                    kept.insert(l, n);
                }
            }
            // The kept objects are numbered 1..=n in their old order.
            prop_assert_eq!(kept.values().copied().collect::<Vec<_>>(), (1..=kept.len() as u32).collect::<Vec<_>>());
        }
    }

    #[test]
    fn components_mode_keeps_touching_cells_together() {
        let prob = blobs(20, 30, &[(10.0, 9.0, 6.0), (10.0, 20.0, 6.0)]);
        let p = PostParams { seeds: SeedMode::Components, ..PostParams::default() };
        let m = instances_from_probability(prob.view(), &p);
        assert_eq!(m.iter().copied().max(), Some(1));
    }

    #[test]
    fn h_maxima_splits_two_discs() {
        let prob = blobs(20, 30, &[(10.0, 9.0, 6.0), (10.0, 20.0, 6.0)]);
        let p = PostParams { seeds: SeedMode::DistanceHMaxima { h: 1.0 }, ..PostParams::default() };
        let m = instances_from_probability(prob.view(), &p);
        assert_eq!(m.iter().copied().max(), Some(2));
        assert_ne!(m[[10, 9]], m[[10, 20]]);
    }

    #[test]
    fn small_specks_and_holes() {
        let mut prob = blobs(30, 30, &[(15.0, 15.0, 9.0)]);
        prob[[15, 15]] = 0.0; // a hole
        prob[[1, 1]] = 1.0; // a speck
        let p = PostParams { closing_radius: 0, min_area: 5, ..PostParams::default() };
        let m = instances_from_probability(prob.view(), &p);
        assert_eq!(m[[15, 15]], 1);
        assert_eq!(m[[1, 1]], 0);
        assert_eq!(m.iter().copied().max(), Some(1));
    }

    #[test]
    fn unmarked_component_becomes_one_object() {
        // A one-pixel-wide bar: skimage's plateau rule still marks it; here with a
        // marker image that misses it entirely.
        let labels = array![[1u32, 1, 0, 2]];
        let markers = array![[0u32, 0, 0, 1]];
        let prio = array![[1u32, 2, 0, 1]];
        let m = mark_unmarked_components(markers, &labels, 2, prio.view());
        assert_eq!(m, array![[0, 2, 0, 1]]);
    }

    proptest! {
        #[test]
        fn output_covers_the_foreground_with_consecutive_labels(
            h in 4usize..40, w in 4usize..40, seed in any::<u64>(), md in 1usize..6, r in 0usize..3
        ) {
            let mut s = seed | 1;
            let mut next = move || { s ^= s << 13; s ^= s >> 7; s ^= s << 17; (s % 10_000) as f32 / 10_000.0 };
            let centres: Vec<(f32, f32, f32)> = (0..6).map(|_| (next() * h as f32, next() * w as f32, 2.0 + next() * 6.0)).collect();
            let prob = blobs(h, w, &centres);
            let p = PostParams { closing_radius: r, min_area: 4, seeds: SeedMode::DistanceMaxima { min_distance: md }, ..PostParams::default() };
            let m = instances_from_probability(prob.view(), &p);
            let (labels, _) = foreground_components(prob.view(), &p);
            for (&a, &b) in m.iter().zip(labels.iter()) {
                prop_assert_eq!(a != 0, b != 0);
            }
            let n = m.iter().copied().max().unwrap_or(0);
            let mut seen = vec![false; n as usize + 1];
            for &l in m.iter() { seen[l as usize] = true; }
            prop_assert!(seen.iter().skip(1).all(|&s| s), "labels not consecutive");
            // Each object lies within one foreground component.
            let mut comp = vec![0u32; n as usize + 1];
            for (&a, &b) in m.iter().zip(labels.iter()) {
                if a != 0 {
                    prop_assert!(comp[a as usize] == 0 || comp[a as usize] == b);
                    comp[a as usize] = b;
                }
            }
        }
    }
}
