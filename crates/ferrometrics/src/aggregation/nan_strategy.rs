//! The NaN strategies of the aggregation metrics, and the batch cleaning that applies them.

use std::fmt;
use std::str::FromStr;

use ndarray::{ArrayViewD, Axis};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::numerics::CompensatedSum;
use crate::wrappers::{SampleTerms, TermSums};

/// The handling of a NaN in `value` or `weight` by an aggregation metric, as TorchMetrics'
/// `nan_strategy` argument.
///
/// The default is [`NanStrategy::Warn`], TorchMetrics' default. Because ferrometrics logs
/// nothing, `Warn` drops the NaN positions exactly as [`NanStrategy::Ignore`] does, and every
/// aggregation metric counts them in its `nan_count()`, so that a caller (the Python bindings, for
/// one) can raise the warning itself when the count grows.
///
/// A position is dropped or replaced when its value is NaN or, for
/// [`MeanMetric`](crate::aggregation::MeanMetric), when its weight is NaN. Infinite values are
/// not NaN and pass through every strategy.
///
/// # Example
///
/// ```
/// use ferrometrics::aggregation::NanStrategy;
///
/// assert_eq!("ignore".parse::<NanStrategy>()?, NanStrategy::Ignore);
/// assert_eq!("0.5".parse::<NanStrategy>()?, NanStrategy::Replace(0.5));
/// assert_eq!(NanStrategy::default(), NanStrategy::Warn);
/// assert_eq!(NanStrategy::Replace(2.0).to_string(), "2");
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub enum NanStrategy {
    /// Reject a batch that contains a NaN, naming the argument and the index of the first NaN.
    Error,
    /// Drop NaN positions and count them, so that the caller can warn.
    #[default]
    Warn,
    /// Drop NaN positions and count them, without asking for a warning.
    Ignore,
    /// Replace the value at each NaN position by this number, with weight 1 in
    /// [`MeanMetric`](crate::aggregation::MeanMetric).
    Replace(f64),
    /// Skip the NaN check, so that NaN values reach the state and propagate into the result
    /// (TorchMetrics' `"disable"`).
    Disable,
}

impl PartialEq for NanStrategy {
    /// Compares replacement values by bits, so that `Replace(f64::NAN)` equals itself and two
    /// metrics configured with it can merge.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (NanStrategy::Replace(ours), NanStrategy::Replace(theirs)) => {
                ours.to_bits() == theirs.to_bits()
            }
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

impl FromStr for NanStrategy {
    type Err = Error;

    /// Parses TorchMetrics' spellings: `"error"`, `"warn"`, `"ignore"`, `"disable"`, or a
    /// number for [`NanStrategy::Replace`].
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] for any other string.
    fn from_str(text: &str) -> Result<Self> {
        match text {
            "error" => Ok(NanStrategy::Error),
            "warn" => Ok(NanStrategy::Warn),
            "ignore" => Ok(NanStrategy::Ignore),
            "disable" => Ok(NanStrategy::Disable),
            _ => text.parse::<f64>().map(NanStrategy::Replace).map_err(|_| {
                Error::invalid_argument(
                    "nan_strategy",
                    format!(
                        "{text:?} is not a strategy; pass \"error\", \"warn\", \"ignore\", \
                         \"disable\" or a number to replace NaN values with"
                    ),
                )
            }),
        }
    }
}

impl fmt::Display for NanStrategy {
    /// Writes the string that [`NanStrategy::from_str`] parses back.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NanStrategy::Error => formatter.write_str("error"),
            NanStrategy::Warn => formatter.write_str("warn"),
            NanStrategy::Ignore => formatter.write_str("ignore"),
            NanStrategy::Disable => formatter.write_str("disable"),
            NanStrategy::Replace(replacement) => write!(formatter, "{replacement}"),
        }
    }
}

/// Returns an error if a metric that takes no weights was given some.
pub(crate) fn reject_weight(metric: &str, weight: Option<&ArrayViewD<'_, f64>>) -> Result<()> {
    if weight.is_some() {
        return Err(Error::invalid_input(
            "weight",
            format!("{metric} takes no weights; pass None, or use MeanMetric for a weighted mean"),
        ));
    }
    Ok(())
}

/// Applies `strategy` to a batch and calls `keep(value, weight)` for every position it keeps, in
/// row-major order, with weight 1 when `weight` is `None`. Returns the number of NaN positions
/// dropped or replaced.
///
/// `weight`, when given, is broadcast to the shape of `value` first, as `torch.broadcast_to`
/// does, so a scalar weight applies to every value. Callers fold the kept positions into a
/// batch-local state and commit it only on `Ok`, so that a rejected batch changes nothing.
///
/// # Errors
///
/// Returns [`Error::InvalidInput`] if `weight` does not broadcast to the shape of `value`, and
/// [`Error::NonFinite`] at the first NaN under [`NanStrategy::Error`].
pub(crate) fn for_each_kept(
    strategy: NanStrategy,
    value: &ArrayViewD<'_, f64>,
    weight: Option<&ArrayViewD<'_, f64>>,
    mut keep: impl FnMut(f64, f64),
) -> Result<u64> {
    let Some(weight) = weight else {
        let pairs = value.iter().map(|&x| (x, 1.0));
        return apply_strategy(strategy, value.shape(), pairs, &mut keep);
    };

    let weight = weight.broadcast(value.raw_dim()).ok_or_else(|| {
        Error::invalid_input(
            "weight",
            format!(
                "shape {:?} does not broadcast to the shape {:?} of `value`; pass a scalar \
                 weight or one of a broadcastable shape",
                weight.shape(),
                value.shape()
            ),
        )
    })?;
    let pairs = value.iter().zip(weight.iter()).map(|(&x, &w)| (x, w));
    apply_strategy(strategy, value.shape(), pairs, &mut keep)
}

/// Returns the per-sample terms of an aggregation metric's batch, three per row (index of the
/// first axis). They are the sums of `value * weight` and of `weight` over the positions that
/// `strategy` keeps, and the number of NaN positions it dropped or replaced. A 0-d value is one
/// row.
///
/// A weight with as many axes as `value` is split by row, its one row reused when its first
/// axis has length 1, and any other weight applies whole to every row. These are the rows that
/// [`BootStrapper`](crate::wrappers::BootStrapper) resamples, and each row broadcasts exactly
/// when the whole batch does.
///
/// # Errors
///
/// Returns the errors of [`for_each_kept`] on the whole batch, so that they name positions in
/// the batch.
pub(crate) fn kept_row_terms(
    strategy: NanStrategy,
    value: &ArrayViewD<'_, f64>,
    weight: Option<&ArrayViewD<'_, f64>>,
) -> Result<SampleTerms> {
    for_each_kept(strategy, value, weight, |_, _| {})?;

    let mut terms = Vec::new();
    let mut add_row = |value: &ArrayViewD<'_, f64>, weight: Option<&ArrayViewD<'_, f64>>| {
        let mut weighted_sum = CompensatedSum::new();
        let mut weight_sum = CompensatedSum::new();
        let nan_count = for_each_kept(strategy, value, weight, |x, w| {
            weighted_sum.add(x * w);
            weight_sum.add(w);
        })?;
        terms.extend([weighted_sum.value(), weight_sum.value(), nan_count as f64]);
        Ok::<(), Error>(())
    };
    if value.ndim() == 0 {
        add_row(value, weight)?;
    } else {
        let split_weight = weight.filter(|weight| weight.ndim() == value.ndim());
        for row in 0..value.len_of(Axis(0)) {
            let value_row = value.index_axis(Axis(0), row);
            let weight_row = split_weight.map(|weight| {
                let index = if weight.len_of(Axis(0)) == 1 { 0 } else { row };
                weight.index_axis(Axis(0), index)
            });
            let weight = if split_weight.is_some() {
                weight_row.as_ref()
            } else {
                weight
            };
            add_row(&value_row, weight)?;
        }
    }
    SampleTerms::new(3, 0, terms)
}

/// Returns the three sums of [`kept_row_terms`] columns, the NaN count as an integer.
///
/// # Errors
///
/// Returns [`Error::IncompatibleState`] naming `metric` if `sums` does not have three columns.
pub(crate) fn aggregation_sums(
    metric: &str,
    sums: &TermSums,
) -> Result<(CompensatedSum, CompensatedSum, u64)> {
    let [weighted_sum, weight_sum, nan_count] = sums.sums.as_slice() else {
        return Err(Error::incompatible_state(format!(
            "{metric} takes 3 term sums per batch, got {}",
            sums.sums.len()
        )));
    };
    // The NaN counts and their weighted sum are integers, exact in f64 below 2^53.
    Ok((*weighted_sum, *weight_sum, nan_count.value() as u64))
}

/// Runs `strategy` over `(value, weight)` pairs of an array of `shape` in row-major order.
fn apply_strategy(
    strategy: NanStrategy,
    shape: &[usize],
    pairs: impl Iterator<Item = (f64, f64)>,
    keep: &mut impl FnMut(f64, f64),
) -> Result<u64> {
    let mut nan_count = 0;
    for (position, (x, w)) in pairs.enumerate() {
        if !(x.is_nan() || w.is_nan()) {
            keep(x, w);
            continue;
        }
        match strategy {
            NanStrategy::Disable => keep(x, w),
            NanStrategy::Error => {
                let argument = if x.is_nan() { "value" } else { "weight" };
                return Err(Error::NonFinite {
                    argument: argument.to_owned(),
                    location: describe_position(shape, position),
                    value: f64::NAN,
                });
            }
            NanStrategy::Warn | NanStrategy::Ignore => nan_count += 1,
            // TorchMetrics also replaces a finite value whose weight is NaN.
            NanStrategy::Replace(replacement) => {
                nan_count += 1;
                keep(replacement, 1.0);
            }
        }
    }
    Ok(nan_count)
}

/// Formats the row-major `position` in an array of `shape` for an error message: `index 3` in
/// one dimension, `index [1, 2]` in more.
fn describe_position(shape: &[usize], position: usize) -> String {
    match shape.len() {
        0 => "the scalar".to_owned(),
        1 => format!("index {position}"),
        _ => {
            let mut index = vec![0; shape.len()];
            let mut rest = position;
            for (axis, &length) in shape.iter().enumerate().rev() {
                index[axis] = rest % length;
                rest /= length;
            }
            format!("index {index:?}")
        }
    }
}
