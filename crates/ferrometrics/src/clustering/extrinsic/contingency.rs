//! The sparse contingency table of (target, preds) label pairs that every extrinsic clustering
//! metric reads, and scikit-learn's dense `contingency_matrix`.

use std::borrow::Cow;

use ndarray::{Array2, ArrayView1};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One non-zero cell of a [`ContingencyTable`]: the number of samples whose true label is
/// `target` and whose predicted label is `pred`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    /// True label.
    pub target: i64,
    /// Predicted label.
    pub pred: i64,
    /// Number of samples with this pair of labels, always at least 1.
    pub count: u64,
}

/// A sparse contingency table: the count of every distinct (target, preds) label pair seen.
///
/// Memory grows with the number of distinct pairs, not with the number of samples. Cells are kept
/// sorted by `(target, pred)`, so two tables built from the same samples are equal whatever the
/// batch split and merge order, and merging is exact.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::ContingencyTable;
/// use ndarray::array;
///
/// let mut table = ContingencyTable::new();
/// table.update(array![0, 0, 1].view(), array![5, 5, 7].view())?;
/// assert_eq!(table.n_samples(), 3);
/// assert_eq!(table.cells().len(), 2);
/// assert_eq!(table.cells()[0].count, 2);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Cell>", into = "Vec<Cell>")]
pub struct ContingencyTable {
    cells: Vec<Cell>,
}

impl TryFrom<Vec<Cell>> for ContingencyTable {
    type Error = String;

    /// Rebuilds a table from serialized cells, rejecting cells that are unsorted, repeated or
    /// empty, so that a corrupt state cannot produce wrong merges.
    fn try_from(cells: Vec<Cell>) -> std::result::Result<Self, Self::Error> {
        for pair in cells.windows(2) {
            if (pair[0].target, pair[0].pred) >= (pair[1].target, pair[1].pred) {
                return Err(format!(
                    "contingency cells are not strictly sorted by (target, pred) at ({}, {})",
                    pair[1].target, pair[1].pred
                ));
            }
        }
        if let Some(cell) = cells.iter().find(|cell| cell.count == 0) {
            return Err(format!(
                "contingency cell ({}, {}) has count 0",
                cell.target, cell.pred
            ));
        }
        Ok(Self { cells })
    }
}

impl From<ContingencyTable> for Vec<Cell> {
    fn from(table: ContingencyTable) -> Self {
        table.cells
    }
}

/// Marginal counts of a table: `rows[i]` is the size of the i-th true class in sorted label
/// order, `cols[j]` of the j-th predicted cluster, and `cell_row`/`cell_col` index each cell's
/// row and column.
#[derive(Debug, Clone)]
pub(crate) struct Marginals {
    pub(crate) rows: Vec<u64>,
    pub(crate) cols: Vec<u64>,
    pub(crate) cell_row: Vec<usize>,
    pub(crate) cell_col: Vec<usize>,
    pub(crate) n_samples: u64,
}

/// Sums of squared counts, from which the pair confusion matrix, the Rand indices and the
/// Fowlkes-Mallows index follow. Exact in `u128` for any `u64` sample count.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SquareSums {
    pub(crate) n_samples: u128,
    /// `sum_ij n_ij^2`
    pub(crate) cells: u128,
    /// `sum_i a_i^2` over true-class sizes.
    pub(crate) rows: u128,
    /// `sum_j b_j^2` over predicted-cluster sizes.
    pub(crate) cols: u128,
}

impl ContingencyTable {
    /// Creates an empty table.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::clustering::ContingencyTable;
    ///
    /// assert!(ContingencyTable::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds the table of one batch.
    ///
    /// # Errors
    ///
    /// Returns [`Error::LengthMismatch`] if `preds` and `target` differ in length and
    /// [`Error::InvalidInput`] if they are empty.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::clustering::ContingencyTable;
    /// use ndarray::array;
    ///
    /// let table = ContingencyTable::from_labels(array![1, 2].view(), array![1, 1].view())?;
    /// assert_eq!(table.n_samples(), 2);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    pub fn from_labels(preds: ArrayView1<'_, i64>, target: ArrayView1<'_, i64>) -> Result<Self> {
        check_labels(preds, target)?;
        Ok(Self {
            cells: count_pairs(preds, target),
        })
    }

    /// Adds one batch of label pairs.
    ///
    /// # Errors
    ///
    /// Returns [`Error::LengthMismatch`] if `preds` and `target` differ in length and
    /// [`Error::InvalidInput`] if they are empty. The table is unchanged on error.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::clustering::ContingencyTable;
    /// use ndarray::array;
    ///
    /// let mut table = ContingencyTable::new();
    /// table.update(array![1].view(), array![1].view())?;
    /// table.update(array![1].view(), array![1].view())?;
    /// assert_eq!(table.cells()[0].count, 2);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    pub fn update(
        &mut self,
        preds: ArrayView1<'_, i64>,
        target: ArrayView1<'_, i64>,
    ) -> Result<()> {
        let batch = Self::from_labels(preds, target)?;
        self.merge(&batch);
        Ok(())
    }

    /// Adds another table's counts to this one. The result is exact and does not depend on the
    /// merge order.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::clustering::ContingencyTable;
    /// use ndarray::array;
    ///
    /// let mut left = ContingencyTable::from_labels(array![0].view(), array![3].view())?;
    /// let right = ContingencyTable::from_labels(array![1].view(), array![3].view())?;
    /// left.merge(&right);
    /// assert_eq!(left.n_samples(), 2);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    pub fn merge(&mut self, other: &ContingencyTable) {
        if other.cells.is_empty() {
            return;
        }
        if self.cells.is_empty() {
            self.cells = other.cells.clone();
            return;
        }

        let mut merged = Vec::with_capacity(self.cells.len() + other.cells.len());
        let (mut i, mut j) = (0, 0);
        while i < self.cells.len() && j < other.cells.len() {
            let (a, b) = (self.cells[i], other.cells[j]);
            match (a.target, a.pred).cmp(&(b.target, b.pred)) {
                std::cmp::Ordering::Less => {
                    merged.push(a);
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    merged.push(b);
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    merged.push(Cell {
                        count: a.count + b.count,
                        ..a
                    });
                    i += 1;
                    j += 1;
                }
            }
        }
        merged.extend_from_slice(&self.cells[i..]);
        merged.extend_from_slice(&other.cells[j..]);
        self.cells = merged;
    }

    /// Removes every cell.
    pub fn clear(&mut self) {
        self.cells.clear();
    }

    /// Returns `true` if the table has no samples.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Returns the non-zero cells, sorted by `(target, pred)`.
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// Returns the number of samples counted.
    pub fn n_samples(&self) -> u64 {
        self.cells.iter().map(|cell| cell.count).sum()
    }

    /// Returns the sorted distinct true labels.
    pub fn target_labels(&self) -> Vec<i64> {
        let mut labels: Vec<i64> = self.cells.iter().map(|cell| cell.target).collect();
        labels.dedup();
        labels
    }

    /// Returns the sorted distinct predicted labels.
    pub fn pred_labels(&self) -> Vec<i64> {
        let mut labels: Vec<i64> = self.cells.iter().map(|cell| cell.pred).collect();
        labels.sort_unstable();
        labels.dedup();
        labels
    }

    /// Computes the class sizes, cluster sizes and each cell's row and column index.
    pub(crate) fn marginals(&self) -> Marginals {
        let pred_labels = self.pred_labels();
        let mut rows = Vec::new();
        let mut cols = vec![0u64; pred_labels.len()];
        let mut cell_row = Vec::with_capacity(self.cells.len());
        let mut cell_col = Vec::with_capacity(self.cells.len());
        let mut previous_target = None;
        for cell in &self.cells {
            if previous_target != Some(cell.target) {
                rows.push(0);
                previous_target = Some(cell.target);
            }
            let row = rows.len() - 1;
            rows[row] += cell.count;

            // Every cell's label is in `pred_labels`, so the search always succeeds.
            let col = pred_labels.binary_search(&cell.pred).unwrap_or_default();
            cols[col] += cell.count;
            cell_row.push(row);
            cell_col.push(col);
        }
        let n_samples = rows.iter().sum();
        Marginals {
            rows,
            cols,
            cell_row,
            cell_col,
            n_samples,
        }
    }

    /// Computes the sums of squared cell, row and column counts.
    pub(crate) fn square_sums(&self) -> SquareSums {
        let marginals = self.marginals();
        let square = |count: &u64| u128::from(*count) * u128::from(*count);
        SquareSums {
            n_samples: u128::from(marginals.n_samples),
            cells: self.cells.iter().map(|cell| square(&cell.count)).sum(),
            rows: marginals.rows.iter().map(square).sum(),
            cols: marginals.cols.iter().map(square).sum(),
        }
    }
}

/// Validates a pair of label arrays before any state changes.
pub(crate) fn check_labels(preds: ArrayView1<'_, i64>, target: ArrayView1<'_, i64>) -> Result<()> {
    crate::check_same_length("preds", preds.len(), "target", target.len())?;
    if preds.is_empty() {
        return Err(Error::invalid_input(
            "preds",
            "`preds` and `target` are empty; pass at least one labelled sample",
        ));
    }
    Ok(())
}

/// Returns an error for `compute` on a table without samples.
pub(crate) fn check_not_empty(metric: &str, table: &ContingencyTable) -> Result<()> {
    if table.is_empty() {
        return Err(Error::not_enough_data(
            metric,
            "no samples were added; call `update` with at least one sample before `compute`",
        ));
    }
    Ok(())
}

/// Samples per parallel task. Counts are integers, so the result does not depend on how rayon
/// splits the work; the fixed size only bounds the per-task overhead.
const CHUNK: usize = 1 << 16;

/// Dense counting is used when the label ranges span at most this many cells.
const DENSE_MAX_CELLS: u128 = 1 << 22;

/// Counts the distinct label pairs of one validated batch into sorted cells.
fn count_pairs(preds: ArrayView1<'_, i64>, target: ArrayView1<'_, i64>) -> Vec<Cell> {
    let preds = contiguous(preds);
    let target = contiguous(target);
    let (pred_min, pred_max) = min_max(&preds);
    let (target_min, target_max) = min_max(&target);

    let pred_width = (i128::from(pred_max) - i128::from(pred_min) + 1) as u128;
    let target_width = (i128::from(target_max) - i128::from(target_min) + 1) as u128;
    let cells = pred_width.saturating_mul(target_width);

    // A dense table pays off while it is not much larger than the batch itself.
    let dense_limit = DENSE_MAX_CELLS.min((preds.len() as u128).max(1 << 12));
    if cells <= dense_limit {
        count_dense(
            &preds,
            &target,
            pred_min,
            target_min,
            pred_width as usize,
            target_width as usize,
        )
    } else {
        count_sorted(&preds, &target)
    }
}

fn contiguous<'a>(labels: ArrayView1<'a, i64>) -> Cow<'a, [i64]> {
    match labels.to_slice() {
        Some(slice) => Cow::Borrowed(slice),
        None => Cow::Owned(labels.to_vec()),
    }
}

fn min_max(labels: &[i64]) -> (i64, i64) {
    let chunk_min_max = |chunk: &[i64]| {
        chunk
            .iter()
            .fold((i64::MAX, i64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)))
    };
    labels.par_chunks(CHUNK).map(chunk_min_max).reduce(
        || (i64::MAX, i64::MIN),
        |(lo1, hi1), (lo2, hi2)| (lo1.min(lo2), hi1.max(hi2)),
    )
}

/// Counts into a dense `target_width x pred_width` array indexed by label offsets, then keeps
/// the non-zero cells. Row-major order makes the cells come out sorted.
fn count_dense(
    preds: &[i64],
    target: &[i64],
    pred_min: i64,
    target_min: i64,
    pred_width: usize,
    target_width: usize,
) -> Vec<Cell> {
    let n_cells = pred_width * target_width;
    // Small tables are split into interleaved copies so that runs of equal pairs do not
    // serialize on one counter.
    let lanes = if n_cells <= 1 << 12 { 4 } else { 1 };
    let lane_mask = lanes - 1;

    let count_chunk = |mut counts: Vec<u64>, (p, t): (&[i64], &[i64])| {
        for (k, (&pred, &true_label)) in p.iter().zip(t).enumerate() {
            let row = true_label.wrapping_sub(target_min) as usize;
            let col = pred.wrapping_sub(pred_min) as usize;
            counts[(k & lane_mask) * n_cells + row * pred_width + col] += 1;
        }
        counts
    };
    let counts = preds
        .par_chunks(CHUNK)
        .zip(target.par_chunks(CHUNK))
        .fold(|| vec![0u64; lanes * n_cells], count_chunk)
        .reduce(
            || vec![0u64; lanes * n_cells],
            |mut left, right| {
                for (l, r) in left.iter_mut().zip(&right) {
                    *l += r;
                }
                left
            },
        );

    let mut cells = Vec::new();
    for index in 0..n_cells {
        let count: u64 = (0..lanes).map(|lane| counts[lane * n_cells + index]).sum();
        if count > 0 {
            cells.push(Cell {
                target: target_min.wrapping_add((index / pred_width) as i64),
                pred: pred_min.wrapping_add((index % pred_width) as i64),
                count,
            });
        }
    }
    cells
}

/// Counts by sorting the pairs, for label ranges too wide for a dense array.
fn count_sorted(preds: &[i64], target: &[i64]) -> Vec<Cell> {
    let mut pairs: Vec<(i64, i64)> = target.iter().copied().zip(preds.iter().copied()).collect();
    pairs.par_sort_unstable();

    let mut cells: Vec<Cell> = Vec::new();
    for (target, pred) in pairs {
        match cells.last_mut() {
            Some(last) if last.target == target && last.pred == pred => last.count += 1,
            _ => cells.push(Cell {
                target,
                pred,
                count: 1,
            }),
        }
    }
    cells
}

/// Cells in a dense matrix above which [`contingency_matrix`] returns an error instead of
/// allocating (1 GiB of `u64`).
const DENSE_MATRIX_MAX_CELLS: usize = 1 << 27;

/// Builds the dense contingency matrix, as scikit-learn's
/// `sklearn.metrics.cluster.contingency_matrix(labels_true, labels_pred)`: entry `(i, j)` counts
/// the samples whose true label is the i-th smallest true label and whose predicted label is the
/// j-th smallest predicted label.
///
/// The arguments follow scikit-learn's order, true labels first.
///
/// # Errors
///
/// Returns [`Error::LengthMismatch`] if the inputs differ in length, [`Error::InvalidInput`] if
/// they are empty or if the matrix would have more than 2^27 cells.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::contingency_matrix;
/// use ndarray::array;
///
/// let matrix = contingency_matrix(array![0, 0, 1, 2].view(), array![0, 0, 1, 1].view())?;
/// assert_eq!(matrix, array![[2, 0], [0, 1], [0, 1]]);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
pub fn contingency_matrix(
    labels_true: ArrayView1<'_, i64>,
    labels_pred: ArrayView1<'_, i64>,
) -> Result<Array2<u64>> {
    crate::check_same_length(
        "labels_true",
        labels_true.len(),
        "labels_pred",
        labels_pred.len(),
    )?;
    if labels_true.is_empty() {
        return Err(Error::invalid_input(
            "labels_true",
            "`labels_true` and `labels_pred` are empty; pass at least one labelled sample",
        ));
    }
    let table = ContingencyTable::from_labels(labels_pred, labels_true)?;
    dense_matrix(&table)
}

/// Expands a table into a dense matrix with rows for sorted true labels and columns for sorted
/// predicted labels.
pub(crate) fn dense_matrix(table: &ContingencyTable) -> Result<Array2<u64>> {
    let marginals = table.marginals();
    let (n_rows, n_cols) = (marginals.rows.len(), marginals.cols.len());
    if n_rows.saturating_mul(n_cols) > DENSE_MATRIX_MAX_CELLS {
        return Err(Error::invalid_input(
            "labels_true",
            format!(
                "the dense contingency matrix would have {n_rows} x {n_cols} cells, more than \
                 the limit of {DENSE_MATRIX_MAX_CELLS}; use `ContingencyTable` for sparse counts"
            ),
        ));
    }

    let mut matrix = Array2::zeros((n_rows, n_cols));
    for (k, cell) in table.cells.iter().enumerate() {
        matrix[[marginals.cell_row[k], marginals.cell_col[k]]] = cell.count;
    }
    Ok(matrix)
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn dense_and_sorted_paths_agree() {
        let preds = array![3, -1, 3, 7, 7, -1, 3];
        let target = array![0, 0, 1, 1, 1, 0, 2];
        let dense = count_dense(
            preds.as_slice().unwrap(),
            target.as_slice().unwrap(),
            -1,
            0,
            9,
            3,
        );
        let sorted = count_sorted(preds.as_slice().unwrap(), target.as_slice().unwrap());
        assert_eq!(dense, sorted);
    }

    #[test]
    fn extreme_labels_use_sorted_path() {
        let preds = array![i64::MIN, i64::MAX, i64::MIN];
        let target = array![i64::MAX, i64::MIN, i64::MAX];
        let table = ContingencyTable::from_labels(preds.view(), target.view()).unwrap();
        assert_eq!(table.cells().len(), 2);
        assert_eq!(table.cells()[0].target, i64::MIN);
        assert_eq!(table.cells()[1].count, 2);
    }

    #[test]
    fn strided_views_are_counted() {
        let preds = array![0, 9, 1, 9, 0, 9];
        let target = array![4, 9, 4, 9, 5, 9];
        let step = ndarray::s![..;2];
        let table = ContingencyTable::from_labels(preds.slice(step), target.slice(step)).unwrap();
        assert_eq!(table.n_samples(), 3);
        assert_eq!(table.cells().len(), 3);
    }

    #[test]
    fn deserialize_rejects_unsorted_cells() {
        let cells = vec![
            Cell {
                target: 1,
                pred: 0,
                count: 1,
            },
            Cell {
                target: 0,
                pred: 0,
                count: 1,
            },
        ];
        assert!(ContingencyTable::try_from(cells).is_err());
    }
}
