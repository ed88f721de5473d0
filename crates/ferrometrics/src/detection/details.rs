//! The per-image records of a COCO evaluation: pycocotools' `COCOeval.ious` and
//! `COCOeval.evalImgs`.
//!
//! [`evaluate`](super::evaluate) keeps only what accumulation needs. These records add the
//! annotation ids of every match and the IoU matrices, for callers that inspect single images.
//! They are built on request with a plain per-group pass that follows pycocotools'
//! `computeIoU` and `evaluateImg` step by step.

use std::collections::HashMap;

use ndarray::Array2;

use super::coco::{Annotation, CocoDataset};
use super::evaluate::{masks_for, IouType, StoredMask};
use super::iou::box_iou;
use super::mask::{mask_iou_into, MaskRef, MaskScratch};
use super::params::Params;
use crate::error::{Error, Result};

/// pycocotools' `evaluateImg` record of one image, category and area range.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageDetails {
    /// The image id.
    pub image_id: i64,
    /// The category id, or -1 when categories are pooled.
    pub category_id: i64,
    /// The position of the area range in [`Params::area_ranges`].
    pub area_range: usize,
    /// The largest max detection count, where detections were cut.
    pub max_detections: usize,
    /// Detection ids, highest score first (ties in input order), cut at `max_detections`.
    pub detection_ids: Vec<i64>,
    /// Ground-truth ids, those that count before the ignored ones, each part in input order.
    pub truth_ids: Vec<i64>,
    /// `[threshold, detection]`: the id of the matched ground truth, or 0. A match to an
    /// object with id 0 also reads 0, as in pycocotools' layout, but counts as a match here
    /// and in the summary, where pycocotools counts it as a miss.
    pub detection_matches: Array2<i64>,
    /// `[threshold, truth]`: the id of the matched detection, or 0.
    pub truth_matches: Array2<i64>,
    /// Detection scores in the order of `detection_ids`.
    pub detection_scores: Vec<f64>,
    /// Whether each ground-truth object is ignored: a crowd or outside the area range.
    pub truth_ignore: Vec<bool>,
    /// `[threshold, detection]`: whether the detection is ignored, because it matched an
    /// ignored object or is unmatched and outside the area range.
    pub detection_ignore: Array2<bool>,
}

/// The IoU matrices and per-image records of a whole evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationDetails {
    /// `((image_id, category_id), ious)` for every image and category, image-major, as the keys
    /// of pycocotools' `COCOeval.ious`. Rows are detections, highest score first and cut at the
    /// largest max detection count; columns are ground truth in input order. A side without
    /// objects gives an empty matrix, where pycocotools stores an empty list. The category is
    /// -1 when categories are pooled.
    pub ious: Vec<((i64, i64), Array2<f64>)>,
    /// One entry per category, area range and image, in that nesting, as pycocotools'
    /// `COCOeval.evalImgs`; `None` where the image has neither ground truth nor detections.
    pub images: Vec<Option<ImageDetails>>,
}

/// The objects of one image and category.
#[derive(Default)]
struct Group {
    truths: Vec<usize>,
    detections: Vec<usize>,
}

/// Builds pycocotools' `ious` and `evalImgs` for the images and categories of `truth`.
///
/// The values are those of pycocotools' `COCOeval.evaluate`: the same IoUs to the bit, the
/// same match ids and ignore flags.
///
/// # Example
///
/// ```
/// use ferrometrics::detection::{evaluation_details, CocoDataset, IouType, Params};
///
/// let truth = CocoDataset::from_json_str(
///     r#"{"images": [{"id": 1}], "categories": [{"id": 1}],
///         "annotations": [{"id": 5, "image_id": 1, "category_id": 1,
///                          "bbox": [10, 10, 20, 20], "area": 400}]}"#,
/// )?;
/// let results = truth.load_results_str(
///     r#"[{"image_id": 1, "category_id": 1, "bbox": [12, 10, 20, 20], "score": 0.9}]"#,
/// )?;
/// let details = evaluation_details(&truth, &results, IouType::Bbox, &Params::default())?;
/// assert_eq!(details.ious[0].1[[0, 0]], 360.0 / 440.0);
/// let all_areas = details.images[0].as_ref().unwrap();
/// // Matched to object 5 up to IoU 0.80, unmatched from 0.85.
/// assert_eq!(all_areas.detection_matches[[6, 0]], 5);
/// assert_eq!(all_areas.detection_matches[[7, 0]], 0);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// As [`evaluate`](super::evaluate): invalid parameters, and an object without the box or
/// segmentation that the IoU type needs.
pub fn evaluation_details(
    truth: &CocoDataset,
    results: &CocoDataset,
    iou_type: IouType,
    params: &Params,
) -> Result<EvaluationDetails> {
    let mut params = params.clone();
    params.validate()?;
    params.max_detections.sort_unstable();

    let mut image_ids: Vec<i64> = truth.images.iter().map(|image| image.id).collect();
    image_ids.sort_unstable();
    image_ids.dedup();
    let mut category_ids: Vec<i64> = truth.categories.iter().map(|c| c.id).collect();
    category_ids.sort_unstable();
    category_ids.dedup();

    let truth_masks = masks_for(truth, iou_type, "ground truth")?;
    let result_masks = masks_for(results, iou_type, "results")?;
    if iou_type == IouType::Bbox {
        for (dataset, role) in [(truth, "ground truth"), (results, "results")] {
            if let Some(index) = dataset.annotations.iter().position(|a| a.bbox.is_none()) {
                return Err(Error::invalid_input(
                    role,
                    format!("`annotations` entry {index}: missing field `bbox`"),
                ));
            }
        }
    }

    // pycocotools pools a group's objects category by category, in sorted category order.
    let category_position: HashMap<i64, usize> = category_ids
        .iter()
        .enumerate()
        .map(|(position, &id)| (id, position))
        .collect();
    let mut groups: HashMap<(i64, i64), Group> = HashMap::new();
    let group_key = |annotation: &Annotation| {
        let category = if params.use_categories {
            annotation.category_id
        } else {
            -1
        };
        (annotation.image_id, category)
    };
    let mut add = |dataset: &CocoDataset, is_truth: bool| {
        let mut order: Vec<usize> = (0..dataset.annotations.len())
            .filter(|&i| category_position.contains_key(&dataset.annotations[i].category_id))
            .collect();
        order.sort_by_key(|&i| category_position[&dataset.annotations[i].category_id]);
        for index in order {
            let group = groups
                .entry(group_key(&dataset.annotations[index]))
                .or_default();
            if is_truth {
                group.truths.push(index);
            } else {
                group.detections.push(index);
            }
        }
    };
    add(truth, true);
    add(results, false);

    let key_categories = if params.use_categories {
        category_ids.clone()
    } else {
        vec![-1]
    };
    let empty = Group::default();
    let context = Context {
        truth,
        results,
        truth_masks: &truth_masks,
        result_masks: &result_masks,
        iou_type,
        params: &params,
    };

    let mut ious = Vec::with_capacity(image_ids.len() * key_categories.len());
    let mut iou_of: HashMap<(i64, i64), usize> = HashMap::new();
    for &image_id in &image_ids {
        for &category_id in &key_categories {
            let group = groups.get(&(image_id, category_id)).unwrap_or(&empty);
            let order = context.score_order(&group.detections);
            iou_of.insert((image_id, category_id), ious.len());
            ious.push((
                (image_id, category_id),
                context.iou_matrix(&order, &group.truths),
            ));
        }
    }

    let mut images = Vec::new();
    for &category_id in &key_categories {
        for area_range in 0..params.area_ranges.len() {
            for &image_id in &image_ids {
                let group = groups.get(&(image_id, category_id)).unwrap_or(&empty);
                let matrix = &ious[iou_of[&(image_id, category_id)]].1;
                images.push(context.image_details(
                    (image_id, category_id),
                    area_range,
                    group,
                    matrix,
                ));
            }
        }
    }
    Ok(EvaluationDetails { ious, images })
}

/// The inputs that every group reads.
struct Context<'a> {
    truth: &'a CocoDataset,
    results: &'a CocoDataset,
    truth_masks: &'a [StoredMask<'a>],
    result_masks: &'a [StoredMask<'a>],
    iou_type: IouType,
    params: &'a Params,
}

impl Context<'_> {
    /// Returns the detections highest score first, ties in input order, cut at the largest max
    /// detection count: numpy's `argsort(-scores, kind="mergesort")[:max_det]`.
    fn score_order(&self, detections: &[usize]) -> Vec<usize> {
        let mut order = detections.to_vec();
        let scores = &self.results.annotations;
        // The loaders reject NaN scores, and `partial_cmp` ties -0.0 with 0.0 as numpy does.
        order.sort_by(|&a, &b| {
            scores[b]
                .score
                .partial_cmp(&scores[a].score)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        order.truncate(self.params.max_detection());
        order
    }

    /// Computes the IoU of the ordered detections (rows) with the ground truth (columns).
    fn iou_matrix(&self, detections: &[usize], truths: &[usize]) -> Array2<f64> {
        if detections.is_empty() || truths.is_empty() {
            return Array2::zeros((detections.len(), truths.len()));
        }
        let crowd: Vec<bool> = truths
            .iter()
            .map(|&g| self.truth.annotations[g].is_crowd)
            .collect();
        match self.iou_type {
            IouType::Bbox => {
                let boxes = |dataset: &CocoDataset, indices: &[usize]| -> Vec<[f64; 4]> {
                    indices
                        .iter()
                        .map(|&i| dataset.annotations[i].bbox.unwrap_or_default())
                        .collect()
                };
                box_iou(
                    &boxes(self.results, detections),
                    &boxes(self.truth, truths),
                    &crowd,
                )
            }
            IouType::Segm => {
                let d: Vec<MaskRef<'_>> = detections
                    .iter()
                    .map(|&i| self.result_masks[i].view())
                    .collect();
                let g: Vec<MaskRef<'_>> =
                    truths.iter().map(|&i| self.truth_masks[i].view()).collect();
                let mut ious = Vec::new();
                mask_iou_into(&d, &g, &crowd, &mut MaskScratch::default(), &mut ious);
                Array2::from_shape_vec((d.len(), g.len()), ious)
                    .expect("one IoU per detection and ground-truth pair")
            }
        }
    }

    /// Matches one group at one area range, as pycocotools' `evaluateImg`.
    fn image_details(
        &self,
        (image_id, category_id): (i64, i64),
        area_range: usize,
        group: &Group,
        ious: &Array2<f64>,
    ) -> Option<ImageDetails> {
        if group.truths.is_empty() && group.detections.is_empty() {
            return None;
        }
        let range = &self.params.area_ranges[area_range];
        let truth = &self.truth.annotations;
        let results = &self.results.annotations;

        let ignored: Vec<bool> = group
            .truths
            .iter()
            .map(|&g| truth[g].is_crowd || range.excludes(truth[g].area))
            .collect();
        // A stable sort puts the objects that count first; `columns` maps to the IoU columns.
        let mut columns: Vec<usize> = (0..group.truths.len()).collect();
        columns.sort_by_key(|&c| ignored[c]);
        let detections = self.score_order(&group.detections);

        let thresholds = &self.params.iou_thresholds;
        let (t_count, d_count, g_count) = (thresholds.len(), detections.len(), columns.len());
        let mut detection_matches = Array2::<i64>::zeros((t_count, d_count));
        let mut truth_matches = Array2::<i64>::zeros((t_count, g_count));
        let mut detection_ignore = Array2::from_elem((t_count, d_count), false);
        // Matches are tracked apart from the ids, because pycocotools' use of id 0 as "no
        // match" would let an object with id 0 match twice and count as a miss.
        let mut truth_matched = Array2::from_elem((t_count, g_count), false);
        let mut detection_matched = Array2::from_elem((t_count, d_count), false);
        let truth_ignore: Vec<bool> = columns.iter().map(|&c| ignored[c]).collect();
        let crowd: Vec<bool> = columns
            .iter()
            .map(|&c| truth[group.truths[c]].is_crowd)
            .collect();

        if d_count > 0 && g_count > 0 {
            for (t, &threshold) in thresholds.iter().enumerate() {
                for d in 0..d_count {
                    let mut best = threshold.min(1.0 - 1e-10);
                    let mut matched: Option<usize> = None;
                    for (g, &column) in columns.iter().enumerate() {
                        if truth_matched[[t, g]] && !crowd[g] {
                            continue;
                        }
                        // Objects that count come first, so an ignored one ends the search
                        // once a match that counts exists.
                        if matched.is_some_and(|m| !truth_ignore[m]) && truth_ignore[g] {
                            break;
                        }
                        let iou = ious[[d, column]];
                        if iou < best {
                            continue;
                        }
                        best = iou;
                        matched = Some(g);
                    }
                    let Some(m) = matched else {
                        continue;
                    };
                    detection_ignore[[t, d]] = truth_ignore[m];
                    detection_matched[[t, d]] = true;
                    truth_matched[[t, m]] = true;
                    detection_matches[[t, d]] = truth[group.truths[columns[m]]].id;
                    truth_matches[[t, m]] = results[detections[d]].id;
                }
            }
        }
        // An unmatched detection outside the area range is ignored too.
        for t in 0..t_count {
            for (d, &index) in detections.iter().enumerate() {
                if !detection_matched[[t, d]] && range.excludes(results[index].area) {
                    detection_ignore[[t, d]] = true;
                }
            }
        }

        Some(ImageDetails {
            image_id,
            category_id,
            area_range,
            max_detections: self.params.max_detection(),
            detection_ids: detections.iter().map(|&i| results[i].id).collect(),
            truth_ids: columns.iter().map(|&c| truth[group.truths[c]].id).collect(),
            detection_matches,
            truth_matches,
            detection_scores: detections.iter().map(|&i| results[i].score).collect(),
            truth_ignore,
            detection_ignore,
        })
    }
}
