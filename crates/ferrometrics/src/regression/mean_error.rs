//! Means of pointwise errors between predictions and targets: squared, absolute, squared log,
//! log-cosh and percentage errors, and the Minkowski distance.

use std::marker::PhantomData;

use ndarray::{ArrayView, ArrayViewD, Dimension};
use serde::{Deserialize, Serialize};

use super::batch::{
    check_finite, check_num_outputs, per_output, to_columns, to_flat, to_flat_unchecked, Layout,
};
use super::sums::{check_not_empty, CompensatedSum, ErrorSums};
use super::{PredsTarget, Real};
use crate::error::{Error, Result};
use crate::metric::{check_same_config, Input, Metric, MetricInfo};
use crate::numerics::sum_paired;
use crate::wrappers::{SampleTerms, TermSums};
use crate::Value;

/// The denominator floor of the percentage errors, `f64::EPSILON` (2.2e-16), as scikit-learn's
/// `mean_absolute_percentage_error`. TorchMetrics uses 1.17e-6 instead, so the two differ only
/// for targets smaller in magnitude than 1.17e-6.
const PERCENTAGE_FLOOR: f64 = f64::EPSILON;

fn squared_error(p: f64, t: f64) -> f64 {
    (p - t) * (p - t)
}

fn absolute_error(p: f64, t: f64) -> f64 {
    (p - t).abs()
}

fn squared_log_error(p: f64, t: f64) -> f64 {
    let difference = p.ln_1p() - t.ln_1p();
    difference * difference
}

/// Returns `ln(cosh(x))` as `|x| + ln(1 + exp(-2|x|)) - ln 2`, which does not overflow for large
/// `|x|` as `cosh` does.
fn log_cosh(x: f64) -> f64 {
    let x = x.abs();
    x + (-2.0 * x).exp().ln_1p() - std::f64::consts::LN_2
}

fn absolute_percentage_error(p: f64, t: f64) -> f64 {
    (p - t).abs() / t.abs().max(PERCENTAGE_FLOOR)
}

/// Returns `2 |p - t| / max(|p| + |t|, floor)`. Both sides are halved first, which is exact
/// for normal floats, so that values near the float64 maximum do not overflow to infinity.
fn symmetric_percentage_error(p: f64, t: f64) -> f64 {
    let (p, t) = (0.5 * p, 0.5 * t);
    (p - t).abs() / (p.abs() + t.abs()).max(0.5 * PERCENTAGE_FLOOR) * 2.0
}

/// Returns an error naming `argument` for the first value `<= -1`, where `ln(1 + x)` is undefined.
/// `values` is one output in row-major order, so the index is the row and the column is 0.
fn check_log_domain<F: Real>(argument: &str, values: &[F]) -> Result<()> {
    let Some((row, value)) = values.iter().enumerate().find(|(_, x)| x.to_f64() <= -1.0) else {
        return Ok(());
    };
    let column = 0;
    Err(Error::invalid_input(
        argument,
        format!(
            "value {value:?} at row {row}, column {column} is <= -1, where ln(1 + x) is undefined; \
             the squared log error needs values > -1"
        ),
    ))
}

/// Validates a batch and sums `term` per output.
fn error_sums<F: Real>(
    preds: &ArrayViewD<'_, F>,
    target: &ArrayViewD<'_, F>,
    num_outputs: usize,
    term: impl Fn(f64, f64) -> f64 + Sync,
) -> Result<ErrorSums> {
    if num_outputs == 1 {
        let (flat_preds, flat_target) = to_flat_unchecked(preds, target, Layout::Flatten)?;
        let (sums, finite) = ErrorSums::of_flat_checked(&flat_preds, &flat_target, term);
        if !finite {
            check_finite("preds", preds)?;
            check_finite("target", target)?;
        }
        return Ok(sums);
    }
    let (preds, target) = to_columns(preds, target, num_outputs, Layout::Flatten)?;
    Ok(ErrorSums::of_batch(&preds, &target, term))
}

/// Validates a batch as [`error_sums`] does and returns its per-sample terms. With several
/// outputs a sample has one term per output. With one output the metric flattens its inputs,
/// so a sample's term is the sum of `term` over its row and counts for the row's elements.
fn error_terms<F: Real>(
    preds: &ArrayViewD<'_, F>,
    target: &ArrayViewD<'_, F>,
    num_outputs: usize,
    term: impl Fn(f64, f64) -> f64,
) -> Result<SampleTerms> {
    if num_outputs == 1 {
        let (flat_preds, flat_target) = to_flat(preds, target, Layout::Flatten)?;
        return flat_terms(preds.shape(), &flat_preds, &flat_target, term);
    }
    let (preds, target) = to_columns(preds, target, num_outputs, Layout::Flatten)?;
    let values = preds
        .iter()
        .zip(target.iter())
        .map(|(p, t)| term(*p, *t))
        .collect();
    SampleTerms::new(num_outputs, 1, values)
}

/// Returns one term per row of a flattened one-output batch of shape `shape`: the sum of
/// `term` over the row's elements. A 0-d batch is one sample.
fn flat_terms<F: Real>(
    shape: &[usize],
    preds: &[F],
    target: &[F],
    term: impl Fn(f64, f64) -> f64,
) -> Result<SampleTerms> {
    let row_len: usize = shape.iter().skip(1).product();
    let rows = shape.first().copied().unwrap_or(1);
    let values: Vec<f64> = if row_len == 0 {
        vec![0.0; rows]
    } else if row_len == 1 {
        preds
            .iter()
            .zip(target)
            .map(|(p, t)| term(p.to_f64(), t.to_f64()))
            .collect()
    } else {
        preds
            .chunks_exact(row_len)
            .zip(target.chunks_exact(row_len))
            .map(|(p, t)| sum_paired(p, t, |p, t| term(p.to_f64(), t.to_f64())).value())
            .collect()
    };
    SampleTerms::new(1, row_len as u64, values)
}

fn squared_log_terms<F: Real>(
    preds: &ArrayViewD<'_, F>,
    target: &ArrayViewD<'_, F>,
) -> Result<SampleTerms> {
    let (flat_preds, flat_target) = to_flat(preds, target, Layout::Flatten)?;
    check_log_domain("preds", &flat_preds)?;
    check_log_domain("target", &flat_target)?;
    flat_terms(preds.shape(), &flat_preds, &flat_target, squared_log_error)
}

fn squared_log_sums<F: Real>(
    preds: &ArrayViewD<'_, F>,
    target: &ArrayViewD<'_, F>,
) -> Result<ErrorSums> {
    let (preds, target) = to_flat(preds, target, Layout::Flatten)?;
    check_log_domain("preds", &preds)?;
    check_log_domain("target", &target)?;
    Ok(ErrorSums::of_flat(&preds, &target, squared_log_error))
}

fn root_if(squared: bool, means: Vec<f64>) -> Vec<f64> {
    if squared {
        means
    } else {
        means.into_iter().map(f64::sqrt).collect()
    }
}

/// Returns the value of a one-output metric. Only a corrupted serialized state has no output, and
/// it reads as NaN instead of panicking.
pub(crate) fn single(values: Vec<f64>) -> f64 {
    values.first().copied().unwrap_or(f64::NAN)
}

/// Facts shared by the error metrics: lower is better, 0 is perfect.
fn error_info(name: &'static str, upper_bound: f64) -> MetricInfo {
    MetricInfo {
        name,
        higher_is_better: Some(false),
        is_differentiable: true,
        lower_bound: 0.0,
        upper_bound,
    }
}

/// Computes the mean squared error `sum((preds - target)^2) / N` per output, or its square root
/// when `squared` is false, as scikit-learn's `mean_squared_error` and `root_mean_squared_error`.
///
/// With `num_outputs == 1`, inputs of any shape are flattened into one output, as TorchMetrics
/// does. With more outputs, inputs have shape `(N, num_outputs)` and the value is one error per
/// column.
///
/// # Example
///
/// TorchMetrics' documented example:
///
/// ```
/// use ferrometrics::regression::mean_squared_error;
/// use ndarray::array;
///
/// let preds = array![0.0, 1.0, 2.0, 3.0];
/// let target = array![0.0, 1.0, 2.0, 2.0];
/// let mse = mean_squared_error(preds.view(), target.view(), true, 1)?;
/// assert_eq!(mse.as_scalar(), Some(0.25));
/// let rmse = mean_squared_error(preds.view(), target.view(), false, 1)?;
/// assert_eq!(rmse.as_scalar(), Some(0.5));
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// Returns an error naming the argument if `num_outputs` is 0 or does not match the shape, if
/// the shapes differ, or if a value is NaN or infinite, and [`Error::NotEnoughData`] for empty
/// inputs.
pub fn mean_squared_error<F: Real, D: Dimension>(
    preds: ArrayView<'_, F, D>,
    target: ArrayView<'_, F, D>,
    squared: bool,
    num_outputs: usize,
) -> Result<Value> {
    let mut metric = MeanSquaredError::<F>::new(squared, num_outputs)?;
    metric.update((preds.into_dyn(), target.into_dyn()))?;
    metric.compute()
}

/// Mean squared error over every batch seen, as TorchMetrics' `MeanSquaredError`. See
/// [`mean_squared_error`] for the formula and the shapes.
///
/// The state is a compensated sum of squared errors per output and a row count, so batches merge
/// in any order within 1e-12 relative.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::MeanSquaredError;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = MeanSquaredError::<f64>::new(true, 2)?;
/// let preds = array![[0.0, 1.0], [2.0, 3.0]].into_dyn();
/// let target = array![[0.0, 3.0], [4.0, 3.0]].into_dyn();
/// metric.update((preds.view(), target.view()))?;
/// let ferrometrics::Value::Array(mse) = metric.compute()? else { unreachable!() };
/// assert_eq!(mse.as_slice(), Some(&[2.0, 2.0][..]));
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct MeanSquaredError<F: Real = f64> {
    squared: bool,
    sums: ErrorSums,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> MeanSquaredError<F> {
    /// Creates an empty metric that returns the mean squared error if `squared` is true and its
    /// root otherwise, for `num_outputs` outputs.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::MeanSquaredError;
    ///
    /// assert!(MeanSquaredError::<f32>::new(false, 1).is_ok());
    /// assert!(MeanSquaredError::<f32>::new(false, 0).is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] naming `num_outputs` if it is 0 or above 2^24.
    pub fn new(squared: bool, num_outputs: usize) -> Result<Self> {
        check_num_outputs(num_outputs)?;
        Ok(Self {
            squared,
            sums: ErrorSums::new(num_outputs),
            element: PhantomData,
        })
    }
}

impl<F: Real> Default for MeanSquaredError<F> {
    fn default() -> Self {
        Self::new(true, 1).expect("one output is valid")
    }
}

impl<F: Real> Metric for MeanSquaredError<F> {
    type Kind = PredsTarget<F>;
    type Output = Value;

    fn info(&self) -> MetricInfo {
        error_info("MeanSquaredError", f64::INFINITY)
    }

    /// Adds the batch's squared errors to the sums.
    ///
    /// # Errors
    ///
    /// Returns an error naming the argument, and changes nothing, if the shapes differ or do not
    /// match `num_outputs`, or if a value is NaN or infinite.
    fn update(&mut self, (preds, target): Input<'_, Self>) -> Result<()> {
        let batch = error_sums(&preds, &target, self.sums.num_outputs(), squared_error)?;
        self.sums.merge("MeanSquaredError", &batch)
    }

    fn sample_terms(&self, (preds, target): Input<'_, Self>) -> Option<Result<SampleTerms>> {
        Some(error_terms(
            &preds,
            &target,
            self.sums.num_outputs(),
            squared_error,
        ))
    }

    fn add_term_sums(&mut self, sums: &TermSums) -> Result<()> {
        self.sums.add_term_sums("MeanSquaredError", sums)
    }

    fn compute(&self) -> Result<Value> {
        let means = self.sums.means("MeanSquaredError")?;
        Ok(per_output(root_if(self.squared, means)))
    }

    fn reset(&mut self) {
        self.sums = ErrorSums::new(self.sums.num_outputs());
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_config("MeanSquaredError", "squared", &self.squared, &other.squared)?;
        self.sums.merge("MeanSquaredError", &other.sums)
    }
}

/// Computes the mean absolute error `sum(|preds - target|) / N` per output, as scikit-learn's
/// `mean_absolute_error`. Shapes as [`mean_squared_error`].
///
/// # Example
///
/// TorchMetrics' documented example:
///
/// ```
/// use ferrometrics::regression::mean_absolute_error;
/// use ndarray::array;
///
/// let preds = array![2.5, 0.0, 2.0, 8.0];
/// let target = array![3.0, -0.5, 2.0, 7.0];
/// let mae = mean_absolute_error(preds.view(), target.view(), 1)?;
/// assert_eq!(mae.as_scalar(), Some(0.5));
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// As [`mean_squared_error`].
pub fn mean_absolute_error<F: Real, D: Dimension>(
    preds: ArrayView<'_, F, D>,
    target: ArrayView<'_, F, D>,
    num_outputs: usize,
) -> Result<Value> {
    let mut metric = MeanAbsoluteError::<F>::new(num_outputs)?;
    metric.update((preds.into_dyn(), target.into_dyn()))?;
    metric.compute()
}

/// Mean absolute error over every batch seen, as TorchMetrics' `MeanAbsoluteError`. See
/// [`mean_absolute_error`]. The state is a compensated sum per output and a row count.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::MeanAbsoluteError;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = MeanAbsoluteError::<f64>::default();
/// metric.update((array![2.5, 0.0].into_dyn().view(), array![3.0, -0.5].into_dyn().view()))?;
/// metric.update((array![2.0, 8.0].into_dyn().view(), array![2.0, 7.0].into_dyn().view()))?;
/// assert_eq!(metric.compute()?.as_scalar(), Some(0.5));
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct MeanAbsoluteError<F: Real = f64> {
    sums: ErrorSums,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> MeanAbsoluteError<F> {
    /// Creates an empty metric for `num_outputs` outputs.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::MeanAbsoluteError;
    ///
    /// assert!(MeanAbsoluteError::<f64>::new(3).is_ok());
    /// ```
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] naming `num_outputs` if it is 0 or above 2^24.
    pub fn new(num_outputs: usize) -> Result<Self> {
        check_num_outputs(num_outputs)?;
        Ok(Self {
            sums: ErrorSums::new(num_outputs),
            element: PhantomData,
        })
    }
}

impl<F: Real> Default for MeanAbsoluteError<F> {
    fn default() -> Self {
        Self::new(1).expect("one output is valid")
    }
}

impl<F: Real> Metric for MeanAbsoluteError<F> {
    type Kind = PredsTarget<F>;
    type Output = Value;

    fn info(&self) -> MetricInfo {
        error_info("MeanAbsoluteError", f64::INFINITY)
    }

    /// Adds the batch's absolute errors to the sums.
    ///
    /// # Errors
    ///
    /// As [`MeanSquaredError`]'s `update`.
    fn update(&mut self, (preds, target): Input<'_, Self>) -> Result<()> {
        let batch = error_sums(&preds, &target, self.sums.num_outputs(), absolute_error)?;
        self.sums.merge("MeanAbsoluteError", &batch)
    }

    fn sample_terms(&self, (preds, target): Input<'_, Self>) -> Option<Result<SampleTerms>> {
        Some(error_terms(
            &preds,
            &target,
            self.sums.num_outputs(),
            absolute_error,
        ))
    }

    fn add_term_sums(&mut self, sums: &TermSums) -> Result<()> {
        self.sums.add_term_sums("MeanAbsoluteError", sums)
    }

    fn compute(&self) -> Result<Value> {
        Ok(per_output(self.sums.means("MeanAbsoluteError")?))
    }

    fn reset(&mut self) {
        self.sums = ErrorSums::new(self.sums.num_outputs());
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        self.sums.merge("MeanAbsoluteError", &other.sums)
    }
}

/// Computes the mean squared logarithmic error `sum((ln(1 + preds) - ln(1 + target))^2) / N`
/// over all elements, as scikit-learn's `mean_squared_log_error`.
///
/// # Example
///
/// TorchMetrics' documented example, 0.0397:
///
/// ```
/// use ferrometrics::regression::mean_squared_log_error;
/// use ndarray::array;
///
/// let preds = array![3.0, 5.0, 2.5, 7.0];
/// let target = array![2.5, 5.0, 4.0, 8.0];
/// let msle = mean_squared_log_error(preds.view(), target.view())?;
/// assert!((msle - 0.039_730_122_984_593_79).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// Returns [`Error::InvalidInput`] naming `preds` or `target` for a value `<= -1`, and the
/// errors of [`mean_squared_error`].
pub fn mean_squared_log_error<F: Real, D: Dimension>(
    preds: ArrayView<'_, F, D>,
    target: ArrayView<'_, F, D>,
) -> Result<f64> {
    let mut metric = MeanSquaredLogError::<F>::new();
    metric.update((preds.into_dyn(), target.into_dyn()))?;
    metric.compute()
}

/// Mean squared logarithmic error over every batch seen, as TorchMetrics' `MeanSquaredLogError`.
/// see [`mean_squared_log_error`]. Inputs of any shape are flattened.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::MeanSquaredLogError;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = MeanSquaredLogError::<f64>::new();
/// metric.update((array![0.0, 0.0].into_dyn().view(), array![0.0, 0.0].into_dyn().view()))?;
/// assert_eq!(metric.compute()?, 0.0);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct MeanSquaredLogError<F: Real = f64> {
    sums: ErrorSums,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> MeanSquaredLogError<F> {
    /// Creates an empty metric.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::MeanSquaredLogError;
    /// use ferrometrics::Metric;
    ///
    /// assert!(MeanSquaredLogError::<f64>::new().compute().is_err());
    /// ```
    pub fn new() -> Self {
        Self {
            sums: ErrorSums::new(1),
            element: PhantomData,
        }
    }
}

impl<F: Real> Default for MeanSquaredLogError<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Real> Metric for MeanSquaredLogError<F> {
    type Kind = PredsTarget<F>;
    type Output = f64;

    fn info(&self) -> MetricInfo {
        error_info("MeanSquaredLogError", f64::INFINITY)
    }

    /// Adds the batch's squared log errors to the sum.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidInput`] naming `preds` or `target` for a value `<= -1`, and the
    /// errors of [`MeanSquaredError`]'s `update`. A rejected batch changes nothing.
    fn update(&mut self, (preds, target): Input<'_, Self>) -> Result<()> {
        let batch = squared_log_sums(&preds, &target)?;
        self.sums.merge("MeanSquaredLogError", &batch)
    }

    fn sample_terms(&self, (preds, target): Input<'_, Self>) -> Option<Result<SampleTerms>> {
        Some(squared_log_terms(&preds, &target))
    }

    fn add_term_sums(&mut self, sums: &TermSums) -> Result<()> {
        self.sums.add_term_sums("MeanSquaredLogError", sums)
    }

    fn compute(&self) -> Result<f64> {
        Ok(single(self.sums.means("MeanSquaredLogError")?))
    }

    fn reset(&mut self) {
        self.sums = ErrorSums::new(1);
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        self.sums.merge("MeanSquaredLogError", &other.sums)
    }
}

/// Computes the log-cosh error `sum(ln(cosh(preds - target))) / N` per output; the number of
/// outputs is 1 for inputs of shape `(N,)` and `d` for `(N, d)`.
///
/// The log-cosh error behaves like half the squared error for small errors and like the absolute
/// error minus `ln 2` for large ones. It is evaluated as `|x| + ln(1 + exp(-2|x|)) - ln 2`,
/// which does not overflow.
///
/// # Example
///
/// TorchMetrics' documented example, 0.3523:
///
/// ```
/// use ferrometrics::regression::log_cosh_error;
/// use ndarray::array;
///
/// let preds = array![3.0, 5.0, 2.5, 7.0];
/// let target = array![2.5, 5.0, 4.0, 8.0];
/// let error = log_cosh_error(preds.view(), target.view())?.as_scalar().unwrap();
/// assert!((error - 0.352_333_877_113_775_3).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// As [`mean_squared_error`].
pub fn log_cosh_error<F: Real, D: Dimension>(
    preds: ArrayView<'_, F, D>,
    target: ArrayView<'_, F, D>,
) -> Result<Value> {
    let num_outputs = super::correlation::outputs_of_shape(preds.shape());
    let mut metric = LogCoshError::<F>::new(num_outputs)?;
    metric.update((preds.into_dyn(), target.into_dyn()))?;
    metric.compute()
}

/// Log-cosh error over every batch seen, as TorchMetrics' `LogCoshError`. See
/// [`log_cosh_error`]. Shapes as [`MeanSquaredError`].
///
/// # Example
///
/// ```
/// use ferrometrics::regression::LogCoshError;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = LogCoshError::<f64>::default();
/// metric.update((array![1.0, -1.0].into_dyn().view(), array![0.0, 0.0].into_dyn().view()))?;
/// let expected = 1.0_f64.cosh().ln();
/// assert!((metric.compute()?.as_scalar().unwrap() - expected).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct LogCoshError<F: Real = f64> {
    sums: ErrorSums,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> LogCoshError<F> {
    /// Creates an empty metric for `num_outputs` outputs.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::LogCoshError;
    ///
    /// assert!(LogCoshError::<f64>::new(0).is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] naming `num_outputs` if it is 0 or above 2^24.
    pub fn new(num_outputs: usize) -> Result<Self> {
        check_num_outputs(num_outputs)?;
        Ok(Self {
            sums: ErrorSums::new(num_outputs),
            element: PhantomData,
        })
    }
}

impl<F: Real> Default for LogCoshError<F> {
    fn default() -> Self {
        Self::new(1).expect("one output is valid")
    }
}

impl<F: Real> Metric for LogCoshError<F> {
    type Kind = PredsTarget<F>;
    type Output = Value;

    fn info(&self) -> MetricInfo {
        error_info("LogCoshError", f64::INFINITY)
    }

    /// Adds the batch's log-cosh errors to the sums.
    ///
    /// # Errors
    ///
    /// As [`MeanSquaredError`]'s `update`.
    fn update(&mut self, (preds, target): Input<'_, Self>) -> Result<()> {
        let term = |p: f64, t: f64| log_cosh(p - t);
        let batch = error_sums(&preds, &target, self.sums.num_outputs(), term)?;
        self.sums.merge("LogCoshError", &batch)
    }

    fn sample_terms(&self, (preds, target): Input<'_, Self>) -> Option<Result<SampleTerms>> {
        Some(error_terms(
            &preds,
            &target,
            self.sums.num_outputs(),
            |p, t| log_cosh(p - t),
        ))
    }

    fn add_term_sums(&mut self, sums: &TermSums) -> Result<()> {
        self.sums.add_term_sums("LogCoshError", sums)
    }

    fn compute(&self) -> Result<Value> {
        Ok(per_output(self.sums.means("LogCoshError")?))
    }

    fn reset(&mut self) {
        self.sums = ErrorSums::new(self.sums.num_outputs());
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        self.sums.merge("LogCoshError", &other.sums)
    }
}

/// Computes the mean absolute percentage error `sum(|preds - target| / max(|target|, eps)) / N`
/// over all elements, with `eps = f64::EPSILON`, as scikit-learn's
/// `mean_absolute_percentage_error`. The value is a fraction, not a percentage.
///
/// # Example
///
/// TorchMetrics' documented example, 0.2667:
///
/// ```
/// use ferrometrics::regression::mean_absolute_percentage_error;
/// use ndarray::array;
///
/// let preds = array![0.9, 15.0, 1.2e6];
/// let target = array![1.0, 10.0, 1e6];
/// let mape = mean_absolute_percentage_error(preds.view(), target.view())?;
/// assert!((mape - 0.266_666_666_666_666_66).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// As [`mean_squared_error`].
pub fn mean_absolute_percentage_error<F: Real, D: Dimension>(
    preds: ArrayView<'_, F, D>,
    target: ArrayView<'_, F, D>,
) -> Result<f64> {
    let mut metric = MeanAbsolutePercentageError::<F>::new();
    metric.update((preds.into_dyn(), target.into_dyn()))?;
    metric.compute()
}

/// Mean absolute percentage error over every batch seen, as TorchMetrics'
/// `MeanAbsolutePercentageError`. See [`mean_absolute_percentage_error`]. Inputs of any shape
/// are flattened.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::MeanAbsolutePercentageError;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = MeanAbsolutePercentageError::<f64>::new();
/// metric.update((array![1.5, 3.0].into_dyn().view(), array![1.0, 4.0].into_dyn().view()))?;
/// assert_eq!(metric.compute()?, 0.375);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct MeanAbsolutePercentageError<F: Real = f64> {
    sums: ErrorSums,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> MeanAbsolutePercentageError<F> {
    /// Creates an empty metric.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::MeanAbsolutePercentageError;
    /// use ferrometrics::Metric;
    ///
    /// assert!(MeanAbsolutePercentageError::<f64>::new().compute().is_err());
    /// ```
    pub fn new() -> Self {
        Self {
            sums: ErrorSums::new(1),
            element: PhantomData,
        }
    }
}

impl<F: Real> Default for MeanAbsolutePercentageError<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Real> Metric for MeanAbsolutePercentageError<F> {
    type Kind = PredsTarget<F>;
    type Output = f64;

    fn info(&self) -> MetricInfo {
        error_info("MeanAbsolutePercentageError", f64::INFINITY)
    }

    /// Adds the batch's absolute percentage errors to the sum.
    ///
    /// # Errors
    ///
    /// As [`MeanSquaredError`]'s `update`.
    fn update(&mut self, (preds, target): Input<'_, Self>) -> Result<()> {
        let batch = error_sums(&preds, &target, 1, absolute_percentage_error)?;
        self.sums.merge("MeanAbsolutePercentageError", &batch)
    }

    fn sample_terms(&self, (preds, target): Input<'_, Self>) -> Option<Result<SampleTerms>> {
        Some(error_terms(&preds, &target, 1, absolute_percentage_error))
    }

    fn add_term_sums(&mut self, sums: &TermSums) -> Result<()> {
        self.sums.add_term_sums("MeanAbsolutePercentageError", sums)
    }

    fn compute(&self) -> Result<f64> {
        Ok(single(self.sums.means("MeanAbsolutePercentageError")?))
    }

    fn reset(&mut self) {
        self.sums = ErrorSums::new(1);
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        self.sums.merge("MeanAbsolutePercentageError", &other.sums)
    }
}

/// Computes the symmetric mean absolute percentage error
/// `sum(2 |preds - target| / max(|preds| + |target|, eps)) / N` over all elements, with
/// `eps = f64::EPSILON`, as TorchMetrics' `symmetric_mean_absolute_percentage_error`. The value
/// lies in `[0, 2]`.
///
/// # Example
///
/// TorchMetrics' documented example, 0.2290:
///
/// ```
/// use ferrometrics::regression::symmetric_mean_absolute_percentage_error;
/// use ndarray::array;
///
/// let preds = array![0.9, 15.0, 1.2e6];
/// let target = array![1.0, 10.0, 1e6];
/// let smape = symmetric_mean_absolute_percentage_error(preds.view(), target.view())?;
/// assert!((smape - 0.229_027_113_237_639_58).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// As [`mean_squared_error`].
pub fn symmetric_mean_absolute_percentage_error<F: Real, D: Dimension>(
    preds: ArrayView<'_, F, D>,
    target: ArrayView<'_, F, D>,
) -> Result<f64> {
    let mut metric = SymmetricMeanAbsolutePercentageError::<F>::new();
    metric.update((preds.into_dyn(), target.into_dyn()))?;
    metric.compute()
}

/// Symmetric mean absolute percentage error over every batch seen, as TorchMetrics'
/// `SymmetricMeanAbsolutePercentageError`. See [`symmetric_mean_absolute_percentage_error`].
///
/// # Example
///
/// ```
/// use ferrometrics::regression::SymmetricMeanAbsolutePercentageError;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = SymmetricMeanAbsolutePercentageError::<f64>::new();
/// metric.update((array![0.0, 1.0].into_dyn().view(), array![0.0, 3.0].into_dyn().view()))?;
/// assert_eq!(metric.compute()?, 0.5);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct SymmetricMeanAbsolutePercentageError<F: Real = f64> {
    sums: ErrorSums,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> SymmetricMeanAbsolutePercentageError<F> {
    /// Creates an empty metric.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::SymmetricMeanAbsolutePercentageError;
    /// use ferrometrics::Metric;
    ///
    /// let info = SymmetricMeanAbsolutePercentageError::<f64>::new().info();
    /// assert_eq!(info.upper_bound, 2.0);
    /// ```
    pub fn new() -> Self {
        Self {
            sums: ErrorSums::new(1),
            element: PhantomData,
        }
    }
}

impl<F: Real> Default for SymmetricMeanAbsolutePercentageError<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Real> Metric for SymmetricMeanAbsolutePercentageError<F> {
    type Kind = PredsTarget<F>;
    type Output = f64;

    fn info(&self) -> MetricInfo {
        error_info("SymmetricMeanAbsolutePercentageError", 2.0)
    }

    /// Adds the batch's symmetric percentage errors to the sum.
    ///
    /// # Errors
    ///
    /// As [`MeanSquaredError`]'s `update`.
    fn update(&mut self, (preds, target): Input<'_, Self>) -> Result<()> {
        let batch = error_sums(&preds, &target, 1, symmetric_percentage_error)?;
        self.sums
            .merge("SymmetricMeanAbsolutePercentageError", &batch)
    }

    fn sample_terms(&self, (preds, target): Input<'_, Self>) -> Option<Result<SampleTerms>> {
        Some(error_terms(&preds, &target, 1, symmetric_percentage_error))
    }

    fn add_term_sums(&mut self, sums: &TermSums) -> Result<()> {
        self.sums
            .add_term_sums("SymmetricMeanAbsolutePercentageError", sums)
    }

    fn compute(&self) -> Result<f64> {
        Ok(single(
            self.sums.means("SymmetricMeanAbsolutePercentageError")?,
        ))
    }

    fn reset(&mut self) {
        self.sums = ErrorSums::new(1);
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        self.sums
            .merge("SymmetricMeanAbsolutePercentageError", &other.sums)
    }
}

/// Running `sum(|preds - target|)` and `sum(|target|)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
struct WeightedSums {
    absolute_error: CompensatedSum,
    absolute_target: CompensatedSum,
    count: u64,
}

impl WeightedSums {
    fn of_batch<F: Real>(preds: &ArrayViewD<'_, F>, target: &ArrayViewD<'_, F>) -> Result<Self> {
        let (preds, target) = to_columns(preds, target, 1, Layout::Flatten)?;
        let mut sums = Self {
            count: preds.nrows() as u64,
            ..Self::default()
        };
        for (p, t) in preds.iter().zip(&target) {
            sums.absolute_error.add((p - t).abs());
            sums.absolute_target.add(t.abs());
        }
        Ok(sums)
    }

    fn merge(&mut self, other: &Self) {
        self.absolute_error.merge(&other.absolute_error);
        self.absolute_target.merge(&other.absolute_target);
        self.count = self.count.saturating_add(other.count);
    }

    fn value(&self) -> Result<f64> {
        check_not_empty("WeightedMeanAbsolutePercentageError", self.count)?;
        Ok(self.absolute_error.value() / self.absolute_target.value().max(PERCENTAGE_FLOOR))
    }
}

/// Computes the weighted mean absolute percentage error
/// `sum(|preds - target|) / max(sum(|target|), eps)` over all elements, with
/// `eps = f64::EPSILON`: each absolute percentage error weighted by `|target|`.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::weighted_mean_absolute_percentage_error;
/// use ndarray::array;
///
/// let preds = array![0.9, 15.0, 1.2e6];
/// let target = array![1.0, 10.0, 1e6];
/// let wmape = weighted_mean_absolute_percentage_error(preds.view(), target.view())?;
/// assert!((wmape - 0.200_002_899_968_100_36).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// As [`mean_squared_error`].
pub fn weighted_mean_absolute_percentage_error<F: Real, D: Dimension>(
    preds: ArrayView<'_, F, D>,
    target: ArrayView<'_, F, D>,
) -> Result<f64> {
    WeightedSums::of_batch(&preds.into_dyn(), &target.into_dyn())?.value()
}

/// Weighted mean absolute percentage error over every batch seen, as TorchMetrics'
/// `WeightedMeanAbsolutePercentageError`. See [`weighted_mean_absolute_percentage_error`].
///
/// # Example
///
/// ```
/// use ferrometrics::regression::WeightedMeanAbsolutePercentageError;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = WeightedMeanAbsolutePercentageError::<f64>::new();
/// metric.update((array![1.0, 5.0].into_dyn().view(), array![2.0, 6.0].into_dyn().view()))?;
/// assert_eq!(metric.compute()?, 0.25);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct WeightedMeanAbsolutePercentageError<F: Real = f64> {
    sums: WeightedSums,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> WeightedMeanAbsolutePercentageError<F> {
    /// Creates an empty metric.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::WeightedMeanAbsolutePercentageError;
    /// use ferrometrics::Metric;
    ///
    /// assert!(WeightedMeanAbsolutePercentageError::<f64>::new().compute().is_err());
    /// ```
    pub fn new() -> Self {
        Self {
            sums: WeightedSums::default(),
            element: PhantomData,
        }
    }
}

impl<F: Real> Default for WeightedMeanAbsolutePercentageError<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Real> Metric for WeightedMeanAbsolutePercentageError<F> {
    type Kind = PredsTarget<F>;
    type Output = f64;

    fn info(&self) -> MetricInfo {
        error_info("WeightedMeanAbsolutePercentageError", f64::INFINITY)
    }

    /// Adds the batch's absolute errors and absolute targets to the sums.
    ///
    /// # Errors
    ///
    /// As [`MeanSquaredError`]'s `update`.
    fn update(&mut self, (preds, target): Input<'_, Self>) -> Result<()> {
        let batch = WeightedSums::of_batch(&preds, &target)?;
        self.sums.merge(&batch);
        Ok(())
    }

    fn compute(&self) -> Result<f64> {
        self.sums.value()
    }

    fn reset(&mut self) {
        self.sums = WeightedSums::default();
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        self.sums.merge(&other.sums);
        Ok(())
    }
}

fn check_minkowski_p(p: f64) -> Result<()> {
    if !(p >= 1.0 && p.is_finite()) {
        return Err(Error::invalid_argument(
            "p",
            format!("p is {p}, but the Minkowski distance is a norm only for finite p >= 1"),
        ));
    }
    Ok(())
}

/// Computes the Minkowski distance `(sum(|preds - target|^p))^(1/p)` over all elements, as
/// `scipy.spatial.distance.minkowski` on the flattened inputs.
///
/// # Example
///
/// TorchMetrics' documented example, 5.1220:
///
/// ```
/// use ferrometrics::regression::minkowski_distance;
/// use ndarray::array;
///
/// let preds = array![6.1, 2.11, 3.1, 5.6];
/// let target = array![1.0, 2.8, 3.5, 4.5];
/// let distance = minkowski_distance(preds.view(), target.view(), 3.0)?;
/// assert!((distance - 5.121_992_797_772_651).abs() < 1e-14);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// Returns [`Error::InvalidArgument`] naming `p` unless `p` is finite and at least 1, and the
/// errors of [`mean_squared_error`].
pub fn minkowski_distance<F: Real, D: Dimension>(
    preds: ArrayView<'_, F, D>,
    target: ArrayView<'_, F, D>,
    p: f64,
) -> Result<f64> {
    let mut metric = MinkowskiDistance::<F>::new(p)?;
    metric.update((preds.into_dyn(), target.into_dyn()))?;
    metric.compute()
}

/// Returns `(difference / scale)^p`, with 1 for an infinite difference (the distance is then
/// infinite) and 0 for a zero scale (every difference is then 0).
fn scaled_power(difference: f64, scale: f64, p: f64) -> f64 {
    if scale == 0.0 {
        0.0
    } else if scale.is_infinite() {
        if difference.is_infinite() {
            1.0
        } else {
            0.0
        }
    } else {
        (difference / scale).powf(p)
    }
}

/// Minkowski distance over every batch seen, as TorchMetrics' `MinkowskiDistance`. See
/// [`minkowski_distance`].
///
/// The state is the largest `|preds - target|` seen, `m`, and a compensated sum of
/// `(|preds - target| / m)^p`, so that the distance is `m * sum^(1/p)`. The powers are at most 1,
/// so a large `p` (1000) neither overflows for differences above 1 nor underflows to 0 for
/// differences below 1, where the plain `sum(|d|^p)^(1/p)` gives inf or 0.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::MinkowskiDistance;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = MinkowskiDistance::<f64>::new(2.0)?;
/// metric.update((array![3.0].into_dyn().view(), array![0.0].into_dyn().view()))?;
/// metric.update((array![4.0].into_dyn().view(), array![0.0].into_dyn().view()))?;
/// assert_eq!(metric.compute()?, 5.0);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct MinkowskiDistance<F: Real = f64> {
    p: f64,
    /// The largest `|preds - target|` seen, 0 before any.
    scale: f64,
    /// Sum of `(|preds - target| / scale)^p`.
    scaled_sum: CompensatedSum,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> MinkowskiDistance<F> {
    /// Creates an empty metric of order `p`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::MinkowskiDistance;
    ///
    /// assert!(MinkowskiDistance::<f64>::new(1.0).is_ok());
    /// assert!(MinkowskiDistance::<f64>::new(0.5).is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] naming `p` unless `p` is finite and at least 1.
    pub fn new(p: f64) -> Result<Self> {
        check_minkowski_p(p)?;
        Ok(Self {
            p,
            scale: 0.0,
            scaled_sum: CompensatedSum::default(),
            element: PhantomData,
        })
    }
}

impl<F: Real> Metric for MinkowskiDistance<F> {
    type Kind = PredsTarget<F>;
    type Output = f64;

    fn info(&self) -> MetricInfo {
        error_info("MinkowskiDistance", f64::INFINITY)
    }

    /// Adds the batch's `|preds - target|^p`, relative to the largest difference, to the sum.
    ///
    /// # Errors
    ///
    /// As [`MeanSquaredError`]'s `update`.
    fn update(&mut self, (preds, target): Input<'_, Self>) -> Result<()> {
        let (preds, target) = to_columns(&preds, &target, 1, Layout::Flatten)?;
        let differences: Vec<f64> = preds
            .iter()
            .zip(&target)
            .map(|(x, y)| (x - y).abs())
            .collect();
        let scale = differences.iter().copied().fold(0.0, f64::max);
        let mut batch = Self {
            p: self.p,
            scale,
            scaled_sum: CompensatedSum::default(),
            element: PhantomData,
        };
        for difference in differences {
            batch
                .scaled_sum
                .add(scaled_power(difference, scale, self.p));
        }
        self.merge(&batch)
    }

    fn compute(&self) -> Result<f64> {
        if self.scale == 0.0 || self.scale.is_infinite() {
            return Ok(self.scale);
        }
        Ok(self.scale * self.scaled_sum.value().powf(1.0 / self.p))
    }

    fn reset(&mut self) {
        self.scale = 0.0;
        self.scaled_sum = CompensatedSum::default();
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_config("MinkowskiDistance", "p", &self.p, &other.p)?;
        // The sum of the smaller scale is brought to the larger one.
        let (mut larger, smaller) = if other.scale > self.scale {
            (other.scaled_sum, &self.scaled_sum)
        } else {
            (self.scaled_sum, &other.scaled_sum)
        };
        let (high, low) = (self.scale.max(other.scale), self.scale.min(other.scale));
        let factor = scaled_power(low, high, self.p);
        larger.add(smaller.value() * factor);
        self.scaled_sum = larger;
        self.scale = high;
        Ok(())
    }
}
