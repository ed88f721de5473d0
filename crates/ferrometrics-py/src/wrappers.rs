//! Native helpers of `ferrometrics.wrappers`.

use ferrometrics::wrappers::{bootstrap_indices, poisson_term_sums, SamplingStrategy};
use numpy::PyArray1;
use pyo3::prelude::*;
use rayon::prelude::*;

use crate::errors::to_py_err;
use crate::metric::NativeMetric;

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

/// Updates the replicates of a Poisson bootstrap with batch `batch` through the per-sample terms
/// of `base`, each replicate weighting a sample by how often it draws it, with the draws of
/// `bootstrap_sample_indices`. Returns the number of samples each replicate drew, or `None`,
/// with nothing changed, if `base` has no per-sample terms.
///
/// The batch is validated before any replicate changes, and the replicates are updated in
/// copies that replace them only once all succeeded.
#[pyfunction]
#[pyo3(signature = (base, replicates, seed, batch, first, second=None))]
fn bootstrap_update_terms(
    py: Python<'_>,
    base: PyRef<'_, NativeMetric>,
    mut replicates: Vec<PyRefMut<'_, NativeMetric>>,
    seed: u64,
    batch: u64,
    first: &Bound<'_, PyAny>,
    second: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<Vec<u64>>> {
    let Some(terms) = base.sample_terms(py, first, second)? else {
        return Ok(None);
    };
    let count = replicates.len();
    let sums = py.detach(|| poisson_term_sums(&terms, seed, batch, count));

    let mut updated = Vec::with_capacity(replicates.len());
    for (replicate, sums) in replicates.iter().zip(&sums) {
        let mut copy = replicate.duplicate();
        if sums.samples > 0 {
            copy.add_term_sums(sums)?;
        }
        updated.push(copy);
    }
    for (replicate, copy) in replicates.iter_mut().zip(updated) {
        **replicate = copy;
    }
    Ok(Some(sums.iter().map(|sums| sums.samples).collect()))
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(bootstrap_sample_indices, module)?)?;
    module.add_function(wrap_pyfunction!(bootstrap_update_terms, module)?)
}
