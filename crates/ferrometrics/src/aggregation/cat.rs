//! `CatMetric`: every value seen, concatenated.

use ndarray::Array1;
use serde::{Deserialize, Serialize};

use super::nan_strategy::{for_each_kept, reject_weight, NanStrategy};
use crate::error::Result;
use crate::inputs::WeightedValues;
use crate::metric::{check_same_setting, Input, Metric, MetricInfo};

/// Every value seen, flattened in row-major order and concatenated in update order, as
/// TorchMetrics' `CatMetric`.
///
/// The state keeps every value, so its memory grows with the data: 8 bytes a value. `merge`
/// appends the other state's values after this one's, so merging in the order of the updates
/// gives the one-pass result. NaN values are handled by the [`NanStrategy`]. An empty metric
/// computes an empty array.
///
/// TorchMetrics keeps the trailing dimensions of batches without NaN values. This metric always
/// returns one flat array.
///
/// The batch is `(value, weight)`, and `weight` must be `None`.
///
/// # Example
///
/// TorchMetrics' documented example:
///
/// ```
/// use ferrometrics::aggregation::CatMetric;
/// use ferrometrics::Metric;
/// use ndarray::{arr0, array};
///
/// let mut metric = CatMetric::default();
/// metric.update((arr0(1.0).into_dyn().view(), None))?;
/// metric.update((array![2.0, 3.0].into_dyn().view(), None))?;
/// assert_eq!(metric.compute()?, array![1.0, 2.0, 3.0]);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CatMetric {
    nan_strategy: NanStrategy,
    values: Vec<f64>,
    nan_count: u64,
}

impl CatMetric {
    /// Creates an empty concatenation that handles NaN values with `nan_strategy`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::aggregation::{CatMetric, NanStrategy};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = CatMetric::new(NanStrategy::Ignore);
    /// metric.update((array![[1.0, f64::NAN], [3.0, 4.0]].into_dyn().view(), None))?;
    /// assert_eq!(metric.compute()?, array![1.0, 3.0, 4.0]);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    pub fn new(nan_strategy: NanStrategy) -> Self {
        Self {
            nan_strategy,
            ..Self::default()
        }
    }

    /// Returns the strategy for NaN values.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::aggregation::{CatMetric, NanStrategy};
    ///
    /// assert_eq!(CatMetric::default().nan_strategy(), NanStrategy::Warn);
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
    /// use ferrometrics::aggregation::CatMetric;
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = CatMetric::default();
    /// metric.update((array![f64::NAN, 2.0].into_dyn().view(), None))?;
    /// assert_eq!(metric.nan_count(), 1);
    /// assert_eq!(metric.compute()?, array![2.0]);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    pub fn nan_count(&self) -> u64 {
        self.nan_count
    }
}

impl Metric for CatMetric {
    type Kind = WeightedValues;
    type Output = Array1<f64>;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "CatMetric",
            higher_is_better: None,
            is_differentiable: true,
            lower_bound: f64::NEG_INFINITY,
            upper_bound: f64::INFINITY,
        }
    }

    /// Appends the batch's values.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidInput`](crate::Error::InvalidInput) if `weight` is given, and
    /// [`Error::NonFinite`](crate::Error::NonFinite) for a NaN under [`NanStrategy::Error`].
    fn update(&mut self, (value, weight): Input<'_, Self>) -> Result<()> {
        reject_weight("CatMetric", weight.as_ref())?;
        let mut batch = Vec::with_capacity(value.len());
        let nan_count = for_each_kept(self.nan_strategy, &value, None, |x, _| batch.push(x))?;

        self.values.extend(batch);
        self.nan_count += nan_count;
        Ok(())
    }

    fn compute(&self) -> Result<Array1<f64>> {
        Ok(Array1::from(self.values.clone()))
    }

    fn reset(&mut self) {
        *self = Self::new(self.nan_strategy);
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_setting(
            "CatMetric",
            "nan_strategy",
            &self.nan_strategy,
            &other.nan_strategy,
        )?;
        self.values.extend_from_slice(&other.values);
        self.nan_count += other.nan_count;
        Ok(())
    }
}
