//! Machine-learning evaluation metrics that accumulate over batches, merge across threads,
//! processes and machines, and give the values of the field's reference implementations.
//!
//! Every metric implements [`Metric`]: [`update`](Metric::update) folds a batch into a state,
//! [`compute`](Metric::compute) reads the value off the state, [`merge`](Metric::merge) folds
//! another worker's state in, and the state serializes for checkpoints and distributed sync.
//! Each domain module also has plain functions over whole inputs, built on the same kernels as
//! the stateful metrics.
//!
//! # Example
//!
//! ```
//! use ferrometrics::clustering::RandScore;
//! use ferrometrics::Metric;
//! use ndarray::array;
//!
//! let mut metric = RandScore::new();
//! metric.update((array![2, 1, 0].view(), array![0, 2, 1].view()))?;
//! metric.update((array![1, 0].view(), array![1, 0].view()))?;
//! assert!((metric.compute()? - 0.6).abs() < 1e-12);
//! # Ok::<(), ferrometrics::Error>(())
//! ```

pub mod aggregation;
pub mod classification;
pub mod clustering;
mod collection;
pub mod detection;
pub mod distributed;
mod dynamic;
mod error;
pub mod inputs;
mod large_buffer;
mod metric;
pub mod numerics;
mod radix;
pub mod regression;
mod value;
pub mod wrappers;

pub use collection::MetricCollection;
pub use dynamic::DynMetric;
pub(crate) use error::check_same_length;
pub use error::{Error, Result};
pub use large_buffer::reuse_column;
pub use metric::{check_same_config, check_same_setting, Input, InputKind, Metric, MetricInfo};
pub use value::Value;
