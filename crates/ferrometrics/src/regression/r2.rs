//! Scores that compare the residuals with the spread of the target: the coefficient of
//! determination, explained variance, relative squared error and normalized RMSE.

use std::marker::PhantomData;

use ndarray::{Array2, ArrayView, ArrayViewD, Dimension, Zip};
use serde::{Deserialize, Serialize};

use super::batch::{check_num_outputs, per_output, to_columns, Layout};
use super::correlation::{flat_moments, outputs_of_shape};
use super::moments::{scale_by_power_of_two, Comoments};
use super::options::{Multioutput, Normalization};
use super::sums::check_not_empty;
use super::{PredsTarget, Real};
use crate::error::{Error, Result};
use crate::metric::{check_same_config, check_same_setting, Input, Metric, MetricInfo};
use crate::Value;

/// Per-output moments of the residual `target - preds` (as `x`) and of `target` (as `y`), with
/// the target's minimum and maximum.
///
/// The sum of squared residuals is `M2_residual + n * mean_residual^2`, the total sum of squares
/// is `M2_target`, and both merge with the pairwise formulas of [`Comoments`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ResidualMoments {
    /// The number of outputs fixed at construction, or `None` to take it from the first batch.
    configured_outputs: Option<usize>,
    /// The number of outputs of the batches seen, `None` before the first batch.
    num_outputs: Option<usize>,
    moments: Vec<Comoments>,
    target_min: Vec<f64>,
    target_max: Vec<f64>,
}

impl ResidualMoments {
    fn new(configured_outputs: Option<usize>) -> Self {
        let outputs = configured_outputs.unwrap_or(0);
        Self {
            configured_outputs,
            num_outputs: configured_outputs,
            moments: vec![Comoments::default(); outputs],
            target_min: vec![f64::INFINITY; outputs],
            target_max: vec![f64::NEG_INFINITY; outputs],
        }
    }

    fn of_batch<F: Real>(
        &self,
        preds: &ArrayViewD<'_, F>,
        target: &ArrayViewD<'_, F>,
        layout: Layout,
    ) -> Result<Self> {
        if self.configured_outputs.is_none() {
            check_inferred_shape(preds.shape(), self.num_outputs)?;
        }
        let num_outputs = match self.num_outputs {
            Some(outputs) => outputs,
            None => outputs_of_shape(preds.shape()),
        };
        if num_outputs == 1 {
            let moments = flat_moments(preds, target, layout, |p: F, t: F| {
                let t = t.to_f64();
                (t - p.to_f64(), t)
            })?;
            let (target_min, target_max) = moments.range_y();
            return Ok(Self {
                configured_outputs: self.configured_outputs,
                num_outputs: Some(num_outputs),
                moments: vec![moments],
                target_min: vec![target_min],
                target_max: vec![target_max],
            });
        }
        let (preds, target) = to_columns(preds, target, num_outputs, layout)?;
        let residual: Array2<f64> = Zip::from(&target).and(&preds).map_collect(|t, p| t - p);

        let moments = residual
            .columns()
            .into_iter()
            .zip(target.columns())
            .map(|(e, t)| Comoments::of_batch(e, t))
            .collect();
        let column_min =
            |column: ndarray::ArrayView1<'_, f64>| column.fold(f64::INFINITY, |a, &b| a.min(b));
        let column_max =
            |column: ndarray::ArrayView1<'_, f64>| column.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        Ok(Self {
            configured_outputs: self.configured_outputs,
            num_outputs: Some(num_outputs),
            moments,
            target_min: target.columns().into_iter().map(column_min).collect(),
            target_max: target.columns().into_iter().map(column_max).collect(),
        })
    }

    fn merge(&mut self, metric: &str, other: &Self) -> Result<()> {
        check_same_config(
            metric,
            "num_outputs",
            &self.configured_outputs,
            &other.configured_outputs,
        )?;
        match (self.num_outputs, other.num_outputs) {
            (_, None) => return Ok(()),
            (None, Some(_)) => {
                *self = other.clone();
                return Ok(());
            }
            (Some(ours), Some(theirs)) if ours != theirs => {
                return Err(Error::incompatible_state(format!(
                    "cannot merge {metric} states of {ours} and {theirs} outputs"
                )));
            }
            _ => {}
        }

        for (moments, other) in self.moments.iter_mut().zip(&other.moments) {
            moments.merge(other);
        }
        for (min, other) in self.target_min.iter_mut().zip(&other.target_min) {
            *min = min.min(*other);
        }
        for (max, other) in self.target_max.iter_mut().zip(&other.target_max) {
            *max = max.max(*other);
        }
        Ok(())
    }

    /// Folds a batch in, naming `preds` if its number of columns differs from earlier batches.
    fn update<F: Real>(
        &mut self,
        metric: &str,
        preds: &ArrayViewD<'_, F>,
        target: &ArrayViewD<'_, F>,
        layout: Layout,
    ) -> Result<()> {
        let batch = self.of_batch(preds, target, layout)?;
        self.merge(metric, &batch)
    }

    fn count(&self) -> u64 {
        self.moments.first().map_or(0, Comoments::count)
    }

    /// Returns the exponent `e` of the common unit `2^(2e)` of the sums below: 0 unless an output
    /// is of extreme magnitude, so that the ratios of those sums neither overflow nor underflow.
    fn common_exponent(&self) -> i32 {
        self.moments
            .iter()
            .map(Comoments::scale_exponent)
            .max()
            .unwrap_or(0)
    }

    /// Returns the per-output sums of squared residuals, in units of `2^(2 * exponent)`.
    fn residual_sum_of_squares(&self, exponent: i32) -> Vec<f64> {
        self.moments
            .iter()
            .map(|m| {
                let mean = m.mean_x_in(exponent);
                m.m2_x_in(exponent) + m.count() as f64 * mean * mean
            })
            .collect()
    }

    /// Returns the per-output total sums of squares of the target, in units of
    /// `2^(2 * exponent)`.
    fn total_sum_of_squares(&self, exponent: i32) -> Vec<f64> {
        self.moments.iter().map(|m| m.m2_y_in(exponent)).collect()
    }

    /// Returns the per-output sums of squared deviations of the residual from its mean, in
    /// units of `2^(2 * exponent)`.
    fn residual_variation(&self, exponent: i32) -> Vec<f64> {
        self.moments.iter().map(|m| m.m2_x_in(exponent)).collect()
    }
}

/// Checks the shape of a batch of a metric that takes its number of outputs from the first batch:
/// `(N,)` or `(N, d)`, with the `d` of earlier batches.
fn check_inferred_shape(shape: &[usize], seen_outputs: Option<usize>) -> Result<()> {
    if shape.is_empty() || shape.len() > 2 {
        return Err(Error::invalid_input(
            "preds",
            format!("shape {shape:?} is neither (N,) nor (N, d); pass 1-D or 2-D inputs"),
        ));
    }
    let outputs = outputs_of_shape(shape);
    match seen_outputs {
        Some(seen) if seen != outputs => Err(Error::invalid_input(
            "preds",
            format!(
                "shape {shape:?} has {outputs} outputs, but earlier batches had {seen}; pass \
                 batches with the same number of columns"
            ),
        )),
        _ => Ok(()),
    }
}

/// Returns `1 - numerator / denominator`, with scikit-learn's values where the denominator is 0:
/// 1 for a perfect fit (`numerator == 0`) and 0 otherwise.
fn one_minus_ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator != 0.0 {
        1.0 - numerator / denominator
    } else if numerator == 0.0 {
        1.0
    } else {
        0.0
    }
}

/// Combines output scores as scikit-learn's `multioutput` does. Variance weighting falls back to
/// the uniform mean when every output has a constant target, so every weight is 0.
fn combine(scores: Vec<f64>, weights: &[f64], multioutput: Multioutput) -> Value {
    let uniform = || scores.iter().sum::<f64>() / scores.len() as f64;
    match multioutput {
        Multioutput::RawValues => per_output(scores),
        Multioutput::UniformAverage => Value::Scalar(uniform()),
        Multioutput::VarianceWeighted => {
            let total_weight: f64 = weights.iter().sum();
            if total_weight == 0.0 {
                return Value::Scalar(uniform());
            }
            let weighted: f64 = scores.iter().zip(weights).map(|(s, w)| s * w).sum();
            Value::Scalar(weighted / total_weight)
        }
    }
}

fn r2_of(state: &ResidualMoments, adjusted: usize, multioutput: Multioutput) -> Result<Value> {
    let n = state.count();
    if n < 2 {
        return Err(Error::not_enough_data(
            "R2Score",
            format!("R2 needs at least 2 samples, but {n} were seen"),
        ));
    }
    if adjusted > 0 && adjusted as u64 + 1 >= n {
        return Err(Error::not_enough_data(
            "R2Score",
            format!(
                "adjusted R2 with {adjusted} regressors needs more than {} samples, but {n} were \
                 seen; pass more samples or a smaller `adjusted`",
                adjusted + 1
            ),
        ));
    }

    let exponent = state.common_exponent();
    let total = state.total_sum_of_squares(exponent);
    let scores = state
        .residual_sum_of_squares(exponent)
        .iter()
        .zip(&total)
        .map(|(residual, total)| one_minus_ratio(*residual, *total))
        .collect();
    let value = combine(scores, &total, multioutput);
    if adjusted == 0 {
        return Ok(value);
    }

    // Adjusted R2 = 1 - (1 - R2) * (n - 1) / (n - adjusted - 1).
    let factor = (n - 1) as f64 / (n - adjusted as u64 - 1) as f64;
    let adjust = |r2: f64| 1.0 - (1.0 - r2) * factor;
    Ok(match value {
        Value::Scalar(r2) => Value::Scalar(adjust(r2)),
        Value::Array(r2) => Value::Array(r2.mapv(adjust)),
        Value::Map(_) => unreachable!("combine returns a scalar or an array"),
    })
}

/// Computes the coefficient of determination `R2 = 1 - SS_res / SS_tot` per output, with
/// `SS_res = sum((target - preds)^2)` and `SS_tot = sum((target - mean(target))^2)`, combined
/// over outputs by `multioutput`, as scikit-learn's `r2_score`.
///
/// An output with a constant target has `SS_tot == 0` and scores 1 if it is predicted exactly
/// and 0 otherwise, as scikit-learn's default `force_finite=True`. Small but nonzero sums of
/// squares give the ratio, where TorchMetrics takes sums below 1e-4 as zero. With
/// `adjusted = k > 0` regressors the value is `1 - (1 - R2) * (n - 1) / (n - k - 1)`. Inputs
/// have shape `(N,)` or `(N, d)`.
///
/// # Example
///
/// TorchMetrics' documented example, 0.9486:
///
/// ```
/// use ferrometrics::regression::{r2_score, Multioutput};
/// use ndarray::array;
///
/// let preds = array![2.5, 0.0, 2.0, 8.0];
/// let target = array![3.0, -0.5, 2.0, 7.0];
/// let r2 = r2_score(preds.view(), target.view(), 0, Multioutput::UniformAverage)?;
/// assert!((r2.as_scalar().unwrap() - 0.948_608_137_044_967_9).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// Returns an error naming the argument if the shapes differ or are not `(N,)` or `(N, d)`, or
/// if a value is NaN or infinite, and [`Error::NotEnoughData`] for fewer than 2 samples or for
/// `adjusted >= N - 1`.
pub fn r2_score<F: Real, D: Dimension>(
    preds: ArrayView<'_, F, D>,
    target: ArrayView<'_, F, D>,
    adjusted: usize,
    multioutput: Multioutput,
) -> Result<Value> {
    let mut metric = R2Score::<F>::new(adjusted, multioutput);
    metric.update((preds.into_dyn(), target.into_dyn()))?;
    metric.compute()
}

/// Coefficient of determination over every batch seen, as TorchMetrics' `R2Score`. See
/// [`r2_score`] for the formula.
///
/// The number of outputs is taken from the first batch, and later batches must have as many
/// columns. The state is the residual and target moments per output, merged with Chan et al.'s
/// pairwise formulas.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::{Multioutput, R2Score};
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = R2Score::<f64>::new(0, Multioutput::RawValues);
/// let preds = array![[0.0, 2.0], [-1.0, 2.0], [8.0, -5.0]].into_dyn();
/// let target = array![[0.5, 1.0], [-1.0, 1.0], [7.0, -6.0]].into_dyn();
/// metric.update((preds.view(), target.view()))?;
/// let ferrometrics::Value::Array(r2) = metric.compute()? else { unreachable!() };
/// assert!((r2[0] - 0.965_437_788_018_433_2).abs() < 1e-15);
/// assert!((r2[1] - 0.908_163_265_306_122_5).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct R2Score<F: Real = f64> {
    adjusted: usize,
    multioutput: Multioutput,
    state: ResidualMoments,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> R2Score<F> {
    /// Creates an empty metric with `adjusted` regressors (0 for the plain R2) that combines
    /// outputs by `multioutput`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::{Multioutput, R2Score};
    ///
    /// let metric = R2Score::<f32>::new(2, Multioutput::VarianceWeighted);
    /// assert_eq!(metric.adjusted(), 2);
    /// ```
    pub fn new(adjusted: usize, multioutput: Multioutput) -> Self {
        Self {
            adjusted,
            multioutput,
            state: ResidualMoments::new(None),
            element: PhantomData,
        }
    }

    /// Returns the number of regressors of the adjusted R2, 0 for the plain R2.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::R2Score;
    ///
    /// assert_eq!(R2Score::<f64>::default().adjusted(), 0);
    /// ```
    pub fn adjusted(&self) -> usize {
        self.adjusted
    }
}

impl<F: Real> Default for R2Score<F> {
    fn default() -> Self {
        Self::new(0, Multioutput::default())
    }
}

impl<F: Real> Metric for R2Score<F> {
    type Kind = PredsTarget<F>;
    type Output = Value;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "R2Score",
            higher_is_better: Some(true),
            is_differentiable: true,
            lower_bound: f64::NEG_INFINITY,
            upper_bound: 1.0,
        }
    }

    /// Folds the batch's residual and target moments into the state.
    ///
    /// # Errors
    ///
    /// Returns an error naming the argument, and changes nothing, if the shapes differ, if the
    /// number of columns differs from earlier batches, or if a value is NaN or infinite.
    fn update(&mut self, (preds, target): Input<'_, Self>) -> Result<()> {
        self.state
            .update("R2Score", &preds, &target, Layout::Outputs)
    }

    fn compute(&self) -> Result<Value> {
        r2_of(&self.state, self.adjusted, self.multioutput)
    }

    fn reset(&mut self) {
        self.state = ResidualMoments::new(None);
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_config("R2Score", "adjusted", &self.adjusted, &other.adjusted)?;
        check_same_setting(
            "R2Score",
            "multioutput",
            &self.multioutput,
            &other.multioutput,
        )?;
        self.state.merge("R2Score", &other.state)
    }
}

fn explained_variance_of(state: &ResidualMoments, multioutput: Multioutput) -> Result<Value> {
    check_not_empty("ExplainedVariance", state.count())?;
    let exponent = state.common_exponent();
    let total = state.total_sum_of_squares(exponent);
    let scores = state
        .residual_variation(exponent)
        .iter()
        .zip(&total)
        .map(|(residual, total)| one_minus_ratio(*residual, *total))
        .collect();
    Ok(combine(scores, &total, multioutput))
}

/// Computes the explained variance `1 - Var(target - preds) / Var(target)` per output, combined
/// by `multioutput`, as scikit-learn's `explained_variance_score`.
///
/// It differs from R2 by ignoring a constant offset of the predictions. An output with a
/// constant target scores 1 if the residual is constant and 0 otherwise, as scikit-learn's
/// default `force_finite=True`.
///
/// # Example
///
/// TorchMetrics' documented example, 0.9572:
///
/// ```
/// use ferrometrics::regression::{explained_variance, Multioutput};
/// use ndarray::array;
///
/// let preds = array![2.5, 0.0, 2.0, 8.0];
/// let target = array![3.0, -0.5, 2.0, 7.0];
/// let score = explained_variance(preds.view(), target.view(), Multioutput::UniformAverage)?;
/// assert!((score.as_scalar().unwrap() - 0.957_173_447_537_473_2).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// As [`r2_score`], except that one sample is enough.
pub fn explained_variance<F: Real, D: Dimension>(
    preds: ArrayView<'_, F, D>,
    target: ArrayView<'_, F, D>,
    multioutput: Multioutput,
) -> Result<Value> {
    let mut metric = ExplainedVariance::<F>::new(multioutput);
    metric.update((preds.into_dyn(), target.into_dyn()))?;
    metric.compute()
}

/// Explained variance over every batch seen, as TorchMetrics' `ExplainedVariance`. See
/// [`explained_variance`]. The number of outputs is taken from the first batch.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::{ExplainedVariance, Multioutput};
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = ExplainedVariance::<f64>::new(Multioutput::UniformAverage);
/// // Predictions off by a constant explain all the variance.
/// let (preds, target) = (array![2.0, 3.0, 5.0].into_dyn(), array![1.0, 2.0, 4.0].into_dyn());
/// metric.update((preds.view(), target.view()))?;
/// assert_eq!(metric.compute()?.as_scalar(), Some(1.0));
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ExplainedVariance<F: Real = f64> {
    multioutput: Multioutput,
    state: ResidualMoments,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> ExplainedVariance<F> {
    /// Creates an empty metric that combines outputs by `multioutput`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::{ExplainedVariance, Multioutput};
    /// use ferrometrics::Metric;
    ///
    /// assert!(ExplainedVariance::<f64>::new(Multioutput::RawValues).compute().is_err());
    /// ```
    pub fn new(multioutput: Multioutput) -> Self {
        Self {
            multioutput,
            state: ResidualMoments::new(None),
            element: PhantomData,
        }
    }
}

impl<F: Real> Default for ExplainedVariance<F> {
    fn default() -> Self {
        Self::new(Multioutput::default())
    }
}

impl<F: Real> Metric for ExplainedVariance<F> {
    type Kind = PredsTarget<F>;
    type Output = Value;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "ExplainedVariance",
            higher_is_better: Some(true),
            is_differentiable: true,
            lower_bound: f64::NEG_INFINITY,
            upper_bound: 1.0,
        }
    }

    /// Folds the batch's residual and target moments into the state.
    ///
    /// # Errors
    ///
    /// As [`R2Score`]'s `update`.
    fn update(&mut self, (preds, target): Input<'_, Self>) -> Result<()> {
        self.state
            .update("ExplainedVariance", &preds, &target, Layout::Outputs)
    }

    fn compute(&self) -> Result<Value> {
        explained_variance_of(&self.state, self.multioutput)
    }

    fn reset(&mut self) {
        self.state = ResidualMoments::new(None);
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_setting(
            "ExplainedVariance",
            "multioutput",
            &self.multioutput,
            &other.multioutput,
        )?;
        self.state.merge("ExplainedVariance", &other.state)
    }
}

fn relative_squared_error_of(state: &ResidualMoments, squared: bool) -> Result<f64> {
    // SS_tot of one sample is 0 whatever the target, so the ratio is undefined. It needs 2
    // samples, as R2 (of which it is 1 - R2) does.
    let n = state.count();
    if n < 2 {
        return Err(Error::not_enough_data(
            "RelativeSquaredError",
            format!("the relative squared error needs at least 2 samples, but {n} were seen"),
        ));
    }
    let ratios: Vec<f64> = state
        .residual_sum_of_squares(state.common_exponent())
        .iter()
        .zip(state.total_sum_of_squares(state.common_exponent()))
        .map(|(residual, total)| 1.0 - one_minus_ratio(*residual, total))
        .map(|ratio| if squared { ratio } else { ratio.sqrt() })
        .collect();
    Ok(ratios.iter().sum::<f64>() / ratios.len() as f64)
}

/// Computes the relative squared error `SS_res / SS_tot` per output, or its square root when
/// `squared` is false, averaged over outputs, as TorchMetrics' `relative_squared_error`.
///
/// It equals `1 - R2`, and an output with a constant target gives `1 - R2` with scikit-learn's
/// R2 convention: 0 if it is predicted exactly and 1 otherwise. TorchMetrics instead divides by
/// the dtype's machine epsilon there. Shapes as [`mean_squared_error`](super::mean_squared_error).
///
/// # Example
///
/// ```
/// use ferrometrics::regression::relative_squared_error;
/// use ndarray::array;
///
/// let preds = array![2.5, 0.0, 2.0, 8.0];
/// let target = array![3.0, -0.5, 2.0, 7.0];
/// let rse = relative_squared_error(preds.view(), target.view(), true, 1)?;
/// assert!((rse - 0.051_391_862_955_032_12).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// As [`mean_squared_error`](super::mean_squared_error), and [`Error::NotEnoughData`] for
/// fewer than 2 samples, as [`r2_score`].
pub fn relative_squared_error<F: Real, D: Dimension>(
    preds: ArrayView<'_, F, D>,
    target: ArrayView<'_, F, D>,
    squared: bool,
    num_outputs: usize,
) -> Result<f64> {
    let mut metric = RelativeSquaredError::<F>::new(num_outputs, squared)?;
    metric.update((preds.into_dyn(), target.into_dyn()))?;
    metric.compute()
}

/// Relative squared error over every batch seen, as TorchMetrics' `RelativeSquaredError`. See
/// [`relative_squared_error`].
///
/// # Example
///
/// ```
/// use ferrometrics::regression::RelativeSquaredError;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = RelativeSquaredError::<f64>::new(1, true)?;
/// metric.update((array![1.0, 2.0].into_dyn().view(), array![1.0, 3.0].into_dyn().view()))?;
/// assert_eq!(metric.compute()?, 0.5);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct RelativeSquaredError<F: Real = f64> {
    squared: bool,
    state: ResidualMoments,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> RelativeSquaredError<F> {
    /// Creates an empty metric for `num_outputs` outputs that returns the ratio if `squared` is
    /// true and its square root otherwise.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::RelativeSquaredError;
    ///
    /// assert!(RelativeSquaredError::<f64>::new(0, true).is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] naming `num_outputs` if it is 0 or above 2^24.
    pub fn new(num_outputs: usize, squared: bool) -> Result<Self> {
        check_num_outputs(num_outputs)?;
        Ok(Self {
            squared,
            state: ResidualMoments::new(Some(num_outputs)),
            element: PhantomData,
        })
    }
}

impl<F: Real> Default for RelativeSquaredError<F> {
    fn default() -> Self {
        Self::new(1, true).expect("one output is valid")
    }
}

impl<F: Real> Metric for RelativeSquaredError<F> {
    type Kind = PredsTarget<F>;
    type Output = f64;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "RelativeSquaredError",
            higher_is_better: Some(false),
            is_differentiable: true,
            lower_bound: 0.0,
            upper_bound: f64::INFINITY,
        }
    }

    /// Folds the batch's residual and target moments into the state.
    ///
    /// # Errors
    ///
    /// As [`MeanSquaredError`](super::MeanSquaredError)'s `update`.
    fn update(&mut self, (preds, target): Input<'_, Self>) -> Result<()> {
        self.state
            .update("RelativeSquaredError", &preds, &target, Layout::Flatten)
    }

    fn compute(&self) -> Result<f64> {
        relative_squared_error_of(&self.state, self.squared)
    }

    fn reset(&mut self) {
        self.state = ResidualMoments::new(self.state.configured_outputs);
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_config(
            "RelativeSquaredError",
            "squared",
            &self.squared,
            &other.squared,
        )?;
        self.state.merge("RelativeSquaredError", &other.state)
    }
}

fn nrmse_of(state: &ResidualMoments, normalization: Normalization) -> Result<Value> {
    let n = state.count();
    check_not_empty("NormalizedRootMeanSquaredError", n)?;
    let n = n as f64;

    // Numerator and denominator are in units of 2^exponent, which cancel, so that the squares
    // of data of extreme magnitude neither overflow nor underflow.
    let exponent = state.common_exponent();
    let ranges = state.target_min.iter().zip(&state.target_max);
    let values = state
        .residual_sum_of_squares(exponent)
        .iter()
        .zip(&state.moments)
        .zip(ranges)
        .map(|((residual, moments), (min, max))| {
            let denominator = match normalization {
                Normalization::Mean => moments.mean_y_in(exponent),
                Normalization::Range => {
                    scale_by_power_of_two(*max, -exponent) - scale_by_power_of_two(*min, -exponent)
                }
                Normalization::Std => (moments.m2_y_in(exponent) / n).sqrt(),
                Normalization::L2 => {
                    let mean = moments.mean_y_in(exponent);
                    (moments.m2_y_in(exponent) + n * mean * mean).sqrt()
                }
            };
            (residual / n).sqrt() / denominator
        })
        .collect();
    Ok(per_output(values))
}

/// Computes the normalized root mean squared error `sqrt(SS_res / N) / s` per output, where `s`
/// is the target's mean, range, population standard deviation or Euclidean norm as
/// `normalization` selects, as TorchMetrics' `normalized_root_mean_squared_error`.
///
/// A zero normalizer gives an infinite or NaN value, as the division does. Shapes as
/// [`mean_squared_error`](super::mean_squared_error).
///
/// # Example
///
/// TorchMetrics' documented example, 0.4000, 0.2500 and 0.6030:
///
/// ```
/// use ferrometrics::regression::{normalized_root_mean_squared_error, Normalization};
/// use ndarray::array;
///
/// let preds = array![0.0, 1.0, 2.0, 3.0];
/// let target = array![0.0, 1.0, 2.0, 2.0];
/// let nrmse = |normalization| -> ferrometrics::Result<f64> {
///     let value =
///         normalized_root_mean_squared_error(preds.view(), target.view(), normalization, 1)?;
///     Ok(value.as_scalar().unwrap())
/// };
/// assert!((nrmse(Normalization::Mean)? - 0.4).abs() < 1e-15);
/// assert!((nrmse(Normalization::Range)? - 0.25).abs() < 1e-15);
/// assert!((nrmse(Normalization::Std)? - 0.603_022_689_155_527_5).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// As [`mean_squared_error`](super::mean_squared_error).
pub fn normalized_root_mean_squared_error<F: Real, D: Dimension>(
    preds: ArrayView<'_, F, D>,
    target: ArrayView<'_, F, D>,
    normalization: Normalization,
    num_outputs: usize,
) -> Result<Value> {
    let mut metric = NormalizedRootMeanSquaredError::<F>::new(normalization, num_outputs)?;
    metric.update((preds.into_dyn(), target.into_dyn()))?;
    metric.compute()
}

/// Normalized root mean squared error over every batch seen, as TorchMetrics'
/// `NormalizedRootMeanSquaredError`. See [`normalized_root_mean_squared_error`].
///
/// The state is the residual and target moments and the target's minimum and maximum per
/// output, so every normalization merges exactly or within 1e-12 relative.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::{NormalizedRootMeanSquaredError, Normalization};
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = NormalizedRootMeanSquaredError::<f64>::new(Normalization::Range, 1)?;
/// metric.update((array![1.0, 3.0].into_dyn().view(), array![0.0, 4.0].into_dyn().view()))?;
/// assert_eq!(metric.compute()?.as_scalar(), Some(0.25));
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct NormalizedRootMeanSquaredError<F: Real = f64> {
    normalization: Normalization,
    state: ResidualMoments,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> NormalizedRootMeanSquaredError<F> {
    /// Creates an empty metric for `num_outputs` outputs normalized by `normalization`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::{NormalizedRootMeanSquaredError, Normalization};
    ///
    /// assert!(NormalizedRootMeanSquaredError::<f64>::new(Normalization::L2, 2).is_ok());
    /// ```
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] naming `num_outputs` if it is 0 or above 2^24.
    pub fn new(normalization: Normalization, num_outputs: usize) -> Result<Self> {
        check_num_outputs(num_outputs)?;
        Ok(Self {
            normalization,
            state: ResidualMoments::new(Some(num_outputs)),
            element: PhantomData,
        })
    }
}

impl<F: Real> Default for NormalizedRootMeanSquaredError<F> {
    fn default() -> Self {
        Self::new(Normalization::default(), 1).expect("one output is valid")
    }
}

impl<F: Real> Metric for NormalizedRootMeanSquaredError<F> {
    type Kind = PredsTarget<F>;
    type Output = Value;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "NormalizedRootMeanSquaredError",
            higher_is_better: Some(false),
            is_differentiable: true,
            // A negative target mean makes the "mean" normalization negative.
            lower_bound: f64::NEG_INFINITY,
            upper_bound: f64::INFINITY,
        }
    }

    /// Folds the batch's residual and target statistics into the state.
    ///
    /// # Errors
    ///
    /// As [`MeanSquaredError`](super::MeanSquaredError)'s `update`.
    fn update(&mut self, (preds, target): Input<'_, Self>) -> Result<()> {
        self.state.update(
            "NormalizedRootMeanSquaredError",
            &preds,
            &target,
            Layout::Flatten,
        )
    }

    fn compute(&self) -> Result<Value> {
        nrmse_of(&self.state, self.normalization)
    }

    fn reset(&mut self) {
        self.state = ResidualMoments::new(self.state.configured_outputs);
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_setting(
            "NormalizedRootMeanSquaredError",
            "normalization",
            &self.normalization,
            &other.normalization,
        )?;
        self.state
            .merge("NormalizedRootMeanSquaredError", &other.state)
    }
}
