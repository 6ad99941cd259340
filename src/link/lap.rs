//! Sparse linear assignment: shortest augmenting paths, with "no link" alternatives.
//!
//! [`solve_sparse`] is the augmentation phase of Jonker & Volgenant (1987,
//! "A shortest augmenting path algorithm for dense and sparse linear assignment
//! problems", Computing 38) in the form of Crouse (2016, "On implementing 2D
//! rectangular assignment algorithms", IEEE TAES 52(4)), with a binary heap so
//! that a row scans only its own entries. [`assign`] adds the birth and death
//! alternatives of Jaqaman et al. (2008, "Robust single-particle tracking in
//! live-cell time-lapse sequences", Nature Methods 5) and solves each connected
//! component of the candidate graph on its own, so problems stay small.
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use petgraph::unionfind::UnionFind;

const NONE: usize = usize::MAX;

/// A square cost matrix with few entries: row `i` holds `(col, cost)` pairs
/// `entries[start[i]..start[i + 1]]`; absent entries are forbidden pairs.
#[derive(Debug, Clone, Default)]
pub struct SparseMatrix {
    pub n: usize,
    pub start: Vec<usize>,
    pub entries: Vec<(u32, f64)>,
}

impl SparseMatrix {
    /// Builds the matrix from `(row, col, cost)` triples in any order.
    ///
    /// ```
    /// use cellstream::link::lap::SparseMatrix;
    /// let m = SparseMatrix::from_triples(2, vec![(1, 0, 0.5), (0, 1, 2.0), (0, 0, 1.0)]);
    /// assert_eq!((m.start.as_slice(), m.entries.as_slice()), (&[0, 2, 3][..], &[(0, 1.0), (1, 2.0), (0, 0.5)][..]));
    /// ```
    pub fn from_triples(n: usize, mut triples: Vec<(u32, u32, f64)>) -> SparseMatrix {
        triples.sort_unstable_by_key(|a| (a.0, a.1));
        let mut start = vec![0; n + 1];
        for t in &triples {
            start[t.0 as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let entries = triples.into_iter().map(|(_, c, w)| (c, w)).collect();
        SparseMatrix { n, start, entries }
    }

    fn row(&self, i: usize) -> &[(u32, f64)] {
        &self.entries[self.start[i]..self.start[i + 1]]
    }
}

/// One connected component of the candidate graph.
#[derive(Default)]
struct Component {
    rows: Vec<u32>,
    cols: Vec<u32>,
    links: Vec<(u32, u32, f64)>,
}

#[derive(PartialEq)]
struct Dist(f64, usize);
impl Eq for Dist {}
impl PartialOrd for Dist {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Dist {
    fn cmp(&self, o: &Self) -> Ordering {
        self.0.total_cmp(&o.0).then(self.1.cmp(&o.1))
    }
}

/// Minimum-cost perfect matching of a square sparse matrix with non-negative
/// costs: the column of each row, or `None` if no perfect matching exists.
///
/// ```
/// use cellstream::link::lap::{solve_sparse, SparseMatrix};
/// let m = SparseMatrix::from_triples(2, vec![(0, 0, 1.0), (0, 1, 2.0), (1, 0, 1.0)]);
/// assert_eq!(solve_sparse(&m), Some(vec![1, 0]));
/// ```
pub fn solve_sparse(m: &SparseMatrix) -> Option<Vec<usize>> {
    let n = m.n;
    let (mut u, mut v) = (vec![0.0f64; n], vec![0.0f64; n]);
    let (mut col4row, mut row4col) = (vec![NONE; n], vec![NONE; n]);
    let mut shortest = vec![f64::INFINITY; n];
    let mut pred = vec![NONE; n];
    let mut scanned = vec![false; n];
    let (mut touched, mut rows, mut cols) = (Vec::new(), Vec::new(), Vec::new());
    let mut heap = BinaryHeap::new();
    for cur in 0..n {
        let mut i = cur;
        let mut min_val = 0.0;
        let sink = loop {
            rows.push(i);
            for &(j, c) in m.row(i) {
                let j = j as usize;
                if scanned[j] {
                    continue;
                }
                let r = min_val + c - u[i] - v[j];
                if r < shortest[j] {
                    if shortest[j] == f64::INFINITY {
                        touched.push(j);
                    }
                    shortest[j] = r;
                    pred[j] = i;
                    heap.push(Reverse(Dist(r, j)));
                }
            }
            let j = loop {
                let Reverse(Dist(d, j)) = heap.pop()?;
                if !scanned[j] && d <= shortest[j] {
                    break j;
                }
            };
            min_val = shortest[j];
            scanned[j] = true;
            cols.push(j);
            if row4col[j] == NONE {
                break j;
            }
            i = row4col[j];
        };
        u[cur] += min_val;
        for &i in &rows[1..] {
            u[i] += min_val - shortest[col4row[i]];
        }
        for &j in &cols {
            v[j] -= min_val - shortest[j];
        }
        let mut j = sink;
        loop {
            let i = pred[j];
            row4col[j] = i;
            std::mem::swap(&mut col4row[i], &mut j);
            if i == cur {
                break;
            }
        }
        for &j in &touched {
            shortest[j] = f64::INFINITY;
            scanned[j] = false;
        }
        touched.clear();
        rows.clear();
        cols.clear();
        heap.clear();
    }
    Some(col4row)
}

/// Links rows (e.g. tracks) to columns (e.g. objects) through the candidate
/// `edges` `(row, col, cost)`, minimising the total of the chosen links' costs,
/// `row_alt[i]` for each row left unlinked and `col_alt[j]` for each column
/// left unlinked. Returns the column of each row, if any.
///
/// Each connected component of the candidate graph is solved alone on the
/// augmented matrix of Jaqaman et al. 2008 (links, a diagonal of "no link"
/// alternatives for rows and for columns, and the transposed candidate pattern
/// at cost 0 that keeps it square and feasible). Edges costing at least
/// `row_alt + col_alt` can never beat the alternatives and are dropped first.
///
/// ```
/// use cellstream::link::lap::assign;
/// // Row 0 could take column 0 or 1; row 1 only column 0.
/// let edges = [(0, 0, 0.2), (0, 1, 0.5), (1, 0, 0.3)];
/// assert_eq!(assign(2, 2, &edges, &[1.0; 2], &[1.0; 2]), vec![Some(1), Some(0)]);
/// // With cheap alternatives the expensive link is not worth it.
/// assert_eq!(assign(2, 2, &edges, &[0.2; 2], &[0.2; 2]), vec![Some(0), None]);
/// ```
pub fn assign(n_rows: usize, n_cols: usize, edges: &[(u32, u32, f64)], row_alt: &[f64], col_alt: &[f64]) -> Vec<Option<u32>> {
    assert_eq!(row_alt.len(), n_rows);
    assert_eq!(col_alt.len(), n_cols);
    let edges: Vec<(u32, u32, f64)> = edges
        .iter()
        .copied()
        .filter(|&(i, j, c)| {
            assert!(c.is_finite() && c >= 0.0, "link cost must be finite and non-negative, got {c}");
            c < row_alt[i as usize] + col_alt[j as usize]
        })
        .collect();
    let mut uf = UnionFind::<u32>::new(n_rows + n_cols);
    for &(i, j, _) in &edges {
        uf.union(i, n_rows as u32 + j);
    }
    // Each component's rows and columns (global indices) and its links (local indices).
    let mut comps: Vec<Component> = Vec::new();
    let mut comp_of_root = vec![NONE; n_rows + n_cols];
    let mut local = vec![NONE; n_rows + n_cols];
    for &(i, j, c) in &edges {
        let root = uf.find_mut(i) as usize;
        if comp_of_root[root] == NONE {
            comp_of_root[root] = comps.len();
            comps.push(Component::default());
        }
        let comp = &mut comps[comp_of_root[root]];
        let (ri, cj) = (i as usize, n_rows + j as usize);
        if local[ri] == NONE {
            local[ri] = comp.rows.len();
            comp.rows.push(i);
        }
        if local[cj] == NONE {
            local[cj] = comp.cols.len();
            comp.cols.push(j);
        }
        comp.links.push((local[ri] as u32, local[cj] as u32, c));
    }
    let mut out = vec![None; n_rows];
    for Component { rows, cols, links } in comps {
        let (a, b) = (rows.len() as u32, cols.len() as u32);
        let mut t = Vec::with_capacity(2 * links.len() + (a + b) as usize);
        for &(i, j, c) in &links {
            t.push((i, j, c));
            t.push((a + j, b + i, 0.0));
        }
        for i in 0..a {
            t.push((i, b + i, row_alt[rows[i as usize] as usize]));
        }
        for j in 0..b {
            t.push((a + j, j, col_alt[cols[j as usize] as usize]));
        }
        let m = SparseMatrix::from_triples((a + b) as usize, t);
        let sol = solve_sparse(&m).expect("the augmented matrix always has a perfect matching");
        for i in 0..a as usize {
            if sol[i] < b as usize {
                out[rows[i] as usize] = Some(cols[sol[i]]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn objective(sol: &[Option<u32>], edges: &[(u32, u32, f64)], ra: &[f64], ca: &[f64]) -> f64 {
        let mut used = vec![false; ca.len()];
        let mut total = 0.0;
        for (i, s) in sol.iter().enumerate() {
            match s {
                Some(j) => {
                    assert!(!used[*j as usize], "column used twice");
                    used[*j as usize] = true;
                    total += edges
                        .iter()
                        .filter(|e| e.0 as usize == i && e.1 == *j)
                        .map(|e| e.2)
                        .fold(f64::INFINITY, f64::min);
                }
                None => total += ra[i],
            }
        }
        total + ca.iter().zip(&used).filter(|(_, u)| !**u).map(|(c, _)| c).sum::<f64>()
    }

    /// Exhaustive search over every partial matching.
    fn brute(i: usize, used: &mut Vec<bool>, sol: &mut Vec<Option<u32>>, e: &[(u32, u32, f64)], ra: &[f64], ca: &[f64]) -> f64 {
        if i == ra.len() {
            return objective(sol, e, ra, ca);
        }
        sol[i] = None;
        let mut best = brute(i + 1, used, sol, e, ra, ca);
        for &(_, j, _) in e.iter().filter(|x| x.0 as usize == i) {
            if !used[j as usize] {
                used[j as usize] = true;
                sol[i] = Some(j);
                best = best.min(brute(i + 1, used, sol, e, ra, ca));
                used[j as usize] = false;
                sol[i] = None;
            }
        }
        best
    }

    #[test]
    fn infeasible_square_problem_is_reported() {
        let m = SparseMatrix::from_triples(2, vec![(0, 0, 1.0), (1, 0, 1.0)]);
        assert_eq!(solve_sparse(&m), None);
    }

    #[test]
    fn separate_components_are_solved_apart() {
        let edges = [(0, 0, 0.1), (1, 1, 0.1), (2, 2, 5.0)];
        assert_eq!(assign(3, 3, &edges, &[1.0; 3], &[1.0; 3]), vec![Some(0), Some(1), None]);
    }

    #[test]
    fn prefers_the_global_optimum_over_greedy() {
        // Greedy would give row 0 column 0 (0.1) and leave row 1 unlinked.
        let edges = [(0, 0, 0.1), (0, 1, 0.2), (1, 0, 0.15)];
        assert_eq!(assign(2, 2, &edges, &[1.0; 2], &[1.0; 2]), vec![Some(1), Some(0)]);
    }

    /// Rows, columns, edges, row alternatives, column alternatives.
    type Problem = (usize, usize, Vec<(u32, u32, f64)>, Vec<f64>, Vec<f64>);

    fn problem() -> impl Strategy<Value = Problem> {
        (1usize..6, 1usize..6).prop_flat_map(|(a, b)| {
            (
                Just(a),
                Just(b),
                proptest::collection::btree_map((0..a as u32, 0..b as u32), 0.0f64..3.0, 0..(a * b + 1))
                    .prop_map(|m| m.into_iter().map(|((i, j), c)| (i, j, c)).collect()),
                proptest::collection::vec(0.0f64..2.0, a),
                proptest::collection::vec(0.0f64..2.0, b),
            )
        })
    }

    proptest! {
        #[test]
        fn assign_is_optimal((a, b, edges, ra, ca) in problem()) {
            let sol = assign(a, b, &edges, &ra, &ca);
            let got = objective(&sol, &edges, &ra, &ca);
            let want = brute(0, &mut vec![false; b], &mut vec![None; a], &edges, &ra, &ca);
            prop_assert!((got - want).abs() < 1e-9, "got {got}, optimum {want}, solution {sol:?}");
        }

        #[test]
        fn dense_solution_is_a_min_cost_permutation(n in 1usize..6, costs in proptest::collection::vec(0.0f64..10.0, 36)) {
            let t: Vec<(u32, u32, f64)> = (0..n).flat_map(|i| (0..n).map(move |j| (i as u32, j as u32))).map(|(i, j)| (i, j, costs[i as usize * 6 + j as usize])).collect();
            let sol = solve_sparse(&SparseMatrix::from_triples(n, t)).unwrap();
            let got: f64 = sol.iter().enumerate().map(|(i, &j)| costs[i * 6 + j]).sum();
            let mut perm: Vec<usize> = (0..n).collect();
            let mut best = f64::INFINITY;
            permute(&mut perm, 0, &mut |p| best = best.min(p.iter().enumerate().map(|(i, &j)| costs[i * 6 + j]).sum()));
            prop_assert!((got - best).abs() < 1e-9);
        }
    }

    fn permute(p: &mut Vec<usize>, k: usize, f: &mut impl FnMut(&[usize])) {
        if k == p.len() {
            return f(p);
        }
        for i in k..p.len() {
            p.swap(k, i);
            permute(p, k + 1, f);
            p.swap(k, i);
        }
    }
}
