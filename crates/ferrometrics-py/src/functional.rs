//! The functional forms: plain functions over whole inputs, run with the GIL released.

use ferrometrics::clustering::{self, DunnDefinition};
use ferrometrics::numerics::Real;
use ferrometrics::Result;
use ndarray::{ArrayView1, ArrayView2};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::conversion::{self, Features};
use crate::errors::to_py_err;
use crate::factory::Options;

/// Defines a Python function over `(preds, target)` labels that returns a float.
macro_rules! label_pair_function {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[pyfunction]
        pub(crate) fn $name(
            py: Python<'_>,
            preds: &Bound<'_, PyAny>,
            target: &Bound<'_, PyAny>,
        ) -> PyResult<f64> {
            let preds = conversion::labels("preds", preds)?;
            let target = conversion::labels("target", target)?;
            let (preds, target) = (preds.as_array(), target.as_array());
            py.detach(|| clustering::$name(preds, target)).map_err(to_py_err)
        }
    };
}

label_pair_function!(
    /// Mutual information between two labelings, in nats.
    mutual_info_score
);
label_pair_function!(
    /// Rand index: the fraction of sample pairs on which both labelings agree.
    rand_score
);
label_pair_function!(
    /// Rand index adjusted for chance.
    adjusted_rand_score
);
label_pair_function!(
    /// Geometric mean of pairwise precision and recall.
    fowlkes_mallows_index
);
label_pair_function!(
    /// Homogeneity: whether each predicted cluster contains members of one class only.
    homogeneity_score
);
label_pair_function!(
    /// Completeness: whether all members of a class fall in one predicted cluster.
    completeness_score
);
label_pair_function!(
    /// Accuracy under the best one-to-one matching of predicted clusters to classes.
    cluster_accuracy
);

/// Mutual information normalized by a mean of the two entropies.
#[pyfunction]
#[pyo3(signature = (preds, target, average_method = None))]
pub(crate) fn normalized_mutual_info_score(
    py: Python<'_>,
    preds: &Bound<'_, PyAny>,
    target: &Bound<'_, PyAny>,
    average_method: Option<&Bound<'_, PyAny>>,
) -> PyResult<f64> {
    let options = options(py, &[("average_method", average_method)])?;
    let method = Options::new(Some(&options)).average_method()?;
    let preds = conversion::labels("preds", preds)?;
    let target = conversion::labels("target", target)?;
    let (preds, target) = (preds.as_array(), target.as_array());
    py.detach(|| clustering::normalized_mutual_info_score(preds, target, method))
        .map_err(to_py_err)
}

/// Mutual information adjusted for chance.
#[pyfunction]
#[pyo3(signature = (preds, target, average_method = None))]
pub(crate) fn adjusted_mutual_info_score(
    py: Python<'_>,
    preds: &Bound<'_, PyAny>,
    target: &Bound<'_, PyAny>,
    average_method: Option<&Bound<'_, PyAny>>,
) -> PyResult<f64> {
    let options = options(py, &[("average_method", average_method)])?;
    let method = Options::new(Some(&options)).average_method()?;
    let preds = conversion::labels("preds", preds)?;
    let target = conversion::labels("target", target)?;
    let (preds, target) = (preds.as_array(), target.as_array());
    py.detach(|| clustering::adjusted_mutual_info_score(preds, target, method))
        .map_err(to_py_err)
}

/// Weighted harmonic mean of homogeneity and completeness.
#[pyfunction]
pub(crate) fn v_measure_score(
    py: Python<'_>,
    preds: &Bound<'_, PyAny>,
    target: &Bound<'_, PyAny>,
    beta: &Bound<'_, PyAny>,
) -> PyResult<f64> {
    // `beta` is required here, so that an explicit None reaches the option parser and is
    // rejected there instead of meaning the default.
    let options = options(py, &[("beta", Some(beta))])?;
    let beta = Options::new(Some(&options)).float("beta", 1.0)?;
    let preds = conversion::labels("preds", preds)?;
    let target = conversion::labels("target", target)?;
    let (preds, target) = (preds.as_array(), target.as_array());
    py.detach(|| clustering::v_measure_score(preds, target, beta))
        .map_err(to_py_err)
}

/// Contingency matrix in scikit-learn's orientation: rows are the sorted true labels, columns
/// the sorted predicted labels.
#[pyfunction]
pub(crate) fn contingency_matrix<'py>(
    py: Python<'py>,
    labels_true: &Bound<'py, PyAny>,
    labels_pred: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let labels_true = conversion::labels("labels_true", labels_true)?;
    let labels_pred = conversion::labels("labels_pred", labels_pred)?;
    let (labels_true, labels_pred) = (labels_true.as_array(), labels_pred.as_array());
    let counts = py
        .detach(|| clustering::contingency_matrix(labels_true, labels_pred))
        .map_err(to_py_err)?;
    conversion::counts_to_py(py, counts)
}

/// The 2x2 pair confusion matrix, as scikit-learn's `pair_confusion_matrix`.
#[pyfunction]
pub(crate) fn pair_confusion_matrix<'py>(
    py: Python<'py>,
    labels_true: &Bound<'py, PyAny>,
    labels_pred: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let labels_true = conversion::labels("labels_true", labels_true)?;
    let labels_pred = conversion::labels("labels_pred", labels_pred)?;
    let (labels_true, labels_pred) = (labels_true.as_array(), labels_pred.as_array());
    let counts = py
        .detach(|| clustering::pair_confusion_matrix(labels_true, labels_pred))
        .map_err(to_py_err)?;
    conversion::counts_to_py(py, counts)
}

/// Runs an intrinsic kernel on float32 or float64 data, keeping the dtype of `data`.
fn with_data_labels(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    labels: &Bound<'_, PyAny>,
    kernel: impl KernelOverReals,
) -> PyResult<f64> {
    let data = conversion::features("data", data, None)?;
    let labels = conversion::labels("labels", labels)?;
    let labels = labels.as_array();
    let result = match &data {
        Features::F32(data) => {
            let data = data.as_array();
            py.detach(|| kernel.run(data, labels))
        }
        Features::F64(data) => {
            let data = data.as_array();
            py.detach(|| kernel.run(data, labels))
        }
    };
    result.map_err(to_py_err)
}

/// An intrinsic kernel with its options, callable for either float type.
trait KernelOverReals: Sync {
    fn run<F: Real>(&self, data: ArrayView2<'_, F>, labels: ArrayView1<'_, i64>) -> Result<f64>;
}

struct CalinskiHarabasz;

impl KernelOverReals for CalinskiHarabasz {
    fn run<F: Real>(&self, data: ArrayView2<'_, F>, labels: ArrayView1<'_, i64>) -> Result<f64> {
        clustering::calinski_harabasz_score(data, labels)
    }
}

struct DaviesBouldin;

impl KernelOverReals for DaviesBouldin {
    fn run<F: Real>(&self, data: ArrayView2<'_, F>, labels: ArrayView1<'_, i64>) -> Result<f64> {
        clustering::davies_bouldin_score(data, labels)
    }
}

struct Dunn {
    p: f64,
    definition: DunnDefinition,
}

impl KernelOverReals for Dunn {
    fn run<F: Real>(&self, data: ArrayView2<'_, F>, labels: ArrayView1<'_, i64>) -> Result<f64> {
        clustering::dunn_index(data, labels, self.p, self.definition)
    }
}

struct Silhouette {
    sample_size: Option<usize>,
    seed: u64,
}

impl KernelOverReals for Silhouette {
    fn run<F: Real>(&self, data: ArrayView2<'_, F>, labels: ArrayView1<'_, i64>) -> Result<f64> {
        clustering::silhouette_score(data, labels, self.sample_size, self.seed)
    }
}

/// Ratio of between-cluster to within-cluster dispersion (variance ratio criterion).
#[pyfunction]
pub(crate) fn calinski_harabasz_score(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    labels: &Bound<'_, PyAny>,
) -> PyResult<f64> {
    with_data_labels(py, data, labels, CalinskiHarabasz)
}

/// Mean over clusters of the worst ratio of within-cluster scatter to centroid separation.
#[pyfunction]
pub(crate) fn davies_bouldin_score(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    labels: &Bound<'_, PyAny>,
) -> PyResult<f64> {
    with_data_labels(py, data, labels, DaviesBouldin)
}

/// Smallest inter-cluster distance over the largest cluster diameter, in the p-norm.
#[pyfunction]
#[pyo3(signature = (data, labels, p, definition = None))]
pub(crate) fn dunn_index(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    labels: &Bound<'_, PyAny>,
    p: &Bound<'_, PyAny>,
    definition: Option<&Bound<'_, PyAny>>,
) -> PyResult<f64> {
    // `p` is required for the reason given at `v_measure_score`.
    let options = options(py, &[("p", Some(p)), ("definition", definition)])?;
    let options = Options::new(Some(&options));
    let p = options.float("p", 2.0)?;
    let definition = options.dunn_definition()?;
    with_data_labels(py, data, labels, Dunn { p, definition })
}

/// Mean silhouette coefficient over all samples, or over a seeded random subset of
/// `sample_size` samples.
#[pyfunction]
#[pyo3(signature = (data, labels, sample_size = None, seed = None))]
pub(crate) fn silhouette_score(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    labels: &Bound<'_, PyAny>,
    sample_size: Option<&Bound<'_, PyAny>>,
    seed: Option<&Bound<'_, PyAny>>,
) -> PyResult<f64> {
    let options = options(py, &[("sample_size", sample_size), ("seed", seed)])?;
    let options = Options::new(Some(&options));
    let sample_size = options.optional_count("sample_size")?;
    let seed = options.seed("seed")?;
    with_data_labels(py, data, labels, Silhouette { sample_size, seed })
}

/// Collects the options a caller passed into a dict, so that they are parsed and validated as
/// the keyword arguments of the metric classes are.
fn options<'py>(
    py: Python<'py>,
    pairs: &[(&str, Option<&Bound<'py, PyAny>>)],
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (name, value) in pairs {
        if let Some(value) = value {
            dict.set_item(name, value)?;
        }
    }
    Ok(dict)
}

/// Registers the functional forms in the native module.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(mutual_info_score, module)?)?;
    module.add_function(wrap_pyfunction!(normalized_mutual_info_score, module)?)?;
    module.add_function(wrap_pyfunction!(adjusted_mutual_info_score, module)?)?;
    module.add_function(wrap_pyfunction!(rand_score, module)?)?;
    module.add_function(wrap_pyfunction!(adjusted_rand_score, module)?)?;
    module.add_function(wrap_pyfunction!(fowlkes_mallows_index, module)?)?;
    module.add_function(wrap_pyfunction!(homogeneity_score, module)?)?;
    module.add_function(wrap_pyfunction!(completeness_score, module)?)?;
    module.add_function(wrap_pyfunction!(v_measure_score, module)?)?;
    module.add_function(wrap_pyfunction!(cluster_accuracy, module)?)?;
    module.add_function(wrap_pyfunction!(contingency_matrix, module)?)?;
    module.add_function(wrap_pyfunction!(pair_confusion_matrix, module)?)?;
    module.add_function(wrap_pyfunction!(calinski_harabasz_score, module)?)?;
    module.add_function(wrap_pyfunction!(davies_bouldin_score, module)?)?;
    module.add_function(wrap_pyfunction!(dunn_index, module)?)?;
    module.add_function(wrap_pyfunction!(silhouette_score, module)?)?;
    Ok(())
}
