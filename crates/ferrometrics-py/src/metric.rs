//! `NativeMetric`: one Python class that serves every metric, built from a class name and the
//! keyword arguments of the Python class that wraps it.

use ferrometrics::clustering::ContingencyTable;
use ferrometrics::wrappers::{SampleTerms, TermSums};
use ferrometrics::{DynMetric, Error, InputKind, MetricInfo, Value};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::conversion::{self, Features, Precision};
use crate::errors::{to_py_err, value_error};
use crate::factory::{Config, Inner, Kind};

/// Calls `$body` with `$metric` bound to the boxed metric of any variant of an [`Inner`].
macro_rules! with_metric {
    ($inner:expr, $metric:ident => $body:expr) => {
        match $inner {
            Inner::LabelPairs($metric) => $body,
            Inner::DataF32($metric) => $body,
            Inner::DataF64($metric) => $body,
            Inner::WeightedValues($metric) => $body,
            Inner::Regression($metric) => $body,
            Inner::WeightedRegression($metric) => $body,
            Inner::Classification($metric) => $body,
            Inner::Grouped($metric) => $body,
        }
    };
}

/// Version of the byte layout of [`NativeMetric::to_bytes`]: this byte, the precision tag, the
/// fresh flag, then the library's serialized state.
const BYTES_FORMAT: u8 = 1;

/// A metric of any class, its configuration and its state.
///
/// Intrinsic clustering metrics run in float32 or float64. Until the first batch they follow the
/// dtype of the batch they receive, so float32 data is never widened, and later batches are
/// cast to the precision the first batch chose.
#[pyclass(module = "ferrometrics._native", name = "NativeMetric")]
pub(crate) struct NativeMetric {
    config: Config,
    inner: Inner,
    /// Float type of an intrinsic metric, `None` for the other kinds.
    precision: Option<Precision>,
    /// `true` until a batch or a non-empty state arrives, while an intrinsic metric may still
    /// change its precision.
    fresh: bool,
}

/// Operation applied to a batch once it is read.
#[derive(Clone, Copy)]
enum Step {
    Update,
    Forward,
}

impl NativeMetric {
    /// Builds a metric from a parsed configuration.
    pub(crate) fn from_config(config: Config) -> PyResult<Self> {
        let precision = match config.kind() {
            Kind::DataLabels => Some(Precision::F64),
            _ => None,
        };
        let inner = config
            .build(precision.unwrap_or(Precision::F64))
            .map_err(to_py_err)?;
        Ok(Self {
            config,
            inner,
            precision,
            fresh: true,
        })
    }

    pub(crate) fn kind(&self) -> Kind {
        self.config.kind()
    }

    pub(crate) fn info(&self) -> MetricInfo {
        with_metric!(&self.inner, metric => metric.info())
    }

    /// Reads a batch and updates the metric with it, or computes the batch's own value and
    /// accumulates it. The library runs with the GIL released.
    fn step(
        &mut self,
        py: Python<'_>,
        first: &Bound<'_, PyAny>,
        second: Option<&Bound<'_, PyAny>>,
        third: Option<&Bound<'_, PyAny>>,
        step: Step,
    ) -> PyResult<Option<Value>> {
        let takes_third = matches!(self.kind(), Kind::Grouped | Kind::WeightedRegression);
        if third.is_some() && !takes_third {
            return Err(PyTypeError::new_err(format!(
                "{} takes two inputs, got a third",
                self.info().name
            )));
        }
        let (first_name, second_name) = self.kind().argument_names();
        let required_second = || {
            second.ok_or_else(|| {
                PyTypeError::new_err(format!(
                    "{} is missing the input `{second_name}`; pass `{first_name}` and `{second_name}`",
                    self.info().name
                ))
            })
        };

        let result = match self.kind() {
            Kind::LabelPairs => {
                let preds = conversion::labels(first_name, first)?;
                let target = conversion::labels(second_name, required_second()?)?;
                let Inner::LabelPairs(metric) = &mut self.inner else {
                    unreachable!("a label-pairs configuration builds a label-pairs metric")
                };
                let input = (preds.as_array(), target.as_array());
                py.detach(|| apply(metric.as_mut(), input, step))
            }
            Kind::DataLabels => {
                let requested = if self.fresh { None } else { self.precision };
                let data = conversion::features(first_name, first, requested)?;
                let labels = conversion::labels(second_name, required_second()?)?;
                self.adopt_precision(match data {
                    Features::F32(_) => Precision::F32,
                    Features::F64(_) => Precision::F64,
                })?;
                match (&mut self.inner, &data) {
                    (Inner::DataF32(metric), Features::F32(data)) => {
                        let input = (data.as_array(), labels.as_array());
                        py.detach(|| apply(metric.as_mut(), input, step))
                    }
                    (Inner::DataF64(metric), Features::F64(data)) => {
                        let input = (data.as_array(), labels.as_array());
                        py.detach(|| apply(metric.as_mut(), input, step))
                    }
                    _ => unreachable!("the data was converted to the metric's precision"),
                }
            }
            Kind::WeightedValues => {
                let value = conversion::values(first_name, first)?;
                let weight = match second.filter(|weight| !weight.is_none()) {
                    Some(weight) => Some(conversion::values(second_name, weight)?),
                    None => None,
                };
                let Inner::WeightedValues(metric) = &mut self.inner else {
                    unreachable!("a weighted-values configuration builds a weighted-values metric")
                };
                let input = (
                    value.as_array(),
                    weight.as_ref().map(|weight| weight.as_array()),
                );
                py.detach(|| apply(metric.as_mut(), input, step))
            }
            Kind::Regression | Kind::Distributions => {
                let first = conversion::reals(first_name, first)?;
                let second = conversion::reals(second_name, required_second()?)?;
                let Inner::Regression(metric) = &mut self.inner else {
                    unreachable!("a regression configuration builds a regression metric")
                };
                let input = (first.as_array(), second.as_array());
                py.detach(|| apply(metric.as_mut(), input, step))
            }
            Kind::WeightedRegression => {
                let preds = conversion::reals(first_name, first)?;
                let target = conversion::reals(second_name, required_second()?)?;
                let weights = third.ok_or_else(|| {
                    PyTypeError::new_err(format!(
                        "{} is missing the input `weights`; pass `preds`, `target` and `weights`",
                        self.info().name
                    ))
                })?;
                let weights = conversion::reals("weights", weights)?;
                let Inner::WeightedRegression(metric) = &mut self.inner else {
                    unreachable!("a weighted regression configuration builds a weighted metric")
                };
                let input = (preds.as_array(), target.as_array(), weights.as_array());
                py.detach(|| apply(metric.as_mut(), input, step))
            }
            Kind::Classification => {
                let preds = conversion::class_preds(first_name, first)?;
                let target = conversion::class_target(second_name, required_second()?)?;
                let Inner::Classification(metric) = &mut self.inner else {
                    unreachable!("a classification configuration builds a classification metric")
                };
                let input = (preds.as_preds(), target.as_array());
                py.detach(|| apply(metric.as_mut(), input, step))
            }
            Kind::Grouped => {
                let preds = conversion::class_preds(first_name, first)?;
                let target = conversion::class_target(second_name, required_second()?)?;
                let groups = third.ok_or_else(|| {
                    PyTypeError::new_err(format!(
                        "{} is missing the input `groups`; pass `preds`, `target` and `groups`",
                        self.info().name
                    ))
                })?;
                let groups = conversion::class_target("groups", groups)?;
                let Inner::Grouped(metric) = &mut self.inner else {
                    unreachable!("a fairness configuration builds a grouped metric")
                };
                let input = (preds.as_preds(), target.as_array(), groups.as_array());
                py.detach(|| apply(metric.as_mut(), input, step))
            }
        };

        let value = result.map_err(to_py_err)?;
        self.fresh = false;
        Ok(value)
    }

    /// Validates a regression or aggregation batch as `update` does and returns its per-sample
    /// additive terms, or `None` if the metric is of another kind or has no such terms. A 0-d
    /// `first` input is rejected because it has no sample axis.
    pub(crate) fn sample_terms(
        &self,
        py: Python<'_>,
        first: &Bound<'_, PyAny>,
        second: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<SampleTerms>> {
        let (first_name, second_name) = self.kind().argument_names();
        let (terms, first_ndim) = match (&self.inner, self.kind()) {
            (Inner::Regression(metric), Kind::Regression) => {
                let Some(second) = second else {
                    return Ok(None);
                };
                let preds = conversion::reals(first_name, first)?;
                let target = conversion::reals(second_name, second)?;
                let input = (preds.as_array(), target.as_array());
                let terms = py.detach(|| metric.sample_terms(input));
                (terms, preds.as_array().ndim())
            }
            (Inner::WeightedValues(metric), Kind::WeightedValues) => {
                let value = conversion::values(first_name, first)?;
                let weight = match second.filter(|weight| !weight.is_none()) {
                    Some(weight) => Some(conversion::values(second_name, weight)?),
                    None => None,
                };
                let input = (
                    value.as_array(),
                    weight.as_ref().map(|weight| weight.as_array()),
                );
                let terms = py.detach(|| metric.sample_terms(input));
                (terms, value.as_array().ndim())
            }
            _ => return Ok(None),
        };
        let Some(terms) = terms else {
            return Ok(None);
        };
        let terms = terms.map_err(to_py_err)?;
        if first_ndim == 0 {
            return Err(value_error(
                first_name,
                "a scalar has no sample axis to resample; pass an array of shape (N, ...)",
            ));
        }
        Ok(Some(terms))
    }

    /// Adds count-weighted term sums to the state, as `Metric::add_term_sums`.
    pub(crate) fn add_term_sums(&mut self, sums: &TermSums) -> PyResult<()> {
        with_metric!(&mut self.inner, metric => metric.add_term_sums(sums)).map_err(to_py_err)?;
        self.fresh = false;
        Ok(())
    }

    /// Rebuilds a fresh intrinsic metric for `precision`, so that it keeps the batch's dtype.
    fn adopt_precision(&mut self, precision: Precision) -> PyResult<()> {
        if self.fresh && self.precision != Some(precision) {
            self.inner = self.config.build(precision).map_err(to_py_err)?;
            self.precision = Some(precision);
        }
        Ok(())
    }

    fn clone_inner(&self) -> Inner {
        match &self.inner {
            Inner::LabelPairs(metric) => Inner::LabelPairs(metric.clone_box()),
            Inner::DataF32(metric) => Inner::DataF32(metric.clone_box()),
            Inner::DataF64(metric) => Inner::DataF64(metric.clone_box()),
            Inner::WeightedValues(metric) => Inner::WeightedValues(metric.clone_box()),
            Inner::Regression(metric) => Inner::Regression(metric.clone_box()),
            Inner::WeightedRegression(metric) => Inner::WeightedRegression(metric.clone_box()),
            Inner::Classification(metric) => Inner::Classification(metric.clone_box()),
            Inner::Grouped(metric) => Inner::Grouped(metric.clone_box()),
        }
    }

    pub(crate) fn duplicate(&self) -> Self {
        Self {
            config: self.config.clone(),
            inner: self.clone_inner(),
            precision: self.precision,
            fresh: self.fresh,
        }
    }

    /// Folds `other`'s state into this one. A fresh intrinsic metric takes `other`'s precision,
    /// and a fresh `other` adds nothing whatever its precision.
    fn merge_from(&mut self, py: Python<'_>, other: &NativeMetric) -> PyResult<()> {
        if other.fresh && other.precision != self.precision {
            return Ok(());
        }
        if let Some(precision) = other.precision {
            self.adopt_precision(precision)?;
        }

        let result = match (&mut self.inner, &other.inner) {
            (Inner::LabelPairs(ours), Inner::LabelPairs(theirs)) => {
                py.detach(|| ours.merge_dyn(theirs.as_ref()))
            }
            (Inner::DataF32(ours), Inner::DataF32(theirs)) => {
                py.detach(|| ours.merge_dyn(theirs.as_ref()))
            }
            (Inner::DataF64(ours), Inner::DataF64(theirs)) => {
                py.detach(|| ours.merge_dyn(theirs.as_ref()))
            }
            (Inner::WeightedValues(ours), Inner::WeightedValues(theirs)) => {
                py.detach(|| ours.merge_dyn(theirs.as_ref()))
            }
            (Inner::Regression(ours), Inner::Regression(theirs)) => {
                py.detach(|| ours.merge_dyn(theirs.as_ref()))
            }
            (Inner::WeightedRegression(ours), Inner::WeightedRegression(theirs)) => {
                py.detach(|| ours.merge_dyn(theirs.as_ref()))
            }
            (Inner::Classification(ours), Inner::Classification(theirs)) => {
                py.detach(|| ours.merge_dyn(theirs.as_ref()))
            }
            (Inner::Grouped(ours), Inner::Grouped(theirs)) => {
                py.detach(|| ours.merge_dyn(theirs.as_ref()))
            }
            (ours, theirs) => Err(Error::incompatible_state(format!(
                "cannot merge a {} state{} into a {} state{}",
                with_metric!(theirs, metric => metric.info().name),
                describe_precision(other.precision),
                with_metric!(ours, metric => metric.info().name),
                describe_precision(self.precision),
            ))),
        };
        result.map_err(to_py_err)?;

        self.fresh &= other.fresh;
        Ok(())
    }

    /// Computes this metric's value from the state of `leader`, a metric whose
    /// `shared_state_key` equals this one's.
    pub(crate) fn compute_from(&self, py: Python<'_>, leader: &NativeMetric) -> PyResult<Value> {
        let result = match (&self.inner, &leader.inner) {
            (Inner::LabelPairs(ours), Inner::LabelPairs(theirs)) => {
                py.detach(|| compute_from_state(ours.as_ref(), theirs.as_ref()))
            }
            (Inner::DataF32(ours), Inner::DataF32(theirs)) => {
                py.detach(|| compute_from_state(ours.as_ref(), theirs.as_ref()))
            }
            (Inner::DataF64(ours), Inner::DataF64(theirs)) => {
                py.detach(|| compute_from_state(ours.as_ref(), theirs.as_ref()))
            }
            (Inner::WeightedValues(ours), Inner::WeightedValues(theirs)) => {
                py.detach(|| compute_from_state(ours.as_ref(), theirs.as_ref()))
            }
            (Inner::Regression(ours), Inner::Regression(theirs)) => {
                py.detach(|| compute_from_state(ours.as_ref(), theirs.as_ref()))
            }
            (Inner::WeightedRegression(ours), Inner::WeightedRegression(theirs)) => {
                py.detach(|| compute_from_state(ours.as_ref(), theirs.as_ref()))
            }
            (Inner::Classification(ours), Inner::Classification(theirs)) => {
                py.detach(|| compute_from_state(ours.as_ref(), theirs.as_ref()))
            }
            (Inner::Grouped(ours), Inner::Grouped(theirs)) => {
                py.detach(|| compute_from_state(ours.as_ref(), theirs.as_ref()))
            }
            _ => Err(Error::incompatible_state(format!(
                "{} cannot read the state of {}, which takes another kind of input",
                self.info().name,
                leader.info().name
            ))),
        };
        result.map_err(to_py_err)
    }

    /// Folds the shared state of `leader`, a metric whose `shared_state_key` equals this one's,
    /// into this metric's own state.
    fn merge_shared_from(&mut self, py: Python<'_>, leader: &NativeMetric) -> PyResult<()> {
        let result = match (&mut self.inner, &leader.inner) {
            (Inner::LabelPairs(ours), Inner::LabelPairs(theirs)) => {
                py.detach(|| merge_shared_state(ours.as_mut(), theirs.as_ref()))
            }
            (Inner::DataF32(ours), Inner::DataF32(theirs)) => {
                py.detach(|| merge_shared_state(ours.as_mut(), theirs.as_ref()))
            }
            (Inner::DataF64(ours), Inner::DataF64(theirs)) => {
                py.detach(|| merge_shared_state(ours.as_mut(), theirs.as_ref()))
            }
            (Inner::WeightedValues(ours), Inner::WeightedValues(theirs)) => {
                py.detach(|| merge_shared_state(ours.as_mut(), theirs.as_ref()))
            }
            (Inner::Regression(ours), Inner::Regression(theirs)) => {
                py.detach(|| merge_shared_state(ours.as_mut(), theirs.as_ref()))
            }
            (Inner::WeightedRegression(ours), Inner::WeightedRegression(theirs)) => {
                py.detach(|| merge_shared_state(ours.as_mut(), theirs.as_ref()))
            }
            (Inner::Classification(ours), Inner::Classification(theirs)) => {
                py.detach(|| merge_shared_state(ours.as_mut(), theirs.as_ref()))
            }
            (Inner::Grouped(ours), Inner::Grouped(theirs)) => {
                py.detach(|| merge_shared_state(ours.as_mut(), theirs.as_ref()))
            }
            (ours, _) => Err(Error::incompatible_state(format!(
                "{} cannot merge the state of {}, which takes another kind of input",
                with_metric!(ours, metric => metric.info().name),
                leader.info().name
            ))),
        };
        result.map_err(to_py_err)?;
        self.fresh &= leader.fresh;
        Ok(())
    }
}

#[pymethods]
impl NativeMetric {
    /// Builds the metric class `name` with the keyword arguments of its Python class.
    #[new]
    #[pyo3(signature = (name, options = None))]
    fn new(name: &str, options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        Self::from_config(Config::parse(name, options)?)
    }

    /// The class name, as TorchMetrics spells it.
    #[getter]
    fn name(&self) -> &'static str {
        self.info().name
    }

    /// The kind of batch: `"label_pairs"`, `"data_labels"`, `"weighted_values"`, `"regression"`,
    /// `"distributions"`, `"weighted_regression"`, `"classification"` or `"grouped"`.
    #[getter(input_kind)]
    fn input_kind(&self) -> &'static str {
        self.kind().as_str()
    }

    /// The float dtype of an intrinsic metric's computations, `None` for other metrics.
    #[getter]
    fn precision(&self) -> Option<&'static str> {
        self.precision.map(Precision::dtype_name)
    }

    #[getter]
    fn higher_is_better(&self) -> Option<bool> {
        self.info().higher_is_better
    }

    #[getter]
    fn is_differentiable(&self) -> bool {
        self.info().is_differentiable
    }

    #[getter]
    fn lower_bound(&self) -> f64 {
        self.info().lower_bound
    }

    #[getter]
    fn upper_bound(&self) -> f64 {
        self.info().upper_bound
    }

    /// Number of NaN values that the NaN strategy of an aggregation metric dropped or replaced,
    /// `None` for metrics without a NaN strategy.
    #[getter]
    fn nan_count(&self) -> Option<u64> {
        match &self.inner {
            Inner::WeightedValues(metric) => crate::factory::nan_count(metric.as_ref()),
            _ => None,
        }
    }

    /// Folds one batch into the state. `third` is the `groups` input of the fairness metrics and
    /// the `weights` input of `WeightedPearsonCorrCoef`.
    #[pyo3(signature = (first, second = None, third = None))]
    fn update(
        &mut self,
        py: Python<'_>,
        first: &Bound<'_, PyAny>,
        second: Option<&Bound<'_, PyAny>>,
        third: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        self.step(py, first, second, third, Step::Update)?;
        Ok(())
    }

    /// Computes the batch's own value and folds the batch into the state.
    #[pyo3(signature = (first, second = None, third = None))]
    fn forward<'py>(
        &mut self,
        py: Python<'py>,
        first: &Bound<'py, PyAny>,
        second: Option<&Bound<'py, PyAny>>,
        third: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let value = self.step(py, first, second, third, Step::Forward)?;
        let value = value.expect("a forward step returns the batch value");
        conversion::value_to_py(py, value)
    }

    /// Computes the value of one batch on its own, leaving the state unchanged, as the
    /// functional metrics do. Classification batches go to `Metric::evaluate`, and other kinds
    /// through an empty copy.
    #[pyo3(signature = (first, second = None, third = None))]
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        first: &Bound<'py, PyAny>,
        second: Option<&Bound<'py, PyAny>>,
        third: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let Inner::Classification(metric) = &self.inner else {
            let mut batch = self.empty_copy();
            batch.step(py, first, second, third, Step::Update)?;
            return batch.compute(py);
        };
        if third.is_some() {
            return Err(PyTypeError::new_err(format!(
                "{} takes two inputs, got a third",
                self.info().name
            )));
        }
        let (first_name, second_name) = self.kind().argument_names();
        let second = second.ok_or_else(|| {
            PyTypeError::new_err(format!(
                "{} is missing the input `{second_name}`; pass `{first_name}` and `{second_name}`",
                self.info().name
            ))
        })?;
        let preds = conversion::class_preds(first_name, first)?;
        let target = conversion::class_target(second_name, second)?;
        let input = (preds.as_preds(), target.as_array());
        let value = py.detach(|| metric.evaluate(input)).map_err(to_py_err)?;
        conversion::value_to_py(py, value)
    }

    /// Computes the value from the state.
    fn compute<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let inner = &self.inner;
        let value = py
            .detach(|| with_metric!(inner, metric => metric.compute()))
            .map_err(to_py_err)?;
        conversion::value_to_py(py, value)
    }

    /// Computes the value from the state of `leader`, which shares this metric's state key.
    fn compute_shared<'py>(
        &self,
        py: Python<'py>,
        leader: PyRef<'py, NativeMetric>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let value = self.compute_from(py, &leader)?;
        conversion::value_to_py(py, value)
    }

    /// Clears the state, keeping the configuration.
    fn reset(&mut self) {
        with_metric!(&mut self.inner, metric => metric.reset());
        self.fresh = true;
    }

    /// Folds the state of `other`, a metric of the same class and configuration, into this one.
    fn merge(slf: &Bound<'_, Self>, other: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        if slf.is(other) {
            let copy = slf.borrow().duplicate();
            return slf.borrow_mut().merge_from(py, &copy);
        }
        let other = other.borrow();
        slf.borrow_mut().merge_from(py, &other)
    }

    /// Folds the shared state of `leader`, a metric whose `shared_state_key` equals this one's
    /// and which may be of another class, into this metric's own state.
    fn merge_shared(slf: &Bound<'_, Self>, leader: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        if slf.is(leader) {
            let copy = slf.borrow().duplicate();
            return slf.borrow_mut().merge_shared_from(py, &copy);
        }
        let leader = leader.borrow();
        slf.borrow_mut().merge_shared_from(py, &leader)
    }

    /// Returns the key of a state that other metrics can read, as in a compute group.
    fn shared_state_key(&self) -> Option<String> {
        with_metric!(&self.inner, metric => metric.shared_state_key())
    }

    /// Returns a copy with the same configuration and an empty state that keeps the precision
    /// of this metric, so that a batch updated into it is cast as this metric casts it.
    fn empty_copy(&self) -> Self {
        let mut copy = self.duplicate();
        with_metric!(&mut copy.inner, metric => metric.reset());
        copy
    }

    /// Returns the smallest and the largest label in the contingency table of a label-pairs
    /// metric, over predicted and true labels, or `None` for an empty table or another state.
    fn label_range(&self) -> Option<(i64, i64)> {
        let Inner::LabelPairs(metric) = &self.inner else {
            return None;
        };
        let table = metric.shared_state()?.downcast_ref::<ContingencyTable>()?;
        let mut labels = table.pred_labels();
        labels.extend(table.target_labels());
        let low = labels.iter().min()?;
        let high = labels.iter().max()?;
        Some((*low, *high))
    }

    /// Serializes the configuration and the state.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let state = with_metric!(&self.inner, metric => metric.to_bytes()).map_err(to_py_err)?;
        let mut bytes = Vec::with_capacity(state.len() + 3);
        bytes.push(BYTES_FORMAT);
        bytes.push(precision_tag(self.precision));
        bytes.push(u8::from(self.fresh));
        bytes.extend_from_slice(&state);
        Ok(PyBytes::new(py, &bytes))
    }

    /// Replaces the state with one serialized by `to_bytes` from a metric of the same class and
    /// configuration.
    fn load_bytes(&mut self, bytes: &[u8]) -> PyResult<()> {
        let invalid = |message: &str| to_py_err(Error::incompatible_state(message.to_owned()));
        let [format, tag, fresh, state @ ..] = bytes else {
            return Err(invalid("the bytes are too short to hold a metric state"));
        };
        if *format != BYTES_FORMAT {
            return Err(invalid(&format!(
                "state layout {format} is not the supported layout {BYTES_FORMAT}"
            )));
        }
        let precision = match tag {
            0 => None,
            1 => Some(Precision::F32),
            2 => Some(Precision::F64),
            _ => return Err(invalid(&format!("unknown precision tag {tag}"))),
        };
        if precision.is_some() != self.precision.is_some() {
            return Err(invalid(&format!(
                "the bytes hold a state of another kind than {}",
                self.info().name
            )));
        }

        let mut loaded = self
            .config
            .build(precision.unwrap_or(Precision::F64))
            .map_err(to_py_err)?;
        with_metric!(&mut loaded, metric => metric.load_bytes(state)).map_err(to_py_err)?;

        // Loading replaces the configuration too, so a merge into an empty metric of this
        // configuration checks that the loaded one is the same.
        let mut probe = self
            .config
            .build(precision.unwrap_or(Precision::F64))
            .map_err(to_py_err)?;
        let check = match (&mut probe, &loaded) {
            (Inner::LabelPairs(probe), Inner::LabelPairs(loaded)) => {
                probe.merge_dyn(loaded.as_ref())
            }
            (Inner::DataF32(probe), Inner::DataF32(loaded)) => probe.merge_dyn(loaded.as_ref()),
            (Inner::DataF64(probe), Inner::DataF64(loaded)) => probe.merge_dyn(loaded.as_ref()),
            (Inner::WeightedValues(probe), Inner::WeightedValues(loaded)) => {
                probe.merge_dyn(loaded.as_ref())
            }
            (Inner::Regression(probe), Inner::Regression(loaded)) => {
                probe.merge_dyn(loaded.as_ref())
            }
            (Inner::WeightedRegression(probe), Inner::WeightedRegression(loaded)) => {
                probe.merge_dyn(loaded.as_ref())
            }
            (Inner::Classification(probe), Inner::Classification(loaded)) => {
                probe.merge_dyn(loaded.as_ref())
            }
            (Inner::Grouped(probe), Inner::Grouped(loaded)) => probe.merge_dyn(loaded.as_ref()),
            _ => unreachable!("both were built from one configuration and precision"),
        };
        check.map_err(|error| match error {
            Error::IncompatibleState { message } => to_py_err(Error::incompatible_state(format!(
                "cannot load a state saved by a metric of another configuration into {}: {message}",
                self.info().name
            ))),
            other => to_py_err(other),
        })?;

        self.inner = loaded;
        self.precision = precision;
        self.fresh = *fresh != 0;
        Ok(())
    }

    /// Returns a copy with the same configuration and state.
    fn clone(&self) -> Self {
        self.duplicate()
    }

    fn __copy__(&self) -> Self {
        self.duplicate()
    }

    fn __deepcopy__(&self, _memo: &Bound<'_, PyAny>) -> Self {
        self.duplicate()
    }

    fn __repr__(&self) -> String {
        format!("NativeMetric({:?})", self.config)
    }
}

/// Runs one step on a metric of any batch kind.
fn apply<K: InputKind>(
    metric: &mut dyn DynMetric<K>,
    input: K::Input<'_>,
    step: Step,
) -> ferrometrics::Result<Option<Value>> {
    match step {
        Step::Update => metric.update(input).map(|()| None),
        Step::Forward => metric.forward(input).map(Some),
    }
}

/// Computes `ours` from the shared state of `theirs`.
fn compute_from_state<K: InputKind>(
    ours: &dyn DynMetric<K>,
    theirs: &dyn DynMetric<K>,
) -> ferrometrics::Result<Value> {
    let state = theirs.shared_state().ok_or_else(|| {
        Error::incompatible_state(format!(
            "{} has no state that {} can read",
            theirs.info().name,
            ours.info().name
        ))
    })?;
    ours.compute_shared(state)
}

/// Folds the shared state of `theirs` into `ours`.
fn merge_shared_state<K: InputKind>(
    ours: &mut dyn DynMetric<K>,
    theirs: &dyn DynMetric<K>,
) -> ferrometrics::Result<()> {
    let state = theirs.shared_state().ok_or_else(|| {
        Error::incompatible_state(format!(
            "{} has no state that {} can merge",
            theirs.info().name,
            ours.info().name
        ))
    })?;
    ours.merge_shared(state)
}

fn precision_tag(precision: Option<Precision>) -> u8 {
    match precision {
        None => 0,
        Some(Precision::F32) => 1,
        Some(Precision::F64) => 2,
    }
}

fn describe_precision(precision: Option<Precision>) -> &'static str {
    match precision {
        None => "",
        Some(Precision::F32) => " of float32 data",
        Some(Precision::F64) => " of float64 data",
    }
}
