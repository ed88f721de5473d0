//! The dynamic result type shared by collections, wrappers and the bindings.

use ndarray::{Array1, Array2, ArrayD};

/// The result of a metric, as seen by code that handles many kinds of metrics at once.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A single number.
    Scalar(f64),
    /// An array of any dimension, such as a per-class result or a concatenation.
    Array(ArrayD<f64>),
    /// Named results in the order the metric produces them, such as a bootstrap's mean and std.
    Map(Vec<(String, Value)>),
}

impl Value {
    /// Returns the number if this is a [`Value::Scalar`].
    pub fn as_scalar(&self) -> Option<f64> {
        match self {
            Value::Scalar(x) => Some(*x),
            _ => None,
        }
    }

    /// Returns the named entries if this is a [`Value::Map`].
    pub fn as_map(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::Scalar(x)
    }
}

impl From<ArrayD<f64>> for Value {
    fn from(array: ArrayD<f64>) -> Self {
        Value::Array(array)
    }
}

impl From<Array1<f64>> for Value {
    fn from(array: Array1<f64>) -> Self {
        Value::Array(array.into_dyn())
    }
}

impl From<Array2<f64>> for Value {
    fn from(array: Array2<f64>) -> Self {
        Value::Array(array.into_dyn())
    }
}

impl From<Array2<u64>> for Value {
    fn from(array: Array2<u64>) -> Self {
        Value::Array(array.mapv(|count| count as f64).into_dyn())
    }
}

impl From<Vec<(String, Value)>> for Value {
    fn from(entries: Vec<(String, Value)>) -> Self {
        Value::Map(entries)
    }
}
