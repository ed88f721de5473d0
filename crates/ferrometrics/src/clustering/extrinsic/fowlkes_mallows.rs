//! The Fowlkes-Mallows index.

use ndarray::ArrayView1;
use serde::{Deserialize, Serialize};

use super::contingency::{check_labels, ContingencyTable, SquareSums};
use super::impl_table_metric;
use crate::error::Result;
use crate::MetricInfo;

/// Kernel of [`fowlkes_mallows_index`] on a non-empty table.
pub(crate) fn fowlkes_mallows_from_table(table: &ContingencyTable) -> f64 {
    let SquareSums {
        n_samples,
        cells,
        rows,
        cols,
    } = table.square_sums();
    let tk = cells - n_samples;
    if tk == 0 {
        return 0.0;
    }

    // Both labelings put at least the tk pairs together, so pk and qk are positive here.
    let pk = cols - n_samples;
    let qk = rows - n_samples;
    let tk = tk as f64;
    (tk / pk as f64).sqrt() * (tk / qk as f64).sqrt()
}

/// Computes the Fowlkes-Mallows index, the geometric mean of pairwise precision and recall:
/// `FMI = TP / sqrt((TP + FP)(TP + FN))` over unordered sample pairs, computed as
/// `sqrt(tk / pk) sqrt(tk / qk)` with `tk = sum_ij n_ij^2 - n`, `pk = sum_j b_j^2 - n` and
/// `qk = sum_i a_i^2 - n`, as scikit-learn's `fowlkes_mallows_score`.
///
/// It is 0.0 when no pair of samples shares a cluster in both labelings (including all
/// singletons and a single sample), as scikit-learn returns.
///
/// # Errors
///
/// Returns [`Error::LengthMismatch`](crate::Error::LengthMismatch) if `preds` and `target`
/// differ in length and [`Error::InvalidInput`](crate::Error::InvalidInput) if they are empty.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::fowlkes_mallows_index;
/// use ndarray::array;
///
/// let score = fowlkes_mallows_index(array![2, 2, 0, 1, 0].view(), array![2, 2, 1, 1, 0].view())?;
/// assert!((score - 0.5).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
pub fn fowlkes_mallows_index(
    preds: ArrayView1<'_, i64>,
    target: ArrayView1<'_, i64>,
) -> Result<f64> {
    check_labels(preds, target)?;
    let table = ContingencyTable::from_labels(preds, target)?;
    Ok(fowlkes_mallows_from_table(&table))
}

/// The Fowlkes-Mallows index accumulated over batches; see [`fowlkes_mallows_index`] for the
/// formula.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::FowlkesMallowsIndex;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = FowlkesMallowsIndex::new();
/// metric.update((array![2, 2, 0].view(), array![2, 2, 1].view()))?;
/// metric.update((array![1, 0].view(), array![1, 0].view()))?;
/// assert!((metric.compute()? - 0.5).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FowlkesMallowsIndex {
    table: ContingencyTable,
}

impl FowlkesMallowsIndex {
    const INFO: MetricInfo = MetricInfo {
        name: "FowlkesMallowsIndex",
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
        Ok(fowlkes_mallows_from_table(table))
    }
}

impl_table_metric!(FowlkesMallowsIndex);
