//! Linear correlation of predictions and targets: Pearson's correlation coefficient and Lin's
//! concordance correlation coefficient, both read off running moments.

use std::marker::PhantomData;

use ndarray::{ArrayView, Dimension};
use serde::{Deserialize, Serialize};

use super::batch::{
    check_finite, check_num_outputs, per_output, to_columns, to_flat_unchecked, Layout,
};
use super::fused_moments::fused_moments;
use super::moments::Comoments;
use super::{PredsTarget, Real};
use crate::error::{Error, Result};
use crate::metric::{check_same_config, Input, Metric, MetricInfo};
use crate::Value;

/// Returns the number of outputs that an input of this shape has: its column count if it is
/// 2-D, else 1.
pub(crate) fn outputs_of_shape(shape: &[usize]) -> usize {
    match shape {
        [_, columns] => *columns,
        _ => 1,
    }
}

/// Per-output moments of a batch, validated for `num_outputs`.
fn moments_of_batch<F: Real>(
    preds: &ndarray::ArrayViewD<'_, F>,
    target: &ndarray::ArrayViewD<'_, F>,
    num_outputs: usize,
) -> Result<Vec<Comoments>> {
    if num_outputs == 1 {
        let moments = flat_moments(preds, target, Layout::Outputs, |p: F, t: F| {
            (p.to_f64(), t.to_f64())
        })?;
        return Ok(vec![moments]);
    }
    let (preds, target) = to_columns(preds, target, num_outputs, Layout::Outputs)?;
    let moments = preds
        .columns()
        .into_iter()
        .zip(target.columns())
        .map(|(x, y)| Comoments::of_batch(x, y))
        .collect();
    Ok(moments)
}

/// Validates a one-output batch and computes the moments of the pairs `map(preds[i],
/// target[i])` with the one-read kernel of [`fused_moments`]. When that kernel finds a NaN,
/// an infinity, an overflow or values of extreme magnitude, the inputs are checked for NaN and
/// infinity, and the moments come from the two-pass [`Comoments::of_mapped`].
///
/// # Errors
///
/// As [`to_flat`](super::batch::to_flat).
pub(crate) fn flat_moments<F: Real>(
    preds: &ndarray::ArrayViewD<'_, F>,
    target: &ndarray::ArrayViewD<'_, F>,
    layout: Layout,
    map: impl Fn(F, F) -> (f64, f64) + Sync,
) -> Result<Comoments> {
    let (flat_preds, flat_target) = to_flat_unchecked(preds, target, layout)?;
    if let Some(moments) = fused_moments(&flat_preds, &flat_target, &map) {
        return Ok(moments);
    }
    check_finite("preds", preds)?;
    check_finite("target", target)?;
    Ok(Comoments::of_mapped(&flat_preds, &flat_target, map))
}

fn check_two_samples(metric: &str, moments: &[Comoments]) -> Result<()> {
    let count = moments.first().map_or(0, Comoments::count);
    if count < 2 {
        return Err(Error::not_enough_data(
            metric,
            format!("a correlation needs at least 2 samples, but {count} were seen"),
        ));
    }
    Ok(())
}

fn pearson_of(moments: &[Comoments]) -> Result<Value> {
    check_two_samples("PearsonCorrCoef", moments)?;
    Ok(per_output(moments.iter().map(Comoments::pearson).collect()))
}

/// Returns Lin's `rho_c = 2 * C_xy / (M2_x + M2_y + n * (mean_x - mean_y)^2)`, the population
/// form of `2 cov / (var_x + var_y + (mean_x - mean_y)^2)`.
///
/// Every term is taken in units of `2^(2e)`, `e` the larger scale exponent of the two variables,
/// so that data of extreme magnitude neither overflows nor underflows. The units cancel.
fn concordance(moments: &Comoments) -> f64 {
    let exponent = moments.scale_exponent();
    let n = moments.count() as f64;
    let difference = moments.mean_difference_in(exponent);
    let denominator =
        moments.m2_x_in(exponent) + moments.m2_y_in(exponent) + n * difference * difference;
    2.0 * moments.c_xy_in(exponent) / denominator
}

fn concordance_of(moments: &[Comoments]) -> Result<Value> {
    check_two_samples("ConcordanceCorrCoef", moments)?;
    Ok(per_output(moments.iter().map(concordance).collect()))
}

/// Computes Pearson's correlation coefficient between `preds` and `target`, per output.
///
/// `r = sum((x - mean(x)) * (y - mean(y))) / sqrt(sum((x - mean(x))^2) * sum((y - mean(y))^2))`,
/// as `scipy.stats.pearsonr`. Inputs of shape `(N,)` give a scalar, inputs of shape `(N, d)` give
/// one coefficient per column. An output whose `preds` or `target` is constant has zero variance,
/// so its coefficient is 0 / 0 and comes out NaN, as scipy returns.
///
/// # Example
///
/// TorchMetrics' documented example:
///
/// ```
/// use ferrometrics::regression::pearson_corrcoef;
/// use ndarray::array;
///
/// let preds = array![2.5, 0.0, 2.0, 8.0];
/// let target = array![3.0, -0.5, 2.0, 7.0];
/// let r = pearson_corrcoef(preds.view(), target.view())?.as_scalar().unwrap();
/// assert!((r - 0.984_869_618_448_27).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// Returns an error naming the argument if the shapes differ or are not `(N,)` or `(N, d)`, if a
/// value is NaN or infinite, and [`Error::NotEnoughData`] for fewer than 2 samples.
pub fn pearson_corrcoef<F: Real, D: Dimension>(
    preds: ArrayView<'_, F, D>,
    target: ArrayView<'_, F, D>,
) -> Result<Value> {
    let (preds, target) = (preds.into_dyn(), target.into_dyn());
    let num_outputs = outputs_of_shape(preds.shape());
    pearson_of(&moments_of_batch(&preds, &target, num_outputs)?)
}

/// Computes Lin's concordance correlation coefficient between `preds` and `target`, per output.
///
/// `rho_c = 2 s_xy / (s_x^2 + s_y^2 + (mean(x) - mean(y))^2)` with the population (1/n)
/// variances and covariance of Lin, "A concordance correlation coefficient to evaluate
/// reproducibility", Biometrics 45 (1989). It equals Pearson's `r` shrunk by how far the pairs
/// sit from the line `y = x`. An output with two constant and equal inputs gives 0 / 0, NaN.
///
/// TorchMetrics uses `n - 1` variances and covariance here, which changes the weight of the mean
/// difference, so its values differ slightly (0.9777 against 0.9768 in the example below).
///
/// # Example
///
/// ```
/// use ferrometrics::regression::concordance_corrcoef;
/// use ndarray::array;
///
/// let preds = array![2.5, 0.0, 2.0, 8.0];
/// let target = array![3.0, -0.5, 2.0, 7.0];
/// let rho = concordance_corrcoef(preds.view(), target.view())?.as_scalar().unwrap();
/// assert!((rho - 0.976_789_168_278_53).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// As [`pearson_corrcoef`].
pub fn concordance_corrcoef<F: Real, D: Dimension>(
    preds: ArrayView<'_, F, D>,
    target: ArrayView<'_, F, D>,
) -> Result<Value> {
    let (preds, target) = (preds.into_dyn(), target.into_dyn());
    let num_outputs = outputs_of_shape(preds.shape());
    concordance_of(&moments_of_batch(&preds, &target, num_outputs)?)
}

/// Running moments per output, shared by the two correlation metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct MomentsState {
    num_outputs: usize,
    moments: Vec<Comoments>,
}

impl MomentsState {
    fn new(num_outputs: usize) -> Result<Self> {
        check_num_outputs(num_outputs)?;
        Ok(Self {
            num_outputs,
            moments: vec![Comoments::default(); num_outputs],
        })
    }

    fn update<F: Real>(
        &mut self,
        preds: &ndarray::ArrayViewD<'_, F>,
        target: &ndarray::ArrayViewD<'_, F>,
    ) -> Result<()> {
        let batch = moments_of_batch(preds, target, self.num_outputs)?;

        for (moments, batch) in self.moments.iter_mut().zip(&batch) {
            moments.merge(batch);
        }
        Ok(())
    }

    fn merge(&mut self, metric: &str, other: &Self) -> Result<()> {
        check_same_config(metric, "num_outputs", &self.num_outputs, &other.num_outputs)?;
        for (moments, other) in self.moments.iter_mut().zip(&other.moments) {
            moments.merge(other);
        }
        Ok(())
    }

    fn reset(&mut self) {
        self.moments = vec![Comoments::default(); self.num_outputs];
    }
}

/// Pearson's correlation coefficient over every batch seen, as TorchMetrics' `PearsonCorrCoef`
/// and `scipy.stats.pearsonr`.
///
/// The state per output is the count, the two means, the two sums of squared deviations and the
/// sum of co-deviations. Each batch is reduced with two passes and folded in with the pairwise
/// formulas of Chan, Golub and LeVeque (1979). Any batch split and any merge order therefore give
/// the one-pass value within 1e-12 relative, also for data with a large offset and a small
/// spread.
/// An output whose `preds` or `target` is constant has zero variance, so `r` is 0 / 0 and is NaN,
/// as `scipy.stats.pearsonr` returns: no value of `r` is defined there.
///
/// Inputs have shape `(N,)` for `num_outputs == 1` or `(N, num_outputs)`. The value is a scalar
/// for one output and an array otherwise.
///
/// # Example
///
/// Two outputs, fed one row at a time:
///
/// ```
/// use ferrometrics::regression::PearsonCorrCoef;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let preds = array![[0.5, 0.0], [2.0, 8.0], [1.0, 1.0]];
/// let target = array![[3.0, -0.5], [2.0, 1.0], [1.0, 0.5]];
/// let mut metric = PearsonCorrCoef::<f64>::new(2)?;
/// for row in 0..3 {
///     let p = preds.slice(ndarray::s![row..=row, ..]);
///     let t = target.slice(ndarray::s![row..=row, ..]);
///     metric.update((p.into_dyn(), t.into_dyn()))?;
/// }
/// let value = metric.compute()?;
/// let ferrometrics::Value::Array(r) = value else { unreachable!() };
/// assert!((r[0] + 0.327_326_835_353_988_5).abs() < 1e-12);
/// assert!((r[1] - 0.826_033_187_630_902).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct PearsonCorrCoef<F: Real = f64> {
    state: MomentsState,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> PearsonCorrCoef<F> {
    /// Creates an empty metric for `num_outputs` outputs.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::PearsonCorrCoef;
    ///
    /// assert_eq!(PearsonCorrCoef::<f32>::new(3)?.num_outputs(), 3);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] naming `num_outputs` if it is 0 or above 2^24.
    pub fn new(num_outputs: usize) -> Result<Self> {
        Ok(Self {
            state: MomentsState::new(num_outputs)?,
            element: PhantomData,
        })
    }

    /// Returns the number of outputs.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::PearsonCorrCoef;
    ///
    /// assert_eq!(PearsonCorrCoef::<f64>::default().num_outputs(), 1);
    /// ```
    pub fn num_outputs(&self) -> usize {
        self.state.num_outputs
    }
}

impl<F: Real> Default for PearsonCorrCoef<F> {
    fn default() -> Self {
        Self::new(1).expect("one output is valid")
    }
}

impl<F: Real> Metric for PearsonCorrCoef<F> {
    type Kind = PredsTarget<F>;
    type Output = Value;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "PearsonCorrCoef",
            // As TorchMetrics: r = -1 is as strong a linear relation as r = 1.
            higher_is_better: None,
            is_differentiable: true,
            lower_bound: -1.0,
            upper_bound: 1.0,
        }
    }

    /// Folds the batch's moments into the running moments.
    ///
    /// # Errors
    ///
    /// Returns an error naming the argument, and changes nothing, if the shapes differ or do not
    /// match `num_outputs`, or if a value is NaN or infinite.
    fn update(&mut self, (preds, target): Input<'_, Self>) -> Result<()> {
        self.state.update(&preds, &target)
    }

    fn compute(&self) -> Result<Value> {
        pearson_of(&self.state.moments)
    }

    fn reset(&mut self) {
        self.state.reset();
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        self.state.merge("PearsonCorrCoef", &other.state)
    }
}

/// Lin's concordance correlation coefficient over every batch seen, as TorchMetrics'
/// `ConcordanceCorrCoef` but with Lin's population (1/n) moments. The formula is in
/// [`concordance_corrcoef`].
///
/// The state is the running moments of [`PearsonCorrCoef`], so it merges in any order within
/// 1e-12 relative.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::ConcordanceCorrCoef;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = ConcordanceCorrCoef::<f64>::new(1)?;
/// metric.update((array![2.5, 0.0].into_dyn().view(), array![3.0, -0.5].into_dyn().view()))?;
/// metric.update((array![2.0, 8.0].into_dyn().view(), array![2.0, 7.0].into_dyn().view()))?;
/// let rho = metric.compute()?.as_scalar().unwrap();
/// assert!((rho - 0.976_789_168_278_53).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ConcordanceCorrCoef<F: Real = f64> {
    state: MomentsState,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> ConcordanceCorrCoef<F> {
    /// Creates an empty metric for `num_outputs` outputs.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::ConcordanceCorrCoef;
    ///
    /// assert_eq!(ConcordanceCorrCoef::<f64>::new(2)?.num_outputs(), 2);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] naming `num_outputs` if it is 0 or above 2^24.
    pub fn new(num_outputs: usize) -> Result<Self> {
        Ok(Self {
            state: MomentsState::new(num_outputs)?,
            element: PhantomData,
        })
    }

    /// Returns the number of outputs.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::ConcordanceCorrCoef;
    ///
    /// assert_eq!(ConcordanceCorrCoef::<f64>::default().num_outputs(), 1);
    /// ```
    pub fn num_outputs(&self) -> usize {
        self.state.num_outputs
    }
}

impl<F: Real> Default for ConcordanceCorrCoef<F> {
    fn default() -> Self {
        Self::new(1).expect("one output is valid")
    }
}

impl<F: Real> Metric for ConcordanceCorrCoef<F> {
    type Kind = PredsTarget<F>;
    type Output = Value;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "ConcordanceCorrCoef",
            higher_is_better: Some(true),
            is_differentiable: true,
            lower_bound: -1.0,
            upper_bound: 1.0,
        }
    }

    /// Folds the batch's moments into the running moments.
    ///
    /// # Errors
    ///
    /// As [`PearsonCorrCoef`]'s `update`.
    fn update(&mut self, (preds, target): Input<'_, Self>) -> Result<()> {
        self.state.update(&preds, &target)
    }

    fn compute(&self) -> Result<Value> {
        concordance_of(&self.state.moments)
    }

    fn reset(&mut self) {
        self.state.reset();
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        self.state.merge("ConcordanceCorrCoef", &other.state)
    }
}
