//! The box IoU family for Python: `NativeBoxIou`, the stateful IoU, GIoU, DIoU and CIoU
//! metrics over per-image dicts, and the functional pairwise forms.

use ferrometrics::detection::{
    self, BoxFormat, BoxIouConfig, CompleteIntersectionOverUnion, DistanceIntersectionOverUnion,
    GeneralizedIntersectionOverUnion, ImagePredictions, ImageTargets, IntersectionOverUnion,
};
use ferrometrics::{Error, Metric, Value};
use ndarray::{Array1, Array2, ArrayView2};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

use crate::conversion::value_to_py;
use crate::detection::{boxes as read_boxes, labels as read_labels};
use crate::errors::{argument_error, to_py_err, type_error, value_error};

/// One of the four box IoU metrics.
#[derive(Clone, PartialEq)]
enum BoxIouMetric {
    Iou(IntersectionOverUnion),
    Generalized(GeneralizedIntersectionOverUnion),
    Distance(DistanceIntersectionOverUnion),
    Complete(CompleteIntersectionOverUnion),
}

/// Calls `$body` with `$metric` bound to the metric of any variant of a [`BoxIouMetric`].
macro_rules! with_box_iou {
    ($inner:expr, $metric:ident => $body:expr) => {
        match $inner {
            BoxIouMetric::Iou($metric) => $body,
            BoxIouMetric::Generalized($metric) => $body,
            BoxIouMetric::Distance($metric) => $body,
            BoxIouMetric::Complete($metric) => $body,
        }
    };
}

impl BoxIouMetric {
    fn new(name: &str, config: BoxIouConfig) -> PyResult<Self> {
        let metric = match name {
            "IntersectionOverUnion" => {
                BoxIouMetric::Iou(IntersectionOverUnion::new(config).map_err(to_py_err)?)
            }
            "GeneralizedIntersectionOverUnion" => BoxIouMetric::Generalized(
                GeneralizedIntersectionOverUnion::new(config).map_err(to_py_err)?,
            ),
            "DistanceIntersectionOverUnion" => BoxIouMetric::Distance(
                DistanceIntersectionOverUnion::new(config).map_err(to_py_err)?,
            ),
            "CompleteIntersectionOverUnion" => BoxIouMetric::Complete(
                CompleteIntersectionOverUnion::new(config).map_err(to_py_err)?,
            ),
            other => {
                return Err(argument_error(
                    "name",
                    format!(
                        "{other:?} is not a box IoU metric; use IntersectionOverUnion, \
                         GeneralizedIntersectionOverUnion, DistanceIntersectionOverUnion or \
                         CompleteIntersectionOverUnion"
                    ),
                ))
            }
        };
        Ok(metric)
    }

    fn name(&self) -> &'static str {
        with_box_iou!(self, metric => metric.info().name)
    }

    fn config(&self) -> &BoxIouConfig {
        with_box_iou!(self, metric => metric.config())
    }

    fn empty(&self) -> Self {
        let mut copy = self.clone();
        with_box_iou!(&mut copy, metric => metric.reset());
        copy
    }
}

/// The boxes and labels of one image, copied out of Python so that the metric runs without the
/// GIL.
struct ImageBoxes {
    boxes: Array2<f64>,
    labels: Array1<i64>,
    /// Empty scores for the predictions, which the IoU metrics do not read.
    scores: Array1<f64>,
}

impl ImageBoxes {
    fn predictions(&self) -> ImagePredictions<'_> {
        ImagePredictions {
            boxes: Some(self.boxes.view()),
            scores: self.scores.view(),
            labels: self.labels.view(),
            masks: None,
        }
    }

    fn targets(&self) -> ImageTargets<'_> {
        ImageTargets {
            boxes: Some(self.boxes.view()),
            labels: self.labels.view(),
            iscrowd: None,
            area: None,
            masks: None,
        }
    }
}

/// A box IoU metric (IoU, GIoU, DIoU or CIoU) over per-image dicts of boxes and labels.
#[pyclass(module = "ferrometrics._native", name = "NativeBoxIou")]
pub(crate) struct NativeBoxIou {
    metric: BoxIouMetric,
}

#[pymethods]
impl NativeBoxIou {
    /// Builds the metric `name` (a TorchMetrics class name) from TorchMetrics' arguments.
    #[new]
    #[pyo3(signature = (
        name,
        box_format = "xyxy",
        iou_threshold = None,
        class_metrics = false,
        respect_labels = true,
    ))]
    fn new(
        name: &str,
        box_format: &str,
        iou_threshold: Option<f64>,
        class_metrics: bool,
        respect_labels: bool,
    ) -> PyResult<Self> {
        let config = BoxIouConfig {
            box_format: box_format.parse::<BoxFormat>().map_err(to_py_err)?,
            iou_threshold,
            class_metrics,
            respect_labels,
        };
        Ok(Self {
            metric: BoxIouMetric::new(name, config)?,
        })
    }

    /// The TorchMetrics class name of the metric.
    #[getter]
    fn name(&self) -> &'static str {
        self.metric.name()
    }

    /// The kind of batch: per-image dicts of predictions and targets.
    #[getter]
    fn input_kind(&self) -> &'static str {
        "detection"
    }

    /// Always `None`, because the metric has no NaN strategy.
    #[getter]
    fn nan_count(&self) -> Option<u64> {
        None
    }

    /// Always `None`, because no other metric reads this state.
    fn shared_state_key(&self) -> Option<String> {
        None
    }

    /// Folds one batch into the state: `preds` and `target` are lists of per-image dicts with
    /// `boxes` and `labels`.
    fn update(
        &mut self,
        py: Python<'_>,
        preds: &Bound<'_, PyAny>,
        target: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let preds = read_images("preds", preds)?;
        let target = read_images("target", target)?;

        let metric = &mut self.metric;
        py.detach(|| {
            let predictions: Vec<ImagePredictions<'_>> =
                preds.iter().map(ImageBoxes::predictions).collect();
            let targets: Vec<ImageTargets<'_>> = target.iter().map(ImageBoxes::targets).collect();
            with_box_iou!(metric, metric => metric.update((&predictions, &targets)))
        })
        .map_err(to_py_err)
    }

    /// Computes the value from the state: a dict with the mean and, with `class_metrics`, one
    /// mean per class.
    fn compute<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let value = with_box_iou!(&self.metric, metric => metric.compute()).map_err(to_py_err)?;
        value_to_py(py, value)
    }

    /// Computes the value from the state of `leader`, a metric of the same class and
    /// configuration.
    fn compute_shared<'py>(
        &self,
        py: Python<'py>,
        leader: PyRef<'py, NativeBoxIou>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if leader.metric.name() != self.metric.name()
            || leader.metric.config() != self.metric.config()
        {
            return Err(to_py_err(Error::incompatible_state(
                "the leader metric has another class or configuration; compute it on its own"
                    .to_owned(),
            )));
        }
        leader.compute(py)
    }

    /// Clears the state, keeping the configuration.
    fn reset(&mut self) {
        with_box_iou!(&mut self.metric, metric => metric.reset());
    }

    /// Adds the state of `other`, a metric of the same class and configuration.
    fn merge(slf: &Bound<'_, Self>, other: &Bound<'_, Self>) -> PyResult<()> {
        let theirs = if slf.is(other) {
            slf.borrow().metric.clone()
        } else {
            other.borrow().metric.clone()
        };
        let mut ours = slf.borrow_mut();
        merge_metrics(&mut ours.metric, &theirs).map_err(to_py_err)
    }

    /// Serializes the configuration and the state.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = with_box_iou!(&self.metric, metric => metric.to_bytes()).map_err(to_py_err)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Replaces the state with one serialized by `to_bytes` from a metric of the same class and
    /// configuration.
    fn load_bytes(&mut self, bytes: &[u8]) -> PyResult<()> {
        let loaded = match &self.metric {
            BoxIouMetric::Iou(_) => {
                BoxIouMetric::Iou(IntersectionOverUnion::from_bytes(bytes).map_err(to_py_err)?)
            }
            BoxIouMetric::Generalized(_) => BoxIouMetric::Generalized(
                GeneralizedIntersectionOverUnion::from_bytes(bytes).map_err(to_py_err)?,
            ),
            BoxIouMetric::Distance(_) => BoxIouMetric::Distance(
                DistanceIntersectionOverUnion::from_bytes(bytes).map_err(to_py_err)?,
            ),
            BoxIouMetric::Complete(_) => BoxIouMetric::Complete(
                CompleteIntersectionOverUnion::from_bytes(bytes).map_err(to_py_err)?,
            ),
        };
        if loaded.config() != self.metric.config() {
            // Merging into an empty copy returns the error that names the differing argument.
            let mut probe = self.metric.clone();
            with_box_iou!(&mut probe, metric => metric.reset());
            merge_metrics(&mut probe, &loaded).map_err(to_py_err)?;
        }
        self.metric = loaded;
        Ok(())
    }

    /// Returns a copy with the same configuration and state.
    fn clone(&self) -> Self {
        Self {
            metric: self.metric.clone(),
        }
    }

    /// Returns a copy with the same configuration and an empty state.
    fn empty_copy(&self) -> Self {
        Self {
            metric: self.metric.empty(),
        }
    }

    fn __copy__(&self) -> Self {
        self.clone()
    }

    fn __deepcopy__(&self, _memo: &Bound<'_, PyAny>) -> Self {
        self.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "NativeBoxIou({}, {:?})",
            self.metric.name(),
            self.metric.config()
        )
    }
}

fn merge_metrics(ours: &mut BoxIouMetric, theirs: &BoxIouMetric) -> ferrometrics::Result<()> {
    match (ours, theirs) {
        (BoxIouMetric::Iou(a), BoxIouMetric::Iou(b)) => a.merge(b),
        (BoxIouMetric::Generalized(a), BoxIouMetric::Generalized(b)) => a.merge(b),
        (BoxIouMetric::Distance(a), BoxIouMetric::Distance(b)) => a.merge(b),
        (BoxIouMetric::Complete(a), BoxIouMetric::Complete(b)) => a.merge(b),
        (ours, theirs) => Err(Error::incompatible_state(format!(
            "cannot merge a {} state into a {} state",
            theirs.name(),
            ours.name()
        ))),
    }
}

/// Reads a list of per-image dicts with `boxes` and `labels`.
fn read_images(side: &str, images: &Bound<'_, PyAny>) -> PyResult<Vec<ImageBoxes>> {
    if images.is_instance_of::<PyDict>() || images.is_instance_of::<PyString>() {
        return Err(type_error(
            side,
            "expected a list with one dict per image, got a single dict or string",
        ));
    }
    let items = images.try_iter().map_err(|_| {
        type_error(
            side,
            "expected a list with one dict per image, got an object that is not iterable",
        )
    })?;
    let mut result = Vec::new();
    for (index, item) in items.enumerate() {
        let item = item?;
        let dict = item.cast::<PyDict>().map_err(|_| {
            type_error(
                &format!("{side}[{index}]"),
                "expected a dict of arrays for each image",
            )
        })?;
        let field = |name: &str| format!("{side}[{index}].{name}");
        let required = |name: &str| -> PyResult<Bound<'_, PyAny>> {
            dict.get_item(name)?.ok_or_else(|| {
                value_error(
                    &field(name),
                    format!("missing; every dict in `{side}` needs the key {name:?}"),
                )
            })
        };
        result.push(ImageBoxes {
            boxes: read_boxes(&field("boxes"), &required("boxes")?)?,
            labels: read_labels(&field("labels"), &required("labels")?)?,
            scores: Array1::zeros(0),
        });
    }
    Ok(result)
}

type Functional = fn(
    ArrayView2<'_, f64>,
    ArrayView2<'_, f64>,
    Option<f64>,
    f64,
    bool,
) -> ferrometrics::Result<Value>;

fn run_functional<'py>(
    py: Python<'py>,
    function: Functional,
    preds: &Bound<'py, PyAny>,
    target: &Bound<'py, PyAny>,
    iou_threshold: Option<f64>,
    replacement_val: f64,
    aggregate: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let preds = read_boxes("preds", preds)?;
    let target = read_boxes("target", target)?;
    let value = py
        .detach(|| {
            function(
                preds.view(),
                target.view(),
                iou_threshold,
                replacement_val,
                aggregate,
            )
        })
        .map_err(to_py_err)?;
    value_to_py(py, value)
}

/// Defines the Python function of one member of the family.
macro_rules! box_iou_function {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[pyfunction]
        #[pyo3(signature = (
            preds, target, iou_threshold = None, replacement_val = 0.0, aggregate = true
        ))]
        pub(crate) fn $name<'py>(
            py: Python<'py>,
            preds: &Bound<'py, PyAny>,
            target: &Bound<'py, PyAny>,
            iou_threshold: Option<f64>,
            replacement_val: f64,
            aggregate: bool,
        ) -> PyResult<Bound<'py, PyAny>> {
            run_functional(
                py,
                detection::$name,
                preds,
                target,
                iou_threshold,
                replacement_val,
                aggregate,
            )
        }
    };
}

box_iou_function!(
    /// The IoU of every `preds` box with every `target` box, or the mean of its diagonal.
    intersection_over_union
);
box_iou_function!(
    /// The generalized IoU of every `preds` box with every `target` box, or the mean of its
    /// diagonal.
    generalized_intersection_over_union
);
box_iou_function!(
    /// The distance IoU of every `preds` box with every `target` box, or the mean of its
    /// diagonal.
    distance_intersection_over_union
);
box_iou_function!(
    /// The complete IoU of every `preds` box with every `target` box, or the mean of its
    /// diagonal.
    complete_intersection_over_union
);

/// Adds the box IoU class and functions to the native module.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<NativeBoxIou>()?;
    module.add_function(wrap_pyfunction!(intersection_over_union, module)?)?;
    module.add_function(wrap_pyfunction!(
        generalized_intersection_over_union,
        module
    )?)?;
    module.add_function(wrap_pyfunction!(distance_intersection_over_union, module)?)?;
    module.add_function(wrap_pyfunction!(complete_intersection_over_union, module)?)?;
    Ok(())
}
