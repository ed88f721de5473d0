//! The state of metrics that score each row of `(N, d)` inputs and reduce the scores by a
//! [`Reduction`].

use ndarray::{Array1, Array2, ArrayViewD, Dimension};
use serde::{Deserialize, Serialize};

use super::batch::{check_finite, check_same_shape_of};
use super::options::Reduction;
use super::sums::CompensatedSum;
use super::Real;
use crate::error::{Error, Result};
use crate::metric::check_same_setting;
use crate::Value;

/// Row scores reduced by `reduction`: their compensated sum and count, and under
/// [`Reduction::None`] every score in the order seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RowScores {
    reduction: Reduction,
    sum: CompensatedSum,
    count: u64,
    rows: Vec<f64>,
}

impl RowScores {
    pub(crate) fn new(reduction: Reduction) -> Self {
        Self {
            reduction,
            sum: CompensatedSum::default(),
            count: 0,
            rows: Vec::new(),
        }
    }

    pub(crate) fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// Adds the scores of one batch.
    pub(crate) fn extend(&mut self, scores: &[f64]) {
        for score in scores {
            self.sum.add(*score);
        }
        self.count += scores.len() as u64;
        if self.reduction == Reduction::None {
            self.rows.extend_from_slice(scores);
        }
    }

    pub(crate) fn merge(&mut self, metric: &str, other: &RowScores) -> Result<()> {
        check_same_setting(metric, "reduction", &self.reduction, &other.reduction)?;
        self.sum.merge(&other.sum);
        self.count = self.count.saturating_add(other.count);
        self.rows.extend_from_slice(&other.rows);
        Ok(())
    }

    /// Returns the reduced scores: a scalar for a sum or a mean, an array for no reduction.
    ///
    /// # Errors
    ///
    /// Returns [`Error::NotEnoughData`] for a mean of no rows.
    pub(crate) fn value(&self, metric: &str) -> Result<Value> {
        match self.reduction {
            Reduction::Sum => Ok(Value::Scalar(self.sum.value())),
            Reduction::None => Ok(Value::Array(Array1::from(self.rows.clone()).into_dyn())),
            Reduction::Mean => {
                if self.count == 0 {
                    return Err(Error::not_enough_data(
                        metric,
                        "the mean of no rows is undefined; call update with at least one row",
                    ));
                }
                Ok(Value::Scalar(self.sum.value() / self.count as f64))
            }
        }
    }
}

/// Validates a pair of `(N, d)` inputs with `d >= 1` and returns them as `f64` arrays.
///
/// # Errors
///
/// Returns an error naming the argument if the shapes differ, are not 2-D, or if a value is NaN
/// or infinite, `-inf` excepted when `allow_negative_infinity` is set.
pub(crate) fn to_rows<F: Real>(
    first: (&str, &ArrayViewD<'_, F>),
    second: (&str, &ArrayViewD<'_, F>),
    allow_negative_infinity: bool,
) -> Result<(Array2<f64>, Array2<f64>)> {
    let ((first_name, first), (second_name, second)) = (first, second);
    check_same_shape_of((first_name, first), (second_name, second))?;
    if first.ndim() != 2 || first.shape()[1] == 0 {
        return Err(Error::invalid_input(
            first_name,
            format!(
                "shape {:?} is not (N, d) with d >= 1; pass one row of d values per sample",
                first.shape()
            ),
        ));
    }
    if allow_negative_infinity {
        check_no_nan_or_positive_infinity(first_name, first)?;
        check_no_nan_or_positive_infinity(second_name, second)?;
    } else {
        check_finite(first_name, first)?;
        check_finite(second_name, second)?;
    }

    let as_rows = |values: &ArrayViewD<'_, F>| -> Array2<f64> {
        let values = values.mapv(|x| x.to_f64());
        values
            .into_dimensionality()
            .expect("the input is 2-D after the shape check")
    };
    Ok((as_rows(first), as_rows(second)))
}

/// Returns an [`Error::NonFinite`] for the first NaN or `+inf` in `values`.
fn check_no_nan_or_positive_infinity<F: Real>(
    argument: &str,
    values: &ArrayViewD<'_, F>,
) -> Result<()> {
    let invalid = |x: f64| x.is_nan() || x == f64::INFINITY;
    let Some((index, value)) = values.indexed_iter().find(|(_, x)| invalid(x.to_f64())) else {
        return Ok(());
    };
    Err(Error::NonFinite {
        argument: argument.to_owned(),
        location: format!("index {:?}", index.slice()),
        value: value.to_f64(),
    })
}
