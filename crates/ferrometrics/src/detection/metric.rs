//! `MeanAveragePrecision`: the stateful COCO metric with TorchMetrics' arguments and outputs.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::accumulate::{accumulate, Accumulation};
use super::evaluate::{evaluate_group, ImageEvaluation, IouType, Objects, Scratch, Table};
use super::input::{BoxFormat, DetectionBatch, ImageObjects, Needs};
use super::iou::box_iou;
use super::mask::{mask_iou, MaskRef, Rle};
use super::params::{default_area_ranges, Params};
use crate::error::{Error, Result};
use crate::metric::{check_same_setting, Input, Metric, MetricInfo};
use crate::value::Value;

/// The averaging of classes into the headline values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Average {
    /// Each class is evaluated on its own and the values are averaged over classes, as COCO.
    #[default]
    Macro,
    /// Every object is treated as one class, so detections can match objects of any label.
    Micro,
}

impl FromStr for Average {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text {
            "macro" => Ok(Average::Macro),
            "micro" => Ok(Average::Micro),
            other => Err(Error::invalid_argument(
                "average",
                format!("{other:?} is not an averaging method; use \"macro\" or \"micro\""),
            )),
        }
    }
}

/// The evaluation backend TorchMetrics would call. Both names run the same engine here, which
/// gives pycocotools' numbers; the choice is kept so that configurations port unchanged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Backend {
    /// `"pycocotools"`.
    #[default]
    Pycocotools,
    /// `"faster_coco_eval"`.
    FasterCocoEval,
}

impl FromStr for Backend {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text {
            "pycocotools" => Ok(Backend::Pycocotools),
            "faster_coco_eval" => Ok(Backend::FasterCocoEval),
            other => Err(Error::invalid_argument(
                "backend",
                format!("{other:?} is not a backend; use \"pycocotools\" or \"faster_coco_eval\""),
            )),
        }
    }
}

/// The configuration of [`MeanAveragePrecision`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapConfig {
    /// The layout of the input boxes.
    pub box_format: BoxFormat,
    /// The IoU types to evaluate, each once.
    pub iou_types: Vec<IouType>,
    /// IoU thresholds; `None` for 0.50:0.05:0.95.
    pub iou_thresholds: Option<Vec<f64>>,
    /// Recall thresholds; `None` for 0.00:0.01:1.00.
    pub rec_thresholds: Option<Vec<f64>>,
    /// Three max detection counts; `None` for `[1, 10, 100]`.
    pub max_detection_thresholds: Option<Vec<usize>>,
    /// Whether to report map and mar per class.
    pub class_metrics: bool,
    /// Whether to report the precision, recall and score arrays.
    pub extended_summary: bool,
    /// The averaging of classes.
    pub average: Average,
    /// The backend name.
    pub backend: Backend,
}

impl MapConfig {
    /// Returns an [`Error::IncompatibleState`] naming the first argument that differs, with both
    /// values spelled as the Python API takes them.
    fn check_same(&self, other: &Self) -> Result<()> {
        const NAME: &str = "MeanAveragePrecision";
        let types = |config: &Self| IouTypes(config.iou_types.clone());
        check_same_setting(NAME, "box_format", &self.box_format, &other.box_format)?;
        check_same_setting(NAME, "iou_type", &types(self), &types(other))?;
        let iou_thresholds = |config: &Self| OptionalList(config.iou_thresholds.clone());
        check_same_setting(
            NAME,
            "iou_thresholds",
            &iou_thresholds(self),
            &iou_thresholds(other),
        )?;
        let rec_thresholds = |config: &Self| OptionalList(config.rec_thresholds.clone());
        check_same_setting(
            NAME,
            "rec_thresholds",
            &rec_thresholds(self),
            &rec_thresholds(other),
        )?;
        let counts = |config: &Self| OptionalList(config.max_detection_thresholds.clone());
        check_same_setting(
            NAME,
            "max_detection_thresholds",
            &counts(self),
            &counts(other),
        )?;
        check_same_setting(
            NAME,
            "class_metrics",
            &self.class_metrics,
            &other.class_metrics,
        )?;
        check_same_setting(
            NAME,
            "extended_summary",
            &self.extended_summary,
            &other.extended_summary,
        )?;
        check_same_setting(NAME, "average", &self.average, &other.average)?;
        check_same_setting(NAME, "backend", &self.backend, &other.backend)
    }
}

/// IoU types displayed as the Python list of their names, such as `["bbox", "segm"]`.
#[derive(PartialEq)]
struct IouTypes(Vec<IouType>);

impl fmt::Display for IouTypes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self
            .0
            .iter()
            .map(|t| format!("\"{}\"", t.as_str()))
            .collect();
        write!(f, "[{}]", names.join(", "))
    }
}

/// An optional list displayed as Python shows it: `None` or `[0.5, 0.75]`.
#[derive(PartialEq)]
struct OptionalList<T>(Option<Vec<T>>);

impl<T: fmt::Display> fmt::Display for OptionalList<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => f.write_str("None"),
            Some(values) => {
                let texts: Vec<String> = values.iter().map(ToString::to_string).collect();
                write!(f, "[{}]", texts.join(", "))
            }
        }
    }
}

impl Default for MapConfig {
    fn default() -> Self {
        Self {
            box_format: BoxFormat::Xyxy,
            iou_types: vec![IouType::Bbox],
            iou_thresholds: None,
            rec_thresholds: None,
            max_detection_thresholds: None,
            class_metrics: false,
            extended_summary: false,
            average: Average::Macro,
            backend: Backend::Pycocotools,
        }
    }
}

/// The evaluation of one image for one IoU type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ImageResult {
    /// Per-class evaluations `(label, evaluation)`, labels ascending; empty unless needed.
    classes: Vec<(i64, ImageEvaluation)>,
    /// The evaluation with all labels pooled, for micro averaging.
    pooled: Option<ImageEvaluation>,
}

/// The IoU matrix of one `(image index, class)` pair of the extended summary.
pub type ImageClassIous = ((usize, i64), Array2<f64>);

/// The state kept for one image: its labels and one result per IoU type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ImageState {
    labels: Vec<i64>,
    results: Vec<ImageResult>,
    /// With `extended_summary`, per IoU type the IoU matrix of each label present in the image
    /// (label 0 alone under micro averaging), labels ascending; empty otherwise.
    ious: Vec<Vec<(i64, IouMatrix)>>,
}

/// An IoU matrix of the extended summary: detections (rows, highest score first, cut at the
/// largest max detection count) by ground truth (columns, input order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct IouMatrix {
    rows: usize,
    columns: usize,
    values: Vec<f64>,
}

impl IouMatrix {
    fn to_array(&self) -> Array2<f64> {
        Array2::from_shape_vec((self.rows, self.columns), self.values.clone())
            .expect("rows * columns values")
    }
}

/// COCO mean average precision and recall for object detection and instance segmentation,
/// bit-identical to pycocotools' `COCOeval`, with TorchMetrics' `MeanAveragePrecision`
/// arguments and output keys.
///
/// Each `update` matches the detections of every image in the batch to its ground truth at
/// once, so the state contains per-image match results (scores and true/false positive flags),
/// not boxes or masks, and `compute` only accumulates. Images keep their update order, which
/// decides the order of equal scores across images, as the image ids 0, 1, ... do in
/// TorchMetrics.
///
/// The output keys are `map`, `map_50`, `map_75`, `map_small`, `map_medium`, `map_large`,
/// `mar_{d}` for each max detection count `d`, `mar_small`, `mar_medium` and `mar_large`.
/// Then come `map_per_class` and `mar_{d}_per_class` for the largest `d` (both -1 unless
/// `class_metrics`), `classes`, and with `extended_summary` also `precision`, `recall` and
/// `scores`. With two IoU types every key but `classes` gets a `bbox_` or `segm_` prefix.
/// Values lie in [0, 1], and -1 marks a value that is undefined, such as an area range without
/// ground truth.
///
/// One difference from pycocotools: the mean AP is read at the largest configured max detection
/// count, where pycocotools reads it at 100 and reports -1 if 100 is not configured.
///
/// # Example
///
/// ```
/// use ferrometrics::detection::{ImagePredictions, ImageTargets, MeanAveragePrecision};
/// use ferrometrics::{Metric, Value};
/// use ndarray::array;
///
/// let pred_boxes = array![[258.0, 41.0, 606.0, 285.0]];
/// let target_boxes = array![[214.0, 41.0, 562.0, 285.0]];
/// let scores = array![0.536];
/// let labels = array![0_i64];
/// let preds = [ImagePredictions {
///     boxes: Some(pred_boxes.view()),
///     scores: scores.view(),
///     labels: labels.view(),
///     masks: None,
/// }];
/// let targets = [ImageTargets {
///     boxes: Some(target_boxes.view()),
///     labels: labels.view(),
///     iscrowd: None,
///     area: None,
///     masks: None,
/// }];
///
/// let mut metric = MeanAveragePrecision::default();
/// metric.update((&preds, &targets))?;
/// let result = metric.compute()?;
/// let entries = result.as_map().unwrap();
/// // IoU 0.776 passes 6 of the 10 thresholds; pycocotools gives the same bits.
/// assert_eq!(entries[0], ("map".to_owned(), Value::Scalar(0.5999999999999999)));
/// assert_eq!(entries[8], ("mar_100".to_owned(), Value::Scalar(0.6)));
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeanAveragePrecision {
    config: MapConfig,
    params: Params,
    images: Vec<ImageState>,
}

impl Default for MeanAveragePrecision {
    fn default() -> Self {
        Self::new(MapConfig::default()).expect("the default configuration is valid")
    }
}

impl MeanAveragePrecision {
    /// Creates the metric.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `iou_types` is empty or repeats a type, a threshold
    /// lies outside [0, 1], or `max_detection_thresholds` does not hold three positive counts.
    pub fn new(config: MapConfig) -> Result<Self> {
        if config.iou_types.is_empty() {
            return Err(Error::invalid_argument(
                "iou_type",
                "no IoU type given; use \"bbox\", \"segm\" or both",
            ));
        }
        if config.iou_types.len() > 1 && config.iou_types[0] == config.iou_types[1]
            || config.iou_types.len() > 2
        {
            return Err(Error::invalid_argument(
                "iou_type",
                format!(
                    "{} repeats a type; give each of \"bbox\" and \"segm\" at most once",
                    IouTypes(config.iou_types.clone())
                ),
            ));
        }
        if let Some(counts) = &config.max_detection_thresholds {
            if counts.len() != 3 {
                return Err(Error::invalid_argument(
                    "max_detection_thresholds",
                    format!(
                        "{counts:?} has {} entries; it must hold three counts",
                        counts.len()
                    ),
                ));
            }
        }

        let mut params = Params {
            iou_thresholds: config
                .iou_thresholds
                .clone()
                .unwrap_or_else(super::params::default_iou_thresholds),
            rec_thresholds: config
                .rec_thresholds
                .clone()
                .unwrap_or_else(super::params::default_rec_thresholds),
            max_detections: config
                .max_detection_thresholds
                .clone()
                .unwrap_or_else(|| vec![1, 10, 100]),
            area_ranges: default_area_ranges(),
            use_categories: true,
        };
        params.validate()?;
        Ok(Self {
            config,
            params,
            images: Vec::new(),
        })
    }

    /// Returns the configuration.
    pub fn config(&self) -> &MapConfig {
        &self.config
    }

    /// Returns the number of images seen.
    pub fn image_count(&self) -> usize {
        self.images.len()
    }

    fn needs(&self) -> Needs {
        Needs {
            boxes: self.config.iou_types.contains(&IouType::Bbox),
            masks: self.config.iou_types.contains(&IouType::Segm),
            box_format: self.config.box_format,
        }
    }

    fn wants_classes(&self) -> bool {
        self.config.average == Average::Macro || self.config.class_metrics
    }

    fn evaluate_image(&self, preds: &ImageObjects, targets: &ImageObjects) -> ImageState {
        let labels: BTreeSet<i64> = preds
            .labels
            .iter()
            .chain(&targets.labels)
            .copied()
            .collect();
        let labels: Vec<i64> = labels.into_iter().collect();
        let results = self
            .config
            .iou_types
            .iter()
            .map(|&iou_type| {
                let scratch = std::cell::RefCell::new(Scratch::default());
                let truth_table = table(targets, iou_type);
                let detection_table = table(preds, iou_type);
                let evaluate_where = |keep: &dyn Fn(i64) -> bool| {
                    let truth_indices = select(targets, keep);
                    let detection_indices = select(preds, keep);
                    let truths = Objects {
                        table: &truth_table,
                        indices: &truth_indices,
                    };
                    let detections = Objects {
                        table: &detection_table,
                        indices: &detection_indices,
                    };
                    evaluate_group(
                        &truths,
                        &detections,
                        &self.params,
                        iou_type,
                        &mut scratch.borrow_mut(),
                    )
                };
                let classes = if self.wants_classes() {
                    labels
                        .iter()
                        .filter_map(|&label| {
                            evaluate_where(&|l| l == label).map(|evaluation| (label, evaluation))
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                let pooled = if self.config.average == Average::Micro {
                    evaluate_where(&|_| true)
                } else {
                    None
                };
                ImageResult { classes, pooled }
            })
            .collect();
        let ious = if self.config.extended_summary {
            self.config
                .iou_types
                .iter()
                .map(|&iou_type| self.iou_matrices(preds, targets, &labels, iou_type))
                .collect()
        } else {
            Vec::new()
        };
        ImageState {
            labels,
            results,
            ious,
        }
    }

    /// Computes the IoU matrix of each label of one image, as pycocotools' `computeIoU` on the
    /// data that TorchMetrics passes it. Under micro averaging every object has label 0.
    fn iou_matrices(
        &self,
        preds: &ImageObjects,
        targets: &ImageObjects,
        labels: &[i64],
        iou_type: IouType,
    ) -> Vec<(i64, IouMatrix)> {
        let groups: Vec<(i64, Option<i64>)> = match self.config.average {
            Average::Micro if !labels.is_empty() => vec![(0, None)],
            Average::Micro => Vec::new(),
            Average::Macro => labels.iter().map(|&label| (label, Some(label))).collect(),
        };
        groups
            .into_iter()
            .map(|(key, label)| {
                let keep = |l: i64| label.is_none_or(|label| l == label);
                let truths = select(targets, keep);
                let mut detections = select(preds, keep);
                // Highest score first, ties in input order, as numpy's stable argsort.
                detections.sort_by(|&a, &b| {
                    preds.scores[b]
                        .partial_cmp(&preds.scores[a])
                        .unwrap_or(std::cmp::Ordering::Equal)
                });
                detections.truncate(self.params.max_detection());
                let crowd: Vec<bool> = truths.iter().map(|&g| targets.crowd[g]).collect();
                let matrix = if truths.is_empty() || detections.is_empty() {
                    Array2::zeros((detections.len(), truths.len()))
                } else {
                    match iou_type {
                        IouType::Bbox => {
                            let d: Vec<[f64; 4]> =
                                detections.iter().map(|&i| preds.boxes[i]).collect();
                            let g: Vec<[f64; 4]> =
                                truths.iter().map(|&i| targets.boxes[i]).collect();
                            box_iou(&d, &g, &crowd)
                        }
                        IouType::Segm => {
                            let d: Vec<&Rle> =
                                detections.iter().map(|&i| &preds.masks[i]).collect();
                            let g: Vec<&Rle> = truths.iter().map(|&i| &targets.masks[i]).collect();
                            mask_iou(&d, &g, &crowd)
                        }
                    }
                };
                let (rows, columns) = matrix.dim();
                let values = matrix.into_raw_vec_and_offset().0;
                (
                    key,
                    IouMatrix {
                        rows,
                        columns,
                        values,
                    },
                )
            })
            .collect()
    }

    /// Returns the IoU matrices of the extended summary for the IoU type at `type_index`, keyed
    /// `(image index, class)` for every image in update order and every class, as TorchMetrics'
    /// `ious`. The classes are those of the `classes` output, or 0 alone under micro averaging.
    /// An image without detections or without ground truth of a class gets an empty matrix.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if the metric was built without `extended_summary`,
    /// which is when the matrices are kept, or `type_index` is not a configured IoU type.
    pub fn extended_ious(&self, type_index: usize) -> Result<Vec<ImageClassIous>> {
        if !self.config.extended_summary {
            return Err(Error::invalid_argument(
                "extended_summary",
                "the IoU matrices are kept only with extended_summary=True; build the metric \
                 with it",
            ));
        }
        if type_index >= self.config.iou_types.len() {
            return Err(Error::invalid_argument(
                "type_index",
                format!(
                    "{type_index} is not the position of a configured IoU type; the metric has {}",
                    self.config.iou_types.len()
                ),
            ));
        }
        let classes: Vec<i64> = match self.config.average {
            Average::Micro => vec![0],
            Average::Macro => self.classes(),
        };
        let mut out = Vec::with_capacity(self.images.len() * classes.len());
        for (index, image) in self.images.iter().enumerate() {
            let matrices = &image.ious[type_index];
            for &class in &classes {
                let matrix = match matrices.binary_search_by_key(&class, |(label, _)| *label) {
                    Ok(position) => matrices[position].1.to_array(),
                    Err(_) => Array2::zeros((0, 0)),
                };
                out.push(((index, class), matrix));
            }
        }
        Ok(out)
    }

    fn validate_image(&self, image: &ImageState) -> Result<()> {
        let corrupted = |what: &str| {
            Error::incompatible_state(format!(
                "an image of the MeanAveragePrecision state {what}; the state is corrupted"
            ))
        };
        if !image.labels.windows(2).all(|pair| pair[0] < pair[1]) {
            return Err(corrupted("has labels that are not strictly ascending"));
        }
        if image.results.len() != self.config.iou_types.len() {
            return Err(corrupted(&format!(
                "holds {} results for {} IoU types",
                image.results.len(),
                self.config.iou_types.len()
            )));
        }
        for result in &image.results {
            if !result.classes.windows(2).all(|pair| pair[0].0 < pair[1].0) {
                return Err(corrupted(
                    "has class results that are not in ascending label order",
                ));
            }
            for (label, evaluation) in &result.classes {
                if image.labels.binary_search(label).is_err() {
                    return Err(corrupted(&format!(
                        "has a result for label {label} it lacks"
                    )));
                }
                evaluation.validate(&self.params)?;
            }
            if let Some(evaluation) = &result.pooled {
                evaluation.validate(&self.params)?;
            }
        }

        let expected_types = if self.config.extended_summary {
            self.config.iou_types.len()
        } else {
            0
        };
        if image.ious.len() != expected_types {
            return Err(corrupted(&format!(
                "holds IoU matrices for {} IoU types where {expected_types} are expected",
                image.ious.len()
            )));
        }
        for matrices in &image.ious {
            if !matrices.windows(2).all(|pair| pair[0].0 < pair[1].0) {
                return Err(corrupted(
                    "has IoU matrices that are not in ascending label order",
                ));
            }
            for (_, matrix) in matrices {
                if matrix.rows.checked_mul(matrix.columns) != Some(matrix.values.len()) {
                    return Err(corrupted(&format!(
                        "holds a {} by {} IoU matrix with {} values",
                        matrix.rows,
                        matrix.columns,
                        matrix.values.len()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Returns every label seen in predictions or targets, ascending: the `classes` output,
    /// which [`Metric::compute`] gives as floats and so rounds above 2^53.
    pub fn classes(&self) -> Vec<i64> {
        let classes: BTreeSet<i64> = self
            .images
            .iter()
            .flat_map(|image| image.labels.iter().copied())
            .collect();
        classes.into_iter().collect()
    }

    /// Accumulates one IoU type, per class or pooled.
    fn accumulate_type(&self, type_index: usize, classes: &[i64], pooled: bool) -> Accumulation {
        if pooled {
            let images: Vec<&ImageEvaluation> = self
                .images
                .iter()
                .filter_map(|image| image.results[type_index].pooled.as_ref())
                .collect();
            return accumulate(&self.params, vec![0], &[images]);
        }
        let mut lists: Vec<Vec<&ImageEvaluation>> = vec![Vec::new(); classes.len()];
        for image in &self.images {
            for (label, evaluation) in &image.results[type_index].classes {
                if let Ok(k) = classes.binary_search(label) {
                    lists[k].push(evaluation);
                }
            }
        }
        accumulate(&self.params, classes.to_vec(), &lists)
    }

    fn outputs_for_type(&self, type_index: usize, classes: &[i64], out: &mut Vec<(String, Value)>) {
        let prefix = if self.config.iou_types.len() > 1 {
            format!("{}_", self.config.iou_types[type_index].as_str())
        } else {
            String::new()
        };
        let macro_accumulation = self
            .wants_classes()
            .then(|| self.accumulate_type(type_index, classes, false));
        let headline = match self.config.average {
            Average::Macro => macro_accumulation
                .clone()
                .expect("macro averaging accumulates classes"),
            Average::Micro => self.accumulate_type(type_index, classes, true),
        };

        let summary = headline.summarize();
        let counts = &self.params.max_detections;
        let names = [
            "map".to_owned(),
            "map_50".to_owned(),
            "map_75".to_owned(),
            "map_small".to_owned(),
            "map_medium".to_owned(),
            "map_large".to_owned(),
            format!("mar_{}", counts[0]),
            format!("mar_{}", counts[1]),
            format!("mar_{}", counts[2]),
            "mar_small".to_owned(),
            "mar_medium".to_owned(),
            "mar_large".to_owned(),
        ];
        for (name, value) in names.iter().zip(summary.stats) {
            out.push((format!("{prefix}{name}"), Value::Scalar(value)));
        }

        let largest = counts[counts.len() - 1];
        let (map_per_class, mar_per_class) = match (&macro_accumulation, self.config.class_metrics)
        {
            (Some(accumulation), true) => {
                let maps: Vec<f64> = (0..classes.len())
                    .map(|k| accumulation.mean_over(true, None, 0, largest, Some(k)))
                    .collect();
                let mars: Vec<f64> = (0..classes.len())
                    .map(|k| accumulation.mean_over(false, None, 0, largest, Some(k)))
                    .collect();
                (
                    Value::from(ndarray::Array1::from(maps)),
                    Value::from(ndarray::Array1::from(mars)),
                )
            }
            _ => (Value::Scalar(-1.0), Value::Scalar(-1.0)),
        };
        out.push((format!("{prefix}map_per_class"), map_per_class));
        out.push((format!("{prefix}mar_{largest}_per_class"), mar_per_class));

        // TorchMetrics' extended summary also has `ious`, a dict keyed by (image, class) that a
        // Value cannot hold. The bindings read it from `extended_ious`.
        if self.config.extended_summary {
            out.push((
                format!("{prefix}precision"),
                Value::Array(headline.precision.into_dyn()),
            ));
            out.push((
                format!("{prefix}recall"),
                Value::Array(headline.recall.into_dyn()),
            ));
            out.push((
                format!("{prefix}scores"),
                Value::Array(headline.scores.into_dyn()),
            ));
        }
    }
}

/// Returns the positions of the objects whose label passes `keep`, in input order.
fn select(objects: &ImageObjects, keep: impl Fn(i64) -> bool) -> Vec<usize> {
    (0..objects.labels.len())
        .filter(|&i| keep(objects.labels[i]))
        .collect()
}

/// Gathers the columns that the evaluation reads from one image's objects.
fn table(objects: &ImageObjects, iou_type: IouType) -> Table<'_> {
    Table {
        boxes: match iou_type {
            IouType::Bbox => objects.boxes.clone(),
            IouType::Segm => Vec::new(),
        },
        masks: match iou_type {
            IouType::Bbox => Vec::new(),
            IouType::Segm => objects.masks.iter().map(MaskRef::Runs).collect(),
        },
        areas: objects.areas.clone(),
        crowd: objects.crowd.clone(),
        scores: objects.scores.clone(),
    }
}

impl Metric for MeanAveragePrecision {
    type Kind = DetectionBatch;
    type Output = Value;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "MeanAveragePrecision",
            higher_is_better: Some(true),
            is_differentiable: false,
            lower_bound: 0.0,
            upper_bound: 1.0,
        }
    }

    fn update(&mut self, input: Input<'_, Self>) -> Result<()> {
        let (preds, targets) = input;
        crate::check_same_length("preds", preds.len(), "target", targets.len())?;
        let needs = self.needs();
        for (image, (pred, target)) in preds.iter().zip(targets).enumerate() {
            pred.validate(image, needs)?;
            target.validate(image, needs)?;
        }

        let states: Vec<ImageState> = preds
            .par_iter()
            .zip(targets.par_iter())
            .map(|(pred, target)| {
                let pred = pred.objects(needs);
                let target = target.objects(needs);
                self.evaluate_image(&pred, &target)
            })
            .collect();
        self.images.extend(states);
        Ok(())
    }

    fn compute(&self) -> Result<Value> {
        let classes = self.classes();

        let mut out = Vec::new();
        for type_index in 0..self.config.iou_types.len() {
            self.outputs_for_type(type_index, &classes, &mut out);
        }
        let classes = ndarray::Array1::from(classes.iter().map(|&c| c as f64).collect::<Vec<_>>());
        out.push(("classes".to_owned(), Value::from(classes)));
        Ok(Value::Map(out))
    }

    fn reset(&mut self) {
        self.images.clear();
    }

    /// Checks that the parameters follow from the configuration and that every image has one
    /// result per IoU type, labels ascending, and evaluations and IoU matrices of the sizes
    /// that the parameters give.
    fn validate_state(&self) -> Result<()> {
        let rebuilt = Self::new(self.config.clone())
            .map_err(|e| Error::incompatible_state(format!("the state's configuration: {e}")))?;
        if rebuilt.params != self.params {
            return Err(Error::incompatible_state(
                "the state's evaluation parameters do not follow from its configuration; the \
                 state is corrupted",
            ));
        }
        for image in &self.images {
            self.validate_image(image)?;
        }
        Ok(())
    }

    /// Appends `other`'s images after this metric's images.
    ///
    /// NOTE: the image order decides the order of equal scores on different images, as image
    /// ids do in pycocotools. Merging in rank order reproduces one update over all data; another
    /// order can change values where scores tie across images.
    fn merge(&mut self, other: &Self) -> Result<()> {
        self.config.check_same(&other.config)?;
        self.images.extend(other.images.iter().cloned());
        Ok(())
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Pycocotools => "pycocotools",
            Backend::FasterCocoEval => "faster_coco_eval",
        })
    }
}

impl fmt::Display for Average {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Average::Macro => "macro",
            Average::Micro => "micro",
        })
    }
}
