//! Validation of `(preds, target)` batches and their conversion to `f64` columns, one column per
//! output.

use std::borrow::Cow;

use ndarray::{Array2, ArrayViewD, Axis};

use super::Real;
use crate::error::{Error, Result};
use crate::Value;

/// The shape convention of a metric's inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `(N,)` is one output and `(N, num_outputs)` is `num_outputs` outputs.
    Outputs,
    /// As [`Layout::Outputs`], except that with one output an input of any shape is flattened
    /// into one column, as TorchMetrics' mean errors do.
    Flatten,
}

/// The largest `num_outputs` a metric accepts. The state per output is allocated up front, and
/// this bound keeps that allocation below a few GiB: a larger value is almost always a wrong
/// argument, and would abort the process when the allocation fails instead of raising an error.
pub(crate) const MAX_OUTPUTS: usize = 1 << 24;

/// Checks that `num_outputs` is at least 1 and at most [`MAX_OUTPUTS`].
pub(crate) fn check_num_outputs(num_outputs: usize) -> Result<()> {
    if num_outputs == 0 {
        return Err(Error::invalid_argument(
            "num_outputs",
            "0 outputs requested; pass 1 for inputs of shape (N,) or d for shape (N, d)",
        ));
    }
    if num_outputs > MAX_OUTPUTS {
        return Err(Error::invalid_argument(
            "num_outputs",
            format!(
                "{num_outputs} outputs requested, more than the {MAX_OUTPUTS} supported; pass the \
                 size of the last axis of inputs of shape (N, d)"
            ),
        ));
    }
    Ok(())
}

/// Checks that `preds` and `target` have the same shape, naming the first differing axis.
pub(crate) fn check_same_shape<F>(
    preds: &ArrayViewD<'_, F>,
    target: &ArrayViewD<'_, F>,
) -> Result<()> {
    check_same_shape_of(("preds", preds), ("target", target))
}

/// As [`check_same_shape`], for inputs named `first_name` and `second_name`.
pub(crate) fn check_same_shape_of<F>(
    (first_name, first): (&str, &ArrayViewD<'_, F>),
    (second_name, second): (&str, &ArrayViewD<'_, F>),
) -> Result<()> {
    if first.shape() == second.shape() {
        return Ok(());
    }
    if first.ndim() >= 1 && second.ndim() >= 1 && first.shape()[1..] == second.shape()[1..] {
        crate::check_same_length(
            first_name,
            first.len_of(Axis(0)),
            second_name,
            second.len_of(Axis(0)),
        )?;
    }
    Err(Error::invalid_input(
        second_name,
        format!(
            "shape {:?} differs from the `{first_name}` shape {:?}; pass arrays of the same shape",
            second.shape(),
            first.shape()
        ),
    ))
}

/// Returns an [`Error::NonFinite`] for the first NaN or infinite element of `values`.
pub(crate) fn check_finite<F: Real>(argument: &str, values: &ArrayViewD<'_, F>) -> Result<()> {
    // A contiguous array is scanned as a slice in blocks whose check has no early exit, so the
    // compiler vectorizes it. The failing position, and from it the index, is searched for only
    // when a block fails.
    if let Some(slice) = values.as_slice() {
        const BLOCK: usize = 1024;
        let all_finite = |block: &[F]| block.iter().fold(true, |ok, x| ok & x.is_finite_value());
        if slice.chunks(BLOCK).all(all_finite) {
            return Ok(());
        }
    }
    let Some(position) = values.iter().position(|x| !x.to_f64().is_finite()) else {
        return Ok(());
    };
    let value = values.iter().nth(position).map_or(f64::NAN, |x| x.to_f64());
    let index = unravel(position, values.shape());
    let location = match index.as_slice() {
        [i] => format!("index {i}"),
        other => format!("index {other:?}"),
    };
    Err(Error::NonFinite {
        argument: argument.to_owned(),
        location,
        value,
    })
}

/// Converts a position in row-major order into the index of each axis of `shape`.
fn unravel(mut position: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (axis, &length) in shape.iter().enumerate().rev() {
        if length > 0 {
            index[axis] = position % length;
            position /= length;
        }
    }
    index
}

/// Validates a batch and returns it as `f64` arrays of shape `(N, num_outputs)`.
///
/// NOTE: this copies the batch. One-output metrics borrow it through [`to_flat`] instead, but
/// batches of several outputs still take this slower path.
///
/// # Errors
///
/// Returns an error naming the argument if the shapes differ, if the shape does not match
/// `num_outputs` and `layout`, or if a value is NaN or infinite.
pub(crate) fn to_columns<F: Real>(
    preds: &ArrayViewD<'_, F>,
    target: &ArrayViewD<'_, F>,
    num_outputs: usize,
    layout: Layout,
) -> Result<(Array2<f64>, Array2<f64>)> {
    check_same_shape(preds, target)?;
    check_column_shape(preds.shape(), num_outputs, layout)?;
    check_finite("preds", preds)?;
    check_finite("target", target)?;

    Ok((columns(preds, num_outputs), columns(target, num_outputs)))
}

/// Validates a one-output batch and returns its values in row-major order, borrowed when the
/// input is contiguous and copied otherwise. The values keep their type, so `f32` inputs are
/// widened to `f64` one term at a time instead of in a copy of the batch.
///
/// # Errors
///
/// As [`to_columns`] with `num_outputs` 1.
pub(crate) fn to_flat<'a, F: Real>(
    preds: &'a ArrayViewD<'_, F>,
    target: &'a ArrayViewD<'_, F>,
    layout: Layout,
) -> Result<(FlatValues<'a, F>, FlatValues<'a, F>)> {
    let flat = to_flat_unchecked(preds, target, layout)?;
    check_finite("preds", preds)?;
    check_finite("target", target)?;
    Ok(flat)
}

/// As [`to_flat`] without the check for NaN and infinite values, for kernels that detect them
/// in their own pass over the values. Such a kernel calls [`check_finite`] on both inputs when
/// it finds one, so that the error names the index.
///
/// # Errors
///
/// As [`to_flat`], except for the NaN and infinity checks.
pub(crate) fn to_flat_unchecked<'a, F: Real>(
    preds: &'a ArrayViewD<'_, F>,
    target: &'a ArrayViewD<'_, F>,
    layout: Layout,
) -> Result<(FlatValues<'a, F>, FlatValues<'a, F>)> {
    check_same_shape(preds, target)?;
    check_column_shape(preds.shape(), 1, layout)?;
    Ok((row_major(preds), row_major(target)))
}

/// One output's values in row-major order, borrowed from the input or copied from it.
pub(crate) type FlatValues<'a, F> = Cow<'a, [F]>;

fn row_major<'a, F: Real>(values: &'a ArrayViewD<'_, F>) -> FlatValues<'a, F> {
    match values.as_slice() {
        Some(slice) => Cow::Borrowed(slice),
        None => Cow::Owned(values.iter().copied().collect()),
    }
}

fn check_column_shape(shape: &[usize], num_outputs: usize, layout: Layout) -> Result<()> {
    let fits = match (shape, layout) {
        (_, Layout::Flatten) if num_outputs == 1 => true,
        ([_], _) => num_outputs == 1,
        ([_, columns], _) => *columns == num_outputs,
        _ => false,
    };
    if fits {
        return Ok(());
    }

    let expected = if num_outputs == 1 {
        "(N,) or (N, 1)".to_owned()
    } else {
        format!("(N, {num_outputs})")
    };
    Err(Error::invalid_argument(
        "num_outputs",
        format!(
            "num_outputs is {num_outputs}, so inputs must have shape {expected}, but `preds` has \
             shape {shape:?}; pass num_outputs equal to the number of columns"
        ),
    ))
}

/// Copies `values` into an `f64` array of `num_outputs` columns, flattening in row-major order.
fn columns<F: Real>(values: &ArrayViewD<'_, F>, num_outputs: usize) -> Array2<f64> {
    let flat: Vec<f64> = values.iter().map(|x| x.to_f64()).collect();
    let rows = flat.len() / num_outputs;
    Array2::from_shape_vec((rows, num_outputs), flat)
        .expect("the element count is a multiple of num_outputs after the shape check")
}

/// Wraps per-output values as TorchMetrics returns them: a scalar for one output, an array for
/// several.
pub(crate) fn per_output(values: Vec<f64>) -> Value {
    match values.as_slice() {
        [value] => Value::Scalar(*value),
        _ => Value::Array(ndarray::Array1::from(values).into_dyn()),
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn check_finite_names_row_and_column() {
        let values = array![[1.0, 2.0], [3.0, f64::INFINITY]].into_dyn();

        let message = check_finite("preds", &values.view())
            .unwrap_err()
            .to_string();

        assert!(message.contains("index [1, 1]"), "{message}");
        assert!(message.contains("inf"), "{message}");
    }

    #[test]
    fn check_finite_names_flat_index() {
        let values = array![1.0, f64::NAN, 3.0].into_dyn();

        let message = check_finite("target", &values.view())
            .unwrap_err()
            .to_string();

        assert!(message.contains("index 1"), "{message}");
        assert!(message.contains("target"), "{message}");
    }

    #[test]
    fn check_finite_reads_transposed_views_in_logical_order() {
        let values = array![[1.0, 2.0, 3.0], [4.0, 5.0, f64::NAN]];
        let transposed = values.t().into_dyn();

        let message = check_finite("preds", &transposed).unwrap_err().to_string();

        assert!(message.contains("index [2, 1]"), "{message}");
    }

    #[test]
    fn unravel_row_major() {
        assert_eq!(unravel(5, &[2, 3]), vec![1, 2]);
        assert_eq!(unravel(0, &[4]), vec![0]);
        assert_eq!(unravel(7, &[2, 2, 2]), vec![1, 1, 1]);
    }
}
