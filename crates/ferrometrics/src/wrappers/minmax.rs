//! `MinMaxMetric`: a metric's value with the largest and smallest values computed so far.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::value_to_scalar;
use crate::error::Result;
use crate::metric::{Input, Metric, MetricInfo};
use crate::value::Value;

/// The largest and smallest values that `compute` returned since the last reset.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Extremes {
    max: f64,
    min: f64,
}

impl Default for Extremes {
    fn default() -> Self {
        Self {
            max: f64::NEG_INFINITY,
            min: f64::INFINITY,
        }
    }
}

impl Extremes {
    /// Widens the range to `value`. A NaN value leaves it as it is, as TorchMetrics' `<`
    /// comparisons do.
    fn include(&mut self, value: f64) {
        if value > self.max {
            self.max = value;
        }
        if value < self.min {
            self.min = value;
        }
    }
}

/// A metric's value together with the largest and smallest values it took at earlier
/// `compute` calls, as TorchMetrics' `MinMaxMetric`.
///
/// `compute` returns a map with `raw` (the current value), `max` and `min`, and widens the
/// tracked range to the current value, so the range covers every value computed since the last
/// reset. `forward` computes the batch's own value, which enters the range when the batch is
/// accumulated. The base metric's value must be one number.
///
/// `merge` merges the base states and takes the wider of the two ranges.
///
/// # Example
///
/// ```
/// use ferrometrics::aggregation::MeanMetric;
/// use ferrometrics::wrappers::MinMaxMetric;
/// use ferrometrics::{Metric, Value};
/// use ndarray::array;
///
/// let mut metric = MinMaxMetric::new(MeanMetric::default());
/// metric.update((array![4.0].into_dyn().view(), None))?;
/// metric.compute()?;
/// metric.update((array![0.0, 0.0, 0.0].into_dyn().view(), None))?;
/// let output = metric.compute()?;
///
/// assert_eq!(output[0], ("raw".to_owned(), Value::Scalar(1.0)));
/// assert_eq!(output[1], ("max".to_owned(), Value::Scalar(4.0)));
/// assert_eq!(output[2], ("min".to_owned(), Value::Scalar(1.0)));
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Serialize, Deserialize)]
pub struct MinMaxMetric<M> {
    base: M,
    /// Behind a lock because `compute`, which takes `&self`, widens the range.
    extremes: Mutex<Extremes>,
}

impl<M: Clone> Clone for MinMaxMetric<M> {
    fn clone(&self) -> Self {
        Self {
            base: self.base.clone(),
            extremes: Mutex::new(self.extremes()),
        }
    }
}

impl<M> MinMaxMetric<M> {
    /// Wraps `base_metric`, keeping its state, with an empty range.
    pub fn new(base_metric: M) -> Self {
        Self {
            base: base_metric,
            extremes: Mutex::new(Extremes::default()),
        }
    }

    /// Returns the wrapped metric.
    pub fn base_metric(&self) -> &M {
        &self.base
    }

    /// Returns the largest value computed since the last reset, `-inf` before the first.
    pub fn max(&self) -> f64 {
        self.extremes().max
    }

    /// Returns the smallest value computed since the last reset, `+inf` before the first.
    pub fn min(&self) -> f64 {
        self.extremes().min
    }

    fn extremes(&self) -> Extremes {
        // A poisoned lock still holds a valid pair of numbers.
        *self
            .extremes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn set_extremes(&self, extremes: Extremes) {
        *self
            .extremes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = extremes;
    }
}

impl<M: Metric> Metric for MinMaxMetric<M> {
    type Kind = M::Kind;
    type Output = Vec<(String, Value)>;

    fn info(&self) -> MetricInfo {
        let base = self.base.info();
        MetricInfo {
            name: "MinMaxMetric",
            higher_is_better: None,
            is_differentiable: false,
            lower_bound: base.lower_bound,
            upper_bound: base.upper_bound,
        }
    }

    fn state_name(&self) -> String {
        super::wrapped_state_name("MinMaxMetric", Some(&self.base))
    }

    fn update(&mut self, input: Input<'_, Self>) -> Result<()> {
        self.base.update(input)
    }

    /// Computes the base value, widens the range to it and returns `raw`, `max` and `min`.
    ///
    /// # Errors
    ///
    /// Returns the base metric's error, and [`Error::InvalidInput`](crate::Error::InvalidInput)
    /// if its value is not one number.
    fn compute(&self) -> Result<Vec<(String, Value)>> {
        let raw = value_to_scalar("MinMaxMetric", self.base.compute()?.into())?;

        let mut extremes = self.extremes();
        extremes.include(raw);
        self.set_extremes(extremes);
        Ok(vec![
            ("raw".to_owned(), Value::Scalar(raw)),
            ("max".to_owned(), Value::Scalar(extremes.max)),
            ("min".to_owned(), Value::Scalar(extremes.min)),
        ])
    }

    fn reset(&mut self) {
        self.base.reset();
        self.set_extremes(Extremes::default());
    }

    /// Merges the base states and widens the range to `other`'s.
    ///
    /// # Errors
    ///
    /// Returns the base metric's [`Error::IncompatibleState`](crate::Error::IncompatibleState).
    fn merge(&mut self, other: &Self) -> Result<()> {
        self.base.merge(&other.base)?;

        let theirs = other.extremes();
        let mut extremes = self.extremes();
        extremes.include(theirs.max);
        extremes.include(theirs.min);
        self.set_extremes(extremes);
        Ok(())
    }
}
