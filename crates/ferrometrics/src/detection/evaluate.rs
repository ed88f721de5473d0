//! Per-image evaluation: matching the detections of one image and category to its ground truth
//! at every IoU threshold and area range, as pycocotools' `COCOeval.evaluateImg`.

use std::collections::BTreeMap;
use std::str::FromStr;

use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::coco::{Annotation, CocoDataset};
use super::iou::box_iou;
use super::mask::{box_to_rle, mask_iou, Rle, Segmentation};
use super::params::Params;
use crate::error::{Error, Result};

/// What the IoU between a detection and a ground-truth object is computed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IouType {
    /// Boxes.
    Bbox,
    /// Segmentation masks.
    Segm,
}

impl IouType {
    /// Returns the name pycocotools and TorchMetrics use: `"bbox"` or `"segm"`.
    pub fn as_str(self) -> &'static str {
        match self {
            IouType::Bbox => "bbox",
            IouType::Segm => "segm",
        }
    }
}

impl FromStr for IouType {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text {
            "bbox" => Ok(IouType::Bbox),
            "segm" => Ok(IouType::Segm),
            other => Err(Error::invalid_argument(
                "iou_type",
                format!("{other:?} is not an IoU type; use \"bbox\" or \"segm\""),
            )),
        }
    }
}

/// The outcome of one detection at one IoU threshold and area range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Matched to an ignored ground truth (a crowd, or an object outside the area range), or
    /// unmatched and itself outside the area range. It counts neither way.
    Ignored,
    /// Matched to a ground-truth object that counts.
    TruePositive,
    /// Not matched.
    FalsePositive,
}

/// The matching of one image and category at one area range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaEvaluation {
    /// Outcomes indexed `[threshold * detections + detection]`, detections in score order.
    pub outcomes: Vec<Outcome>,
    /// The number of ground-truth objects that count (not crowd, inside the area range).
    pub positives: usize,
}

/// The evaluation of one image and category: detection scores and, per area range, the
/// outcome of every detection at every IoU threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageEvaluation {
    /// Detection scores, highest first (ties in input order), cut at the largest max detection.
    pub scores: Vec<f64>,
    /// One entry per area range, in the order of [`Params::area_ranges`].
    pub areas: Vec<AreaEvaluation>,
}

/// The shapes the IoU is computed on, for the objects of one image and category.
pub(crate) enum Shapes<'a> {
    Boxes(Vec<[f64; 4]>),
    Masks(Vec<&'a Rle>),
}

impl<'a> Shapes<'a> {
    fn select(&self, order: &[usize]) -> Shapes<'a> {
        match self {
            Shapes::Boxes(boxes) => Shapes::Boxes(order.iter().map(|&i| boxes[i]).collect()),
            Shapes::Masks(masks) => Shapes::Masks(order.iter().map(|&i| masks[i]).collect()),
        }
    }
}

/// The objects of one image and category, ground truth or detections.
pub(crate) struct Objects<'a> {
    pub areas: Vec<f64>,
    pub crowd: Vec<bool>,
    pub scores: Vec<f64>,
    pub shapes: Shapes<'a>,
}

/// Returns the indices of `scores` highest first, equal scores in input order, as numpy's
/// `argsort(-scores, kind='mergesort')`.
pub(crate) fn score_order(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    // `sort_by` is stable; scores are never NaN, so `partial_cmp` is total here, and -0.0 ties
    // with 0.0 as it does in numpy.
    order.sort_by(|&a, &b| {
        scores[b]
            .partial_cmp(&scores[a])
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    order
}

fn compute_ious(detections: &Shapes<'_>, truths: &Shapes<'_>, crowd: &[bool]) -> Array2<f64> {
    match (detections, truths) {
        (Shapes::Boxes(d), Shapes::Boxes(g)) => box_iou(d, g, crowd),
        (Shapes::Masks(d), Shapes::Masks(g)) => mask_iou(d, g, crowd),
        _ => unreachable!("detections and ground truth of one evaluation share a shape kind"),
    }
}

/// Matches the detections of one image and category to its ground truth, or returns `None`
/// when both are empty.
///
/// The rules are pycocotools': detections are taken highest score first and cut at the largest
/// max detection. At each threshold `t`, each detection takes the ground-truth object with the
/// highest IoU of at least `min(t, 1 - 1e-10)` that is not yet taken (crowds can be taken many
/// times). Ground truth that counts is tried before ignored ground truth, and a detection that
/// has a match that counts stops at the first ignored object. Equal IoUs go to the later object.
pub(crate) fn evaluate_group(
    truths: &Objects<'_>,
    detections: &Objects<'_>,
    params: &Params,
) -> Option<ImageEvaluation> {
    let truth_count = truths.areas.len();
    if truth_count == 0 && detections.areas.is_empty() {
        return None;
    }

    let mut order = score_order(&detections.scores);
    order.truncate(params.max_detection());
    let detection_count = order.len();
    let scores: Vec<f64> = order.iter().map(|&d| detections.scores[d]).collect();
    let ious = if truth_count > 0 && detection_count > 0 {
        let selected = detections.shapes.select(&order);
        Some(compute_ious(&selected, &truths.shapes, &truths.crowd))
    } else {
        None
    };

    let areas = params
        .area_ranges
        .iter()
        .map(|range| {
            let truth_ignored: Vec<bool> = (0..truth_count)
                .map(|g| truths.crowd[g] || range.excludes(truths.areas[g]))
                .collect();
            let detection_outside: Vec<bool> = order
                .iter()
                .map(|&d| range.excludes(detections.areas[d]))
                .collect();
            match_at_area(
                ious.as_ref(),
                &truth_ignored,
                &truths.crowd,
                &detection_outside,
                &params.iou_thresholds,
            )
        })
        .collect();
    Some(ImageEvaluation { scores, areas })
}

fn match_at_area(
    ious: Option<&Array2<f64>>,
    truth_ignored: &[bool],
    crowd: &[bool],
    detection_outside: &[bool],
    thresholds: &[f64],
) -> AreaEvaluation {
    // Ground truth that counts goes first; the sort is stable, as numpy's mergesort.
    let mut truth_order: Vec<usize> = (0..truth_ignored.len()).collect();
    truth_order.sort_by_key(|&g| truth_ignored[g]);
    let ignored: Vec<bool> = truth_order.iter().map(|&g| truth_ignored[g]).collect();
    let is_crowd: Vec<bool> = truth_order.iter().map(|&g| crowd[g]).collect();
    let positives = ignored.iter().filter(|&&i| !i).count();

    let detection_count = detection_outside.len();
    let mut outcomes = Vec::with_capacity(thresholds.len() * detection_count);
    let mut truth_taken = vec![false; truth_order.len()];
    for &threshold in thresholds {
        truth_taken.fill(false);
        for (d, &outside) in detection_outside.iter().enumerate() {
            let matched = ious.and_then(|ious| {
                best_match(
                    ious,
                    d,
                    threshold,
                    &truth_order,
                    &truth_taken,
                    &ignored,
                    &is_crowd,
                )
            });
            let outcome = match matched {
                Some(g) => {
                    truth_taken[g] = true;
                    if ignored[g] {
                        Outcome::Ignored
                    } else {
                        Outcome::TruePositive
                    }
                }
                None if outside => Outcome::Ignored,
                None => Outcome::FalsePositive,
            };
            outcomes.push(outcome);
        }
    }
    AreaEvaluation {
        outcomes,
        positives,
    }
}

/// Returns the position (in `truth_order`) of the object detection `d` matches, if any.
fn best_match(
    ious: &Array2<f64>,
    d: usize,
    threshold: f64,
    truth_order: &[usize],
    taken: &[bool],
    ignored: &[bool],
    crowd: &[bool],
) -> Option<usize> {
    let mut best_iou = threshold.min(1.0 - 1e-10);
    let mut best: Option<usize> = None;
    for (g, &column) in truth_order.iter().enumerate() {
        if taken[g] && !crowd[g] {
            continue;
        }
        if let Some(m) = best {
            if !ignored[m] && ignored[g] {
                break;
            }
        }
        let iou = ious[[d, column]];
        if iou < best_iou {
            continue;
        }
        best_iou = iou;
        best = Some(g);
    }
    best
}

/// Per-image evaluations of a whole dataset, grouped by category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The parameters, max detections sorted.
    pub params: Params,
    /// The category ids, sorted; `[-1]` when categories are pooled.
    pub category_ids: Vec<i64>,
    /// For each category, the evaluations of the images that have ground truth or detections of
    /// it, in ascending image id order.
    pub images: Vec<Vec<ImageEvaluation>>,
}

/// Evaluates every image and category of a COCO dataset, as pycocotools' `COCOeval.evaluate`.
///
/// Images and categories are those of the ground truth. Groups are evaluated in parallel; each
/// group's result depends on that group alone, so the output does not depend on the thread
/// count.
///
/// # Errors
///
/// Returns [`Error::InvalidArgument`] for invalid parameters, and [`Error::InvalidInput`]
/// naming the annotation if an object lacks the box or segmentation the IoU type needs, or a
/// polygon belongs to an image without a height and width.
///
/// # Example
///
/// ```
/// use ferrometrics::detection::{evaluate, CocoDataset, IouType, Params};
///
/// let truth = CocoDataset::from_json_str(
///     r#"{"images": [{"id": 1}], "categories": [{"id": 1}],
///         "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
///                          "bbox": [0, 0, 10, 10], "area": 100}]}"#,
/// )?;
/// let results = truth.load_results_str(
///     r#"[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 9], "score": 0.8}]"#,
/// )?;
/// let summary = evaluate(&truth, &results, IouType::Bbox, &Params::default())?
///     .accumulate()
///     .summarize();
/// // AP at IoU 0.50; precision is 1 / (1 + 2^-52), as pycocotools computes it.
/// assert_eq!(summary.stats[1], 0.9999999999999999);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
pub fn evaluate(
    truth: &CocoDataset,
    results: &CocoDataset,
    iou_type: IouType,
    params: &Params,
) -> Result<Evaluation> {
    let mut params = params.clone();
    params.validate()?;

    let mut image_ids: Vec<i64> = truth.images.iter().map(|image| image.id).collect();
    image_ids.sort_unstable();
    image_ids.dedup();
    let mut category_ids: Vec<i64> = truth.categories.iter().map(|c| c.id).collect();
    category_ids.sort_unstable();
    category_ids.dedup();

    let truth_masks = masks_for(truth, iou_type, "ground truth")?;
    let result_masks = masks_for(results, iou_type, "results")?;
    if iou_type == IouType::Bbox {
        check_boxes(truth, "ground truth")?;
        check_boxes(results, "results")?;
    }

    let groups = group_annotations(truth, results, &image_ids, &category_ids, &params);
    let evaluated: Vec<((usize, usize), Option<ImageEvaluation>)> = groups
        .par_iter()
        .map(|(&key, (truth_indices, result_indices))| {
            let truths = objects(truth, &truth_masks, truth_indices, iou_type);
            let detections = objects(results, &result_masks, result_indices, iou_type);
            (key, evaluate_group(&truths, &detections, &params))
        })
        .collect();

    let category_count = if params.use_categories {
        category_ids.len()
    } else {
        1
    };
    let mut images: Vec<Vec<ImageEvaluation>> = vec![Vec::new(); category_count];
    for ((category, _image), evaluation) in evaluated {
        if let Some(evaluation) = evaluation {
            images[category].push(evaluation);
        }
    }
    let category_ids = if params.use_categories {
        category_ids
    } else {
        vec![-1]
    };
    Ok(Evaluation {
        params,
        category_ids,
        images,
    })
}

type Groups = BTreeMap<(usize, usize), (Vec<usize>, Vec<usize>)>;

/// Groups annotation indices by (category position, image position), in file order within a
/// group. With categories pooled, a group lists its objects category by category, as
/// pycocotools concatenates them.
fn group_annotations(
    truth: &CocoDataset,
    results: &CocoDataset,
    image_ids: &[i64],
    category_ids: &[i64],
    params: &Params,
) -> Groups {
    let image_position = |id: i64| image_ids.binary_search(&id).ok();
    let category_position = |id: i64| category_ids.binary_search(&id).ok();

    let mut groups: Groups = BTreeMap::new();
    let mut add = |annotations: &[Annotation], is_truth: bool| {
        let mut keyed: Vec<(usize, usize, usize)> = annotations
            .iter()
            .enumerate()
            .filter_map(|(index, annotation)| {
                let image = image_position(annotation.image_id)?;
                let category = category_position(annotation.category_id)?;
                Some((category, image, index))
            })
            .collect();
        if !params.use_categories {
            keyed.sort_by_key(|&(category, _, _)| category);
        }
        for (category, image, index) in keyed {
            let key = if params.use_categories {
                (category, image)
            } else {
                (0, image)
            };
            let entry = groups.entry(key).or_default();
            if is_truth {
                entry.0.push(index);
            } else {
                entry.1.push(index);
            }
        }
    };
    add(&truth.annotations, true);
    add(&results.annotations, false);
    groups
}

fn objects<'a>(
    dataset: &'a CocoDataset,
    masks: &'a [Option<Rle>],
    indices: &[usize],
    iou_type: IouType,
) -> Objects<'a> {
    let annotations = indices.iter().map(|&i| &dataset.annotations[i]);
    let shapes = match iou_type {
        IouType::Bbox => Shapes::Boxes(
            annotations
                .clone()
                .map(|a| a.bbox.unwrap_or([0.0; 4]))
                .collect(),
        ),
        IouType::Segm => Shapes::Masks(indices.iter().filter_map(|&i| masks[i].as_ref()).collect()),
    };
    Objects {
        areas: annotations.clone().map(|a| a.area).collect(),
        crowd: annotations.clone().map(|a| a.is_crowd).collect(),
        scores: annotations.map(|a| a.score).collect(),
        shapes,
    }
}

fn check_boxes(dataset: &CocoDataset, role: &str) -> Result<()> {
    match dataset.annotations.iter().position(|a| a.bbox.is_none()) {
        Some(index) => Err(Error::invalid_input(
            role,
            format!(
                "`annotations` entry {index}: missing field `bbox`, which bbox evaluation needs"
            ),
        )),
        None => Ok(()),
    }
}

/// Converts every annotation's segmentation to an RLE for mask IoU, as pycocotools' `annToRLE`.
/// A box result without a segmentation is rasterized from its box, as `loadRes` does.
fn masks_for(dataset: &CocoDataset, iou_type: IouType, role: &str) -> Result<Vec<Option<Rle>>> {
    if iou_type != IouType::Segm {
        return Ok(Vec::new());
    }
    let sizes: std::collections::HashMap<i64, (u32, u32)> = dataset
        .images
        .iter()
        .filter_map(|image| Some((image.id, (image.height?, image.width?))))
        .collect();
    dataset
        .annotations
        .par_iter()
        .enumerate()
        .map(|(index, annotation)| {
            let at = |problem: String| {
                Error::invalid_input(role, format!("`annotations` entry {index}: {problem}"))
            };
            let size = sizes.get(&annotation.image_id).copied();
            match (&annotation.segmentation, annotation.bbox) {
                (Some(Segmentation::Rle(rle)), _) => Ok(Some(rle.clone())),
                (Some(segmentation), _) => {
                    let (height, width) = size.ok_or_else(|| {
                        at(format!(
                            "image {} has no height and width, which polygons need",
                            annotation.image_id
                        ))
                    })?;
                    segmentation
                        .to_rle(height, width)
                        .map(Some)
                        .map_err(|e| at(e.to_string()))
                }
                (None, Some(bbox)) if role == "results" => {
                    let (height, width) = size.ok_or_else(|| {
                        at(format!(
                            "image {} has no height and width, which box masks need",
                            annotation.image_id
                        ))
                    })?;
                    Ok(Some(box_to_rle(bbox, height, width)))
                }
                (None, _) => Err(at(
                    "missing field `segmentation`, which segm evaluation needs".to_owned(),
                )),
            }
        })
        .collect()
}
