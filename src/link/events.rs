//! Rules for the events that are not plain links: a division, and two cells merging into one object.

use super::objects::Object;

/// What a division must look like to be accepted. The defaults fit
/// fluorescent nuclei imaged every few minutes (checked against the 28
/// divisions of the CTC's Fluo-N2DH-SIM+ 01 ground truth) and dense bacterial
/// colonies whose cells divide every 5–16 frames (the simulated colony).
#[derive(Debug, Clone, PartialEq)]
pub struct DivisionRules {
    /// Fewest frames between a cell's own birth by division and its division
    /// (the shortest plausible cell cycle). Cells whose birth was not seen are exempt.
    pub min_cycle: usize,
    /// Smaller daughter's area over the larger's, at least.
    pub min_size_ratio: f64,
    /// Range of (sum of the daughters' areas) / (mother's area).
    pub area_sum_range: (f64, f64),
}

impl Default for DivisionRules {
    fn default() -> Self {
        DivisionRules { min_cycle: 4, min_size_ratio: 0.25, area_sum_range: (0.5, 2.0) }
    }
}

/// Cost in `[0, 1)` of `mother` (last frame) dividing into `a` and `b` (this
/// frame), or `None` when a rule fails:
/// - the mother is old enough: `age` frames since her own birth by division
///   (`None`: birth unseen) is at least [`DivisionRules::min_cycle`];
/// - the daughters are of similar size, and together about the mother's size;
/// - each lies within `reach` plus the mother's radius of her centroid, or
///   overlaps her;
/// - they lie on opposite sides of her: her centroid is inside the circle
///   whose diameter joins theirs (the angle daughter–mother–daughter is obtuse).
///
/// The cost is the mean of how far each measure is from a textbook division:
/// equal daughters, summing to the mother, her centroid at their midpoint.
///
/// ```
/// use cellstream::link::{division_cost, extract_objects, DivisionRules, SplitRule};
/// use ndarray::{array, Array2};
/// let one = |m: Array2<u32>| extract_objects(m.view(), SplitRule::ALL).remove(0);
/// let mother = one(array![[0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]]);
/// let a = one(array![[2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0]]);
/// let b = one(array![[0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3, 0]]);
/// let rules = DivisionRules::default();
/// // Equal daughters on either side of her, summing to her area: a low cost.
/// assert!(division_cost(&rules, &mother, None, &a, &b, 5.0).unwrap() < 0.1);
/// // A mother born two frames ago is too young to divide again (min_cycle 4).
/// assert_eq!(division_cost(&rules, &mother, Some(2), &a, &b, 5.0), None);
/// // Both daughters on one side of her: no division.
/// let (c, d) = (one(array![[4, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]]), one(array![[0, 0, 0, 0, 5, 5, 5, 0, 0, 0, 0, 0]]));
/// assert_eq!(division_cost(&rules, &mother, None, &c, &d, 5.0), None);
/// ```
pub fn division_cost(rules: &DivisionRules, mother: &Object, age: Option<usize>, a: &Object, b: &Object, reach: f64) -> Option<f64> {
    if age.is_some_and(|g| g < rules.min_cycle) {
        return None;
    }
    let (sa, sb, sm) = (a.area as f64, b.area as f64, mother.area.max(1) as f64);
    let ratio = sa.min(sb) / sa.max(sb).max(1.0);
    let sum = (sa + sb) / sm;
    if ratio < rules.min_size_ratio || sum < rules.area_sum_range.0 || sum > rules.area_sum_range.1 {
        return None;
    }
    let near = reach + mother.radius();
    if [a, b].iter().any(|d| d.distance(mother) > near && d.overlap(mother) == 0) {
        return None;
    }
    let mid = [(a.centroid[0] + b.centroid[0]) / 2.0, (a.centroid[1] + b.centroid[1]) / 2.0];
    let off = (mid[0] - mother.centroid[0]).hypot(mid[1] - mother.centroid[1]);
    let half = a.distance(b) / 2.0;
    if half == 0.0 || off > half {
        return None;
    }
    let size = 1.0 - ratio;
    let total = (sum.ln().abs() / std::f64::consts::LN_2).min(1.0);
    // Kept below 1, the cost of leaving the daughter a birth: a division that
    // passes every rule is always worth taking.
    Some((size + total + off / half) / 3.0 * 0.999)
}

/// Whether `gone` (a track's last object, with no link into this frame) has
/// merged into `merged` (this frame's object, which continues the track whose
/// last object is `host`): at least half of `gone` lies inside `merged`, and
/// `merged` grew by at least half of `gone`'s area.
///
/// ```
/// use cellstream::link::{extract_objects, is_merge, SplitRule};
/// use ndarray::{array, Array2};
/// let one = |m: Array2<u32>| extract_objects(m.view(), SplitRule::ALL).remove(0);
/// let (host, gone) = (one(array![[1, 1, 1, 0, 0, 0]]), one(array![[0, 0, 0, 0, 2, 2]]));
/// assert!(is_merge(&gone, &host, &one(array![[3, 3, 3, 3, 3, 3]])));
/// // Grown by a pixel only: the other cell was lost, not merged.
/// assert!(!is_merge(&gone, &host, &one(array![[3, 3, 3, 3, 0, 0]])));
/// ```
pub fn is_merge(gone: &Object, host: &Object, merged: &Object) -> bool {
    2 * merged.overlap(gone) >= gone.area && merged.area as f64 >= host.area as f64 + 0.5 * gone.area as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::objects::{extract_objects, SplitRule};
    use ndarray::Array2;

    /// Disks of (centre row, centre col, radius) in one 100×100 frame, one object each.
    fn disks(d: &[(f64, f64, f64)]) -> Vec<Object> {
        d.iter()
            .map(|&(cy, cx, r)| {
                let m = Array2::from_shape_fn((100, 100), |(y, x)| ((y as f64 - cy).hypot(x as f64 - cx) <= r) as u32);
                extract_objects(m.view(), SplitRule::ALL).remove(0)
            })
            .collect()
    }

    #[test]
    fn textbook_division_is_cheap() {
        let o = disks(&[(50.0, 50.0, 14.0), (50.0, 40.0, 10.0), (50.0, 60.0, 10.0)]);
        let c = division_cost(&DivisionRules::default(), &o[0], None, &o[1], &o[2], 10.0).unwrap();
        assert!(c < 0.1, "{c}");
    }

    #[test]
    fn daughters_on_one_side_are_not_a_division() {
        let o = disks(&[(50.0, 50.0, 14.0), (50.0, 62.0, 10.0), (50.0, 84.0, 10.0)]);
        assert_eq!(division_cost(&DivisionRules::default(), &o[0], None, &o[1], &o[2], 30.0), None);
    }

    #[test]
    fn unequal_or_oversized_daughters_are_not_a_division() {
        let r = DivisionRules::default();
        let small = disks(&[(50.0, 50.0, 14.0), (50.0, 40.0, 12.0), (50.0, 60.0, 4.0)]);
        assert_eq!(division_cost(&r, &small[0], None, &small[1], &small[2], 10.0), None);
        // A neighbour as big as the mother appearing beside her: the sum is too large.
        let big = disks(&[(50.0, 50.0, 9.0), (50.0, 40.0, 10.0), (50.0, 60.0, 10.0)]);
        assert_eq!(division_cost(&r, &big[0], None, &big[1], &big[2], 10.0), None);
    }

    #[test]
    fn young_mothers_do_not_divide() {
        let o = disks(&[(50.0, 50.0, 14.0), (50.0, 40.0, 10.0), (50.0, 60.0, 10.0)]);
        let r = DivisionRules::default();
        assert_eq!(division_cost(&r, &o[0], Some(r.min_cycle - 1), &o[1], &o[2], 10.0), None);
        assert!(division_cost(&r, &o[0], Some(r.min_cycle), &o[1], &o[2], 10.0).is_some());
    }

    #[test]
    fn merge_needs_overlap_and_growth() {
        let o = disks(&[(50.0, 40.0, 10.0), (50.0, 60.0, 10.0), (50.0, 50.0, 16.0), (50.0, 62.0, 10.0)]);
        assert!(is_merge(&o[0], &o[1], &o[2]), "two disks became one big object");
        assert!(!is_merge(&o[0], &o[1], &o[3]), "the host did not grow: the lost cell is elsewhere");
    }
}
