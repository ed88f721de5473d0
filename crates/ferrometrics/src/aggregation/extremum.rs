//! `MaxMetric` and `MinMetric`: the largest and the smallest value seen.

use serde::{Deserialize, Serialize};

use super::nan_strategy::{for_each_kept, reject_weight, NanStrategy};
use crate::error::Result;
use crate::inputs::WeightedValues;
use crate::metric::{check_same_setting, Input, Metric, MetricInfo};

/// Returns the larger of two values, NaN if either is NaN, as `torch.max` does (`f64::max`
/// would drop the NaN).
fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Returns the smaller of two values, NaN if either is NaN, as `torch.min` does.
fn nan_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

/// The largest value seen, as TorchMetrics' `MaxMetric`.
///
/// Values of any shape are flattened. NaN values are handled by the [`NanStrategy`], and under
/// [`NanStrategy::Disable`] a NaN makes the result NaN. An empty metric computes `-inf`, as
/// TorchMetrics does, because `-inf` is the identity of `max`.
///
/// The batch is `(value, weight)`, and `weight` must be `None`.
///
/// # Example
///
/// TorchMetrics' documented example:
///
/// ```
/// use ferrometrics::aggregation::MaxMetric;
/// use ferrometrics::Metric;
/// use ndarray::{arr0, array};
///
/// let mut metric = MaxMetric::default();
/// assert_eq!(metric.compute()?, f64::NEG_INFINITY);
/// metric.update((arr0(1.0).into_dyn().view(), None))?;
/// metric.update((array![2.0, 3.0].into_dyn().view(), None))?;
/// assert_eq!(metric.compute()?, 3.0);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaxMetric {
    nan_strategy: NanStrategy,
    max: f64,
    nan_count: u64,
}

impl Default for MaxMetric {
    fn default() -> Self {
        Self::new(NanStrategy::default())
    }
}

impl MaxMetric {
    /// Creates an empty maximum that handles NaN values with `nan_strategy`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::aggregation::{MaxMetric, NanStrategy};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = MaxMetric::new(NanStrategy::Replace(7.0));
    /// metric.update((array![1.0, f64::NAN].into_dyn().view(), None))?;
    /// assert_eq!(metric.compute()?, 7.0);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    pub fn new(nan_strategy: NanStrategy) -> Self {
        Self {
            nan_strategy,
            max: f64::NEG_INFINITY,
            nan_count: 0,
        }
    }

    /// Returns the strategy for NaN values.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::aggregation::{MaxMetric, NanStrategy};
    ///
    /// assert_eq!(MaxMetric::default().nan_strategy(), NanStrategy::Warn);
    /// ```
    pub fn nan_strategy(&self) -> NanStrategy {
        self.nan_strategy
    }

    /// Returns how many NaN positions were dropped or replaced since the last reset, merged
    /// states included. A caller that wants TorchMetrics' warning under [`NanStrategy::Warn`]
    /// raises it when this count grows.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::aggregation::MaxMetric;
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = MaxMetric::default();
    /// metric.update((array![f64::NAN, -2.0].into_dyn().view(), None))?;
    /// assert_eq!(metric.nan_count(), 1);
    /// assert_eq!(metric.compute()?, -2.0);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    pub fn nan_count(&self) -> u64 {
        self.nan_count
    }
}

impl Metric for MaxMetric {
    type Kind = WeightedValues;
    type Output = f64;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "MaxMetric",
            higher_is_better: None,
            // Differentiable except where two values tie, as the intrinsic clustering metrics.
            is_differentiable: true,
            lower_bound: f64::NEG_INFINITY,
            upper_bound: f64::INFINITY,
        }
    }

    /// Folds the batch's largest value into the maximum.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidInput`](crate::Error::InvalidInput) if `weight` is given, and
    /// [`Error::NonFinite`](crate::Error::NonFinite) for a NaN under [`NanStrategy::Error`].
    fn update(&mut self, (value, weight): Input<'_, Self>) -> Result<()> {
        reject_weight("MaxMetric", weight.as_ref())?;
        let mut batch_max = f64::NEG_INFINITY;
        let nan_count = for_each_kept(self.nan_strategy, &value, None, |x, _| {
            batch_max = nan_max(batch_max, x);
        })?;

        self.max = nan_max(self.max, batch_max);
        self.nan_count += nan_count;
        Ok(())
    }

    fn compute(&self) -> Result<f64> {
        Ok(self.max)
    }

    fn reset(&mut self) {
        *self = Self::new(self.nan_strategy);
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_setting(
            "MaxMetric",
            "nan_strategy",
            &self.nan_strategy,
            &other.nan_strategy,
        )?;
        self.max = nan_max(self.max, other.max);
        self.nan_count += other.nan_count;
        Ok(())
    }
}

/// The smallest value seen, as TorchMetrics' `MinMetric`.
///
/// Values of any shape are flattened. NaN values are handled by the [`NanStrategy`], and under
/// [`NanStrategy::Disable`] a NaN makes the result NaN. An empty metric computes `inf`, as
/// TorchMetrics does, because `inf` is the identity of `min`.
///
/// The batch is `(value, weight)`, and `weight` must be `None`.
///
/// # Example
///
/// TorchMetrics' documented example:
///
/// ```
/// use ferrometrics::aggregation::MinMetric;
/// use ferrometrics::Metric;
/// use ndarray::{arr0, array};
///
/// let mut metric = MinMetric::default();
/// assert_eq!(metric.compute()?, f64::INFINITY);
/// metric.update((arr0(1.0).into_dyn().view(), None))?;
/// metric.update((array![2.0, 3.0].into_dyn().view(), None))?;
/// assert_eq!(metric.compute()?, 1.0);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinMetric {
    nan_strategy: NanStrategy,
    min: f64,
    nan_count: u64,
}

impl Default for MinMetric {
    fn default() -> Self {
        Self::new(NanStrategy::default())
    }
}

impl MinMetric {
    /// Creates an empty minimum that handles NaN values with `nan_strategy`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::aggregation::{MinMetric, NanStrategy};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = MinMetric::new(NanStrategy::Replace(-7.0));
    /// metric.update((array![1.0, f64::NAN].into_dyn().view(), None))?;
    /// assert_eq!(metric.compute()?, -7.0);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    pub fn new(nan_strategy: NanStrategy) -> Self {
        Self {
            nan_strategy,
            min: f64::INFINITY,
            nan_count: 0,
        }
    }

    /// Returns the strategy for NaN values.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::aggregation::{MinMetric, NanStrategy};
    ///
    /// assert_eq!(MinMetric::default().nan_strategy(), NanStrategy::Warn);
    /// ```
    pub fn nan_strategy(&self) -> NanStrategy {
        self.nan_strategy
    }

    /// Returns how many NaN positions were dropped or replaced since the last reset, merged
    /// states included. A caller that wants TorchMetrics' warning under [`NanStrategy::Warn`]
    /// raises it when this count grows.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::aggregation::MinMetric;
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = MinMetric::default();
    /// metric.update((array![f64::NAN, 2.0].into_dyn().view(), None))?;
    /// assert_eq!(metric.nan_count(), 1);
    /// assert_eq!(metric.compute()?, 2.0);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    pub fn nan_count(&self) -> u64 {
        self.nan_count
    }
}

impl Metric for MinMetric {
    type Kind = WeightedValues;
    type Output = f64;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "MinMetric",
            higher_is_better: None,
            // Differentiable except where two values tie, as the intrinsic clustering metrics.
            is_differentiable: true,
            lower_bound: f64::NEG_INFINITY,
            upper_bound: f64::INFINITY,
        }
    }

    /// Folds the batch's smallest value into the minimum.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidInput`](crate::Error::InvalidInput) if `weight` is given, and
    /// [`Error::NonFinite`](crate::Error::NonFinite) for a NaN under [`NanStrategy::Error`].
    fn update(&mut self, (value, weight): Input<'_, Self>) -> Result<()> {
        reject_weight("MinMetric", weight.as_ref())?;
        let mut batch_min = f64::INFINITY;
        let nan_count = for_each_kept(self.nan_strategy, &value, None, |x, _| {
            batch_min = nan_min(batch_min, x);
        })?;

        self.min = nan_min(self.min, batch_min);
        self.nan_count += nan_count;
        Ok(())
    }

    fn compute(&self) -> Result<f64> {
        Ok(self.min)
    }

    fn reset(&mut self) {
        *self = Self::new(self.nan_strategy);
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_setting(
            "MinMetric",
            "nan_strategy",
            &self.nan_strategy,
            &other.nan_strategy,
        )?;
        self.min = nan_min(self.min, other.min);
        self.nan_count += other.nan_count;
        Ok(())
    }
}
