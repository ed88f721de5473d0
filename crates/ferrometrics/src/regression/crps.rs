//! The continuous ranked probability score of ensemble forecasts.

use std::marker::PhantomData;

use ndarray::{ArrayView1, ArrayView2, ArrayViewD, Axis};
use serde::{Deserialize, Serialize};

use super::batch::check_finite;
use super::sums::{check_not_empty, CompensatedSum};
use super::{PredsTarget, Real};
use crate::error::{Error, Result};
use crate::metric::{Input, Metric, MetricInfo};

/// Returns the CRPS of one ensemble `x` of `m` members against the observation `y`:
/// `sum_i |x_i - y| / m - sum_{i,j} |x_i - x_j| / (2 m^2)`.
///
/// The pairwise term comes from the sorted members in O(m log m): with `x_(k)` the k-th smallest
/// (from 0), `sum_{i<j} |x_i - x_j| = sum_k (2k - m + 1) x_(k)`.
fn ensemble_crps(members: ArrayView1<'_, f64>, observation: f64) -> f64 {
    let m = members.len() as f64;
    let mut sorted = members.to_vec();
    sorted.sort_by(f64::total_cmp);

    let absolute_error: CompensatedSum = sorted.iter().map(|x| (x - observation).abs()).collect();
    let spread: CompensatedSum = sorted
        .iter()
        .enumerate()
        .map(|(k, x)| (2.0 * k as f64 - m + 1.0) * x)
        .collect();
    absolute_error.value() / m - spread.value() / (m * m)
}

/// Validates an ensemble batch and returns its per-row scores.
fn ensemble_scores<F: Real>(
    preds: &ArrayViewD<'_, F>,
    target: &ArrayViewD<'_, F>,
) -> Result<Vec<f64>> {
    if preds.ndim() != 2 || preds.len_of(Axis(1)) < 2 {
        return Err(Error::invalid_input(
            "preds",
            format!(
                "shape {:?} is not (N, m) with m >= 2 ensemble members; pass one row of members \
                 per sample",
                preds.shape()
            ),
        ));
    }
    if target.ndim() != 1 {
        return Err(Error::invalid_input(
            "target",
            format!(
                "shape {:?} is not (N,); pass one observation per sample",
                target.shape()
            ),
        ));
    }
    crate::check_same_length("preds", preds.len_of(Axis(0)), "target", target.len())?;
    check_finite("preds", preds)?;
    check_finite("target", target)?;

    let preds: ArrayView2<'_, F> = preds
        .view()
        .into_dimensionality()
        .expect("preds is 2-D after the shape check");
    let scores = preds
        .rows()
        .into_iter()
        .zip(target.iter())
        .map(|(members, observation)| {
            let members = members.mapv(|x| x.to_f64());
            ensemble_crps(members.view(), observation.to_f64())
        })
        .collect();
    Ok(scores)
}

/// Computes the continuous ranked probability score of ensemble forecasts, the mean over samples
/// of `mean_i |x_i - y| - sum_{i,j} |x_i - x_j| / (2 m^2)`, as TorchMetrics'
/// `continuous_ranked_probability_score`.
///
/// This is `integral (F(x) - 1{x >= y})^2 dx` for the empirical distribution `F` of the `m`
/// members (Gneiting and Raftery, "Strictly proper scoring rules, prediction, and estimation",
/// JASA 102, 2007, eq. 21). `preds` has shape `(N, m)` with `m >= 2` and `target` shape `(N,)`.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::continuous_ranked_probability_score;
/// use ndarray::array;
///
/// let preds = array![[0.0, 2.0], [1.0, 1.0]];
/// let target = array![1.0, 3.0];
/// // Row 0: 1 - 2 * 2 / 8 = 0.5; row 1: 2 - 0 = 2.
/// let crps = continuous_ranked_probability_score(preds.view(), target.view())?;
/// assert_eq!(crps, 1.25);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// Returns an error naming the argument if `preds` is not `(N, m)` with `m >= 2`, `target` is
/// not `(N,)`, the lengths differ or a value is NaN or infinite, and
/// [`Error::NotEnoughData`] for no samples.
pub fn continuous_ranked_probability_score<F: Real>(
    preds: ArrayView2<'_, F>,
    target: ArrayView1<'_, F>,
) -> Result<f64> {
    let mut metric = ContinuousRankedProbabilityScore::<F>::new();
    metric.update((preds.into_dyn(), target.into_dyn()))?;
    metric.compute()
}

/// Continuous ranked probability score over every sample seen, as TorchMetrics'
/// `ContinuousRankedProbabilityScore`. See [`continuous_ranked_probability_score`].
///
/// The batch is `(preds, target)` with shapes `(N, m)` and `(N,)`. The state is a compensated
/// sum of per-sample scores and a count.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::ContinuousRankedProbabilityScore;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = ContinuousRankedProbabilityScore::<f64>::new();
/// let preds = array![[0.0, 2.0]].into_dyn();
/// metric.update((preds.view(), array![1.0].into_dyn().view()))?;
/// assert_eq!(metric.compute()?, 0.5);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ContinuousRankedProbabilityScore<F: Real = f64> {
    sum: CompensatedSum,
    count: u64,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> ContinuousRankedProbabilityScore<F> {
    /// Creates an empty metric.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::ContinuousRankedProbabilityScore;
    /// use ferrometrics::Metric;
    ///
    /// assert!(ContinuousRankedProbabilityScore::<f64>::new().compute().is_err());
    /// ```
    pub fn new() -> Self {
        Self {
            sum: CompensatedSum::default(),
            count: 0,
            element: PhantomData,
        }
    }
}

impl<F: Real> Default for ContinuousRankedProbabilityScore<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Real> Metric for ContinuousRankedProbabilityScore<F> {
    type Kind = PredsTarget<F>;
    type Output = f64;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "ContinuousRankedProbabilityScore",
            higher_is_better: Some(false),
            is_differentiable: true,
            lower_bound: 0.0,
            upper_bound: f64::INFINITY,
        }
    }

    /// Adds the score of each sample of the batch.
    ///
    /// # Errors
    ///
    /// As [`continuous_ranked_probability_score`], and a rejected batch changes nothing.
    fn update(&mut self, (preds, target): Input<'_, Self>) -> Result<()> {
        let scores = ensemble_scores(&preds, &target)?;

        for score in &scores {
            self.sum.add(*score);
        }
        self.count += scores.len() as u64;
        Ok(())
    }

    fn compute(&self) -> Result<f64> {
        check_not_empty("ContinuousRankedProbabilityScore", self.count)?;
        Ok(self.sum.value() / self.count as f64)
    }

    fn reset(&mut self) {
        *self = Self::new();
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        self.sum.merge(&other.sum);
        self.count = self.count.saturating_add(other.count);
        Ok(())
    }
}
