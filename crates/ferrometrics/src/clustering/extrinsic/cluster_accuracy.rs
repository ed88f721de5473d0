//! Cluster accuracy: the accuracy under the best one-to-one matching of clusters to classes.

use ndarray::ArrayView1;
use serde::{Deserialize, Serialize};

use super::contingency::{check_labels, ContingencyTable, Marginals};
use super::impl_table_metric;
use crate::error::{Error, Result};
use crate::MetricInfo;

/// Computes [`cluster_accuracy`] from a non-empty table.
///
/// Zero cells add nothing to a matching, so the best matching splits into the connected
/// components of the graph whose edges are the non-zero cells, and each component is solved
/// alone. Many small components, such as all singletons, then cost linear time.
pub(crate) fn cluster_accuracy_from_table(table: &ContingencyTable) -> Result<f64> {
    let marginals = table.marginals();
    let n_rows = marginals.rows.len();
    let mut components = DisjointSets::new(n_rows + marginals.cols.len());
    for (&row, &col) in marginals.cell_row.iter().zip(&marginals.cell_col) {
        components.union(row, n_rows + col);
    }

    // Cells grouped by component, each group in table order.
    let mut cells_of_root: Vec<Vec<usize>> = vec![Vec::new(); n_rows + marginals.cols.len()];
    for (k, &row) in marginals.cell_row.iter().enumerate() {
        cells_of_root[components.find(row)].push(k);
    }

    let mut matched: u64 = 0;
    for cells in cells_of_root.iter().filter(|cells| !cells.is_empty()) {
        matched += match cells.as_slice() {
            [only] => table.cells()[*only].count,
            _ => component_matching(table, &marginals, cells)?,
        };
    }
    Ok(matched as f64 / marginals.n_samples as f64)
}

/// Cells in one component's dense weight matrix above which the matching returns an error.
const MAX_COMPONENT_CELLS: usize = 1 << 26;

/// Solves the matching of one connected component with more than one cell.
fn component_matching(
    table: &ContingencyTable,
    marginals: &Marginals,
    cells: &[usize],
) -> Result<u64> {
    let mut rows: Vec<usize> = cells.iter().map(|&k| marginals.cell_row[k]).collect();
    let mut cols: Vec<usize> = cells.iter().map(|&k| marginals.cell_col[k]).collect();
    rows.sort_unstable();
    rows.dedup();
    cols.sort_unstable();
    cols.dedup();

    // NOTE: the solver takes O(rows^2 cols) time, so one component with thousands of classes
    // and clusters takes seconds. Past 2^26 cells it returns an error instead.
    if rows.len().saturating_mul(cols.len()) > MAX_COMPONENT_CELLS {
        return Err(Error::invalid_input(
            "preds",
            format!(
                "cluster accuracy needs a {} x {} assignment between linked classes and \
                 clusters, more than the limit of {MAX_COMPONENT_CELLS} cells; use fewer \
                 clusters",
                rows.len(),
                cols.len()
            ),
        ));
    }

    // The solver wants at most as many rows as columns, so the wider side becomes columns.
    let transpose = rows.len() > cols.len();
    let (n_rows, n_cols) = if transpose {
        (cols.len(), rows.len())
    } else {
        (rows.len(), cols.len())
    };
    let mut weights = vec![0i64; n_rows * n_cols];
    for &k in cells {
        let row = rows
            .binary_search(&marginals.cell_row[k])
            .unwrap_or_default();
        let col = cols
            .binary_search(&marginals.cell_col[k])
            .unwrap_or_default();
        let (i, j) = if transpose { (col, row) } else { (row, col) };
        weights[i * n_cols + j] = table.cells()[k].count as i64;
    }
    Ok(max_weight_assignment(&weights, n_rows, n_cols) as u64)
}

/// Union-find over `0..n` with path halving and union by size.
struct DisjointSets {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl DisjointSets {
    fn new(n: usize) -> Self {
        Self {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        if self.size[a] < self.size[b] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b] = a;
        self.size[a] += self.size[b];
    }
}

/// Returns the largest total weight of a matching that gives every row its own column, for a
/// row-major `rows x cols` weight matrix with `rows <= cols`.
///
/// This is the shortest augmenting path form of the Hungarian method, as in Jonker-Volgenant
/// solvers: rows are added one at a time, and each addition runs a Dijkstra search over reduced
/// costs `cost - u[row] - v[col]` for the cheapest path to a free column, then updates the
/// potentials `u` and `v`. It takes `O(rows^2 cols)` time. Costs are negated weights, and all
/// arithmetic is on integers, so the optimum is exact.
fn max_weight_assignment(weights: &[i64], rows: usize, cols: usize) -> i64 {
    debug_assert!(rows <= cols);
    const NONE: usize = usize::MAX;
    let cost = |row: usize, col: usize| -weights[row * cols + col];

    // Column potentials and the row matched to each column; index `cols` is a virtual column
    // where each new row starts its search.
    let mut u = vec![0i64; rows];
    let mut v = vec![0i64; cols + 1];
    let mut row_of_col = vec![NONE; cols + 1];
    let mut previous_col = vec![cols; cols + 1];
    let mut min_reduced = vec![i64::MAX; cols + 1];
    let mut visited = vec![false; cols + 1];

    for new_row in 0..rows {
        row_of_col[cols] = new_row;
        min_reduced.fill(i64::MAX);
        visited.fill(false);
        let mut col = cols;

        // Grow the shortest-path tree until it reaches a free column.
        loop {
            visited[col] = true;
            let row = row_of_col[col];
            let mut delta = i64::MAX;
            let mut next_col = cols;
            for j in 0..cols {
                if visited[j] {
                    continue;
                }
                let reduced = cost(row, j) - u[row] - v[j];
                if reduced < min_reduced[j] {
                    min_reduced[j] = reduced;
                    previous_col[j] = col;
                }
                if min_reduced[j] < delta {
                    delta = min_reduced[j];
                    next_col = j;
                }
            }
            for j in 0..=cols {
                if visited[j] {
                    u[row_of_col[j]] += delta;
                    v[j] -= delta;
                } else if j < cols {
                    min_reduced[j] -= delta;
                }
            }
            col = next_col;
            if row_of_col[col] == NONE {
                break;
            }
        }

        // Flip the matching along the path back to the virtual column.
        while col != cols {
            let previous = previous_col[col];
            row_of_col[col] = row_of_col[previous];
            col = previous;
        }
    }

    (0..cols)
        .filter(|&col| row_of_col[col] != NONE)
        .map(|col| weights[row_of_col[col] * cols + col])
        .sum()
}

/// Computes the cluster accuracy, `ACC = max_m sum_i n_{i, m(i)} / n` over one-to-one matchings
/// `m` of classes to clusters: the fraction of samples whose cluster is matched to their class
/// under the best matching. TorchMetrics' `cluster_accuracy` solves the same linear sum
/// assignment on its confusion matrix.
///
/// Unlike TorchMetrics it needs no `num_classes`: labels are any `i64` values, and classes or
/// clusters without samples add nothing to the optimum. With more clusters than classes (or the
/// reverse) the extra ones stay unmatched.
///
/// # Errors
///
/// Returns [`Error::LengthMismatch`](crate::Error::LengthMismatch) if `preds` and `target`
/// differ in length, and [`Error::InvalidInput`](crate::Error::InvalidInput) if they are empty or
/// if a group of classes and clusters linked by shared samples would need an assignment matrix
/// of more than 2^26 cells.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::cluster_accuracy;
/// use ndarray::array;
///
/// let acc = cluster_accuracy(array![0, 0, 1, 1].view(), array![1, 1, 0, 0].view())?;
/// assert_eq!(acc, 1.0);
/// let acc = cluster_accuracy(array![0, 0, 1, 2, 2].view(), array![0, 0, 0, 1, 2].view())?;
/// assert!((acc - 0.6).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
pub fn cluster_accuracy(preds: ArrayView1<'_, i64>, target: ArrayView1<'_, i64>) -> Result<f64> {
    check_labels(preds, target)?;
    let table = ContingencyTable::from_labels(preds, target)?;
    cluster_accuracy_from_table(&table)
}

/// Cluster accuracy accumulated over batches; see [`cluster_accuracy`] for the formula.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::ClusterAccuracy;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = ClusterAccuracy::new();
/// metric.update((array![0, 0].view(), array![1, 1].view()))?;
/// metric.update((array![1, 1].view(), array![0, 0].view()))?;
/// assert_eq!(metric.compute()?, 1.0);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterAccuracy {
    table: ContingencyTable,
}

impl ClusterAccuracy {
    const INFO: MetricInfo = MetricInfo {
        name: "ClusterAccuracy",
        higher_is_better: Some(true),
        is_differentiable: false,
        lower_bound: 0.0,
        upper_bound: 1.0,
    };

    /// Creates the metric with an empty state.
    pub fn new() -> Self {
        Self::default()
    }

    fn check_config(&self, _other: &Self) -> Result<()> {
        Ok(())
    }

    fn compute_table(&self, table: &ContingencyTable) -> Result<f64> {
        cluster_accuracy_from_table(table)
    }
}

impl_table_metric!(ClusterAccuracy);

#[cfg(test)]
mod tests {
    use super::*;

    /// Best matching by trying every injection of rows into columns.
    fn brute_force(weights: &[i64], rows: usize, cols: usize) -> i64 {
        fn search(weights: &[i64], rows: usize, cols: usize, row: usize, used: &mut [bool]) -> i64 {
            if row == rows {
                return 0;
            }
            let mut best = i64::MIN;
            for col in 0..cols {
                if !used[col] {
                    used[col] = true;
                    let value =
                        weights[row * cols + col] + search(weights, rows, cols, row + 1, used);
                    best = best.max(value);
                    used[col] = false;
                }
            }
            best
        }
        search(weights, rows, cols, 0, &mut vec![false; cols])
    }

    #[test]
    fn components_match_whole_matrix() {
        let mut state = 99u64;
        let mut next = move |k: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) % k) as i64
        };
        for _ in 0..50 {
            let n = 1 + next(30) as usize;
            let preds: ndarray::Array1<i64> = (0..n).map(|_| next(12)).collect();
            let target: ndarray::Array1<i64> = (0..n).map(|_| next(12)).collect();
            let table = ContingencyTable::from_labels(preds.view(), target.view()).unwrap();

            let matrix = super::super::contingency::dense_matrix(&table).unwrap();
            let (rows, cols) = matrix.dim();
            let whole = if rows <= cols {
                let weights: Vec<i64> = matrix.iter().map(|&c| c as i64).collect();
                max_weight_assignment(&weights, rows, cols)
            } else {
                let weights: Vec<i64> = matrix.t().iter().map(|&c| c as i64).collect();
                max_weight_assignment(&weights, cols, rows)
            };
            let expected = whole as f64 / n as f64;
            assert_eq!(cluster_accuracy_from_table(&table).unwrap(), expected);
        }
    }

    #[test]
    fn assignment_matches_brute_force() {
        let mut state = 12345u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % 10
        };
        for rows in 1..=5 {
            for cols in rows..=6 {
                for _ in 0..20 {
                    let weights: Vec<i64> = (0..rows * cols).map(|_| next() as i64).collect();
                    assert_eq!(
                        max_weight_assignment(&weights, rows, cols),
                        brute_force(&weights, rows, cols),
                        "{rows}x{cols} {weights:?}"
                    );
                }
            }
        }
    }
}
