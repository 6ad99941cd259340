//! Optimal one-to-one assignment (the Hungarian method) on a dense rectangular cost matrix.
//!
//! Kuhn's Hungarian method (Kuhn 1955; Munkres 1957) in its shortest
//! augmenting path form with row and column potentials (Jonker & Volgenant
//! 1987, "A shortest augmenting path algorithm for dense and sparse linear
//! assignment problems", Computing 38), O(n²·m) for n rows ≤ m columns; the
//! same formulation as SciPy's `linear_sum_assignment` (Crouse 2016, "On
//! implementing 2D rectangular assignment algorithms", IEEE TAES 52(4)).
use ndarray::Array2;

/// Assigns rows to columns so that the sum of the chosen costs is smallest;
/// every row is assigned when there are at most as many rows as columns,
/// every column otherwise. Returns the (row, column) pairs, by row.
///
/// ```
/// use cellstream::eval::min_cost_assignment;
/// use ndarray::array;
/// let cost = array![[4.0, 1.0, 3.0], [2.0, 0.0, 5.0]];
/// assert_eq!(min_cost_assignment(&cost), vec![(0, 1), (1, 0)]); // 1 + 2
/// ```
///
/// # Panics
/// If a cost is not finite.
pub fn min_cost_assignment(cost: &Array2<f64>) -> Vec<(usize, usize)> {
    assert!(cost.iter().all(|c| c.is_finite()), "assignment costs must be finite");
    let (rows, cols) = cost.dim();
    if rows == 0 || cols == 0 {
        return Vec::new();
    }
    if rows > cols {
        let mut t: Vec<(usize, usize)> =
            min_cost_assignment(&cost.t().to_owned()).into_iter().map(|(c, r)| (r, c)).collect();
        t.sort_unstable();
        return t;
    }
    let (n, m) = (rows, cols);
    // 1-based potentials; column 0 is the virtual start of each search.
    let mut u = vec![0.0; n + 1];
    let mut v = vec![0.0; m + 1];
    let mut row_of = vec![0usize; m + 1]; // row assigned to column j (0 = none)
    let mut way = vec![0usize; m + 1];
    for i in 1..=n {
        row_of[0] = i;
        let mut j0 = 0usize;
        let mut min_to = vec![f64::INFINITY; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = row_of[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0usize;
            for j in 1..=m {
                if used[j] {
                    continue;
                }
                let reduced = cost[[i0 - 1, j - 1]] - u[i0] - v[j];
                if reduced < min_to[j] {
                    min_to[j] = reduced;
                    way[j] = j0;
                }
                if min_to[j] < delta {
                    delta = min_to[j];
                    j1 = j;
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[row_of[j]] += delta;
                    v[j] -= delta;
                } else {
                    min_to[j] -= delta;
                }
            }
            j0 = j1;
            if row_of[j0] == 0 {
                break;
            }
        }
        // Augment along the shortest path back to the virtual column.
        loop {
            let j1 = way[j0];
            row_of[j0] = row_of[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut out: Vec<(usize, usize)> = (1..=m).filter(|&j| row_of[j] != 0).map(|j| (row_of[j] - 1, j - 1)).collect();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use proptest::prelude::*;

    fn total(cost: &Array2<f64>, a: &[(usize, usize)]) -> f64 {
        a.iter().map(|&(r, c)| cost[[r, c]]).sum()
    }

    /// Smallest total over every injective assignment of the shorter side.
    fn brute_force(cost: &Array2<f64>) -> f64 {
        let (n, m) = cost.dim();
        if n > m {
            return brute_force(&cost.t().to_owned());
        }
        fn go(cost: &Array2<f64>, row: usize, used: &mut Vec<bool>) -> f64 {
            if row == cost.nrows() {
                return 0.0;
            }
            let mut best = f64::INFINITY;
            for c in 0..cost.ncols() {
                if !used[c] {
                    used[c] = true;
                    best = best.min(cost[[row, c]] + go(cost, row + 1, used));
                    used[c] = false;
                }
            }
            best
        }
        go(cost, 0, &mut vec![false; m])
    }

    #[test]
    fn square_and_rectangular() {
        let c = array![[1.0, 2.0], [2.0, 4.0]];
        assert_eq!(min_cost_assignment(&c), vec![(0, 1), (1, 0)]);
        let tall = array![[5.0], [1.0], [3.0]];
        assert_eq!(min_cost_assignment(&tall), vec![(1, 0)]);
        assert!(min_cost_assignment(&Array2::zeros((0, 3))).is_empty());
    }

    proptest! {
        #[test]
        fn optimal_like_brute_force(n in 1usize..5, m in 1usize..5, seed in proptest::collection::vec(-10i32..10, 16)) {
            let cost = Array2::from_shape_fn((n, m), |(i, j)| f64::from(seed[i * 4 + j]) / 3.0);
            let a = min_cost_assignment(&cost);
            prop_assert_eq!(a.len(), n.min(m));
            let mut rows: Vec<_> = a.iter().map(|p| p.0).collect();
            let mut cols: Vec<_> = a.iter().map(|p| p.1).collect();
            rows.dedup();
            cols.sort_unstable();
            cols.dedup();
            prop_assert_eq!(rows.len(), a.len());
            prop_assert_eq!(cols.len(), a.len());
            prop_assert!((total(&cost, &a) - brute_force(&cost)).abs() < 1e-9);
        }
    }
}
