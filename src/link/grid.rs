//! A uniform bucket grid over points for fixed-radius neighbour queries.
//!
//! Candidate links are the objects within the maximum displacement; bucketing
//! the centroids into square cells of that size makes finding them cost the
//! number of nearby objects, not the number of objects in the frame
//! (Bentley, Stanat & Williams 1977, "The complexity of finding fixed-radius
//! near neighbors", Inf. Proc. Letters 6(6)).

/// Points `[row, col]` bucketed into square cells, stored in compressed rows.
///
/// ```
/// use cellstream::link::grid::PointGrid;
/// let grid = PointGrid::new(vec![[0.0, 0.0], [0.0, 3.0], [10.0, 10.0], [2.0, 2.0]], 5.0);
/// let mut near = Vec::new();
/// grid.within([1.0, 1.0], 3.0, |i, d| near.push((i, (d * 100.0).round() / 100.0)));
/// near.sort_by_key(|n| n.0);
/// // Points 0, 1 and 3 lie within 3 of (1, 1), with their distances; (10, 10) does not.
/// assert_eq!(near, [(0, 1.41), (1, 2.24), (3, 1.41)]);
/// ```
#[derive(Debug, Clone)]
pub struct PointGrid {
    cell: f64,
    origin: [f64; 2],
    shape: [usize; 2],
    /// `start[b]..start[b + 1]` indexes `items` for bucket `b`.
    start: Vec<usize>,
    items: Vec<u32>,
    points: Vec<[f64; 2]>,
}

impl PointGrid {
    /// Buckets `points` into cells of side `cell` (> 0).
    pub fn new(points: Vec<[f64; 2]>, cell: f64) -> PointGrid {
        assert!(cell > 0.0 && cell.is_finite(), "grid cell size must be positive");
        let mut lo = [f64::INFINITY; 2];
        let mut hi = [f64::NEG_INFINITY; 2];
        for p in &points {
            for k in 0..2 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        if points.is_empty() {
            lo = [0.0; 2];
            hi = [0.0; 2];
        }
        // Keep the bucket count proportional to the point count: a few
        // scattered points must not allocate a huge grid.
        let mut cell = cell;
        let budget = 4 * points.len().max(1) + 16;
        loop {
            let n = |k: usize| ((hi[k] - lo[k]) / cell).floor() as usize + 1;
            if n(0).saturating_mul(n(1)) <= budget {
                break;
            }
            cell *= 2.0;
        }
        let shape = [((hi[0] - lo[0]) / cell) as usize + 1, ((hi[1] - lo[1]) / cell) as usize + 1];
        let mut g = PointGrid { cell, origin: lo, shape, start: vec![0; shape[0] * shape[1] + 1], items: vec![0; points.len()], points };
        let buckets: Vec<usize> = g.points.iter().map(|p| g.bucket(g.cell_of(p))).collect();
        for &b in &buckets {
            g.start[b + 1] += 1;
        }
        for b in 0..g.start.len() - 1 {
            g.start[b + 1] += g.start[b];
        }
        let mut fill = g.start.clone();
        for (i, &b) in buckets.iter().enumerate() {
            g.items[fill[b]] = i as u32;
            fill[b] += 1;
        }
        g
    }

    fn cell_of(&self, p: &[f64; 2]) -> [i64; 2] {
        [((p[0] - self.origin[0]) / self.cell).floor() as i64, ((p[1] - self.origin[1]) / self.cell).floor() as i64]
    }

    fn bucket(&self, c: [i64; 2]) -> usize {
        c[0] as usize * self.shape[1] + c[1] as usize
    }

    /// Calls `f(index, distance)` for every point within `radius` of `p`, in bucket order.
    pub fn within(&self, p: [f64; 2], radius: f64, mut f: impl FnMut(usize, f64)) {
        if self.points.is_empty() {
            return;
        }
        let lo = self.cell_of(&[p[0] - radius, p[1] - radius]);
        let hi = self.cell_of(&[p[0] + radius, p[1] + radius]);
        let r0 = lo[0].max(0);
        let r1 = hi[0].min(self.shape[0] as i64 - 1);
        let c0 = lo[1].max(0);
        let c1 = hi[1].min(self.shape[1] as i64 - 1);
        for r in r0..=r1 {
            for c in c0..=c1 {
                let b = self.bucket([r, c]);
                for &i in &self.items[self.start[b]..self.start[b + 1]] {
                    let q = self.points[i as usize];
                    let d = ((q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2)).sqrt();
                    if d <= radius {
                        f(i as usize, d);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_points_on_the_radius() {
        let g = PointGrid::new(vec![[0.0, 0.0], [3.0, 4.0], [10.0, 10.0]], 2.0);
        let mut hits = vec![];
        g.within([0.0, 0.0], 5.0, |i, d| hits.push((i, d)));
        hits.sort_by_key(|a| a.0);
        assert_eq!(hits, vec![(0, 0.0), (1, 5.0)]);
    }

    #[test]
    fn empty_grid_finds_nothing() {
        let g = PointGrid::new(vec![], 5.0);
        g.within([1.0, 1.0], 100.0, |_, _| panic!("no points"));
    }

    proptest! {
        #[test]
        fn same_as_brute_force(
            pts in proptest::collection::vec((-50.0f64..500.0, -50.0f64..500.0), 0..60),
            q in (-100.0f64..600.0, -100.0f64..600.0),
            radius in 0.0f64..120.0,
            cell in 0.5f64..80.0,
        ) {
            let points: Vec<[f64; 2]> = pts.iter().map(|&(a, b)| [a, b]).collect();
            let g = PointGrid::new(points.clone(), cell);
            let mut got = vec![];
            g.within([q.0, q.1], radius, |i, _| got.push(i));
            got.sort_unstable();
            let want: Vec<usize> = (0..points.len())
                .filter(|&i| ((points[i][0] - q.0).powi(2) + (points[i][1] - q.1).powi(2)).sqrt() <= radius)
                .collect();
            prop_assert_eq!(got, want);
        }
    }
}
