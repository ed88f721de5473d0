//! `NativeMeanAveragePrecision`: the COCO detection metric, fed with TorchMetrics' per-image
//! dicts of arrays.

use ferrometrics::detection::{
    Average, Backend, BoxFormat, ImagePredictions, ImageTargets, IouType, MapConfig, Masks,
    MeanAveragePrecision,
};
use ferrometrics::{Error, Metric};
use ndarray::{Array1, Array2, Array3};
use numpy::{PyArray, PyArrayDescrMethods, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::conversion::{to_numpy, value_to_py};
use crate::errors::{to_py_err, type_error, value_error};

/// The arrays of one image, copied out of Python so that the metric can run without the GIL.
#[derive(Default)]
struct ImageArrays {
    boxes: Option<Array2<f64>>,
    scores: Array1<f64>,
    labels: Array1<i64>,
    iscrowd: Option<Array1<bool>>,
    area: Option<Array1<f64>>,
    masks: Option<Array3<bool>>,
}

impl ImageArrays {
    fn predictions(&self) -> ImagePredictions<'_> {
        ImagePredictions {
            boxes: self.boxes.as_ref().map(|boxes| boxes.view()),
            scores: self.scores.view(),
            labels: self.labels.view(),
            masks: self.masks.as_ref().map(|masks| Masks::Dense(masks.view())),
        }
    }

    fn targets(&self) -> ImageTargets<'_> {
        ImageTargets {
            boxes: self.boxes.as_ref().map(|boxes| boxes.view()),
            labels: self.labels.view(),
            iscrowd: self.iscrowd.as_ref().map(|iscrowd| iscrowd.view()),
            area: self.area.as_ref().map(|area| area.view()),
            masks: self.masks.as_ref().map(|masks| Masks::Dense(masks.view())),
        }
    }
}

/// The side of the batch that an image belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Preds,
    Target,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Preds => "preds",
            Side::Target => "target",
        }
    }
}

/// COCO mean average precision over per-image dicts of arrays.
#[pyclass(module = "ferrometrics._native", name = "NativeMeanAveragePrecision")]
pub(crate) struct NativeMeanAveragePrecision {
    metric: MeanAveragePrecision,
}

#[pymethods]
impl NativeMeanAveragePrecision {
    /// Builds the metric from TorchMetrics' arguments, `iou_type` given as a list of names.
    #[new]
    #[pyo3(signature = (
        box_format = "xyxy",
        iou_type = vec!["bbox".to_owned()],
        iou_thresholds = None,
        rec_thresholds = None,
        max_detection_thresholds = None,
        class_metrics = false,
        extended_summary = false,
        average = "macro",
        backend = "pycocotools",
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        box_format: &str,
        iou_type: Vec<String>,
        iou_thresholds: Option<Vec<f64>>,
        rec_thresholds: Option<Vec<f64>>,
        max_detection_thresholds: Option<Vec<usize>>,
        class_metrics: bool,
        extended_summary: bool,
        average: &str,
        backend: &str,
    ) -> PyResult<Self> {
        let iou_types = iou_type
            .iter()
            .map(|name| name.parse::<IouType>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(to_py_err)?;
        let config = MapConfig {
            box_format: box_format.parse::<BoxFormat>().map_err(to_py_err)?,
            iou_types,
            iou_thresholds,
            rec_thresholds,
            max_detection_thresholds,
            class_metrics,
            extended_summary,
            average: average.parse::<Average>().map_err(to_py_err)?,
            backend: backend.parse::<Backend>().map_err(to_py_err)?,
        };
        let metric = MeanAveragePrecision::new(config).map_err(to_py_err)?;
        Ok(Self { metric })
    }

    /// The number of images seen since the last reset.
    #[getter]
    fn image_count(&self) -> usize {
        self.metric.image_count()
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

    /// Folds one batch into the state: `preds` and `target` are lists of per-image dicts.
    fn update(
        &mut self,
        py: Python<'_>,
        preds: &Bound<'_, PyAny>,
        target: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let needs_boxes = self.metric.config().iou_types.contains(&IouType::Bbox);
        let needs_masks = self.metric.config().iou_types.contains(&IouType::Segm);
        let preds = read_images(Side::Preds, preds, needs_boxes, needs_masks)?;
        let target = read_images(Side::Target, target, needs_boxes, needs_masks)?;

        let metric = &mut self.metric;
        py.detach(|| {
            let predictions: Vec<ImagePredictions<'_>> =
                preds.iter().map(ImageArrays::predictions).collect();
            let targets: Vec<ImageTargets<'_>> = target.iter().map(ImageArrays::targets).collect();
            metric.update((&predictions, &targets))
        })
        .map_err(to_py_err)
    }

    /// Computes the value from the state, a dict in TorchMetrics' key order.
    fn compute<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let metric = &self.metric;
        let value = py.detach(|| metric.compute()).map_err(to_py_err)?;
        let result = value_to_py(py, value)?;
        // The computed value holds the classes as float64, exact only up to 2^53.
        let classes = PyArray::from_vec(py, metric.classes());
        result.set_item("classes", classes)?;
        Ok(result)
    }

    /// Returns the extended summary's IoU matrices of the IoU type at `type_index` as a dict
    /// keyed `(image index, class)`, each a float64 array, or an empty list where the image has
    /// no detections or no ground truth of the class, as pycocotools stores it.
    fn extended_ious<'py>(
        &self,
        py: Python<'py>,
        type_index: usize,
    ) -> PyResult<Bound<'py, PyDict>> {
        let metric = &self.metric;
        let matrices = py
            .detach(|| metric.extended_ious(type_index))
            .map_err(to_py_err)?;
        let dict = PyDict::new(py);
        for ((image, class), matrix) in matrices {
            if matrix.is_empty() {
                dict.set_item((image, class), pyo3::types::PyList::empty(py))?;
            } else {
                dict.set_item((image, class), PyArray::from_owned_array(py, matrix))?;
            }
        }
        Ok(dict)
    }

    /// Computes the value from the state of `leader`, a metric of the same configuration.
    fn compute_shared<'py>(
        &self,
        py: Python<'py>,
        leader: PyRef<'py, NativeMeanAveragePrecision>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if leader.metric.config() != self.metric.config() {
            return Err(to_py_err(Error::incompatible_state(
                "the leader metric has another configuration; compute it on its own".to_owned(),
            )));
        }
        leader.compute(py)
    }

    /// Clears the state, keeping the configuration.
    fn reset(&mut self) {
        self.metric.reset();
    }

    /// Appends the images of `other`, a metric of the same configuration, after this one's.
    fn merge(slf: &Bound<'_, Self>, other: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let theirs = if slf.is(other) {
            slf.borrow().metric.clone()
        } else {
            other.borrow().metric.clone()
        };
        let mut ours = slf.borrow_mut();
        let metric = &mut ours.metric;
        py.detach(|| metric.merge(&theirs)).map_err(to_py_err)
    }

    /// Serializes the configuration and the state.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = self.metric.to_bytes().map_err(to_py_err)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Replaces the state with one serialized by `to_bytes` from a metric of the same
    /// configuration.
    fn load_bytes(&mut self, bytes: &[u8]) -> PyResult<()> {
        let loaded = MeanAveragePrecision::from_bytes(bytes).map_err(to_py_err)?;
        if loaded.config() != self.metric.config() {
            // Merging into an empty copy returns the error that names the differing argument.
            self.metric.empty().merge(&loaded).map_err(to_py_err)?;
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

    /// Returns a copy with the same configuration and no images.
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
        format!("NativeMeanAveragePrecision({:?})", self.metric.config())
    }
}

/// Reads a list of per-image dicts.
fn read_images(
    side: Side,
    images: &Bound<'_, PyAny>,
    needs_boxes: bool,
    needs_masks: bool,
) -> PyResult<Vec<ImageArrays>> {
    if images.is_instance_of::<PyDict>() || images.is_instance_of::<pyo3::types::PyString>() {
        return Err(type_error(
            side.name(),
            "expected a list with one dict per image, got a single dict or string",
        ));
    }
    let items = images.try_iter().map_err(|_| {
        type_error(
            side.name(),
            "expected a list with one dict per image, got an object that is not iterable",
        )
    })?;
    let mut result = Vec::new();
    for (index, item) in items.enumerate() {
        let item = item?;
        let dict = item.cast::<PyDict>().map_err(|_| {
            type_error(
                &format!("{}[{index}]", side.name()),
                "expected a dict of arrays for each image",
            )
        })?;
        result.push(read_image(side, index, dict, needs_boxes, needs_masks)?);
    }
    Ok(result)
}

fn read_image(
    side: Side,
    index: usize,
    dict: &Bound<'_, PyDict>,
    needs_boxes: bool,
    needs_masks: bool,
) -> PyResult<ImageArrays> {
    let field = |name: &str| format!("{}[{index}].{name}", side.name());
    let required = |name: &str| -> PyResult<Bound<'_, PyAny>> {
        dict.get_item(name)?.ok_or_else(|| {
            value_error(
                &field(name),
                format!(
                    "missing; every dict in `{}` needs the key {name:?}",
                    side.name()
                ),
            )
        })
    };
    let optional = |name: &str| -> PyResult<Option<Bound<'_, PyAny>>> {
        Ok(dict.get_item(name)?.filter(|value| !value.is_none()))
    };

    let mut image = ImageArrays {
        labels: labels(&field("labels"), &required("labels")?)?,
        ..ImageArrays::default()
    };
    if side == Side::Preds {
        image.scores = floats_1d(&field("scores"), &required("scores")?)?;
    }
    if needs_boxes {
        image.boxes = Some(boxes(&field("boxes"), &required("boxes")?)?);
    }
    if needs_masks {
        image.masks = Some(masks(&field("masks"), &required("masks")?)?);
    }
    if side == Side::Target {
        if let Some(iscrowd) = optional("iscrowd")? {
            image.iscrowd = Some(flags(&field("iscrowd"), &iscrowd)?);
        }
        if let Some(area) = optional("area")? {
            image.area = Some(floats_1d(&field("area"), &area)?);
        }
    }
    Ok(image)
}

/// Converts `object` to a numpy array and checks that its dtype kind is one of `kinds`.
fn numeric<'py>(
    argument: &str,
    object: &Bound<'py, PyAny>,
    kinds: &[u8],
    expected: &str,
) -> PyResult<Bound<'py, PyUntypedArray>> {
    let array = to_numpy(argument, object)?;
    let dtype = array.dtype();
    let empty_sequence = array.len() == 0 && !object.is_instance_of::<PyUntypedArray>();
    if !kinds.contains(&dtype.kind()) && !empty_sequence {
        let name = dtype.str().map(|text| text.to_string()).unwrap_or_default();
        return Err(type_error(
            argument,
            format!("expected {expected}, got dtype {name}"),
        ));
    }
    Ok(array)
}

fn cast<'py, T: numpy::Element, D: ndarray::Dimension>(
    array: &Bound<'py, PyUntypedArray>,
    dtype: &str,
) -> PyResult<ndarray::Array<T, D>> {
    let converted = array.call_method1("astype", (dtype,))?;
    let typed = converted.cast_into::<PyArray<T, D>>()?;
    Ok(typed.to_owned_array())
}

fn shape_error(argument: &str, array: &Bound<'_, PyUntypedArray>, expected: &str) -> PyErr {
    value_error(
        argument,
        format!(
            "expected {expected}, got an array of shape {:?}",
            array.shape()
        ),
    )
}

pub(crate) fn labels(argument: &str, object: &Bound<'_, PyAny>) -> PyResult<Array1<i64>> {
    let array = numeric(argument, object, b"iub", "integer class labels")?;
    if array.ndim() != 1 {
        return Err(shape_error(argument, &array, "a 1-D array of class labels"));
    }
    if array.dtype().kind() == b'u' {
        // A cast to int64 would wrap uint64 labels above i64::MAX into negative labels.
        let unsigned: Array1<u64> = cast(&array, "uint64")?;
        if let Some((index, label)) = unsigned
            .iter()
            .enumerate()
            .find(|(_, &label)| i64::try_from(label).is_err())
        {
            return Err(value_error(
                argument,
                format!(
                    "label {label} at index {index} exceeds the int64 range of class labels; \
                     relabel with `numpy.unique(labels, return_inverse=True)`"
                ),
            ));
        }
    }
    cast(&array, "int64")
}

fn floats_1d(argument: &str, object: &Bound<'_, PyAny>) -> PyResult<Array1<f64>> {
    let array = numeric(argument, object, b"fiub", "real numbers")?;
    if array.ndim() != 1 {
        return Err(shape_error(argument, &array, "a 1-D array"));
    }
    cast(&array, "float64")
}

fn flags(argument: &str, object: &Bound<'_, PyAny>) -> PyResult<Array1<bool>> {
    let array = numeric(argument, object, b"iub", "0/1 or boolean crowd flags")?;
    if array.ndim() != 1 {
        return Err(shape_error(argument, &array, "a 1-D array of crowd flags"));
    }
    cast(&array, "bool")
}

/// Reads boxes `(N, 4)`. An empty array of any shape means no boxes, as in TorchMetrics.
pub(crate) fn boxes(argument: &str, object: &Bound<'_, PyAny>) -> PyResult<Array2<f64>> {
    let array = numeric(argument, object, b"fiub", "real-valued boxes")?;
    if array.len() == 0 {
        return Ok(Array2::zeros((0, 4)));
    }
    if array.ndim() != 2 || array.shape()[1] != 4 {
        return Err(shape_error(argument, &array, "boxes of shape (N, 4)"));
    }
    cast(&array, "float64")
}

/// Reads masks `(N, H, W)`, boolean or 0/1 integers.
fn masks(argument: &str, object: &Bound<'_, PyAny>) -> PyResult<Array3<bool>> {
    let array = numeric(argument, object, b"iub", "boolean masks")?;
    if array.ndim() != 3 {
        return Err(shape_error(
            argument,
            &array,
            "boolean masks of shape (N, H, W)",
        ));
    }
    cast(&array, "bool")
}

/// Adds the detection classes to the native module.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<NativeMeanAveragePrecision>()?;
    Ok(())
}
