//! The `Metric` trait, the facts every metric exposes, and state serialization.

use std::any::Any;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::value::Value;
use crate::wrappers::{SampleTerms, TermSums};

/// Facts about a metric that do not depend on its state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricInfo {
    /// The metric's class name, as TorchMetrics spells it (for example `"RandScore"`).
    pub name: &'static str,
    /// `Some(true)` if larger values are better, `Some(false)` if smaller values are better, and
    /// `None` where no direction is better (for example a sum).
    pub higher_is_better: Option<bool>,
    /// Whether the value is a differentiable function of the predictions.
    pub is_differentiable: bool,
    /// The smallest value the metric can take, `f64::NEG_INFINITY` if unbounded.
    pub lower_bound: f64,
    /// The largest value the metric can take, `f64::INFINITY` if unbounded.
    pub upper_bound: f64,
}

/// The shape of a metric's batch, shared by every metric that takes that kind of input.
///
/// Metrics with the same `InputKind` can sit in one [`MetricCollection`](crate::MetricCollection).
pub trait InputKind: 'static {
    /// The borrowed batch. Cloning it is cheap, so one batch can be handed to several metrics.
    type Input<'a>: Clone;
}

/// The batch type of metric `M`.
pub type Input<'a, M> = <<M as Metric>::Kind as InputKind>::Input<'a>;

/// A metric that accumulates batches into a state and computes a value from it.
///
/// Implementations keep the contract below, which the tests of every metric check:
///
/// - `update` validates the whole batch before it changes anything, so a rejected batch leaves
///   the state untouched.
/// - `compute` is a pure function of the state.
/// - For any split of the data into batches and any merge order, `merge` gives the state that
///   one `update` over all the data gives: exactly for integer states, within 1e-12 relative for
///   floating-point states.
pub trait Metric: Clone + Send + Sync + Serialize + DeserializeOwned + 'static {
    /// The kind of batch that [`Metric::update`] takes.
    type Kind: InputKind;
    /// The type that [`Metric::compute`] returns.
    type Output: Into<Value>;

    /// Returns the metric's facts.
    fn info(&self) -> MetricInfo;

    /// Folds one batch into the state.
    ///
    /// # Errors
    ///
    /// Returns an error, and changes nothing, if the batch is invalid.
    fn update(&mut self, input: Input<'_, Self>) -> Result<()>;

    /// Computes the metric's value from the state.
    ///
    /// # Errors
    ///
    /// Returns an error if the state holds too little data for the value to exist.
    fn compute(&self) -> Result<Self::Output>;

    /// Clears the state, keeping the configuration.
    fn reset(&mut self);

    /// Folds another instance's state into this one.
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`] if the two instances are configured differently.
    fn merge(&mut self, other: &Self) -> Result<()>;

    /// Returns an instance with this configuration and an empty state.
    fn empty(&self) -> Self {
        let mut empty = self.clone();
        empty.reset();
        empty
    }

    /// Computes the batch's own value and folds the batch into the state, in one pass over it.
    ///
    /// # Errors
    ///
    /// Returns an error, and changes nothing, if the batch is invalid or its value does not
    /// exist.
    fn forward(&mut self, input: Input<'_, Self>) -> Result<Self::Output> {
        let mut batch = self.empty();
        batch.update(input)?;

        let value = batch.compute()?;
        self.merge(&batch)?;
        Ok(value)
    }

    /// Computes the value of one batch on its own, leaving the state unchanged, as the
    /// functional form of a metric does.
    ///
    /// The default updates an empty copy and computes it. Metrics that can compute the value
    /// from the borrowed batch without copying it into a state override it.
    ///
    /// # Errors
    ///
    /// Returns an error if the batch is invalid or its value does not exist.
    fn evaluate(&self, input: Input<'_, Self>) -> Result<Self::Output> {
        let mut batch = self.empty();
        batch.update(input)?;
        batch.compute()
    }

    /// Returns a key naming this metric's state, if that state is identical by construction to
    /// the state of every other metric returning the same key.
    ///
    /// A [`MetricCollection`](crate::MetricCollection) updates one state per key and lets the
    /// other members read it through [`Metric::compute_shared`].
    fn shared_state_key(&self) -> Option<String> {
        None
    }

    /// Returns the state that [`Metric::shared_state_key`] names.
    fn shared_state(&self) -> Option<&dyn Any> {
        None
    }

    /// Computes this metric's value from another metric's shared state.
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`] if `state` is not of this metric's shared state type.
    fn compute_shared(&self, state: &dyn Any) -> Result<Self::Output> {
        let _ = state;
        Err(Error::incompatible_state(format!(
            "{} does not read shared states",
            self.info().name
        )))
    }

    /// Folds a shared state into this metric's state: a state that [`Metric::shared_state`] of
    /// another metric returned, possibly of another class, for the same
    /// [`Metric::shared_state_key`].
    ///
    /// It merges a collection whose members read one shared state into a collection whose
    /// members keep their own.
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`], and changes nothing, if `state` is of another type
    /// or configuration, or if this metric has no shared state.
    fn merge_shared(&mut self, state: &dyn Any) -> Result<()> {
        let _ = state;
        Err(Error::incompatible_state(format!(
            "{} does not merge shared states",
            self.info().name
        )))
    }

    /// Validates a batch exactly as [`Metric::update`] does and returns its per-sample additive
    /// terms, for a metric whose state is a sum of such terms and a count. Adding the terms
    /// weighted by integer counts ([`Metric::add_term_sums`]) then equals updating with each
    /// sample repeated that many times, up to summation order. [`BootStrapper`] uses this to
    /// update its replicates without copying resamples.
    ///
    /// Returns `None`, the default, for a metric whose state is not such a sum.
    ///
    /// [`BootStrapper`]: crate::wrappers::BootStrapper
    fn sample_terms(&self, input: Input<'_, Self>) -> Option<Result<SampleTerms>> {
        let _ = input;
        None
    }

    /// Adds count-weighted sums of the terms that [`Metric::sample_terms`] returned to the
    /// state.
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`], and changes nothing, if the metric has no
    /// per-sample terms or `sums` has another number of columns.
    fn add_term_sums(&mut self, sums: &TermSums) -> Result<()> {
        let _ = sums;
        Err(Error::incompatible_state(format!(
            "{} has no per-sample terms; update it with a batch instead",
            self.info().name
        )))
    }

    /// Checks the invariants that `compute` and `merge` rely on and that decoding alone cannot
    /// guarantee, such as lengths that must match the configuration. [`Metric::from_bytes`]
    /// calls it on every decoded state.
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`] naming the first broken invariant.
    fn validate_state(&self) -> Result<()> {
        Ok(())
    }

    /// Returns the name that [`Metric::to_bytes`] writes in front of the state and that
    /// [`Metric::from_bytes`] checks, the class name by default.
    ///
    /// Wrappers append the wrapped metric's name (`MinMaxMetric<SumMetric>`), so that a state
    /// restores only into the wrapper of the base metric that serialized it, even where two base
    /// states share a byte layout.
    fn state_name(&self) -> String {
        self.info().name.to_owned()
    }

    /// Serializes the metric, configuration and state, tagged with [`Metric::state_name`].
    ///
    /// # Errors
    ///
    /// Returns [`Error::Serialization`] if the codec fails.
    fn to_bytes(&self) -> Result<Vec<u8>> {
        let header = (self.state_name(), STATE_FORMAT);
        let mut bytes = postcard::to_stdvec(&header).map_err(serialization_error)?;
        let body = postcard::to_stdvec(self).map_err(serialization_error)?;
        bytes.extend_from_slice(&body);
        Ok(bytes)
    }

    /// Restores a metric that [`Metric::to_bytes`] serialized.
    ///
    /// # Errors
    ///
    /// Returns [`Error::Serialization`] if the bytes are not a serialized state, and
    /// [`Error::IncompatibleState`] if they hold a different metric, an unsupported format or a
    /// state that fails [`Metric::validate_state`].
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let ((metric, format), body): ((String, u32), &[u8]) =
            postcard::take_from_bytes(bytes).map_err(serialization_error)?;
        if format != STATE_FORMAT {
            return Err(Error::incompatible_state(format!(
                "state format {format} is not the supported format {STATE_FORMAT}"
            )));
        }

        let restored: Self = postcard::from_bytes(body).map_err(|e| {
            Error::incompatible_state(format!(
                "the bytes hold the state of {metric}, which does not decode as this metric: {e}"
            ))
        })?;
        let expected = restored.state_name();
        if metric != expected {
            return Err(Error::incompatible_state(format!(
                "the bytes hold the state of {metric}, not of {expected}"
            )));
        }
        restored.validate_state()?;
        Ok(restored)
    }
}

fn serialization_error(error: postcard::Error) -> Error {
    Error::Serialization {
        message: error.to_string(),
    }
}

/// Version of the serialized state layout, bumped on any incompatible change.
const STATE_FORMAT: u32 = 1;

/// Returns an [`Error::IncompatibleState`] naming the first field in which two configurations
/// differ.
///
/// The message shows both values as a Python user writes them (`True`, `None`, `0.5` for the
/// Rust `true`, `None`, `Some(0.5)`) when they are numbers, bools, strings, options, tuples or
/// lists of these. For a struct it lists the fields that differ, and for other values it names
/// only the setting.
///
/// # Errors
///
/// Returns the error when `ours != theirs`.
pub fn check_same_config<T: PartialEq + std::fmt::Debug>(
    metric: &str,
    field: &str,
    ours: &T,
    theirs: &T,
) -> Result<()> {
    if ours == theirs {
        return Ok(());
    }
    let spelled = (
        plain_spelling(&format!("{ours:?}")),
        plain_spelling(&format!("{theirs:?}")),
    );
    let message = match spelled {
        (Some(ours), Some(theirs)) => {
            format!("cannot merge {metric} states with different `{field}`: {ours} and {theirs}")
        }
        _ => match differing_fields(&format!("{ours:?}"), &format!("{theirs:?}")) {
            Some(fields) => format!(
                "cannot merge {metric} states with different `{field}` ({fields}); build both \
                 metrics with the same arguments"
            ),
            None => format!(
                "cannot merge {metric} states with different `{field}` settings; build both \
                 metrics with the same arguments"
            ),
        },
    };
    Err(Error::incompatible_state(message))
}

/// Lists the fields in which the `Debug` texts of two values of one struct differ, as
/// `threshold 0.5 and 0.3` for plain values and `task differs` for others. Returns `None` if
/// the texts are not of one struct with named fields.
fn differing_fields(ours: &str, theirs: &str) -> Option<String> {
    let (our_name, our_fields) = struct_fields(ours)?;
    let (their_name, their_fields) = struct_fields(theirs)?;
    if our_name != their_name || our_fields.len() != their_fields.len() {
        return None;
    }
    let mut differences = Vec::new();
    for ((key, ours), (their_key, theirs)) in our_fields.iter().zip(&their_fields) {
        if key != their_key {
            return None;
        }
        if ours == theirs {
            continue;
        }
        match (plain_spelling(ours), plain_spelling(theirs)) {
            (Some(ours), Some(theirs)) => differences.push(format!("{key} {ours} and {theirs}")),
            _ => differences.push(format!("{key} differs")),
        }
    }
    if differences.is_empty() {
        return None;
    }
    Some(differences.join(", "))
}

/// Splits the `Debug` text `Name { a: 1, b: Some(2) }` into its name and top-level fields.
fn struct_fields(debug: &str) -> Option<(&str, Vec<(&str, &str)>)> {
    let (name, rest) = debug.split_once(" { ")?;
    let body = rest.strip_suffix(" }")?;
    let mut fields = Vec::new();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut start = 0;
    for (index, c) in body.char_indices() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.checked_sub(1)?,
            ',' if depth == 0 => {
                fields.push(body[start..index].trim().split_once(": ")?);
                start = index + 1;
            }
            _ => {}
        }
    }
    fields.push(body[start..].trim().split_once(": ")?);
    Some((name, fields))
}

/// Rewrites the `Debug` text of a plain value in Python's spelling: `true` becomes `True`,
/// `Some(x)` becomes `x` and `NaN` becomes `nan`, while numbers, `None`, strings, tuples and
/// lists keep their form. Returns `None` for text with any other name in it, such as a struct.
fn plain_spelling(debug: &str) -> Option<String> {
    let mut spelled = String::with_capacity(debug.len());
    // One entry per open parenthesis: whether its closing one is kept, which is false for the
    // parenthesis of `Some(`.
    let mut parentheses: Vec<bool> = Vec::new();
    let mut chars = debug.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c == '"' {
            spelled.push(c);
            let mut escaped = false;
            for (_, c) in chars.by_ref() {
                spelled.push(c);
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    break;
                }
            }
        } else if c.is_ascii_alphabetic() || c == '_' {
            let mut end = start + 1;
            while let Some(&(index, next)) = chars.peek() {
                if !(next.is_ascii_alphanumeric() || next == '_') {
                    break;
                }
                end = index + 1;
                chars.next();
            }
            match &debug[start..end] {
                "true" => spelled.push_str("True"),
                "false" => spelled.push_str("False"),
                "None" => spelled.push_str("None"),
                "inf" => spelled.push_str("inf"),
                "NaN" => spelled.push_str("nan"),
                "Some" if chars.peek().map(|&(_, next)| next) == Some('(') => {
                    chars.next();
                    parentheses.push(false);
                }
                _ => return None,
            }
        } else if c.is_ascii_digit() {
            // A number such as `3`, `0.5` or `1e-5`.
            spelled.push(c);
            while let Some(&(_, next)) = chars.peek() {
                let exponent_sign = matches!(next, '-' | '+') && spelled.ends_with('e');
                if !(next.is_ascii_alphanumeric() || next == '.' || exponent_sign) {
                    break;
                }
                spelled.push(next);
                chars.next();
            }
        } else {
            match c {
                '(' => {
                    parentheses.push(true);
                    spelled.push(c);
                }
                ')' => {
                    if parentheses.pop()? {
                        spelled.push(c);
                    }
                }
                '-' | '.' | ',' | ' ' | '[' | ']' => spelled.push(c),
                _ => return None,
            }
        }
    }
    Some(spelled)
}

/// Returns an [`Error::IncompatibleState`] naming a setting that differs between two
/// configurations, with both values as the public API spells them.
///
/// Use it over [`check_same_config`] for settings whose `Display` is the user's spelling, such
/// as enums parsed from strings.
///
/// # Errors
///
/// Returns the error when `ours != theirs`.
pub fn check_same_setting<T: PartialEq + std::fmt::Display>(
    metric: &str,
    field: &str,
    ours: &T,
    theirs: &T,
) -> Result<()> {
    if ours != theirs {
        return Err(Error::incompatible_state(format!(
            "cannot merge {metric} states with different `{field}`: {ours} and {theirs}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ndarray::ArrayD;
    use proptest::prelude::*;

    use super::*;
    use crate::aggregation::{MaxMetric, MeanMetric, NanStrategy, SumMetric};

    fn batch(values: &[f64]) -> ArrayD<f64> {
        ArrayD::from_shape_vec(vec![values.len()], values.to_vec()).unwrap()
    }

    #[test]
    fn bytes_round_trip_keeps_state() {
        let mut metric = MeanMetric::new(NanStrategy::Replace(2.5));
        metric
            .update((batch(&[1.0, f64::NAN, 4.0]).view(), None))
            .unwrap();

        let restored = MeanMetric::from_bytes(&metric.to_bytes().unwrap()).unwrap();
        assert_eq!(restored, metric);
        assert_eq!(restored.nan_strategy(), NanStrategy::Replace(2.5));
        assert_eq!(restored.compute().unwrap(), 2.5);
    }

    #[test]
    fn from_bytes_other_metric_fails() {
        let mut sum = SumMetric::default();
        sum.update((batch(&[1.0, 2.0]).view(), None)).unwrap();
        let bytes = sum.to_bytes().unwrap();

        let error = MaxMetric::from_bytes(&bytes).unwrap_err();
        assert!(
            matches!(&error, Error::IncompatibleState { message } if message.contains("SumMetric"))
        );
    }

    #[test]
    fn from_bytes_other_format_fails() {
        let mut bytes = postcard::to_stdvec(&("SumMetric", STATE_FORMAT + 1)).unwrap();
        bytes.extend(postcard::to_stdvec(&SumMetric::default()).unwrap());

        let error = SumMetric::from_bytes(&bytes).unwrap_err();
        assert!(
            matches!(&error, Error::IncompatibleState { message } if message.contains("format"))
        );
    }

    #[test]
    fn from_bytes_garbage_fails() {
        let cases: [&[u8]; 4] = [
            &[],
            &[0xff],
            &[0xff, 0xff, 0xff, 0xff, 0xff],
            b"not a state",
        ];
        for bytes in cases {
            assert!(SumMetric::from_bytes(bytes).is_err(), "{bytes:?} decoded");
        }
    }

    #[test]
    fn from_bytes_truncated_state_fails() {
        let mut metric = SumMetric::default();
        metric.update((batch(&[1.0]).view(), None)).unwrap();
        let bytes = metric.to_bytes().unwrap();
        for length in 0..bytes.len() {
            assert!(
                SumMetric::from_bytes(&bytes[..length]).is_err(),
                "prefix of {length} bytes decoded"
            );
        }
    }

    #[test]
    fn forward_returns_batch_value_only() {
        let mut metric = MeanMetric::default();
        metric.update((batch(&[10.0, 20.0]).view(), None)).unwrap();

        assert_eq!(metric.forward((batch(&[1.0]).view(), None)).unwrap(), 1.0);
        assert_eq!(metric.compute().unwrap(), 31.0 / 3.0);
    }

    #[test]
    fn empty_keeps_config_and_clears_state() {
        let mut metric = SumMetric::new(NanStrategy::Ignore);
        metric.update((batch(&[1.0]).view(), None)).unwrap();

        let empty = metric.empty();
        assert_eq!(empty.compute().unwrap(), 0.0);
        assert_eq!(empty.nan_strategy(), NanStrategy::Ignore);
    }

    #[test]
    fn default_compute_shared_is_incompatible() {
        let error = SumMetric::default().compute_shared(&0_u64).unwrap_err();
        assert!(matches!(error, Error::IncompatibleState { .. }));
    }

    #[test]
    fn check_same_config_names_field_and_values() {
        assert!(check_same_config("M", "window", &3, &3).is_ok());
        let error = check_same_config("M", "window", &3, &4).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("`window`"));
        assert!(message.contains('3'));
        assert!(message.contains('4'));
    }

    #[test]
    fn check_same_config_python_spelling() {
        let message = check_same_config("M", "squared", &true, &false)
            .unwrap_err()
            .to_string();
        assert!(message.ends_with("`squared`: True and False"), "{message}");

        let message = check_same_config("M", "threshold", &Some(0.5), &None)
            .unwrap_err()
            .to_string();
        assert!(message.ends_with("`threshold`: 0.5 and None"), "{message}");

        let ours = vec![Some(1e-5), Some(f64::NAN)];
        let theirs = vec![None, Some(-f64::INFINITY)];
        let message = check_same_config("M", "values", &ours, &theirs)
            .unwrap_err()
            .to_string();
        assert!(
            message.ends_with("`values`: [1e-5, nan] and [None, -inf]"),
            "{message}"
        );

        let message = check_same_config("M", "names", &Some("a b"), &None)
            .unwrap_err()
            .to_string();
        assert!(message.ends_with("`names`: \"a b\" and None"), "{message}");
    }

    #[test]
    fn check_same_config_struct_not_printed() {
        #[derive(Debug, PartialEq)]
        struct Settings {
            threshold: f64,
        }
        let ours = Settings { threshold: 0.5 };
        let theirs = Settings { threshold: 0.25 };
        let message = check_same_config("M", "config", &ours, &theirs)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("different `config` (threshold 0.5 and 0.25)"),
            "{message}"
        );
        assert!(!message.contains("Settings"), "{message}");
    }

    #[test]
    fn check_same_config_struct_fields_listed() {
        #[derive(Debug, PartialEq)]
        enum Task {
            Binary,
            Multiclass,
        }
        #[derive(Debug, PartialEq)]
        struct Settings {
            task: Task,
            ignore_index: Option<i64>,
            average: &'static str,
        }
        let ours = Settings {
            task: Task::Binary,
            ignore_index: Some(-1),
            average: "macro",
        };
        let theirs = Settings {
            task: Task::Multiclass,
            ignore_index: None,
            average: "macro",
        };
        let message = check_same_config("M", "config", &ours, &theirs)
            .unwrap_err()
            .to_string();
        let expected = "different `config` (task differs, ignore_index -1 and None)";
        assert!(message.contains(expected), "{message}");

        let message = check_same_config("M", "mode", &Task::Binary, &Task::Multiclass)
            .unwrap_err()
            .to_string();
        assert!(message.contains("different `mode` settings"), "{message}");
    }

    proptest! {
        #[test]
        fn from_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = SumMetric::from_bytes(&bytes);
            let _ = MeanMetric::from_bytes(&bytes);
        }
    }
}
