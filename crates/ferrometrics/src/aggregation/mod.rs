//! Aggregation metrics over streams of numbers, as TorchMetrics' `torchmetrics.aggregation`: sum,
//! weighted mean, maximum, minimum, concatenation, and the running sum and mean over the last
//! updates.
//!
//! Every metric here takes [`WeightedValues`](crate::inputs::WeightedValues) batches,
//! `(value, weight)` with `value` of any shape, and handles NaN values with a [`NanStrategy`].
//! Only [`MeanMetric`] and [`RunningMean`] take weights; the others reject a `weight`.
//!
//! # Example
//!
//! ```
//! use ferrometrics::aggregation::{MeanMetric, NanStrategy};
//! use ferrometrics::Metric;
//! use ndarray::array;
//!
//! let mut metric = MeanMetric::new("warn".parse::<NanStrategy>()?);
//! metric.update((array![1.0, f64::NAN, 3.0].into_dyn().view(), None))?;
//! assert_eq!(metric.compute()?, 2.0);
//! assert_eq!(metric.nan_count(), 1);
//! # Ok::<(), ferrometrics::Error>(())
//! ```

mod cat;
mod extremum;
mod mean;
mod nan_strategy;
mod running;
mod sum;

pub use cat::CatMetric;
pub use extremum::{MaxMetric, MinMetric};
pub use mean::MeanMetric;
pub use nan_strategy::NanStrategy;
pub use running::{RunningMean, RunningSum};
pub use sum::SumMetric;

#[cfg(test)]
mod tests;
