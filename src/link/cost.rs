//! The cost of linking an object to a later one: overlap and centroid distance.

use super::objects::Object;

/// Cost in `[0, 1]` of `next` being `prev` after it moved, or `None` when it
/// cannot be: centroids farther apart than `reach` and no shared pixel.
///
/// The cost is the mean of `1 − IoU` (the overlap term of overlap-based
/// trackers, e.g. Bise, Yin & Kanade 2011) and the centroid distance over
/// `reach` (the gated nearest-neighbour term of Jaqaman et al. 2008), so that
/// overlapping objects are preferred and distance breaks ties between those
/// that do not overlap. `reach` is the maximum displacement, times the number
/// of frames elapsed when closing gaps.
///
/// ```
/// use cellstream::link::{extract_objects, motion_cost, SplitRule};
/// use ndarray::array;
/// let a = &extract_objects(array![[1, 1, 0, 0]].view(), SplitRule::ALL)[0];
/// let b = &extract_objects(array![[0, 2, 2, 0]].view(), SplitRule::ALL)[0];
/// let c = &extract_objects(array![[0, 0, 0, 3]].view(), SplitRule::ALL)[0];
/// assert!(motion_cost(a, b, 10.0).unwrap() < motion_cost(a, c, 10.0).unwrap());
/// assert_eq!(motion_cost(a, c, 2.0), None);
/// ```
pub fn motion_cost(prev: &Object, next: &Object, reach: f64) -> Option<f64> {
    let d = prev.distance(next);
    let shared = prev.overlap(next);
    if d > reach && shared == 0 {
        return None;
    }
    let iou = shared as f64 / (prev.area + next.area - shared).max(1) as f64;
    Some(0.5 * (1.0 - iou) + 0.5 * (d / reach).min(1.0))
}

/// How far apart the centroids of two objects that could be linked may lie:
/// `reach`, or more when they are large enough to overlap from farther away
/// (`largest_next_extent` is the largest [`Object::extent`] among the candidates).
pub fn search_radius(prev: &Object, largest_next_extent: f64, reach: f64) -> f64 {
    reach.max(prev.extent + largest_next_extent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn disk(h: usize, w: usize, cy: f64, cx: f64, r: f64) -> Object {
        let m = Array2::from_shape_fn((h, w), |(y, x)| ((y as f64 - cy).hypot(x as f64 - cx) <= r) as u32);
        super::super::objects::extract_objects(m.view(), super::super::objects::SplitRule::ALL).remove(0)
    }

    #[test]
    fn identical_objects_cost_nothing() {
        let a = disk(40, 40, 20.0, 20.0, 8.0);
        assert_eq!(motion_cost(&a, &a, 10.0), Some(0.0));
    }

    #[test]
    fn overlapping_objects_link_beyond_the_reach() {
        let a = disk(80, 80, 40.0, 30.0, 20.0);
        let b = disk(80, 80, 40.0, 50.0, 20.0);
        let c = motion_cost(&a, &b, 5.0).expect("they overlap");
        assert!(c > 0.5 && c < 1.0, "{c}");
    }

    #[test]
    fn search_radius_covers_overlapping_pairs() {
        let a = disk(80, 80, 40.0, 20.0, 15.0);
        let b = disk(80, 80, 40.0, 48.0, 15.0);
        assert!(a.overlap(&b) > 0);
        assert!(a.distance(&b) <= search_radius(&a, b.extent, 1.0));
    }
}
