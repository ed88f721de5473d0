//! Mapping of ferrometrics errors to Python exceptions.

use ferrometrics::Error;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::PyErr;

/// Converts a ferrometrics error into the Python exception a user of TorchMetrics expects.
///
/// Every library error is about a value (an option outside its domain, a label out of range, a
/// NaN, too few samples, states that do not merge), so each becomes a `ValueError` carrying the
/// library's message. Wrong Python types are raised as `TypeError` where the inputs are converted,
/// before the library receives them.
pub(crate) fn to_py_err(error: Error) -> PyErr {
    PyValueError::new_err(error.to_string())
}

/// Builds the `TypeError` raised for an input of the wrong type, worded like the library's own
/// input errors.
pub(crate) fn type_error(argument: &str, message: impl std::fmt::Display) -> PyErr {
    PyTypeError::new_err(format!("invalid input `{argument}`: {message}"))
}

/// Builds the `ValueError` raised for an input of the wrong shape or content, worded like the
/// library's own input errors.
pub(crate) fn value_error(argument: &str, message: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!("invalid input `{argument}`: {message}"))
}

/// Builds the `ValueError` raised for an option outside its domain.
pub(crate) fn argument_error(argument: &str, message: impl std::fmt::Display) -> PyErr {
    to_py_err(Error::invalid_argument(argument, message.to_string()))
}

/// Builds the `TypeError` raised for an option of the wrong type.
pub(crate) fn argument_type_error(argument: &str, message: impl std::fmt::Display) -> PyErr {
    PyTypeError::new_err(format!("invalid type for `{argument}`: {message}"))
}
