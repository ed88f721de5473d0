//! `ClasswiseWrapper`: a per-class array output as one named entry per class.

use ndarray::Axis;
use serde::{Deserialize, Serialize};

use super::{describe, value_to_array};
use crate::error::{Error, Result};
use crate::metric::{check_same_config, Input, Metric, MetricInfo};
use crate::value::Value;

/// A metric whose value has one entry per class, reported as a map with one key per class, as
/// TorchMetrics' `ClasswiseWrapper`.
///
/// The key of class `i` is `{prefix}{label}{postfix}`, where `label` is `labels[i]` or `i`.
/// Without a prefix and a postfix (both `None` or empty), the prefix is the base metric's class
/// name in lower case followed by `_`, as TorchMetrics does. The entries follow the first axis
/// of the base value, so a 2-d value gives one row per key.
///
/// # Example
///
/// ```
/// use ferrometrics::aggregation::CatMetric;
/// use ferrometrics::wrappers::ClasswiseWrapper;
/// use ferrometrics::{Metric, Value};
/// use ndarray::array;
///
/// let labels = vec!["cat".to_owned(), "dog".to_owned()];
/// let mut metric = ClasswiseWrapper::new(CatMetric::default(), Some(labels), None, None);
/// metric.update((array![0.5, 0.25].into_dyn().view(), None))?;
///
/// let output = metric.compute()?;
/// assert_eq!(output[0], ("catmetric_cat".to_owned(), Value::Scalar(0.5)));
/// assert_eq!(output[1], ("catmetric_dog".to_owned(), Value::Scalar(0.25)));
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClasswiseWrapper<M> {
    base: M,
    labels: Option<Vec<String>>,
    prefix: Option<String>,
    postfix: Option<String>,
}

/// Returns the first label that occurs twice in `labels`.
fn first_repeated(labels: &[String]) -> Option<&str> {
    let mut seen = std::collections::HashSet::new();
    labels
        .iter()
        .find(|label| !seen.insert(label.as_str()))
        .map(String::as_str)
}

impl<M: Metric> ClasswiseWrapper<M> {
    /// Wraps `metric`, keeping its state.
    pub fn new(
        metric: M,
        labels: Option<Vec<String>>,
        prefix: Option<String>,
        postfix: Option<String>,
    ) -> Self {
        Self {
            base: metric,
            labels,
            prefix,
            postfix,
        }
    }

    /// Returns the wrapped metric.
    pub fn metric(&self) -> &M {
        &self.base
    }

    /// Returns the key of the entry with label `label`.
    fn key(&self, label: &str) -> String {
        let prefix = self.prefix.as_deref().unwrap_or_default();
        let postfix = self.postfix.as_deref().unwrap_or_default();
        if prefix.is_empty() && postfix.is_empty() {
            let class = self.base.info().name.to_lowercase();
            return format!("{class}_{label}");
        }
        format!("{prefix}{label}{postfix}")
    }

    /// Splits a per-class value into named entries.
    fn convert(&self, value: Value) -> Result<Vec<(String, Value)>> {
        let described = describe(&value);
        let array = value_to_array("ClasswiseWrapper", value)?;
        if array.ndim() == 0 {
            return Err(Error::invalid_input(
                "metric",
                format!(
                    "ClasswiseWrapper needs a base metric whose value has one entry per class, \
                     got {described}"
                ),
            ));
        }
        let classes = array.len_of(Axis(0));
        if let Some(labels) = &self.labels {
            if labels.len() != classes {
                return Err(Error::invalid_argument(
                    "labels",
                    format!(
                        "got {} labels for a value with {classes} classes; pass one label per \
                         class",
                        labels.len()
                    ),
                ));
            }
            if let Some(repeated) = first_repeated(labels) {
                return Err(Error::invalid_argument(
                    "labels",
                    format!(
                        "{repeated:?} is given twice, so two classes would share one key; pass \
                         distinct labels"
                    ),
                ));
            }
        }

        let mut entries = Vec::with_capacity(classes);
        for (class, row) in array.axis_iter(Axis(0)).enumerate() {
            let label = match &self.labels {
                Some(labels) => labels[class].clone(),
                None => class.to_string(),
            };
            let entry = if row.ndim() == 0 {
                Value::Scalar(row[[]])
            } else {
                Value::Array(row.to_owned())
            };
            entries.push((self.key(&label), entry));
        }
        Ok(entries)
    }
}

impl<M: Metric> Metric for ClasswiseWrapper<M> {
    type Kind = M::Kind;
    type Output = Vec<(String, Value)>;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "ClasswiseWrapper",
            ..self.base.info()
        }
    }

    fn state_name(&self) -> String {
        super::wrapped_state_name("ClasswiseWrapper", Some(&self.base))
    }

    fn update(&mut self, input: Input<'_, Self>) -> Result<()> {
        self.base.update(input)
    }

    /// Computes the base value and names its entries.
    ///
    /// # Errors
    ///
    /// Returns the base metric's error, [`Error::InvalidInput`] if the value is not an array,
    /// and [`Error::InvalidArgument`] if `labels` has another length than the value.
    fn compute(&self) -> Result<Vec<(String, Value)>> {
        self.convert(self.base.compute()?.into())
    }

    fn reset(&mut self) {
        self.base.reset();
    }

    /// Merges the base states.
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`] if the labels, prefixes, postfixes or base metrics
    /// differ.
    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_config("ClasswiseWrapper", "labels", &self.labels, &other.labels)?;
        check_same_config("ClasswiseWrapper", "prefix", &self.prefix, &other.prefix)?;
        check_same_config("ClasswiseWrapper", "postfix", &self.postfix, &other.postfix)?;
        self.base.merge(&other.base)
    }

    /// Returns the named entries of the batch's own value and accumulates the batch.
    ///
    /// # Errors
    ///
    /// Returns the errors of `update` and `compute`, and changes nothing on an error.
    fn forward(&mut self, input: Input<'_, Self>) -> Result<Vec<(String, Value)>> {
        let mut batch = self.base.empty();
        batch.update(input)?;

        let value = self.convert(batch.compute()?.into())?;
        self.base.merge(&batch)?;
        Ok(value)
    }
}
