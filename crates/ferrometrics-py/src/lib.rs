//! Python bindings of ferrometrics: the native module `ferrometrics._native`.
//!
//! The module contains one generic metric class, `NativeMetric`, built from a TorchMetrics class
//! name and keyword arguments, and the functional forms. The Python package `ferrometrics`
//! wraps them in classes with TorchMetrics' names and signatures.

mod classification;
mod coco;
mod coco_details;
mod conversion;
mod detection;
mod errors;
mod factory;
mod functional;
mod iou;
mod metric;
mod regression;
mod wrappers;

use pyo3::prelude::*;

/// The native module.
#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<metric::NativeMetric>()?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    functional::register(module)?;
    module.add_function(wrap_pyfunction!(regression::regression_function, module)?)?;
    module.add_function(wrap_pyfunction!(
        regression::weighted_pearson_function,
        module
    )?)?;
    detection::register(module)?;
    iou::register(module)?;
    coco::register(module)?;
    coco_details::register(module)?;
    wrappers::register(module)?;
    Ok(())
}
