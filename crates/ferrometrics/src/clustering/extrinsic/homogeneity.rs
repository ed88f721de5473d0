//! Homogeneity, completeness and their weighted harmonic mean, the V-measure.

use ndarray::ArrayView1;
use serde::{Deserialize, Serialize};

use super::contingency::{check_labels, ContingencyTable};
use super::impl_table_metric;
use super::mutual_info::mutual_info_from_table;
use crate::error::{Error, Result};
use crate::numerics::entropy_from_counts;
use crate::{check_same_config, MetricInfo};

/// Homogeneity and completeness of a non-empty table, as scikit-learn's
/// `homogeneity_completeness_v_measure`: `MI / H(target)` and `MI / H(preds)`, each 1.0 where
/// its entropy is 0.
fn homogeneity_completeness(table: &ContingencyTable) -> (f64, f64) {
    let marginals = table.marginals();
    let h_true = entropy_from_counts(marginals.rows.iter().copied());
    let h_pred = entropy_from_counts(marginals.cols.iter().copied());
    let mi = mutual_info_from_table(table);

    let homogeneity = if h_true == 0.0 { 1.0 } else { mi / h_true };
    let completeness = if h_pred == 0.0 { 1.0 } else { mi / h_pred };
    (homogeneity, completeness)
}

/// Kernel of [`v_measure_score`] on a non-empty table.
pub(crate) fn v_measure_from_table(table: &ContingencyTable, beta: f64) -> f64 {
    let (homogeneity, completeness) = homogeneity_completeness(table);
    // Independent labelings have h = c = 0; scikit-learn returns 0 there.
    if homogeneity + completeness == 0.0 {
        return 0.0;
    }
    (1.0 + beta) * homogeneity * completeness / (beta * homogeneity + completeness)
}

/// Validates the V-measure weight.
fn check_beta(beta: f64) -> Result<()> {
    if !beta.is_finite() || beta <= 0.0 {
        return Err(Error::invalid_argument(
            "beta",
            format!("got {beta}; pass a finite weight greater than 0, such as 1.0"),
        ));
    }
    Ok(())
}

/// Computes the homogeneity, `h = MI / H(target)` (1.0 when the target has one class): how far
/// each predicted cluster holds members of a single class, as scikit-learn's
/// `homogeneity_score` (Rosenberg and Hirschberg, 2007).
///
/// # Errors
///
/// Returns [`Error::LengthMismatch`] if `preds` and `target` differ in length and
/// [`Error::InvalidInput`] if they are empty.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::homogeneity_score;
/// use ndarray::array;
///
/// // Splitting a class does not hurt homogeneity.
/// let h = homogeneity_score(array![0, 0, 1, 2].view(), array![0, 0, 1, 1].view())?;
/// assert!((h - 1.0).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
pub fn homogeneity_score(preds: ArrayView1<'_, i64>, target: ArrayView1<'_, i64>) -> Result<f64> {
    check_labels(preds, target)?;
    let table = ContingencyTable::from_labels(preds, target)?;
    Ok(homogeneity_completeness(&table).0)
}

/// Computes the completeness, `c = MI / H(preds)` (1.0 when the predictions have one cluster):
/// how far all members of each class fall into a single cluster, as scikit-learn's
/// `completeness_score` (Rosenberg and Hirschberg, 2007).
///
/// # Errors
///
/// Returns [`Error::LengthMismatch`] if `preds` and `target` differ in length and
/// [`Error::InvalidInput`] if they are empty.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::completeness_score;
/// use ndarray::array;
///
/// let c = completeness_score(array![0, 0, 1, 2].view(), array![0, 0, 1, 1].view())?;
/// assert!((c - 2.0 / 3.0).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
pub fn completeness_score(preds: ArrayView1<'_, i64>, target: ArrayView1<'_, i64>) -> Result<f64> {
    check_labels(preds, target)?;
    let table = ContingencyTable::from_labels(preds, target)?;
    Ok(homogeneity_completeness(&table).1)
}

/// Computes the V-measure, `V = (1 + beta) h c / (beta h + c)` of homogeneity `h` and
/// completeness `c`, as scikit-learn's `v_measure_score`. It is 0.0 when `h + c = 0`, as for
/// independent labelings.
///
/// With `beta > 1` completeness weighs more, with `beta < 1` homogeneity does.
///
/// # Errors
///
/// Returns [`Error::InvalidArgument`] if `beta` is not finite and positive,
/// [`Error::LengthMismatch`] if `preds` and `target` differ in length and
/// [`Error::InvalidInput`] if they are empty.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::v_measure_score;
/// use ndarray::array;
///
/// let v = v_measure_score(array![0, 0, 1, 2].view(), array![0, 0, 1, 1].view(), 1.0)?;
/// assert!((v - 0.8).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
pub fn v_measure_score(
    preds: ArrayView1<'_, i64>,
    target: ArrayView1<'_, i64>,
    beta: f64,
) -> Result<f64> {
    check_beta(beta)?;
    check_labels(preds, target)?;
    let table = ContingencyTable::from_labels(preds, target)?;
    Ok(v_measure_from_table(&table, beta))
}

/// Homogeneity accumulated over batches; see [`homogeneity_score`] for the formula.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::HomogeneityScore;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = HomogeneityScore::new();
/// metric.update((array![0, 0].view(), array![1, 1].view()))?;
/// metric.update((array![1, 1].view(), array![0, 0].view()))?;
/// assert!((metric.compute()? - 1.0).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HomogeneityScore {
    table: ContingencyTable,
}

impl HomogeneityScore {
    const INFO: MetricInfo = MetricInfo {
        name: "HomogeneityScore",
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
        Ok(homogeneity_completeness(table).0)
    }
}

impl_table_metric!(HomogeneityScore);

/// Completeness accumulated over batches; see [`completeness_score`] for the formula.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::CompletenessScore;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = CompletenessScore::new();
/// metric.update((array![0, 0, 1, 2].view(), array![0, 0, 1, 1].view()))?;
/// assert!((metric.compute()? - 2.0 / 3.0).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompletenessScore {
    table: ContingencyTable,
}

impl CompletenessScore {
    const INFO: MetricInfo = MetricInfo {
        name: "CompletenessScore",
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
        Ok(homogeneity_completeness(table).1)
    }
}

impl_table_metric!(CompletenessScore);

/// V-measure accumulated over batches; see [`v_measure_score`] for the formula.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::VMeasureScore;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = VMeasureScore::new(1.0)?;
/// metric.update((array![0, 0, 1, 2].view(), array![0, 0, 1, 1].view()))?;
/// assert!((metric.compute()? - 0.8).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VMeasureScore {
    beta: f64,
    table: ContingencyTable,
}

impl Default for VMeasureScore {
    /// The V-measure with `beta = 1.0`, the harmonic mean of homogeneity and completeness.
    fn default() -> Self {
        Self {
            beta: 1.0,
            table: ContingencyTable::new(),
        }
    }
}

impl VMeasureScore {
    const INFO: MetricInfo = MetricInfo {
        name: "VMeasureScore",
        higher_is_better: Some(true),
        is_differentiable: false,
        lower_bound: 0.0,
        upper_bound: 1.0,
    };

    /// Creates the metric with weight `beta` and an empty state.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `beta` is not finite and greater than 0.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::clustering::VMeasureScore;
    ///
    /// assert!(VMeasureScore::new(0.5).is_ok());
    /// assert!(VMeasureScore::new(0.0).is_err());
    /// ```
    pub fn new(beta: f64) -> Result<Self> {
        check_beta(beta)?;
        Ok(Self {
            beta,
            table: ContingencyTable::new(),
        })
    }

    /// Returns the configured weight.
    pub fn beta(&self) -> f64 {
        self.beta
    }

    fn check_config(&self, other: &Self) -> Result<()> {
        check_same_config(Self::INFO.name, "beta", &self.beta, &other.beta)
    }

    fn compute_table(&self, table: &ContingencyTable) -> Result<f64> {
        Ok(v_measure_from_table(table, self.beta))
    }
}

impl_table_metric!(VMeasureScore);
