//! Per-image evaluation: matching the detections of one image and category to its ground truth
//! at every IoU threshold and area range, as pycocotools' `COCOeval.evaluateImg`.

use std::str::FromStr;

use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::coco::CocoDataset;
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

/// The columns of a set of objects (a dataset or one image), indexed by object position.
///
/// `boxes` is filled for bbox evaluation and `masks` for segm evaluation.
#[derive(Default)]
pub(crate) struct Table<'a> {
    pub boxes: Vec<[f64; 4]>,
    pub masks: Vec<&'a Rle>,
    pub areas: Vec<f64>,
    pub crowd: Vec<bool>,
    pub scores: Vec<f64>,
}

/// The objects of one image and category: positions into a table, in input order.
pub(crate) struct Objects<'a> {
    pub table: &'a Table<'a>,
    pub indices: &'a [usize],
}

impl Objects<'_> {
    fn len(&self) -> usize {
        self.indices.len()
    }
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

/// Computes the IoU of the detections at `detections` (rows) with the ground truth at `truths`.
fn compute_ious(
    detections: (&Table<'_>, &[usize]),
    truths: (&Table<'_>, &[usize]),
    crowd: &[bool],
    iou_type: IouType,
) -> Array2<f64> {
    match iou_type {
        IouType::Bbox => {
            let d: Vec<[f64; 4]> = detections
                .1
                .iter()
                .map(|&i| detections.0.boxes[i])
                .collect();
            let g: Vec<[f64; 4]> = truths.1.iter().map(|&i| truths.0.boxes[i]).collect();
            box_iou(&d, &g, crowd)
        }
        IouType::Segm => {
            let d: Vec<&Rle> = detections
                .1
                .iter()
                .map(|&i| detections.0.masks[i])
                .collect();
            let g: Vec<&Rle> = truths.1.iter().map(|&i| truths.0.masks[i]).collect();
            mask_iou(&d, &g, crowd)
        }
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
    iou_type: IouType,
) -> Option<ImageEvaluation> {
    let truth_count = truths.len();
    if truth_count == 0 && detections.len() == 0 {
        return None;
    }

    let detection_scores: Vec<f64> = detections
        .indices
        .iter()
        .map(|&i| detections.table.scores[i])
        .collect();
    let mut order = score_order(&detection_scores);
    order.truncate(params.max_detection());
    let detection_count = order.len();
    let scores: Vec<f64> = order.iter().map(|&d| detection_scores[d]).collect();
    let selected: Vec<usize> = order.iter().map(|&d| detections.indices[d]).collect();
    let truth_areas: Vec<f64> = truths
        .indices
        .iter()
        .map(|&i| truths.table.areas[i])
        .collect();
    let crowd: Vec<bool> = truths
        .indices
        .iter()
        .map(|&i| truths.table.crowd[i])
        .collect();
    let ious = if truth_count > 0 && detection_count > 0 {
        Some(compute_ious(
            (detections.table, &selected),
            (truths.table, truths.indices),
            &crowd,
            iou_type,
        ))
    } else {
        None
    };

    let mut scratch = Scratch::default();
    let areas = params
        .area_ranges
        .iter()
        .map(|range| {
            scratch.truth_ignored.clear();
            scratch
                .truth_ignored
                .extend((0..truth_count).map(|g| crowd[g] || range.excludes(truth_areas[g])));
            scratch.detection_outside.clear();
            scratch.detection_outside.extend(
                selected
                    .iter()
                    .map(|&d| range.excludes(detections.table.areas[d])),
            );
            match_at_area(ious.as_ref(), &crowd, &params.iou_thresholds, &mut scratch)
        })
        .collect();
    Some(ImageEvaluation { scores, areas })
}

/// Buffers reused across the area ranges of one group.
#[derive(Default)]
struct Scratch {
    truth_ignored: Vec<bool>,
    detection_outside: Vec<bool>,
    truth_order: Vec<usize>,
    ignored: Vec<bool>,
    is_crowd: Vec<bool>,
    truth_taken: Vec<bool>,
}

fn match_at_area(
    ious: Option<&Array2<f64>>,
    crowd: &[bool],
    thresholds: &[f64],
    scratch: &mut Scratch,
) -> AreaEvaluation {
    // Ground truth that counts goes first; the sort is stable, as numpy's mergesort.
    let truth_ignored = &scratch.truth_ignored;
    scratch.truth_order.clear();
    scratch.truth_order.extend(0..truth_ignored.len());
    scratch.truth_order.sort_by_key(|&g| truth_ignored[g]);
    scratch.ignored.clear();
    scratch
        .ignored
        .extend(scratch.truth_order.iter().map(|&g| truth_ignored[g]));
    scratch.is_crowd.clear();
    scratch
        .is_crowd
        .extend(scratch.truth_order.iter().map(|&g| crowd[g]));
    let positives = scratch.ignored.iter().filter(|&&i| !i).count();

    let detection_count = scratch.detection_outside.len();
    let mut outcomes = Vec::with_capacity(thresholds.len() * detection_count);
    for &threshold in thresholds {
        scratch.truth_taken.clear();
        scratch.truth_taken.resize(scratch.truth_order.len(), false);
        for (d, &outside) in scratch.detection_outside.iter().enumerate() {
            let matched = ious.and_then(|ious| {
                best_match(
                    ious,
                    d,
                    threshold,
                    &scratch.truth_order,
                    &scratch.truth_taken,
                    &scratch.ignored,
                    &scratch.is_crowd,
                )
            });
            let outcome = match matched {
                Some(g) => {
                    scratch.truth_taken[g] = true;
                    if scratch.ignored[g] {
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
    let truth_table = table(truth, &truth_masks, iou_type);
    let result_table = table(results, &result_masks, iou_type);

    let truth_groups = group_annotations(truth, &image_ids, &category_ids, &params);
    let result_groups = group_annotations(results, &image_ids, &category_ids, &params);
    let groups = pair_groups(&truth_groups, &result_groups);
    let evaluated: Vec<(usize, Option<ImageEvaluation>)> = groups
        .par_iter()
        .map(|&(key, truth_range, result_range)| {
            let truths = Objects {
                table: &truth_table,
                indices: &truth_groups.indices[truth_range.0..truth_range.1],
            };
            let detections = Objects {
                table: &result_table,
                indices: &result_groups.indices[result_range.0..result_range.1],
            };
            (
                key.0,
                evaluate_group(&truths, &detections, &params, iou_type),
            )
        })
        .collect();

    let category_count = if params.use_categories {
        category_ids.len()
    } else {
        1
    };
    let mut images: Vec<Vec<ImageEvaluation>> = vec![Vec::new(); category_count];
    for (category, evaluation) in evaluated {
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

/// Annotation positions sorted by group, with the group of each: (category, image).
struct Grouped {
    keys: Vec<(usize, usize)>,
    indices: Vec<usize>,
}

/// Sorts annotation positions by (category position, image position), in file order within a
/// group, dropping annotations of images or categories outside the evaluation. With categories
/// pooled, every group has category 0 and lists its objects category by category, as
/// pycocotools concatenates them.
fn group_annotations(
    dataset: &CocoDataset,
    image_ids: &[i64],
    category_ids: &[i64],
    params: &Params,
) -> Grouped {
    let mut keyed: Vec<(usize, usize, usize, usize)> = dataset
        .annotations
        .iter()
        .enumerate()
        .filter_map(|(index, annotation)| {
            let image = image_ids.binary_search(&annotation.image_id).ok()?;
            let category = category_ids.binary_search(&annotation.category_id).ok()?;
            Some(if params.use_categories {
                (category, image, 0, index)
            } else {
                (0, image, category, index)
            })
        })
        .collect();
    keyed.sort_unstable();
    Grouped {
        keys: keyed.iter().map(|&(c, i, _, _)| (c, i)).collect(),
        indices: keyed.iter().map(|&(_, _, _, index)| index).collect(),
    }
}

type GroupRanges = ((usize, usize), (usize, usize), (usize, usize));

/// Walks both sorted lists together and returns each group's key with its range in each.
fn pair_groups(truths: &Grouped, results: &Grouped) -> Vec<GroupRanges> {
    let run_end = |keys: &[(usize, usize)], start: usize| {
        let key = keys[start];
        start + keys[start..].iter().take_while(|&&k| k == key).count()
    };
    let mut groups = Vec::new();
    let (mut t, mut r) = (0, 0);
    while t < truths.keys.len() || r < results.keys.len() {
        let truth_key = truths.keys.get(t).copied();
        let result_key = results.keys.get(r).copied();
        let key = match (truth_key, result_key) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => unreachable!("the loop runs while one list has keys"),
        };
        let truth_end = if truth_key == Some(key) {
            run_end(&truths.keys, t)
        } else {
            t
        };
        let result_end = if result_key == Some(key) {
            run_end(&results.keys, r)
        } else {
            r
        };
        groups.push((key, (t, truth_end), (r, result_end)));
        t = truth_end;
        r = result_end;
    }
    groups
}

/// Gathers the columns that the evaluation reads from a dataset's annotations.
fn table<'a>(dataset: &CocoDataset, masks: &'a [Option<Rle>], iou_type: IouType) -> Table<'a> {
    let annotations = &dataset.annotations;
    Table {
        boxes: match iou_type {
            IouType::Bbox => annotations
                .iter()
                .map(|a| a.bbox.unwrap_or([0.0; 4]))
                .collect(),
            IouType::Segm => Vec::new(),
        },
        masks: masks.iter().flatten().collect(),
        areas: annotations.iter().map(|a| a.area).collect(),
        crowd: annotations.iter().map(|a| a.is_crowd).collect(),
        scores: annotations.iter().map(|a| a.score).collect(),
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
