//! Conversion of Python inputs into array views and of metric values into Python objects.
//!
//! Inputs may be numpy arrays of any numeric dtype, Python sequences, objects with
//! `__array__`, or CPU torch tensors, which are read through `.detach().cpu().numpy()` so that
//! torch is never imported. Arrays that already have the dtype the library takes are borrowed
//! without a copy.

use ferrometrics::classification::Preds;
use ferrometrics::Value;
use ndarray::{Array2, ArrayViewD, Dimension, IxDyn};
use numpy::{
    Element, PyArray, PyArrayDescrMethods, PyArrayMethods, PyReadonlyArray, PyReadonlyArray1,
    PyReadonlyArray2, PyReadonlyArrayDyn, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat};

use crate::errors::{type_error, value_error};

/// Floating-point type of the feature rows of an intrinsic clustering metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Precision {
    F32,
    F64,
}

impl Precision {
    /// Returns the numpy name of the dtype.
    pub(crate) fn dtype_name(self) -> &'static str {
        match self {
            Precision::F32 => "float32",
            Precision::F64 => "float64",
        }
    }
}

/// Feature rows borrowed from a float32 or a float64 array.
pub(crate) enum Features<'py> {
    F32(PyReadonlyArray2<'py, f32>),
    F64(PyReadonlyArray2<'py, f64>),
}

/// Converts any supported input into a numpy array, without a copy where it already is one.
///
/// # Errors
///
/// Raises `TypeError` naming `argument` if numpy cannot build an array from the object.
pub(crate) fn to_numpy<'py>(
    argument: &str,
    object: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyUntypedArray>> {
    let py = object.py();
    let masked_type = py.import("numpy.ma")?.getattr("MaskedArray")?;
    if object.is_instance(&masked_type)? {
        return Err(type_error(
            argument,
            "masked arrays are not supported because the mask would be ignored; drop the \
             masked samples from every input first, with `.compressed()` on each input or one \
             boolean filter applied to all of them",
        ));
    }
    if let Ok(array) = object.cast::<PyUntypedArray>() {
        return Ok(array.clone());
    }

    let is_tensor =
        object.hasattr("detach")? && object.hasattr("cpu")? && object.hasattr("numpy")?;
    let converted = if is_tensor {
        object
            .call_method0("detach")?
            .call_method0("cpu")?
            .call_method0("numpy")
    } else {
        py.import("numpy")?.call_method1("asarray", (object,))
    };

    let converted = converted.map_err(|error| {
        type_error(
            argument,
            format!(
                "cannot convert a {} to an array: {error}",
                type_name(object)
            ),
        )
    })?;
    converted.cast_into::<PyUntypedArray>().map_err(|_| {
        type_error(
            argument,
            format!("cannot convert a {} to a numpy array", type_name(object)),
        )
    })
}

/// Reads cluster labels: a 1-D array of integers (or booleans), borrowed when it is int64.
///
/// # Errors
///
/// Raises `TypeError` for float, complex and non-numeric dtypes, because TorchMetrics accepts
/// only discrete labels, and `ValueError` for arrays that are not 1-D or hold unsigned values
/// beyond the int64 range.
pub(crate) fn labels<'py>(
    argument: &str,
    object: &Bound<'py, PyAny>,
) -> PyResult<PyReadonlyArray1<'py, i64>> {
    let array = to_numpy(argument, object)?;
    let dtype = array.dtype();
    // numpy gives float64 to an empty Python list, which is not a float label.
    let empty_sequence = array.len() == 0 && !object.is_instance_of::<PyUntypedArray>();
    match dtype.kind() {
        b'i' | b'u' | b'b' => {}
        b'f' | b'c' if empty_sequence => {}
        kind => {
            return Err(type_error(
                argument,
                format!(
                    "expected integer cluster labels, got dtype {}; {}",
                    dtype_text(&array),
                    label_dtype_fix(kind, object)
                ),
            ))
        }
    }

    if array.ndim() != 1 {
        return Err(value_error(
            argument,
            format!(
                "expected a 1-D array of cluster labels, got an array of shape {}",
                shape_text(array.shape())
            ),
        ));
    }
    if dtype.kind() == b'u' && dtype.itemsize() == 8 {
        check_fits_int64(argument, &array)?;
    }
    readonly_as::<i64, _>(&array, "int64")
}

/// Returns the fix for labels of the dtype kind `kind` that are not integers.
fn label_dtype_fix(kind: u8, object: &Bound<'_, PyAny>) -> String {
    let relabel = "map them to integers with `numpy.unique(labels, return_inverse=True)`";
    match kind {
        b'f' => "labels must be discrete values, so cast whole-number floats with `.astype(int)`"
            .to_owned(),
        b'c' => "complex numbers are not labels, so pass the integer labels, for example \
                 `labels.real.astype(int)` if the real parts are the labels"
            .to_owned(),
        b'U' | b'S' => format!("string labels are not supported, so {relabel}"),
        b'O' if object.is_instance_of::<pyo3::types::PyList>()
            || object.is_instance_of::<pyo3::types::PyTuple>()
            || object.is_instance_of::<PyUntypedArray>() =>
        {
            format!(
                "the elements are not all integers, so if they are strings or other keys, {relabel}"
            )
        }
        _ => format!(
            "pass a sequence or array of integers, not a {}",
            type_name(object)
        ),
    }
}

/// Reads feature rows: a 2-D numeric array, as float32 or float64.
///
/// With `precision` `None` the array keeps float32 (float16 is widened to it) and every other
/// numeric dtype becomes float64. With a precision, the array is cast to it.
///
/// # Errors
///
/// Raises `TypeError` for complex and non-numeric dtypes and `ValueError` for arrays that are
/// not 2-D.
pub(crate) fn features<'py>(
    argument: &str,
    object: &Bound<'py, PyAny>,
    precision: Option<Precision>,
) -> PyResult<Features<'py>> {
    let array = to_numpy(argument, object)?;
    let dtype = array.dtype();
    let natural = match dtype.kind() {
        b'f' if dtype.itemsize() <= 4 => Precision::F32,
        b'f' | b'i' | b'u' | b'b' => Precision::F64,
        _ => {
            return Err(type_error(
                argument,
                format!(
                    "expected real-valued features, got dtype {}",
                    dtype_text(&array)
                ),
            ))
        }
    };

    if array.ndim() != 2 {
        return Err(value_error(
            argument,
            format!(
                "expected a 2-D array with one row per sample, got an array of shape {}",
                shape_text(array.shape())
            ),
        ));
    }
    let wide_float = dtype.kind() == b'f' && dtype.itemsize() > 4;
    if precision == Some(Precision::F32) && wide_float {
        check_fits_f32(argument, &array)?;
    }
    match precision.unwrap_or(natural) {
        Precision::F32 => Ok(Features::F32(readonly_as(&array, "float32")?)),
        Precision::F64 => Ok(Features::F64(readonly_as(&array, "float64")?)),
    }
}

/// Reads values to aggregate: a numeric array of any shape, or a scalar, as float64.
///
/// # Errors
///
/// Raises `TypeError` for complex and non-numeric dtypes.
pub(crate) fn values<'py>(
    argument: &str,
    object: &Bound<'py, PyAny>,
) -> PyResult<PyReadonlyArrayDyn<'py, f64>> {
    let array = to_numpy(argument, object)?;
    match array.dtype().kind() {
        b'f' | b'i' | b'u' | b'b' => readonly_as(&array, "float64"),
        _ => Err(type_error(
            argument,
            format!("expected real numbers, got dtype {}", dtype_text(&array)),
        )),
    }
}

/// Reads regression values: a real-valued array of any shape, or a scalar, as float64.
///
/// Integer and bool arrays are converted, as TorchMetrics converts them to floats. Values are
/// checked for NaN and infinity by the library, which names the index.
///
/// # Errors
///
/// Raises `TypeError` for complex and non-numeric dtypes.
pub(crate) fn reals<'py>(
    argument: &str,
    object: &Bound<'py, PyAny>,
) -> PyResult<PyReadonlyArrayDyn<'py, f64>> {
    let array = to_numpy(argument, object)?;
    match array.dtype().kind() {
        b'f' | b'i' | b'u' | b'b' => readonly_as(&array, "float64"),
        _ => Err(type_error(
            argument,
            format!(
                "expected real numbers, got dtype {}; pass a numeric array",
                dtype_text(&array)
            ),
        )),
    }
}

/// Classification predictions borrowed from an integer, float32 or float64 array.
pub(crate) enum ClassPreds<'py> {
    Labels(PyReadonlyArrayDyn<'py, i64>),
    F32(PyReadonlyArrayDyn<'py, f32>),
    F64(PyReadonlyArrayDyn<'py, f64>),
}

impl ClassPreds<'_> {
    /// Returns the library's view of the predictions.
    pub(crate) fn as_preds(&self) -> Preds<'_> {
        match self {
            ClassPreds::Labels(array) => Preds::Labels(array.as_array()),
            ClassPreds::F32(array) => Preds::F32(array.as_array()),
            ClassPreds::F64(array) => Preds::F64(array.as_array()),
        }
    }
}

/// Reads classification predictions: integer or boolean labels (as int64), or float scores
/// (float16 and float32 as float32, float64 as is).
///
/// # Errors
///
/// Raises `TypeError` for complex and non-numeric dtypes.
pub(crate) fn class_preds<'py>(
    argument: &str,
    object: &Bound<'py, PyAny>,
) -> PyResult<ClassPreds<'py>> {
    let array = to_numpy(argument, object)?;
    let dtype = array.dtype();
    match dtype.kind() {
        b'i' | b'u' | b'b' => {
            if dtype.kind() == b'u' && dtype.itemsize() == 8 {
                check_fits_int64_dyn(argument, &array)?;
            }
            Ok(ClassPreds::Labels(readonly_as(&array, "int64")?))
        }
        b'f' if dtype.itemsize() <= 4 => Ok(ClassPreds::F32(readonly_as(&array, "float32")?)),
        b'f' => Ok(ClassPreds::F64(readonly_as(&array, "float64")?)),
        _ => Err(type_error(
            argument,
            format!(
                "expected integer labels or float scores, got dtype {}",
                dtype_text(&array)
            ),
        )),
    }
}

/// Reads classification targets: integer or boolean labels of any shape, as int64.
///
/// # Errors
///
/// Raises `TypeError` for float, complex and non-numeric dtypes.
pub(crate) fn class_target<'py>(
    argument: &str,
    object: &Bound<'py, PyAny>,
) -> PyResult<PyReadonlyArrayDyn<'py, i64>> {
    let array = to_numpy(argument, object)?;
    let dtype = array.dtype();
    match dtype.kind() {
        b'i' | b'u' | b'b' => {
            if dtype.kind() == b'u' && dtype.itemsize() == 8 {
                check_fits_int64_dyn(argument, &array)?;
            }
            readonly_as(&array, "int64")
        }
        _ => Err(type_error(
            argument,
            format!(
                "expected integer labels, got dtype {}; cast whole-number floats with \
                 `.astype(int)`",
                dtype_text(&array)
            ),
        )),
    }
}

/// Rejects uint64 values above `i64::MAX`, which a cast to int64 would wrap.
fn check_fits_int64_dyn(argument: &str, array: &Bound<'_, PyUntypedArray>) -> PyResult<()> {
    let unsigned = readonly_as::<u64, ndarray::IxDyn>(array, "uint64")?;
    if let Some(&label) = unsigned
        .as_array()
        .iter()
        .find(|&&label| i64::try_from(label).is_err())
    {
        return Err(value_error(
            argument,
            format!("label {label} exceeds the int64 range"),
        ));
    }
    Ok(())
}

/// Converts a metric value into Python: a float, a float64 numpy array, or a dict in the
/// metric's key order.
pub(crate) fn value_to_py(py: Python<'_>, value: Value) -> PyResult<Bound<'_, PyAny>> {
    match value {
        Value::Scalar(x) => Ok(PyFloat::new(py, x).into_any()),
        Value::Array(array) if array.len() >= REUSED_MIN_LEN && array.is_standard_layout() => {
            let shape = array.raw_dim();
            let len = array.len();
            let (mut values, offset) = array.into_raw_vec_and_offset();
            let offset = offset.unwrap_or(0);
            if offset != 0 || values.len() != len {
                values = values[offset..offset + len].to_vec();
            }
            reused_array(py, shape, values)
        }
        Value::Array(array) => Ok(PyArray::from_owned_array(py, array).into_any()),
        Value::Map(entries) => {
            let dict = PyDict::new(py);
            for (key, entry) in entries {
                dict.set_item(key, value_to_py(py, entry)?)?;
            }
            Ok(dict.into_any())
        }
    }
}

/// Results of at least this many float64 values (8 MiB) give their memory back to ferrometrics
/// when Python frees them.
const REUSED_MIN_LEN: usize = 1 << 20;

/// The values of a large float64 result array, kept alive by Python as the array's base object.
/// When Python frees the array, the values go back to ferrometrics
/// ([`ferrometrics::reuse_column`]), so that the next exact curve writes into their pages.
#[pyclass(frozen, module = "ferrometrics._native")]
struct ReusedColumn {
    values: Vec<f64>,
}

impl Drop for ReusedColumn {
    fn drop(&mut self) {
        ferrometrics::reuse_column(std::mem::take(&mut self.values));
    }
}

/// Returns a numpy array of `shape` over `values` (in standard layout), whose memory goes back
/// to ferrometrics when Python frees it.
fn reused_array(py: Python<'_>, shape: IxDyn, values: Vec<f64>) -> PyResult<Bound<'_, PyAny>> {
    debug_assert_eq!(shape.size(), values.len());
    let container = Bound::new(py, ReusedColumn { values })?;
    let pointer = container.get().values.as_ptr();
    // SAFETY: `values` has `shape.size()` values in standard layout, and nothing moves or
    // reallocates them while the array, which keeps `container` as its base, is alive.
    let view = unsafe { ArrayViewD::from_shape_ptr(shape, pointer) };
    // SAFETY: as above; the array keeps `container` alive, and with it the values it reads.
    let array = unsafe { PyArray::borrow_from_array(&view, container.into_any()) };
    Ok(array.into_any())
}

/// Converts a matrix of counts into an int64 numpy array, the dtype scikit-learn returns.
///
/// # Errors
///
/// Raises `OverflowError` if a count exceeds the int64 range.
pub(crate) fn counts_to_py(py: Python<'_>, counts: Array2<u64>) -> PyResult<Bound<'_, PyAny>> {
    let mut signed = Array2::<i64>::zeros(counts.raw_dim());
    for (target, &count) in signed.iter_mut().zip(counts.iter()) {
        *target = i64::try_from(count).map_err(|_| {
            pyo3::exceptions::PyOverflowError::new_err(format!(
                "the count {count} exceeds the int64 range"
            ))
        })?;
    }
    Ok(PyArray::from_owned_array(py, signed).into_any())
}

/// Borrows `array` as `T` when its dtype is exactly `T`, and converts a copy with
/// `astype(dtype_name)` otherwise.
fn readonly_as<'py, T: Element, D: Dimension>(
    array: &Bound<'py, PyUntypedArray>,
    dtype_name: &str,
) -> PyResult<PyReadonlyArray<'py, T, D>> {
    let typed = match array.cast::<PyArray<T, D>>() {
        Ok(typed) => typed.clone(),
        Err(_) => array
            .call_method1("astype", (dtype_name,))?
            .cast_into::<PyArray<T, D>>()?,
    };
    Ok(typed.try_readonly()?)
}

/// Rejects finite values beyond the float32 range in a batch that is cast to the float32
/// precision of the first batch, because the cast would turn them into infinities.
fn check_fits_f32(argument: &str, array: &Bound<'_, PyUntypedArray>) -> PyResult<()> {
    let wide = readonly_as::<f64, ndarray::Ix2>(array, "float64")?;
    let view = wide.as_array();
    let limit = f64::from(f32::MAX);
    if let Some(((row, column), value)) = view
        .indexed_iter()
        .find(|(_, value)| value.is_finite() && value.abs() > limit)
    {
        return Err(value_error(
            argument,
            format!(
                "value {value:e} at row {row}, column {column} does not fit the float32 \
                 precision taken from the first batch; pass float64 data from the first batch \
                 (for example `data.astype(numpy.float64)`), or rescale this batch"
            ),
        ));
    }
    Ok(())
}

/// Rejects uint64 labels above `i64::MAX`, which a cast to int64 would wrap into negative labels.
fn check_fits_int64(argument: &str, array: &Bound<'_, PyUntypedArray>) -> PyResult<()> {
    let unsigned = readonly_as::<u64, ndarray::Ix1>(array, "uint64")?;
    let view = unsigned.as_array();
    if let Some((index, &label)) = view
        .indexed_iter()
        .find(|(_, &label)| i64::try_from(label).is_err())
    {
        return Err(value_error(
            argument,
            format!(
                "label {label} at index {index} exceeds the int64 range of cluster labels; \
                 relabel with `numpy.unique(labels, return_inverse=True)`"
            ),
        ));
    }
    Ok(())
}

fn dtype_text(array: &Bound<'_, PyUntypedArray>) -> String {
    array
        .dtype()
        .str()
        .map(|text| text.to_string())
        .unwrap_or_else(|_| "of unknown name".to_owned())
}

fn shape_text(shape: &[usize]) -> String {
    match shape {
        [] => "() (a scalar)".to_owned(),
        [n] => format!("({n},)"),
        many => {
            let parts: Vec<String> = many.iter().map(usize::to_string).collect();
            format!("({})", parts.join(", "))
        }
    }
}

fn type_name(object: &Bound<'_, PyAny>) -> String {
    object
        .get_type()
        .name()
        .map(|name| name.to_string())
        .unwrap_or_else(|_| "object".to_owned())
}
