//! The pair confusion matrix, the Rand index and the adjusted Rand index.

use ndarray::{array, Array2, ArrayView1};
use serde::{Deserialize, Serialize};

use super::contingency::{check_labels, ContingencyTable, SquareSums};
use super::impl_table_metric;
use crate::error::{Error, Result};
use crate::MetricInfo;

/// Ordered-pair counts `[[tn, fp], [fn_, tp]]` of scikit-learn's pair confusion matrix, exact
/// in `u128`. With `S = sum_ij n_ij^2`, `A = sum_i a_i^2` and `B = sum_j b_j^2`:
/// `tp = S - n`, `fp = B - S`, `fn_ = A - S`, `tn = n^2 - tp - fp - fn_ - n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PairCounts {
    pub(crate) tn: u128,
    pub(crate) fp: u128,
    pub(crate) fn_: u128,
    pub(crate) tp: u128,
}

impl PairCounts {
    pub(crate) fn from_table(table: &ContingencyTable) -> Self {
        let SquareSums {
            n_samples: n,
            cells,
            rows,
            cols,
        } = table.square_sums();
        let tp = cells - n;
        let fp = cols - cells;
        let fn_ = rows - cells;
        let tn = n * n - fp - fn_ - cells;
        Self { tn, fp, fn_, tp }
    }
}

/// Computes the 2x2 pair confusion matrix, as scikit-learn's
/// `sklearn.metrics.cluster.pair_confusion_matrix(labels_true, labels_pred)`.
///
/// Over all ordered pairs of distinct samples, entry `[1][1]` counts pairs in the same cluster in
/// both labelings, `[0][1]` pairs together only in `labels_pred`, `[1][0]` pairs together only
/// in `labels_true`, and `[0][0]` pairs apart in both. The entries sum to `n (n - 1)`.
///
/// The arguments follow scikit-learn's order, true labels first.
///
/// # Errors
///
/// Returns [`Error::LengthMismatch`] if the inputs differ in length, and
/// [`Error::InvalidInput`] if they are empty or have more than 2^32 samples, where an entry could
/// exceed `u64`.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::pair_confusion_matrix;
/// use ndarray::array;
///
/// let matrix = pair_confusion_matrix(array![0, 0, 1, 1].view(), array![0, 0, 1, 2].view())?;
/// assert_eq!(matrix, array![[8, 0], [2, 2]]);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
pub fn pair_confusion_matrix(
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
    let counts = PairCounts::from_table(&table);

    let to_u64 = |count: u128| {
        u64::try_from(count).map_err(|_| {
            Error::invalid_input(
                "labels_true",
                format!(
                    "{} samples give pair counts beyond u64; pass at most 2^32 samples",
                    labels_true.len()
                ),
            )
        })
    };
    Ok(array![
        [to_u64(counts.tn)?, to_u64(counts.fp)?],
        [to_u64(counts.fn_)?, to_u64(counts.tp)?]
    ])
}

/// Kernel of [`rand_score`] on a non-empty table.
pub(crate) fn rand_from_table(table: &ContingencyTable) -> f64 {
    let counts = PairCounts::from_table(table);
    let agreeing = counts.tn + counts.tp;
    let total = counts.tn + counts.fp + counts.fn_ + counts.tp;

    // scikit-learn returns 1 when there are no pairs (n = 1) or when every pair agrees.
    if agreeing == total || total == 0 {
        return 1.0;
    }
    agreeing as f64 / total as f64
}

/// Computes the Rand index, the fraction of sample pairs on which the two labelings agree
/// (together in both or apart in both): `RI = (tp + tn) / (tp + tn + fp + fn)` over the pair
/// confusion matrix, as scikit-learn's `rand_score`.
///
/// It returns 1.0 for a single sample, as scikit-learn does.
///
/// # Errors
///
/// Returns [`Error::LengthMismatch`] if `preds` and `target` differ in length and
/// [`Error::InvalidInput`] if they are empty.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::rand_score;
/// use ndarray::array;
///
/// let score = rand_score(array![2, 1, 0, 1, 0].view(), array![0, 2, 1, 1, 0].view())?;
/// assert!((score - 0.6).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
pub fn rand_score(preds: ArrayView1<'_, i64>, target: ArrayView1<'_, i64>) -> Result<f64> {
    check_labels(preds, target)?;
    let table = ContingencyTable::from_labels(preds, target)?;
    Ok(rand_from_table(&table))
}

/// Kernel of [`adjusted_rand_score`] on a non-empty table.
pub(crate) fn adjusted_rand_from_table(table: &ContingencyTable) -> f64 {
    let PairCounts { tn, fp, fn_, tp } = PairCounts::from_table(table);

    // Full agreement, including a single sample and two single-cluster labelings.
    if fn_ == 0 && fp == 0 {
        return 1.0;
    }

    // Each count is below n^2, so the products stay below 2 n^4, exact in i128 while
    // n < 2^31.5. The value is then rounded once, as scikit-learn's Python integers are.
    let [tn, fp, fn_, tp] = [tn, fp, fn_, tp].map(|count| count as i128);
    let exact = || -> Option<(i128, i128)> {
        let numerator = tp.checked_mul(tn)?.checked_sub(fn_.checked_mul(fp)?)?;
        let left = (tp + fn_).checked_mul(fn_ + tn)?;
        let right = (tp + fp).checked_mul(fp + tn)?;
        Some((numerator, left.checked_add(right)?))
    };
    match exact() {
        Some((numerator, denominator)) => 2.0 * numerator as f64 / denominator as f64,
        None => {
            // NOTE: beyond about 3e9 samples the products leave i128 and are taken in f64,
            // which loses digits when tp * tn and fn * fp nearly cancel.
            let [tn, fp, fn_, tp] = [tn, fp, fn_, tp].map(|count| count as f64);
            let numerator = tp * tn - fn_ * fp;
            let denominator = (tp + fn_) * (fn_ + tn) + (tp + fp) * (fp + tn);
            2.0 * numerator / denominator
        }
    }
}

/// Computes the adjusted Rand index, the Rand index corrected for chance:
/// `ARI = 2 (tp tn - fn fp) / ((tp + fn)(fn + tn) + (tp + fp)(fp + tn))` over the pair confusion
/// matrix, as scikit-learn's `adjusted_rand_score`.
///
/// It is 1.0 for identical partitions (also for one sample or one cluster on both sides), near
/// 0.0 for random labelings and at least -0.5. Pair counts are exact integers up to about 3e9
/// samples, so the only rounding is the final division.
///
/// # Errors
///
/// Returns [`Error::LengthMismatch`] if `preds` and `target` differ in length and
/// [`Error::InvalidInput`] if they are empty.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::adjusted_rand_score;
/// use ndarray::array;
///
/// let score = adjusted_rand_score(array![0, 0, 1, 2].view(), array![0, 0, 1, 1].view())?;
/// assert!((score - 4.0 / 7.0).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
pub fn adjusted_rand_score(preds: ArrayView1<'_, i64>, target: ArrayView1<'_, i64>) -> Result<f64> {
    check_labels(preds, target)?;
    let table = ContingencyTable::from_labels(preds, target)?;
    Ok(adjusted_rand_from_table(&table))
}

/// The Rand index accumulated over batches; see [`rand_score`] for the formula.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::RandScore;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = RandScore::new();
/// metric.update((array![2, 1, 0].view(), array![0, 2, 1].view()))?;
/// metric.update((array![1, 0].view(), array![1, 0].view()))?;
/// assert!((metric.compute()? - 0.6).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RandScore {
    table: ContingencyTable,
}

impl RandScore {
    const INFO: MetricInfo = MetricInfo {
        name: "RandScore",
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
        Ok(rand_from_table(table))
    }
}

impl_table_metric!(RandScore);

/// The adjusted Rand index accumulated over batches; see [`adjusted_rand_score`] for the
/// formula.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::AdjustedRandScore;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = AdjustedRandScore::new();
/// metric.update((array![0, 0].view(), array![1, 1].view()))?;
/// metric.update((array![1, 1].view(), array![0, 0].view()))?;
/// assert_eq!(metric.compute()?, 1.0);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AdjustedRandScore {
    table: ContingencyTable,
}

impl AdjustedRandScore {
    // -0.5 is reached by `[0, 0, 1, 1]` against `[0, 1, 0, 1]`.
    const INFO: MetricInfo = MetricInfo {
        name: "AdjustedRandScore",
        higher_is_better: Some(true),
        is_differentiable: false,
        lower_bound: -0.5,
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
        Ok(adjusted_rand_from_table(table))
    }
}

impl_table_metric!(AdjustedRandScore);
