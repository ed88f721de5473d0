//! The native side of `ferrometrics.coco`: COCO datasets loaded in Rust, COCO evaluation over
//! them or over JSON datasets, and the mask API of pycocotools (`encode`, `decode`, `area`,
//! `toBbox`, `iou`, `merge`, `frPyObjects`).
//!
//! Masks cross the boundary as `(height, width, counts)` with counts in COCO's compressed
//! string form, the same bytes that pycocotools stores in an RLE dict.

use ferrometrics::detection::mask::{box_to_rle, mask_iou, merge, polygon_to_rle, Rle};
use ferrometrics::detection::{
    box_iou, evaluate_accumulated, Accumulation, AreaRange, CocoDataset, IouType, Params,
};
use std::borrow::Cow;
use std::collections::HashSet;
use std::path::PathBuf;

use ndarray::{Array2, Array3, Array5, ShapeBuilder};
use numpy::{PyArray, PyReadonlyArray2, PyReadonlyArray3, PyReadonlyArray4, PyReadonlyArray5};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::{to_py_err, value_error};

/// An RLE as it crosses the boundary: height, width and compressed counts.
type RleParts = (u32, u32, Vec<u8>);

/// A COCO dataset parsed in Rust: ground truth, or results loaded against a ground truth.
#[pyclass(module = "ferrometrics._native", name = "NativeCocoDataset", frozen)]
pub(crate) struct NativeCocoDataset {
    dataset: CocoDataset,
}

#[pymethods]
impl NativeCocoDataset {
    /// Reads a ground-truth file. The GIL is released meanwhile.
    ///
    /// # Errors
    ///
    /// Raises `ValueError` naming the file, the entry and the problem.
    #[staticmethod]
    fn from_path(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let dataset = py
            .detach(|| CocoDataset::from_path(&path))
            .map_err(to_py_err)?;
        Ok(Self { dataset })
    }

    /// Reads a results file against this ground truth, with the rules of pycocotools'
    /// `loadRes`. The GIL is released meanwhile.
    ///
    /// # Errors
    ///
    /// Raises `ValueError` naming the file, the entry and the problem.
    fn load_results_path(&self, py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let truth = &self.dataset;
        let dataset = py
            .detach(|| truth.load_results_path(&path))
            .map_err(to_py_err)?;
        Ok(Self { dataset })
    }

    /// Parses a results list given as JSON text against this ground truth.
    ///
    /// # Errors
    ///
    /// Raises `ValueError` naming the entry and the problem.
    fn load_results_json(&self, py: Python<'_>, text: &str) -> PyResult<Self> {
        let truth = &self.dataset;
        let dataset = py
            .detach(|| truth.load_results_str(text))
            .map_err(to_py_err)?;
        Ok(Self { dataset })
    }

    /// Returns the image ids in file order.
    fn image_ids(&self) -> Vec<i64> {
        self.dataset.images.iter().map(|image| image.id).collect()
    }

    /// Returns the category ids in file order.
    fn category_ids(&self) -> Vec<i64> {
        self.dataset.categories.iter().map(|c| c.id).collect()
    }

    /// Returns the number of annotations.
    fn annotation_count(&self) -> usize {
        self.dataset.annotations.len()
    }
}

/// Restricts both datasets to `image_ids` and, unless `category_ids` is `None`, to
/// `category_ids`, as pycocotools' `params.imgIds` and `params.catIds` select what is evaluated.
/// Returns the datasets themselves when the selection keeps everything.
fn select<'a>(
    truth: &'a CocoDataset,
    results: &'a CocoDataset,
    image_ids: &[i64],
    category_ids: Option<&[i64]>,
) -> (Cow<'a, CocoDataset>, Cow<'a, CocoDataset>) {
    let images: HashSet<i64> = image_ids.iter().copied().collect();
    let categories: Option<HashSet<i64>> = category_ids.map(|ids| ids.iter().copied().collect());
    let all_images = truth.images.iter().all(|image| images.contains(&image.id));
    let all_categories = categories.as_ref().is_none_or(|categories| {
        truth
            .categories
            .iter()
            .all(|category| categories.contains(&category.id))
    });
    if all_images && all_categories {
        return (Cow::Borrowed(truth), Cow::Borrowed(results));
    }

    let keep = |image_id: i64, category_id: i64| {
        images.contains(&image_id)
            && categories
                .as_ref()
                .is_none_or(|categories| categories.contains(&category_id))
    };
    let selected_truth = CocoDataset {
        images: truth
            .images
            .iter()
            .filter(|image| images.contains(&image.id))
            .cloned()
            .collect(),
        categories: truth
            .categories
            .iter()
            .filter(|category| {
                categories
                    .as_ref()
                    .is_none_or(|categories| categories.contains(&category.id))
            })
            .cloned()
            .collect(),
        annotations: truth
            .annotations
            .iter()
            .filter(|a| keep(a.image_id, a.category_id))
            .cloned()
            .collect(),
    };
    // The results keep every image, whose sizes rasterize box and polygon results.
    let selected_results = CocoDataset {
        images: results.images.clone(),
        categories: results.categories.clone(),
        annotations: results
            .annotations
            .iter()
            .filter(|a| keep(a.image_id, a.category_id))
            .cloned()
            .collect(),
    };
    (Cow::Owned(selected_truth), Cow::Owned(selected_results))
}

/// Returns freed memory to the system on a new thread, because the trim walks every arena and
/// nothing needs to wait for it. If no thread can be started, nothing is returned.
fn release_free_memory_in_background() {
    let _ = std::thread::Builder::new()
        .name("ferrometrics-trim".to_owned())
        .spawn(release_free_memory);
}

/// Returns the free pages of every malloc arena to the system.
///
/// The IoU tables and per-image evaluations are allocated on rayon's worker threads, and glibc
/// gives those threads arenas of their own. It keeps freed memory in an arena for later
/// allocations there, so without a trim the process keeps the size it had during `evaluate`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_free_memory() {
    // SAFETY: `malloc_trim` takes no pointers and only releases memory that no allocation uses.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Does nothing, because other allocators return freed memory by their own rules.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_free_memory() {}

/// Builds evaluation parameters from pycocotools' fields.
fn params_from(
    iou_thresholds: Vec<f64>,
    rec_thresholds: Vec<f64>,
    max_detections: Vec<usize>,
    area_ranges: Vec<(String, f64, f64)>,
    use_categories: bool,
) -> Params {
    Params {
        iou_thresholds,
        rec_thresholds,
        max_detections,
        area_ranges: area_ranges
            .into_iter()
            .map(|(label, min, max)| AreaRange::new(label, min, max))
            .collect(),
        use_categories,
    }
}

/// A COCO evaluation of one IoU type, after `evaluate` and, once called, `accumulate`.
///
/// `evaluate` accumulates each category as soon as it is matched, so the per-image evaluations
/// of all categories are never kept at once.
#[pyclass(module = "ferrometrics._native", name = "NativeCocoEvaluation")]
pub(crate) struct NativeCocoEvaluation {
    accumulation: Option<Accumulation>,
    category_ids: Vec<i64>,
    accumulated: Option<Accumulated>,
}

impl NativeCocoEvaluation {
    fn evaluated(accumulation: Accumulation) -> Self {
        Self {
            category_ids: accumulation.category_ids.clone(),
            accumulation: Some(accumulation),
            accumulated: None,
        }
    }
}

/// The result of `accumulate`: the numpy arrays it returned, which own the only copy of the
/// accumulation.
struct Accumulated {
    precision: Py<PyAny>,
    recall: Py<PyAny>,
    scores: Py<PyAny>,
}

#[pymethods]
impl NativeCocoEvaluation {
    /// Parses the ground truth and the results (COCO JSON texts), matches every image and
    /// category and accumulates the matches, as pycocotools' `COCOeval.evaluate` and
    /// `accumulate`. The GIL is released meanwhile.
    #[new]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        truth_json: &str,
        results_json: &str,
        iou_type: &str,
        iou_thresholds: Vec<f64>,
        rec_thresholds: Vec<f64>,
        max_detections: Vec<usize>,
        area_ranges: Vec<(String, f64, f64)>,
        use_categories: bool,
    ) -> PyResult<Self> {
        let iou_type = iou_type.parse::<IouType>().map_err(to_py_err)?;
        let params = params_from(
            iou_thresholds,
            rec_thresholds,
            max_detections,
            area_ranges,
            use_categories,
        );
        let accumulation = py
            .detach(|| {
                let truth = CocoDataset::from_json_str(truth_json)?;
                let results = truth.load_results_str(results_json)?;
                evaluate_accumulated(&truth, &results, iou_type, &params)
            })
            .map_err(to_py_err)?;
        release_free_memory_in_background();
        Ok(Self::evaluated(accumulation))
    }

    /// Matches every image and category of two native datasets, restricted to `image_ids` and
    /// `category_ids`, and accumulates the matches, as pycocotools'
    /// `COCOeval.evaluate` and `accumulate`. The GIL is released meanwhile.
    #[staticmethod]
    #[allow(clippy::too_many_arguments)]
    fn from_datasets(
        py: Python<'_>,
        truth: &NativeCocoDataset,
        results: &NativeCocoDataset,
        iou_type: &str,
        iou_thresholds: Vec<f64>,
        rec_thresholds: Vec<f64>,
        max_detections: Vec<usize>,
        area_ranges: Vec<(String, f64, f64)>,
        use_categories: bool,
        image_ids: Vec<i64>,
        category_ids: Vec<i64>,
    ) -> PyResult<Self> {
        let iou_type = iou_type.parse::<IouType>().map_err(to_py_err)?;
        let params = params_from(
            iou_thresholds,
            rec_thresholds,
            max_detections,
            area_ranges,
            use_categories,
        );
        let (truth, results) = (&truth.dataset, &results.dataset);
        let accumulation = py
            .detach(|| {
                // pycocotools restricts to `catIds` with categories pooled, too.
                let (truth, results) = select(truth, results, &image_ids, Some(&category_ids));
                evaluate_accumulated(&truth, &results, iou_type, &params)
            })
            .map_err(to_py_err)?;
        release_free_memory_in_background();
        Ok(Self::evaluated(accumulation))
    }

    /// The category ids of the `K` axis, sorted.
    #[getter]
    fn category_ids(&self) -> Vec<i64> {
        self.category_ids.clone()
    }

    /// Returns pycocotools' accumulated `(precision, recall, scores)` in its shapes
    /// `(T, R, K, A, M)` and `(T, K, A, M)`.
    ///
    /// The arrays move into numpy without a copy. A repeated call returns copies of the
    /// arrays of the first call, as they are at that moment, because the native copy is gone
    /// by then.
    ///
    /// # Errors
    ///
    /// Raises `ValueError` if the evaluation contains no results.
    #[allow(clippy::type_complexity)]
    fn accumulate<'py>(
        &mut self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        if let Some(accumulated) = &self.accumulated {
            let copy = |array: &Py<PyAny>| array.bind(py).call_method0("copy");
            return Ok((
                copy(&accumulated.precision)?,
                copy(&accumulated.recall)?,
                copy(&accumulated.scores)?,
            ));
        }
        let Some(accumulation) = self.accumulation.take() else {
            return Err(value_error(
                "evaluation",
                "the evaluation contains no results; call evaluate() again",
            ));
        };

        let precision = PyArray::from_owned_array(py, accumulation.precision).into_any();
        let recall = PyArray::from_owned_array(py, accumulation.recall).into_any();
        let scores = PyArray::from_owned_array(py, accumulation.scores).into_any();
        self.accumulated = Some(Accumulated {
            precision: precision.clone().unbind(),
            recall: recall.clone().unbind(),
            scores: scores.clone().unbind(),
        });
        Ok((precision, recall, scores))
    }
}

fn to_rle(parts: &RleParts) -> PyResult<Rle> {
    let (height, width, counts) = parts;
    let text = std::str::from_utf8(counts)
        .map_err(|_| value_error("counts", "compressed RLE counts must be ASCII bytes"))?;
    Rle::from_compressed(*height, *width, text).map_err(to_py_err)
}

fn to_rles(parts: &[RleParts]) -> PyResult<Vec<Rle>> {
    parts.iter().map(to_rle).collect()
}

fn from_rle<'py>(py: Python<'py>, rle: &Rle) -> (u32, u32, Bound<'py, PyBytes>) {
    let text = rle.to_compressed();
    (rle.height(), rle.width(), PyBytes::new(py, text.as_bytes()))
}

/// Encodes the masks of an `(H, W, N)` array, nonzero meaning inside.
#[pyfunction]
fn mask_encode<'py>(
    py: Python<'py>,
    masks: PyReadonlyArray3<'py, u8>,
) -> Vec<(u32, u32, Bound<'py, PyBytes>)> {
    let masks = masks.as_array();
    let rles: Vec<Rle> = py.detach(|| {
        masks
            .axis_iter(ndarray::Axis(2))
            .map(|mask| Rle::encode(mask.mapv(|value| value != 0).view()))
            .collect()
    });
    rles.iter().map(|rle| from_rle(py, rle)).collect()
}

/// Decodes RLEs of one size into an `(H, W, N)` uint8 array in Fortran order.
#[pyfunction]
fn mask_decode<'py>(py: Python<'py>, rles: Vec<RleParts>) -> PyResult<Bound<'py, PyAny>> {
    let rles = to_rles(&rles)?;
    let (height, width) = match rles.first() {
        Some(rle) => (rle.height() as usize, rle.width() as usize),
        None => (0, 0),
    };
    if let Some(other) = rles
        .iter()
        .find(|rle| (rle.height() as usize, rle.width() as usize) != (height, width))
    {
        return Err(value_error(
            "rleObjs",
            format!(
                "masks of sizes [{height}, {width}] and [{}, {}] cannot be decoded into one \
                 array; decode them separately",
                other.height(),
                other.width()
            ),
        ));
    }
    // Runs cover pixels in column-major order, which is the memory order of a Fortran array,
    // so the masks are written one after another into one buffer.
    let mut data = vec![0u8; height * width * rles.len()];
    for (index, rle) in rles.iter().enumerate() {
        let block = &mut data[index * height * width..(index + 1) * height * width];
        let mut position = 0usize;
        for (run, &count) in rle.counts().iter().enumerate() {
            let end = position + count as usize;
            if run % 2 == 1 {
                block[position..end].fill(1);
            }
            position = end;
        }
    }
    let array = Array3::from_shape_vec((height, width, rles.len()).f(), data)
        .expect("the buffer holds height * width bytes per mask");
    Ok(PyArray::from_owned_array(py, array).into_any())
}

/// Returns the foreground pixel count of each RLE.
#[pyfunction]
fn mask_area(rles: Vec<RleParts>) -> PyResult<Vec<u64>> {
    Ok(to_rles(&rles)?.iter().map(Rle::area).collect())
}

/// Returns the tight box `[x, y, width, height]` of each RLE.
#[pyfunction]
fn mask_to_bbox(rles: Vec<RleParts>) -> PyResult<Vec<[f64; 4]>> {
    Ok(to_rles(&rles)?.iter().map(Rle::to_bbox).collect())
}

/// Merges RLEs into their union, or their intersection with `intersect`.
#[pyfunction]
fn mask_merge<'py>(
    py: Python<'py>,
    rles: Vec<RleParts>,
    intersect: bool,
) -> PyResult<(u32, u32, Bound<'py, PyBytes>)> {
    let merged = merge(&to_rles(&rles)?, intersect).map_err(to_py_err)?;
    Ok(from_rle(py, &merged))
}

/// Computes the IoU of every detection RLE with every ground-truth RLE.
#[pyfunction]
fn mask_iou_rles<'py>(
    py: Python<'py>,
    detections: Vec<RleParts>,
    truths: Vec<RleParts>,
    is_crowd: Vec<bool>,
) -> PyResult<Bound<'py, PyAny>> {
    let detections = to_rles(&detections)?;
    let truths = to_rles(&truths)?;
    let ious: Array2<f64> = py.detach(|| mask_iou(&detections, &truths, &is_crowd));
    Ok(PyArray::from_owned_array(py, ious).into_any())
}

/// Computes the IoU of every detection box with every ground-truth box, `[x, y, w, h]` rows.
#[pyfunction]
fn mask_iou_boxes<'py>(
    py: Python<'py>,
    detections: PyReadonlyArray2<'py, f64>,
    truths: PyReadonlyArray2<'py, f64>,
    is_crowd: Vec<bool>,
) -> PyResult<Bound<'py, PyAny>> {
    let rows = |array: &PyReadonlyArray2<'py, f64>, name: &str| -> PyResult<Vec<[f64; 4]>> {
        let view = array.as_array();
        if view.ncols() != 4 && view.nrows() != 0 {
            return Err(value_error(
                name,
                format!("expected boxes of shape (N, 4), got {:?}", view.dim()),
            ));
        }
        Ok(view
            .outer_iter()
            .map(|row| [row[0], row[1], row[2], row[3]])
            .collect())
    };
    let detections = rows(&detections, "dt")?;
    let truths = rows(&truths, "gt")?;
    let ious = box_iou(&detections, &truths, &is_crowd);
    Ok(PyArray::from_owned_array(py, ious).into_any())
}

/// Rasterizes polygons `[x0, y0, x1, y1, ...]`, one RLE each.
#[pyfunction]
fn mask_from_polygons<'py>(
    py: Python<'py>,
    polygons: Vec<Vec<f64>>,
    height: u32,
    width: u32,
) -> Vec<(u32, u32, Bound<'py, PyBytes>)> {
    let rles: Vec<Rle> = py.detach(|| {
        polygons
            .iter()
            .map(|polygon| polygon_to_rle(polygon, height, width))
            .collect()
    });
    rles.iter().map(|rle| from_rle(py, rle)).collect()
}

/// Rasterizes boxes `[x, y, width, height]`, one RLE each.
#[pyfunction]
fn mask_from_boxes<'py>(
    py: Python<'py>,
    boxes: Vec<[f64; 4]>,
    height: u32,
    width: u32,
) -> Vec<(u32, u32, Bound<'py, PyBytes>)> {
    boxes
        .iter()
        .map(|&bbox| from_rle(py, &box_to_rle(bbox, height, width)))
        .collect()
}

/// Compresses count lists of `height x width` masks.
#[pyfunction]
fn mask_from_counts<'py>(
    py: Python<'py>,
    counts: Vec<Vec<u32>>,
    height: u32,
    width: u32,
) -> PyResult<Vec<(u32, u32, Bound<'py, PyBytes>)>> {
    counts
        .into_iter()
        .map(|counts| {
            let rle = Rle::new(height, width, counts).map_err(to_py_err)?;
            Ok(from_rle(py, &rle))
        })
        .collect()
}

/// Adds the COCO classes and mask functions to the native module.
/// Computes the twelve summary numbers and pycocotools' printed layout of them from the
/// precision `(T, R, K, A, M)` and recall `(T, K, A, M)` arrays of `COCOeval.eval`, as
/// pycocotools' `summarize` reads them. Each array may have any number `K` of categories, for
/// arrays cut to fewer categories.
///
/// # Errors
///
/// Raises `ValueError` if an axis other than `K` does not match the parameters.
#[pyfunction]
fn coco_summarize(
    precision: PyReadonlyArray5<'_, f64>,
    recall: PyReadonlyArray4<'_, f64>,
    iou_thresholds: Vec<f64>,
    rec_thresholds: Vec<f64>,
    max_detections: Vec<usize>,
    area_ranges: Vec<(String, f64, f64)>,
    use_categories: bool,
) -> PyResult<(Vec<f64>, String)> {
    let params = params_from(
        iou_thresholds,
        rec_thresholds,
        max_detections,
        area_ranges,
        use_categories,
    );

    let precision = precision.as_array();
    let recall = recall.as_array();
    let (thresholds, recalls, areas, counts) = (
        params.iou_thresholds.len(),
        params.rec_thresholds.len(),
        params.area_ranges.len(),
        params.max_detections.len(),
    );
    let categories = precision.shape()[2];
    let expected_precision = [thresholds, recalls, categories, areas, counts];
    let expected_recall = [thresholds, recall.shape()[1], areas, counts];

    if precision.shape() != expected_precision || recall.shape() != expected_recall {
        return Err(value_error(
            "eval",
            format!(
                "precision has shape {:?} and recall {:?}, where the parameters give \
                 {expected_precision:?} and {expected_recall:?}; call accumulate() again",
                precision.shape(),
                recall.shape()
            ),
        ));
    }
    if counts == 0 {
        return Err(value_error(
            "maxDets",
            "the list is empty; give at least one count",
        ));
    }
    if thresholds == 0 {
        return Err(value_error(
            "iouThrs",
            "the list is empty; give at least one threshold",
        ));
    }

    let accumulation = Accumulation {
        params,
        // Only the number of categories matters to the summary.
        category_ids: (0..categories as i64).collect(),
        precision: precision.to_owned(),
        recall: recall.to_owned(),
        scores: Array5::zeros((0, 0, 0, 0, 0)),
    };
    let summary = accumulation.summarize();
    Ok((summary.stats.to_vec(), summary.to_string()))
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<NativeCocoDataset>()?;
    module.add_class::<NativeCocoEvaluation>()?;
    module.add_function(wrap_pyfunction!(coco_summarize, module)?)?;
    module.add_function(wrap_pyfunction!(mask_encode, module)?)?;
    module.add_function(wrap_pyfunction!(mask_decode, module)?)?;
    module.add_function(wrap_pyfunction!(mask_area, module)?)?;
    module.add_function(wrap_pyfunction!(mask_to_bbox, module)?)?;
    module.add_function(wrap_pyfunction!(mask_merge, module)?)?;
    module.add_function(wrap_pyfunction!(mask_iou_rles, module)?)?;
    module.add_function(wrap_pyfunction!(mask_iou_boxes, module)?)?;
    module.add_function(wrap_pyfunction!(mask_from_polygons, module)?)?;
    module.add_function(wrap_pyfunction!(mask_from_boxes, module)?)?;
    module.add_function(wrap_pyfunction!(mask_from_counts, module)?)?;
    Ok(())
}
