//! Wrappers that change how any metric accumulates or reports, as TorchMetrics'
//! `torchmetrics.wrappers`.
//!
//! Each wrapper is generic over the wrapped [`Metric`] and is a [`Metric`] itself, so its state
//! merges, serializes and sits in a [`MetricCollection`](crate::MetricCollection) like any
//! other. [`MetricTracker`] is the exception: it keeps one copy of a metric per step and is not
//! a metric.
//!
//! | wrapper | output |
//! | --- | --- |
//! | [`BootStrapper`] | `mean`, `std`, `quantile`, `raw` of resampled replicates |
//! | [`ClasswiseWrapper`] | one entry per class of a per-class array |
//! | [`MinMaxMetric`] | `raw`, `max`, `min` over the values computed so far |
//! | [`MultioutputWrapper`] | one value per output column |
//! | [`MultitaskWrapper`] | one value per named task |
//! | [`Running`] | the value over the last `window` updates |
//! | [`MetricTracker`] | one value per step, and the best step |
//!
//! A wrapper's serialized state is tagged with the wrapper's and the base metric's names (see
//! [`Metric::state_name`]), so `from_bytes` rejects the bytes of `MinMaxMetric<SumMetric>` as a
//! `MinMaxMetric<MaxMetric>` even though the two base states share a layout.

mod bootstrap;
mod classwise;
mod minmax;
mod multioutput;
mod multitask;
mod resample;
mod running;
mod tracker;
mod weighted;

pub use bootstrap::{
    bootstrap_indices, summarize_replicates, BootStrapper, BootstrapOptions, Quantile,
    ReplicateSummary, SamplingStrategy, MAX_BOOTSTRAPS,
};
pub use classwise::ClasswiseWrapper;
pub use minmax::MinMaxMetric;
pub use multioutput::{MultioutputWrapper, SplitOutputs};
pub use multitask::{MultitaskWrapper, Tasks};
pub use resample::Resample;
pub use running::Running;
pub use tracker::{BestValue, MetricTracker, Tracked};
pub use weighted::{poisson_term_sums, SampleTerms, TermSums};

use ndarray::ArrayD;

use crate::error::{Error, Result};
use crate::metric::Metric;
use crate::value::Value;

/// Returns the state name of `wrapper` around `base`, such as `MinMaxMetric<SumMetric>`, or
/// the wrapper's name alone when it contains no base metric.
fn wrapped_state_name<M: Metric>(wrapper: &str, base: Option<&M>) -> String {
    match base {
        Some(base) => format!("{wrapper}<{}>", base.state_name()),
        None => wrapper.to_owned(),
    }
}

/// Returns a scalar as a 0-d array and an array as it is, for wrappers that combine values.
fn value_to_array(wrapper: &str, value: Value) -> Result<ArrayD<f64>> {
    match value {
        Value::Scalar(x) => Ok(ndarray::arr0(x).into_dyn()),
        Value::Array(array) => Ok(array),
        Value::Map(entries) => {
            let keys: Vec<&str> = entries.iter().map(|(key, _)| key.as_str()).collect();
            Err(Error::invalid_input(
                "base_metric",
                format!(
                    "{wrapper} needs a base metric whose value is a number or an array, got a \
                     map with keys {keys:?}"
                ),
            ))
        }
    }
}

/// Returns the number in a scalar value.
fn value_to_scalar(wrapper: &str, value: Value) -> Result<f64> {
    match value {
        Value::Scalar(x) => Ok(x),
        Value::Array(array) if array.len() == 1 => Ok(array.iter().copied().next().unwrap_or(0.0)),
        other => Err(Error::invalid_input(
            "base_metric",
            format!(
                "{wrapper} needs a base metric whose value is one number, got {}",
                describe(&other)
            ),
        )),
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Scalar(_) => "a number".to_owned(),
        Value::Array(array) => format!("an array of shape {:?}", array.shape()),
        Value::Map(entries) => {
            let keys: Vec<&str> = entries.iter().map(|(key, _)| key.as_str()).collect();
            format!("a map with keys {keys:?}")
        }
    }
}
