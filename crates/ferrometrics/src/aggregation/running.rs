//! `RunningSum` and `RunningMean`: a sum and a mean over the last `window` updates.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::mean::MeanState;
use super::nan_strategy::{for_each_kept, reject_weight, NanStrategy};
use crate::error::{Error, Result};
use crate::inputs::WeightedValues;
use crate::metric::{check_same_config, check_same_setting, Input, Metric, MetricInfo};
use crate::numerics::CompensatedSum;

/// The window of TorchMetrics' `RunningSum` and `RunningMean` when none is given.
const DEFAULT_WINDOW: usize = 5;

/// The states of the last `size` updates, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Window<S> {
    size: usize,
    slots: VecDeque<S>,
}

impl<S: Clone> Window<S> {
    fn new(size: usize) -> Result<Self> {
        if size == 0 {
            return Err(Error::invalid_argument(
                "window",
                "the window must hold at least one update; pass a positive integer",
            ));
        }
        Ok(Self {
            size,
            slots: VecDeque::with_capacity(size),
        })
    }

    /// Appends the state of the newest update and drops the ones that left the window.
    fn push(&mut self, slot: S) {
        self.slots.push_back(slot);
        self.drop_oldest_overflow();
    }

    /// Appends `other`'s updates after this window's, as if they had come later.
    fn extend(&mut self, other: &Window<S>) {
        self.slots.extend(other.slots.iter().cloned());
        self.drop_oldest_overflow();
    }

    /// Combines the two windows update by update, aligned on the most recent update.
    fn combine_aligned(&mut self, other: &Window<S>, combine: impl Fn(&mut S, &S)) {
        let missing = other.slots.len().saturating_sub(self.slots.len());
        for slot in other.slots.iter().take(missing).rev() {
            self.slots.push_front(slot.clone());
        }

        let offset = self.slots.len() - other.slots.len();
        for (ours, theirs) in self
            .slots
            .iter_mut()
            .skip(offset)
            .zip(&other.slots)
            .skip(missing)
        {
            combine(ours, theirs);
        }
        self.drop_oldest_overflow();
    }

    fn drop_oldest_overflow(&mut self) {
        while self.slots.len() > self.size {
            self.slots.pop_front();
        }
    }
}

/// The sum of the values of the last `window` updates, as TorchMetrics' `RunningSum`.
///
/// The window counts updates (batches), not values: each update's values are summed as
/// [`SumMetric`](crate::aggregation::SumMetric) does, and `compute` adds the sums of the last
/// `window` updates. An update whose values were all dropped as NaN still takes a place in the
/// window. `forward` returns the batch's own sum. An empty metric computes 0.
///
/// `merge` treats the other state's updates as coming after this state's, so merging the states
/// of consecutive runs of updates in their order gives the one-pass result.
/// [`RunningSum::merge_aligned`] gives TorchMetrics' distributed sync instead.
///
/// The batch is `(value, weight)`, and `weight` must be `None`.
///
/// # Example
///
/// TorchMetrics' documented example, with a window of 3:
///
/// ```
/// use ferrometrics::aggregation::{NanStrategy, RunningSum};
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = RunningSum::new(3, NanStrategy::Warn)?;
/// let mut running = Vec::new();
/// for i in 0..6 {
///     let batch = array![f64::from(i)].into_dyn();
///     assert_eq!(metric.forward((batch.view(), None))?, f64::from(i));
///     running.push(metric.compute()?);
/// }
/// assert_eq!(running, [0.0, 1.0, 3.0, 6.0, 9.0, 12.0]);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningSum {
    nan_strategy: NanStrategy,
    window: Window<CompensatedSum>,
    nan_count: u64,
}

impl Default for RunningSum {
    /// Creates an empty metric with a window of 5 updates and [`NanStrategy::Warn`],
    /// TorchMetrics' defaults.
    fn default() -> Self {
        Self {
            nan_strategy: NanStrategy::default(),
            window: Window {
                size: DEFAULT_WINDOW,
                slots: VecDeque::new(),
            },
            nan_count: 0,
        }
    }
}

impl RunningSum {
    /// Creates an empty running sum over the last `window` updates.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `window` is 0.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::aggregation::{NanStrategy, RunningSum};
    ///
    /// assert_eq!(RunningSum::new(2, NanStrategy::Ignore)?.window(), 2);
    /// assert!(RunningSum::new(0, NanStrategy::Ignore).is_err());
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    pub fn new(window: usize, nan_strategy: NanStrategy) -> Result<Self> {
        Ok(Self {
            nan_strategy,
            window: Window::new(window)?,
            nan_count: 0,
        })
    }

    /// Returns the number of updates in the window.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::aggregation::RunningSum;
    ///
    /// assert_eq!(RunningSum::default().window(), 5);
    /// ```
    pub fn window(&self) -> usize {
        self.window.size
    }

    /// Returns the strategy for NaN values.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::aggregation::{NanStrategy, RunningSum};
    ///
    /// assert_eq!(RunningSum::default().nan_strategy(), NanStrategy::Warn);
    /// ```
    pub fn nan_strategy(&self) -> NanStrategy {
        self.nan_strategy
    }

    /// Returns how many NaN positions were dropped or replaced since the last reset, in every
    /// update and not only those in the window, merged states included. A caller that wants
    /// TorchMetrics' warning under [`NanStrategy::Warn`] raises it when this count grows.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::aggregation::RunningSum;
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = RunningSum::default();
    /// metric.update((array![f64::NAN, 2.0].into_dyn().view(), None))?;
    /// assert_eq!(metric.nan_count(), 1);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    pub fn nan_count(&self) -> u64 {
        self.nan_count
    }

    /// Adds `other`'s window to this one update by update, aligned on the most recent update.
    ///
    /// This is how TorchMetrics syncs a running metric across processes that saw the same number
    /// of batches: the result is the sum over the last `window` steps of every process.
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`] if the windows or NaN strategies differ.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::aggregation::RunningSum;
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut rank0 = RunningSum::default();
    /// let mut rank1 = RunningSum::default();
    /// for step in 0..7 {
    ///     rank0.update((array![f64::from(step)].into_dyn().view(), None))?;
    ///     rank1.update((array![10.0].into_dyn().view(), None))?;
    /// }
    /// rank0.merge_aligned(&rank1)?;
    /// // Steps 2 to 6 of rank 0, plus five steps of 10 from rank 1.
    /// assert_eq!(rank0.compute()?, 20.0 + 50.0);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    pub fn merge_aligned(&mut self, other: &Self) -> Result<()> {
        self.check_same_config(other)?;
        self.window
            .combine_aligned(&other.window, |ours, theirs| ours.merge(theirs));
        self.nan_count += other.nan_count;
        Ok(())
    }

    fn check_same_config(&self, other: &Self) -> Result<()> {
        check_same_config(
            "RunningSum",
            "window",
            &self.window.size,
            &other.window.size,
        )?;
        check_same_setting(
            "RunningSum",
            "nan_strategy",
            &self.nan_strategy,
            &other.nan_strategy,
        )
    }

    /// Validates a batch and returns its sum and NaN count.
    fn sum_batch(&self, (value, weight): Input<'_, Self>) -> Result<(CompensatedSum, u64)> {
        reject_weight("RunningSum", weight.as_ref())?;
        let mut sum = CompensatedSum::default();
        let nan_count = for_each_kept(self.nan_strategy, &value, None, |x, _| sum.add(x))?;
        Ok((sum, nan_count))
    }
}

impl Metric for RunningSum {
    type Kind = WeightedValues;
    type Output = f64;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "RunningSum",
            higher_is_better: None,
            is_differentiable: true,
            lower_bound: f64::NEG_INFINITY,
            upper_bound: f64::INFINITY,
        }
    }

    /// Pushes the batch's sum into the window.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidInput`] if `weight` is given, and [`Error::NonFinite`] for a NaN
    /// under [`NanStrategy::Error`].
    fn update(&mut self, input: Input<'_, Self>) -> Result<()> {
        let (sum, nan_count) = self.sum_batch(input)?;

        self.window.push(sum);
        self.nan_count += nan_count;
        Ok(())
    }

    fn compute(&self) -> Result<f64> {
        let mut total = CompensatedSum::default();
        for sum in &self.window.slots {
            total.merge(sum);
        }
        Ok(total.value())
    }

    fn reset(&mut self) {
        self.window.slots.clear();
        self.nan_count = 0;
    }

    /// Appends `other`'s updates after this state's and keeps the last `window` of them.
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`] if the windows or NaN strategies differ.
    fn merge(&mut self, other: &Self) -> Result<()> {
        self.check_same_config(other)?;
        self.window.extend(&other.window);
        self.nan_count += other.nan_count;
        Ok(())
    }

    /// Pushes the batch's sum into the window and returns it.
    ///
    /// # Errors
    ///
    /// Returns the errors of [`RunningSum::update`].
    fn forward(&mut self, input: Input<'_, Self>) -> Result<f64> {
        let (sum, nan_count) = self.sum_batch(input)?;

        self.window.push(sum);
        self.nan_count += nan_count;
        Ok(sum.value())
    }
}

/// The weighted mean of the values of the last `window` updates, as TorchMetrics' `RunningMean`.
///
/// The window counts updates (batches), not values: each update's weighted sums are kept as
/// [`MeanMetric`](crate::aggregation::MeanMetric) keeps them, with the same weights and NaN
/// handling, and `compute` divides the weighted sum of the last `window` updates by their summed
/// weight. An update whose values were all dropped as NaN still takes a place in the window.
/// `forward` returns the batch's own mean. An empty metric computes NaN (0 / 0).
///
/// `merge` treats the other state's updates as coming after this state's, so merging the states
/// of consecutive runs of updates in their order gives the one-pass result.
/// [`RunningMean::merge_aligned`] gives TorchMetrics' distributed sync instead.
///
/// # Example
///
/// TorchMetrics' documented example, with a window of 3:
///
/// ```
/// use ferrometrics::aggregation::{NanStrategy, RunningMean};
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = RunningMean::new(3, NanStrategy::Warn)?;
/// let mut running = Vec::new();
/// for i in 0..6 {
///     let batch = array![f64::from(i)].into_dyn();
///     assert_eq!(metric.forward((batch.view(), None))?, f64::from(i));
///     running.push(metric.compute()?);
/// }
/// assert_eq!(running, [0.0, 0.5, 1.0, 2.0, 3.0, 4.0]);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningMean {
    nan_strategy: NanStrategy,
    window: Window<MeanState>,
    nan_count: u64,
}

impl Default for RunningMean {
    /// Creates an empty metric with a window of 5 updates and [`NanStrategy::Warn`],
    /// TorchMetrics' defaults.
    fn default() -> Self {
        Self {
            nan_strategy: NanStrategy::default(),
            window: Window {
                size: DEFAULT_WINDOW,
                slots: VecDeque::new(),
            },
            nan_count: 0,
        }
    }
}

impl RunningMean {
    /// Creates an empty running mean over the last `window` updates.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `window` is 0.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::aggregation::{NanStrategy, RunningMean};
    ///
    /// assert_eq!(RunningMean::new(2, NanStrategy::Ignore)?.window(), 2);
    /// assert!(RunningMean::new(0, NanStrategy::Ignore).is_err());
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    pub fn new(window: usize, nan_strategy: NanStrategy) -> Result<Self> {
        Ok(Self {
            nan_strategy,
            window: Window::new(window)?,
            nan_count: 0,
        })
    }

    /// Returns the number of updates in the window.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::aggregation::RunningMean;
    ///
    /// assert_eq!(RunningMean::default().window(), 5);
    /// ```
    pub fn window(&self) -> usize {
        self.window.size
    }

    /// Returns the strategy for NaN values and weights.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::aggregation::{NanStrategy, RunningMean};
    ///
    /// assert_eq!(RunningMean::default().nan_strategy(), NanStrategy::Warn);
    /// ```
    pub fn nan_strategy(&self) -> NanStrategy {
        self.nan_strategy
    }

    /// Returns how many positions with a NaN value or weight were dropped or replaced since the
    /// last reset, in every update and not only those in the window, merged states included. A
    /// caller that wants TorchMetrics' warning under [`NanStrategy::Warn`] raises it when this
    /// count grows.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::aggregation::RunningMean;
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = RunningMean::default();
    /// metric.update((array![f64::NAN, 2.0].into_dyn().view(), None))?;
    /// assert_eq!(metric.nan_count(), 1);
    /// assert_eq!(metric.compute()?, 2.0);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    pub fn nan_count(&self) -> u64 {
        self.nan_count
    }

    /// Adds `other`'s window to this one update by update, aligned on the most recent update.
    ///
    /// This is how TorchMetrics syncs a running metric across processes that saw the same number
    /// of batches: the result is the mean over the last `window` steps of every process.
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`] if the windows or NaN strategies differ.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::aggregation::{NanStrategy, RunningMean};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut rank0 = RunningMean::new(2, NanStrategy::Warn)?;
    /// let mut rank1 = RunningMean::new(2, NanStrategy::Warn)?;
    /// for step in 0..3 {
    ///     rank0.update((array![f64::from(step)].into_dyn().view(), None))?;
    ///     rank1.update((array![10.0, 10.0].into_dyn().view(), None))?;
    /// }
    /// rank0.merge_aligned(&rank1)?;
    /// // Values 1 and 2 of rank 0 and four values of 10 from rank 1.
    /// assert_eq!(rank0.compute()?, 43.0 / 6.0);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    pub fn merge_aligned(&mut self, other: &Self) -> Result<()> {
        self.check_same_config(other)?;
        self.window
            .combine_aligned(&other.window, |ours, theirs| ours.merge(theirs));
        self.nan_count += other.nan_count;
        Ok(())
    }

    fn check_same_config(&self, other: &Self) -> Result<()> {
        check_same_config(
            "RunningMean",
            "window",
            &self.window.size,
            &other.window.size,
        )?;
        check_same_setting(
            "RunningMean",
            "nan_strategy",
            &self.nan_strategy,
            &other.nan_strategy,
        )
    }

    /// Validates a batch and returns its weighted sums and NaN count.
    fn sum_batch(&self, (value, weight): Input<'_, Self>) -> Result<(MeanState, u64)> {
        MeanState::of_batch(self.nan_strategy, &value, weight.as_ref())
    }
}

impl Metric for RunningMean {
    type Kind = WeightedValues;
    type Output = f64;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "RunningMean",
            higher_is_better: None,
            is_differentiable: true,
            lower_bound: f64::NEG_INFINITY,
            upper_bound: f64::INFINITY,
        }
    }

    /// Pushes the batch's weighted sums into the window.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidInput`] if `weight` does not broadcast to the shape of `value`,
    /// and [`Error::NonFinite`] for a NaN value or weight under [`NanStrategy::Error`].
    fn update(&mut self, input: Input<'_, Self>) -> Result<()> {
        let (state, nan_count) = self.sum_batch(input)?;

        self.window.push(state);
        self.nan_count += nan_count;
        Ok(())
    }

    fn compute(&self) -> Result<f64> {
        let mut total = MeanState::default();
        for state in &self.window.slots {
            total.merge(state);
        }
        Ok(total.mean())
    }

    fn reset(&mut self) {
        self.window.slots.clear();
        self.nan_count = 0;
    }

    /// Appends `other`'s updates after this state's and keeps the last `window` of them.
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`] if the windows or NaN strategies differ.
    fn merge(&mut self, other: &Self) -> Result<()> {
        self.check_same_config(other)?;
        self.window.extend(&other.window);
        self.nan_count += other.nan_count;
        Ok(())
    }

    /// Pushes the batch's weighted sums into the window and returns the batch's mean.
    ///
    /// # Errors
    ///
    /// Returns the errors of [`RunningMean::update`].
    fn forward(&mut self, input: Input<'_, Self>) -> Result<f64> {
        let (state, nan_count) = self.sum_batch(input)?;

        self.window.push(state);
        self.nan_count += nan_count;
        Ok(state.mean())
    }
}
