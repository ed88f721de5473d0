//! Cluster accuracy: the accuracy under the best one-to-one matching of clusters to classes.

use ndarray::ArrayView1;
use serde::{Deserialize, Serialize};

use super::contingency::{check_labels, dense_matrix, ContingencyTable};
use super::impl_table_metric;
use crate::error::Result;
use crate::MetricInfo;

/// Kernel of [`cluster_accuracy`] on a non-empty table.
pub(crate) fn cluster_accuracy_from_table(table: &ContingencyTable) -> Result<f64> {
    let matrix = dense_matrix(table)?;
    let (n_rows, n_cols) = matrix.dim();

    // The assignment solver wants at most as many rows as columns.
    let (rows, cols, weights): (usize, usize, Vec<i64>) = if n_rows <= n_cols {
        (n_rows, n_cols, matrix.iter().map(|&c| c as i64).collect())
    } else {
        (
            n_cols,
            n_rows,
            matrix.t().iter().map(|&c| c as i64).collect(),
        )
    };
    let matched = max_weight_assignment(&weights, rows, cols);
    Ok(matched as f64 / table.n_samples() as f64)
}

/// Returns the largest total weight of a matching that gives every row its own column, for a
/// row-major `rows x cols` weight matrix with `rows <= cols`.
///
/// This is the shortest augmenting path form of the Hungarian method (Jonker and Volgenant,
/// 1987): rows are added one at a time, and each addition runs a Dijkstra search over reduced
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

/// Computes the cluster accuracy: the fraction of samples whose cluster is matched to their
/// class under the one-to-one matching of clusters to classes that maximizes it,
/// `ACC = max_m sum_i n_{i, m(i)} / n`, as TorchMetrics' `cluster_accuracy` (which solves the
/// same linear sum assignment on the confusion matrix).
///
/// Unlike TorchMetrics it needs no `num_classes`: labels are any `i64` values, and classes or
/// clusters without samples add nothing to the optimum. With more clusters than classes (or the
/// reverse) the extra ones stay unmatched.
///
/// # Errors
///
/// Returns [`Error::LengthMismatch`](crate::Error::LengthMismatch) if `preds` and `target`
/// differ in length, and [`Error::InvalidInput`](crate::Error::InvalidInput) if they are empty or
/// if the dense classes-by-clusters matrix that the assignment needs would exceed 2^27 cells.
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
