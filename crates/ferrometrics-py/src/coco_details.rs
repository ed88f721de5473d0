//! The per-image records of `ferrometrics.coco.COCOeval`: `ious` and `evalImgs` in
//! pycocotools' layout.

use ferrometrics::detection::{
    evaluation_details, AreaRange, CocoDataset, EvaluationDetails, ImageDetails, IouType, Params,
};
use ndarray::{Array1, Array2};
use numpy::PyArray;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use crate::errors::to_py_err;

/// Evaluates the ground truth and results (COCO JSON texts) and returns `(ious, eval_imgs)`:
/// `ious` a list of `(image_id, category_id, matrix)`, and `eval_imgs` pycocotools' `evalImgs`
/// list with `aRng` given as the position of the area range. The GIL is released meanwhile.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn coco_evaluation_details<'py>(
    py: Python<'py>,
    truth_json: &str,
    results_json: &str,
    iou_type: &str,
    iou_thresholds: Vec<f64>,
    rec_thresholds: Vec<f64>,
    max_detections: Vec<usize>,
    area_ranges: Vec<(String, f64, f64)>,
    use_categories: bool,
) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
    let iou_type = iou_type.parse::<IouType>().map_err(to_py_err)?;
    let params = Params {
        iou_thresholds,
        rec_thresholds,
        max_detections,
        area_ranges: area_ranges
            .into_iter()
            .map(|(label, min, max)| AreaRange::new(label, min, max))
            .collect(),
        use_categories,
    };
    let details: EvaluationDetails = py
        .detach(|| {
            let truth = CocoDataset::from_json_str(truth_json)?;
            let results = truth.load_results_str(results_json)?;
            evaluation_details(&truth, &results, iou_type, &params)
        })
        .map_err(to_py_err)?;

    let ious = PyList::empty(py);
    for ((image_id, category_id), matrix) in details.ious {
        let entry: Bound<'py, PyAny> = if matrix.is_empty() {
            // pycocotools stores an empty list where either side has no objects.
            PyList::empty(py).into_any()
        } else {
            PyArray::from_owned_array(py, matrix).into_any()
        };
        ious.append(PyTuple::new(
            py,
            [
                image_id.into_pyobject(py)?.into_any(),
                category_id.into_pyobject(py)?.into_any(),
                entry,
            ],
        )?)?;
    }

    let images = PyList::empty(py);
    for image in details.images {
        match image {
            Some(image) => images.append(image_record(py, image)?)?,
            None => images.append(py.None())?,
        }
    }
    Ok((ious, images))
}

/// Builds one `evalImgs` dict with pycocotools' keys and dtypes: match ids as float64 arrays,
/// `gtIgnore` as int64 (float64 when empty, as `np.array([])`), `dtIgnore` as bool.
fn image_record<'py>(py: Python<'py>, image: ImageDetails) -> PyResult<Bound<'py, PyDict>> {
    let record = PyDict::new(py);
    record.set_item("image_id", image.image_id)?;
    record.set_item("category_id", image.category_id)?;
    record.set_item("aRng", image.area_range)?;
    record.set_item("maxDet", image.max_detections)?;
    record.set_item("dtIds", image.detection_ids)?;
    record.set_item("gtIds", image.truth_ids)?;
    record.set_item("dtMatches", ids_as_floats(py, &image.detection_matches))?;
    record.set_item("gtMatches", ids_as_floats(py, &image.truth_matches))?;
    record.set_item("dtScores", image.detection_scores)?;
    let truth_ignore: Bound<'py, PyAny> = if image.truth_ignore.is_empty() {
        PyArray::from_owned_array(py, Array1::<f64>::zeros(0)).into_any()
    } else {
        let flags: Array1<i64> = image.truth_ignore.iter().map(|&f| i64::from(f)).collect();
        PyArray::from_owned_array(py, flags).into_any()
    };
    record.set_item("gtIgnore", truth_ignore)?;
    record.set_item(
        "dtIgnore",
        PyArray::from_owned_array(py, image.detection_ignore),
    )?;
    Ok(record)
}

fn ids_as_floats<'py>(py: Python<'py>, ids: &Array2<i64>) -> Bound<'py, PyAny> {
    PyArray::from_owned_array(py, ids.mapv(|id| id as f64)).into_any()
}

/// Adds the function to the native module.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(coco_evaluation_details, module)?)?;
    Ok(())
}
