//! `MeanMetric`: the weighted mean of every value seen.

use ndarray::ArrayViewD;
use serde::{Deserialize, Serialize};

use super::nan_strategy::{aggregation_sums, for_each_kept, kept_row_terms, NanStrategy};
use crate::error::Result;
use crate::inputs::WeightedValues;
use crate::metric::{check_same_setting, Input, Metric, MetricInfo};
use crate::numerics::CompensatedSum;
use crate::wrappers::{SampleTerms, TermSums};

/// The weighted sums behind a mean: `sum(w * x)` and `sum(w)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct MeanState {
    weighted_sum: CompensatedSum,
    weight_sum: CompensatedSum,
}

impl MeanState {
    /// Returns the sums of one batch and the number of NaN positions that `nan_strategy` dropped
    /// or replaced. `weight` is broadcast to the shape of `value`, and `None` weighs every
    /// value 1.
    ///
    /// # Errors
    ///
    /// Returns the errors of the NaN strategy and of the broadcast.
    pub(crate) fn of_batch(
        nan_strategy: NanStrategy,
        value: &ArrayViewD<'_, f64>,
        weight: Option<&ArrayViewD<'_, f64>>,
    ) -> Result<(Self, u64)> {
        let mut state = MeanState::default();
        let nan_count = for_each_kept(nan_strategy, value, weight, |x, w| {
            state.weighted_sum.add(x * w);
            state.weight_sum.add(w);
        })?;
        Ok((state, nan_count))
    }

    pub(crate) fn merge(&mut self, other: &MeanState) {
        self.weighted_sum.merge(&other.weighted_sum);
        self.weight_sum.merge(&other.weight_sum);
    }

    /// Returns `sum(w * x) / sum(w)`, NaN when no value was kept (0 / 0), as TorchMetrics.
    pub(crate) fn mean(&self) -> f64 {
        self.weighted_sum.value() / self.weight_sum.value()
    }
}

/// The weighted mean of every value seen, `sum(w * x) / sum(w)`, as TorchMetrics' `MeanMetric`.
///
/// The batch is `(value, weight)`. `weight` is broadcast to the shape of `value` (a scalar weight
/// applies to every value), and `None` gives every value weight 1. Under
/// [`NanStrategy::Warn`] and [`NanStrategy::Ignore`], a position whose value or weight is NaN is
/// dropped with its weight. Under [`NanStrategy::Replace`], such a position gets the replacement
/// value and weight 1, as recent TorchMetrics 1.x releases do.
///
/// The state is two compensated sums, so merging batches in any order gives the one-pass mean
/// within 1e-12 relative. An empty metric, or one whose weights sum to 0, computes NaN (0 / 0),
/// as TorchMetrics does.
///
/// # Example
///
/// TorchMetrics' documented example, then a weighted batch:
///
/// ```
/// use ferrometrics::aggregation::MeanMetric;
/// use ferrometrics::Metric;
/// use ndarray::{arr0, array};
///
/// let mut metric = MeanMetric::default();
/// metric.update((arr0(1.0).into_dyn().view(), None))?;
/// metric.update((array![2.0, 3.0].into_dyn().view(), None))?;
/// assert_eq!(metric.compute()?, 2.0);
///
/// let mut weighted = MeanMetric::default();
/// let weight = array![3.0, 1.0].into_dyn();
/// weighted.update((array![1.0, 5.0].into_dyn().view(), Some(weight.view())))?;
/// assert_eq!(weighted.compute()?, 2.0);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MeanMetric {
    nan_strategy: NanStrategy,
    state: MeanState,
    nan_count: u64,
}

impl MeanMetric {
    /// Creates an empty mean that handles NaN values and NaN weights with `nan_strategy`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::aggregation::{MeanMetric, NanStrategy};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = MeanMetric::new(NanStrategy::Ignore);
    /// let weight = array![1.0, f64::NAN, 1.0].into_dyn();
    /// metric.update((array![1.0, 100.0, 3.0].into_dyn().view(), Some(weight.view())))?;
    /// assert_eq!(metric.compute()?, 2.0);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    pub fn new(nan_strategy: NanStrategy) -> Self {
        Self {
            nan_strategy,
            ..Self::default()
        }
    }

    /// Returns the strategy for NaN values and weights.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::aggregation::{MeanMetric, NanStrategy};
    ///
    /// assert_eq!(MeanMetric::new(NanStrategy::Error).nan_strategy(), NanStrategy::Error);
    /// ```
    pub fn nan_strategy(&self) -> NanStrategy {
        self.nan_strategy
    }

    /// Returns how many positions with a NaN value or weight were dropped or replaced since the
    /// last reset, merged states included. A caller that wants TorchMetrics' warning under
    /// [`NanStrategy::Warn`] raises it when this count grows.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::aggregation::MeanMetric;
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = MeanMetric::default();
    /// metric.update((array![f64::NAN, 4.0].into_dyn().view(), None))?;
    /// assert_eq!(metric.nan_count(), 1);
    /// assert_eq!(metric.compute()?, 4.0);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    pub fn nan_count(&self) -> u64 {
        self.nan_count
    }
}

impl Metric for MeanMetric {
    type Kind = WeightedValues;
    type Output = f64;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "MeanMetric",
            higher_is_better: None,
            is_differentiable: true,
            lower_bound: f64::NEG_INFINITY,
            upper_bound: f64::INFINITY,
        }
    }

    /// Adds the batch's weighted values and weights to the sums.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidInput`](crate::Error::InvalidInput) if `weight` does not broadcast
    /// to the shape of `value`, and [`Error::NonFinite`](crate::Error::NonFinite) for a NaN value
    /// or weight under [`NanStrategy::Error`].
    fn update(&mut self, (value, weight): Input<'_, Self>) -> Result<()> {
        let (batch, nan_count) = MeanState::of_batch(self.nan_strategy, &value, weight.as_ref())?;

        self.state.merge(&batch);
        self.nan_count += nan_count;
        Ok(())
    }

    /// Returns three terms per row of `value`: the kept `value * weight` and `weight` sums and
    /// the NaN positions dropped or replaced. See [`Metric::sample_terms`].
    fn sample_terms(&self, (value, weight): Input<'_, Self>) -> Option<Result<SampleTerms>> {
        Some(kept_row_terms(self.nan_strategy, &value, weight.as_ref()))
    }

    fn add_term_sums(&mut self, sums: &TermSums) -> Result<()> {
        let (weighted_sum, weight_sum, nan_count) = aggregation_sums("MeanMetric", sums)?;
        self.state.weighted_sum.merge(&weighted_sum);
        self.state.weight_sum.merge(&weight_sum);
        self.nan_count += nan_count;
        Ok(())
    }

    fn compute(&self) -> Result<f64> {
        Ok(self.state.mean())
    }

    fn reset(&mut self) {
        *self = Self::new(self.nan_strategy);
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_setting(
            "MeanMetric",
            "nan_strategy",
            &self.nan_strategy,
            &other.nan_strategy,
        )?;
        self.state.merge(&other.state);
        self.nan_count += other.nan_count;
        Ok(())
    }
}
