//! Native helpers of `ferrometrics.wrappers`.

use ferrometrics::wrappers::{bootstrap_indices, SamplingStrategy};
use numpy::PyArray1;
use pyo3::prelude::*;
use rayon::prelude::*;

use crate::errors::to_py_err;

/// Returns, for each of `num_bootstraps` replicates, the int64 indices of the samples it draws
/// from batch `batch` of `samples` samples: the draws of the Rust `BootStrapper` with the same
/// seed. The replicates are drawn in parallel with the GIL released.
#[pyfunction]
#[pyo3(signature = (seed, batch, samples, num_bootstraps, sampling_strategy))]
fn bootstrap_sample_indices<'py>(
    py: Python<'py>,
    seed: u64,
    batch: u64,
    samples: usize,
    num_bootstraps: usize,
    sampling_strategy: &str,
) -> PyResult<Vec<Bound<'py, PyArray1<i64>>>> {
    let strategy: SamplingStrategy = sampling_strategy.parse().map_err(to_py_err)?;
    let draws: Vec<Vec<i64>> = py.detach(|| {
        (0..num_bootstraps)
            .into_par_iter()
            .map(|replicate| {
                bootstrap_indices(seed, replicate as u64, batch, samples, strategy)
                    .into_iter()
                    .map(|index| index as i64)
                    .collect()
            })
            .collect()
    });
    Ok(draws
        .into_iter()
        .map(|indices| PyArray1::from_vec(py, indices))
        .collect())
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(bootstrap_sample_indices, module)?)
}
