//! `SumMetric`: the sum of every value seen.

use serde::{Deserialize, Serialize};

use super::nan_strategy::{
    aggregation_sums, for_each_kept, kept_row_terms, reject_weight, NanStrategy,
};
use crate::error::Result;
use crate::inputs::WeightedValues;
use crate::metric::{check_same_setting, Input, Metric, MetricInfo};
use crate::numerics::CompensatedSum;
use crate::wrappers::{SampleTerms, TermSums};

/// The sum of every value seen, as TorchMetrics' `SumMetric`.
///
/// Values of any shape are flattened. NaN values are handled by the [`NanStrategy`], and infinite
/// values enter the sum as they are, so `inf` and `-inf` together give NaN. The state is a
/// compensated sum, so any split into batches and any merge order give the one-pass sum within
/// 1e-12 relative unless the values cancel almost exactly. An empty metric computes 0.
///
/// The batch is `(value, weight)`, and `weight` must be `None`.
///
/// # Example
///
/// TorchMetrics' documented example:
///
/// ```
/// use ferrometrics::aggregation::SumMetric;
/// use ferrometrics::Metric;
/// use ndarray::{arr0, array};
///
/// let mut metric = SumMetric::default();
/// metric.update((arr0(1.0).into_dyn().view(), None))?;
/// metric.update((array![2.0, 3.0].into_dyn().view(), None))?;
/// assert_eq!(metric.compute()?, 6.0);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SumMetric {
    nan_strategy: NanStrategy,
    sum: CompensatedSum,
    nan_count: u64,
}

impl SumMetric {
    /// Creates an empty sum that handles NaN values with `nan_strategy`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::aggregation::{NanStrategy, SumMetric};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = SumMetric::new(NanStrategy::Replace(10.0));
    /// metric.update((array![1.0, f64::NAN].into_dyn().view(), None))?;
    /// assert_eq!(metric.compute()?, 11.0);
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
    /// use ferrometrics::aggregation::{NanStrategy, SumMetric};
    ///
    /// assert_eq!(SumMetric::default().nan_strategy(), NanStrategy::Warn);
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
    /// use ferrometrics::aggregation::SumMetric;
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = SumMetric::default();
    /// metric.update((array![1.0, f64::NAN, f64::NAN].into_dyn().view(), None))?;
    /// assert_eq!(metric.nan_count(), 2);
    /// assert_eq!(metric.compute()?, 1.0);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    pub fn nan_count(&self) -> u64 {
        self.nan_count
    }
}

impl Metric for SumMetric {
    type Kind = WeightedValues;
    type Output = f64;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "SumMetric",
            higher_is_better: None,
            is_differentiable: true,
            lower_bound: f64::NEG_INFINITY,
            upper_bound: f64::INFINITY,
        }
    }

    /// Adds the batch's values to the sum.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidInput`](crate::Error::InvalidInput) if `weight` is given, and
    /// [`Error::NonFinite`](crate::Error::NonFinite) for a NaN under [`NanStrategy::Error`].
    fn update(&mut self, (value, weight): Input<'_, Self>) -> Result<()> {
        reject_weight("SumMetric", weight.as_ref())?;
        let mut batch_sum = CompensatedSum::default();
        let nan_count = for_each_kept(self.nan_strategy, &value, None, |x, _| batch_sum.add(x))?;

        self.sum.merge(&batch_sum);
        self.nan_count += nan_count;
        Ok(())
    }

    /// Returns the terms of [`MeanMetric`](super::MeanMetric)'s `sample_terms`, of which the
    /// sum uses the kept values and the NaN positions. See [`Metric::sample_terms`].
    fn sample_terms(&self, (value, weight): Input<'_, Self>) -> Option<Result<SampleTerms>> {
        let terms = reject_weight("SumMetric", weight.as_ref())
            .and_then(|()| kept_row_terms(self.nan_strategy, &value, None));
        Some(terms)
    }

    fn add_term_sums(&mut self, sums: &TermSums) -> Result<()> {
        let (sum, _, nan_count) = aggregation_sums("SumMetric", sums)?;
        self.sum.merge(&sum);
        self.nan_count += nan_count;
        Ok(())
    }

    fn compute(&self) -> Result<f64> {
        Ok(self.sum.value())
    }

    fn reset(&mut self) {
        *self = Self::new(self.nan_strategy);
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_setting(
            "SumMetric",
            "nan_strategy",
            &self.nan_strategy,
            &other.nan_strategy,
        )?;
        self.sum.merge(&other.sum);
        self.nan_count += other.nan_count;
        Ok(())
    }
}
