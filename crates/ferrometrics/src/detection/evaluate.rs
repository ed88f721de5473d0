//! Per-image evaluation: matching the detections of one image and category to its ground truth
//! at every IoU threshold and area range, as pycocotools' `COCOeval.evaluateImg`.

use std::borrow::Cow;
use std::str::FromStr;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::coco::CocoDataset;
use super::iou::box_iou_into;
use super::mask::{
    box_to_rle, mask_iou_into, CompressedRle, MaskRef, MaskScratch, Rle, Segmentation,
};
use super::params::{AreaRange, Params};
use crate::error::{Error, Result};

/// The geometry that the IoU between a detection and a ground-truth object is computed on.
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

/// The evaluation of one image and category: detection scores and the outcome of every
/// detection at every area range and IoU threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageEvaluation {
    /// Detection scores, highest first (ties in input order), cut at the largest max detection.
    pub scores: Vec<f64>,
    /// Outcomes indexed `[(area * thresholds + threshold) * detections + detection]`, with
    /// detections in score order and areas in the order of [`Params::area_ranges`].
    ///
    /// NOTE: accumulation trusts that this has `areas * thresholds * scores.len()` entries; an
    /// evaluation edited by hand can make it panic. Decoded states pass
    /// [`ImageEvaluation::validate`] first.
    pub outcomes: Vec<Outcome>,
    /// Per area range, the number of ground-truth objects that count (not crowd, inside the
    /// range).
    pub positives: Vec<usize>,
}

impl ImageEvaluation {
    /// Returns the outcomes of one area range, indexed `[threshold * detections + detection]`.
    pub fn area_outcomes(&self, area: usize, thresholds: usize) -> &[Outcome] {
        let block = thresholds * self.scores.len();
        &self.outcomes[area * block..(area + 1) * block]
    }

    /// Checks that the lengths match `params`, as accumulation assumes: at most the largest max
    /// detection count of scores, none NaN, one outcome per area range, IoU threshold and
    /// detection, and one positive count per area range.
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`] naming the first length that does not match.
    pub fn validate(&self, params: &Params) -> Result<()> {
        let detections = self.scores.len();
        if detections > params.max_detection() {
            return Err(Error::incompatible_state(format!(
                "an image evaluation holds {detections} detections, more than the largest max \
                 detection count {}; the state is corrupted",
                params.max_detection()
            )));
        }
        if self.scores.iter().any(|score| score.is_nan()) {
            return Err(Error::incompatible_state(
                "an image evaluation holds a NaN score; the state is corrupted",
            ));
        }
        let areas = params.area_ranges.len();
        let expected = areas * params.iou_thresholds.len() * detections;
        if self.outcomes.len() != expected {
            return Err(Error::incompatible_state(format!(
                "an image evaluation holds {} outcomes where {areas} area ranges, {} IoU \
                 thresholds and {detections} detections need {expected}; the state is corrupted",
                self.outcomes.len(),
                params.iou_thresholds.len()
            )));
        }
        if self.positives.len() != areas {
            return Err(Error::incompatible_state(format!(
                "an image evaluation holds {} positive counts for {areas} area ranges; the state \
                 is corrupted",
                self.positives.len()
            )));
        }
        // NOTE: a count below the bound can still be wrong, and accumulation then scans up to
        // that many recall steps per threshold, so a corrupted count can make compute slow.
        if let Some(count) = self.positives.iter().find(|&&count| count > MAX_POSITIVES) {
            return Err(Error::incompatible_state(format!(
                "an image evaluation counts {count} ground-truth objects, more than \
                 {MAX_POSITIVES}; the state is corrupted"
            )));
        }
        Ok(())
    }
}

/// Bound on the positive count of one decoded image evaluation. With at most `u32::MAX` objects
/// per image, a sum over fewer than 2^32 images stays within a 64-bit `usize`.
const MAX_POSITIVES: usize = u32::MAX as usize;

/// The columns of a set of objects (a dataset or one image), indexed by object position.
///
/// `boxes` is filled for bbox evaluation and `masks` for segm evaluation.
#[derive(Default)]
pub(crate) struct Table<'a> {
    pub boxes: Vec<[f64; 4]>,
    pub masks: Vec<MaskRef<'a>>,
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
fn score_order_into(scores: &[f64], order: &mut Vec<usize>) {
    order.clear();
    order.extend(0..scores.len());
    // `sort_by` is stable; scores are never NaN, so `partial_cmp` is total here, and -0.0 ties
    // with 0.0 as it does in numpy.
    order.sort_by(|&a, &b| {
        scores[b]
            .partial_cmp(&scores[a])
            .unwrap_or(std::cmp::Ordering::Equal)
    });
}

/// Buffers reused across the groups that one thread evaluates.
#[derive(Default)]
pub(crate) struct Scratch {
    detection_scores: Vec<f64>,
    order: Vec<usize>,
    selected: Vec<usize>,
    detection_boxes: Vec<[f64; 4]>,
    truth_boxes: Vec<[f64; 4]>,
    truth_areas: Vec<f64>,
    crowd: Vec<bool>,
    ious: Vec<f64>,
    max_ious: Vec<f64>,
    truth_ignored: Vec<bool>,
    truth_order: Vec<usize>,
    ignored: Vec<bool>,
    is_crowd: Vec<bool>,
    truth_matched: Vec<bool>,
    masks: MaskScratch,
}

/// Fills `scratch.ious` with the IoU of each selected detection (rows) with each ground-truth
/// object (columns), row-major.
fn compute_ious(
    detections: &Table<'_>,
    truths: &Objects<'_>,
    iou_type: IouType,
    scratch: &mut Scratch,
) {
    scratch.ious.clear();
    match iou_type {
        IouType::Bbox => {
            scratch.detection_boxes.clear();
            scratch
                .detection_boxes
                .extend(scratch.selected.iter().map(|&i| detections.boxes[i]));
            scratch.truth_boxes.clear();
            scratch
                .truth_boxes
                .extend(truths.indices.iter().map(|&i| truths.table.boxes[i]));
            box_iou_into(
                &scratch.detection_boxes,
                &scratch.truth_boxes,
                &scratch.crowd,
                &mut scratch.ious,
            );
        }
        IouType::Segm => {
            let d: Vec<MaskRef<'_>> = scratch
                .selected
                .iter()
                .map(|&i| detections.masks[i])
                .collect();
            let g: Vec<MaskRef<'_>> = truths
                .indices
                .iter()
                .map(|&i| truths.table.masks[i])
                .collect();
            mask_iou_into(
                &d,
                &g,
                &scratch.crowd,
                &mut scratch.masks,
                &mut scratch.ious,
            );
        }
    }
}

/// Matches the detections of one image and category to its ground truth, or returns `None`
/// when both are empty.
///
/// The rules are pycocotools': detections are taken highest score first and cut at the largest
/// max detection. At each threshold `t`, each detection takes the ground-truth object with the
/// highest IoU of at least `min(t, 1 - 1e-10)` that is not yet matched (crowds can be matched many
/// times). Ground truth that counts is tried before ignored ground truth, and a detection that
/// has a match that counts stops at the first ignored object. Equal IoUs go to the later object.
pub(crate) fn evaluate_group(
    truths: &Objects<'_>,
    detections: &Objects<'_>,
    params: &Params,
    iou_type: IouType,
    scratch: &mut Scratch,
) -> Option<ImageEvaluation> {
    let truth_count = truths.len();
    if truth_count == 0 && detections.len() == 0 {
        return None;
    }

    scratch.detection_scores.clear();
    scratch.detection_scores.extend(
        detections
            .indices
            .iter()
            .map(|&i| detections.table.scores[i]),
    );
    score_order_into(&scratch.detection_scores, &mut scratch.order);
    scratch.order.truncate(params.max_detection());
    let detection_count = scratch.order.len();
    let scores: Vec<f64> = scratch
        .order
        .iter()
        .map(|&d| scratch.detection_scores[d])
        .collect();
    scratch.selected.clear();
    scratch
        .selected
        .extend(scratch.order.iter().map(|&d| detections.indices[d]));
    scratch.truth_areas.clear();
    scratch
        .truth_areas
        .extend(truths.indices.iter().map(|&i| truths.table.areas[i]));
    scratch.crowd.clear();
    scratch
        .crowd
        .extend(truths.indices.iter().map(|&i| truths.table.crowd[i]));
    let has_ious = truth_count > 0 && detection_count > 0;
    scratch.max_ious.clear();
    if has_ious {
        compute_ious(detections.table, truths, iou_type, scratch);
        scratch.max_ious.extend(
            scratch
                .ious
                .chunks(truth_count)
                .map(|row| row.iter().copied().fold(f64::NEG_INFINITY, max_keeping_nan)),
        );
    }

    let thresholds = params.iou_thresholds.len();
    let mut outcomes = Vec::with_capacity(params.area_ranges.len() * thresholds * detection_count);
    let mut positives = Vec::with_capacity(params.area_ranges.len());
    for range in &params.area_ranges {
        scratch.truth_ignored.clear();
        scratch.truth_ignored.extend(
            (0..truth_count).map(|g| scratch.crowd[g] || range.excludes(scratch.truth_areas[g])),
        );
        let count = match_at_area(
            has_ious,
            detections.table,
            range,
            &params.iou_thresholds,
            scratch,
            &mut outcomes,
        );
        positives.push(count);
    }
    Some(ImageEvaluation {
        scores,
        outcomes,
        positives,
    })
}

/// Returns the larger value, or infinity once a NaN is seen: pycocotools' `iou < bar` test
/// lets a NaN IoU match, so a row holding one must never be skipped.
fn max_keeping_nan(max: f64, value: f64) -> f64 {
    if value.is_nan() {
        f64::INFINITY
    } else {
        max.max(value)
    }
}

/// Appends the outcomes of one area range to `outcomes` and returns the number of ground-truth
/// objects that count.
fn match_at_area(
    has_ious: bool,
    detections: &Table<'_>,
    range: &AreaRange,
    thresholds: &[f64],
    scratch: &mut Scratch,
    outcomes: &mut Vec<Outcome>,
) -> usize {
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
        .extend(scratch.truth_order.iter().map(|&g| scratch.crowd[g]));
    let positives = scratch.ignored.iter().filter(|&&i| !i).count();
    let truth_count = scratch.truth_order.len();

    for &threshold in thresholds {
        scratch.truth_matched.clear();
        scratch.truth_matched.resize(truth_count, false);
        let bar = threshold.min(1.0 - 1e-10);
        for (d, &detection) in scratch.selected.iter().enumerate() {
            // A detection whose best IoU is below the bar matches nothing at this threshold.
            let matched = if has_ious && scratch.max_ious[d] >= bar {
                best_match(
                    &scratch.ious[d * truth_count..(d + 1) * truth_count],
                    threshold,
                    &scratch.truth_order,
                    &scratch.truth_matched,
                    &scratch.ignored,
                    &scratch.is_crowd,
                )
            } else {
                None
            };
            let outcome = match matched {
                Some(g) => {
                    scratch.truth_matched[g] = true;
                    if scratch.ignored[g] {
                        Outcome::Ignored
                    } else {
                        Outcome::TruePositive
                    }
                }
                None if range.excludes(detections.areas[detection]) => Outcome::Ignored,
                None => Outcome::FalsePositive,
            };
            outcomes.push(outcome);
        }
    }
    positives
}

/// Returns the position (in `truth_order`) of the object detection `d` matches, if any.
fn best_match(
    ious: &[f64],
    threshold: f64,
    truth_order: &[usize],
    already_matched: &[bool],
    ignored: &[bool],
    crowd: &[bool],
) -> Option<usize> {
    let mut best_iou = threshold.min(1.0 - 1e-10);
    let mut best: Option<usize> = None;
    for (g, &column) in truth_order.iter().enumerate() {
        if already_matched[g] && !crowd[g] {
            continue;
        }
        if let Some(m) = best {
            if !ignored[m] && ignored[g] {
                break;
            }
        }
        let iou = ious[column];
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
    let category_ids = evaluated_category_ids(truth, &params);

    let mut images: Vec<Vec<ImageEvaluation>> = vec![Vec::new(); category_ids.len()];
    let slots: Vec<&mut Vec<ImageEvaluation>> = images.iter_mut().collect();
    match_categories(
        truth,
        results,
        iou_type,
        &params,
        slots,
        |slot, evaluations| **slot = evaluations,
    )?;
    Ok(Evaluation {
        params,
        category_ids,
        images,
    })
}

/// Returns the ids of the `K` axis of an evaluation: the ground truth's category ids sorted,
/// or `[-1]` when categories are pooled.
pub(crate) fn evaluated_category_ids(truth: &CocoDataset, params: &Params) -> Vec<i64> {
    if !params.use_categories {
        return vec![-1];
    }
    let mut category_ids: Vec<i64> = truth.categories.iter().map(|c| c.id).collect();
    category_ids.sort_unstable();
    category_ids.dedup();
    category_ids
}

/// Matches every image and category, as [`evaluate`], and hands each category's evaluations
/// (in ascending image id order) to `consume` together with that category's entry of `slots`.
/// `slots` has one entry per id of [`evaluated_category_ids`], and `params` must be validated.
///
/// Categories are matched in parallel, each on one thread, so a caller that reduces the
/// evaluations in `consume` never keeps those of more categories than there are threads.
pub(crate) fn match_categories<S: Send>(
    truth: &CocoDataset,
    results: &CocoDataset,
    iou_type: IouType,
    params: &Params,
    slots: Vec<S>,
    consume: impl Fn(&mut S, Vec<ImageEvaluation>) + Sync,
) -> Result<()> {
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
    // The loaders reject NaN scores, but the dataset fields are public and a NaN has no place
    // in the score order.
    if let Some(index) = results.annotations.iter().position(|a| a.score.is_nan()) {
        return Err(Error::NonFinite {
            argument: "results".to_owned(),
            location: format!("`annotations` entry {index}, field `score`"),
            value: f64::NAN,
        });
    }

    let largest = truth.annotations.len().max(results.annotations.len()) as u64;
    let groups = image_ids.len() as u64 * category_ids.len() as u64;
    if largest > u64::from(u32::MAX) || groups > u64::from(u32::MAX) {
        return Err(Error::invalid_input(
            "ground truth",
            format!(
                "{largest} annotations in {groups} image-category groups exceed the supported \
                 2^32 - 1 of each; split the evaluation"
            ),
        ));
    }
    let (truth_groups, result_groups) = rayon::join(
        || group_annotations(truth, &image_ids, &category_ids, params),
        || group_annotations(results, &image_ids, &category_ids, params),
    );
    let groups = pair_groups(&truth_groups, &result_groups);
    let (truth_table, result_table) = rayon::join(
        || table(truth, &truth_masks, &truth_groups.indices, iou_type),
        || table(results, &result_masks, &result_groups.indices, iou_type),
    );
    // The sorted lists served only to build the tables. Freeing them before the per-image
    // evaluations are built lowers the peak memory by 24 bytes per annotation.
    drop(truth_groups);
    drop(result_groups);
    // The tables are in group order, so a group's rows are a range of these positions.
    let positions: Vec<usize> =
        (0..truth_table.areas.len().max(result_table.areas.len())).collect();
    let evaluate_one = |scratch: &mut Scratch, &(_, truth_range, result_range): &GroupRanges| {
        let truths = Objects {
            table: &truth_table,
            indices: &positions[truth_range.0..truth_range.1],
        };
        let detections = Objects {
            table: &result_table,
            indices: &positions[result_range.0..result_range.1],
        };
        evaluate_group(&truths, &detections, params, iou_type, scratch)
    };

    // Groups are sorted by category, so each category's evaluations are a run of groups, and
    // every group contains an annotation, so every group yields an evaluation. Categories are
    // evaluated in parallel, or the groups of the one pooled category.
    if params.use_categories {
        let mut category_starts = vec![0; category_ids.len() + 1];
        for &((category, _), _, _) in &groups {
            category_starts[category + 1] += 1;
        }
        for k in 0..category_ids.len() {
            category_starts[k + 1] += category_starts[k];
        }
        slots.into_par_iter().enumerate().for_each_init(
            Scratch::default,
            |scratch, (k, mut slot)| {
                let run = &groups[category_starts[k]..category_starts[k + 1]];
                let mut evaluations = Vec::with_capacity(run.len());
                evaluations.extend(run.iter().filter_map(|group| evaluate_one(scratch, group)));
                consume(&mut slot, evaluations);
            },
        );
    } else {
        let evaluations: Vec<ImageEvaluation> = groups
            .par_iter()
            .with_min_len(256)
            .map_init(Scratch::default, evaluate_one)
            .flatten()
            .collect();
        if let Some(mut slot) = slots.into_iter().next() {
            consume(&mut slot, evaluations);
        }
    }
    Ok(())
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
    // One u64 per annotation: the sort key in the high bits, the position in the low 32 bits,
    // so a plain sort orders by group and keeps file order within a group.
    let images = image_ids.len() as u64;
    let categories = category_ids.len() as u64;
    let image_position = IdPositions::new(image_ids);
    let category_position = IdPositions::new(category_ids);
    let mut keyed: Vec<u64> = dataset
        .annotations
        .iter()
        .enumerate()
        .filter_map(|(index, annotation)| {
            let image = image_position.get(annotation.image_id)? as u64;
            let category = category_position.get(annotation.category_id)? as u64;
            let key = if params.use_categories {
                category * images + image
            } else {
                image * categories + category
            };
            Some((key << 32) | index as u64)
        })
        .collect();
    keyed.par_sort_unstable();

    let group_of = |key: u64| {
        let key = key >> 32;
        if params.use_categories {
            ((key / images) as usize, (key % images) as usize)
        } else {
            (0, (key / categories) as usize)
        }
    };
    Grouped {
        keys: keyed.iter().map(|&key| group_of(key)).collect(),
        indices: keyed
            .iter()
            .map(|&key| (key & 0xffff_ffff) as usize)
            .collect(),
    }
}

/// The position of each id in a sorted id list: a direct table when the ids span a range at
/// most a few times their count (COCO's ids usually do), else a binary search.
pub(crate) enum IdPositions<'a> {
    Table { first: i64, positions: Vec<u32> },
    Search(&'a [i64]),
}

impl<'a> IdPositions<'a> {
    pub(crate) fn new(sorted_ids: &'a [i64]) -> Self {
        let (Some(&first), Some(&last)) = (sorted_ids.first(), sorted_ids.last()) else {
            return IdPositions::Search(sorted_ids);
        };
        let span = last.abs_diff(first);
        if span > 128 * sorted_ids.len() as u64 + 4096 {
            return IdPositions::Search(sorted_ids);
        }
        let mut positions = vec![u32::MAX; span as usize + 1];
        for (position, &id) in sorted_ids.iter().enumerate() {
            positions[id.abs_diff(first) as usize] = position as u32;
        }
        IdPositions::Table { first, positions }
    }

    pub(crate) fn get(&self, id: i64) -> Option<usize> {
        match self {
            IdPositions::Table { first, positions } => {
                if id < *first {
                    return None;
                }
                let position = *positions.get(id.abs_diff(*first) as usize)?;
                (position != u32::MAX).then_some(position as usize)
            }
            IdPositions::Search(ids) => ids.binary_search(&id).ok(),
        }
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
/// Gathers the columns that the evaluation reads from a dataset's annotations, in the order of
/// `order` (annotation positions sorted by group).
///
/// In group order each group's rows are contiguous, so the evaluation reads memory in sequence
/// instead of jumping through the file order, where one image's detections of a category lie
/// far apart.
fn table<'a>(
    dataset: &CocoDataset,
    masks: &'a [StoredMask<'_>],
    order: &[usize],
    iou_type: IouType,
) -> Table<'a> {
    let count = order.len();
    let mut table = Table {
        boxes: Vec::with_capacity(if iou_type == IouType::Bbox { count } else { 0 }),
        masks: Vec::with_capacity(if iou_type == IouType::Segm { count } else { 0 }),
        areas: Vec::with_capacity(count),
        crowd: Vec::with_capacity(count),
        scores: Vec::with_capacity(count),
    };
    for &index in order {
        let annotation = &dataset.annotations[index];
        match iou_type {
            IouType::Bbox => table.boxes.push(annotation.bbox.unwrap_or([0.0; 4])),
            IouType::Segm => table.masks.push(masks[index].view()),
        }
        table.areas.push(annotation.area);
        table.crowd.push(annotation.is_crowd);
        table.scores.push(annotation.score);
    }
    table
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

/// The mask of one annotation for mask IoU: runs (borrowed from the annotation, or rasterized
/// from polygons or a box) or a compressed string, which is decoded only where IoU needs pixels.
pub(crate) enum StoredMask<'a> {
    Runs(Cow<'a, Rle>),
    Compressed(&'a CompressedRle),
}

impl StoredMask<'_> {
    pub(crate) fn view(&self) -> MaskRef<'_> {
        match self {
            StoredMask::Runs(rle) => MaskRef::Runs(rle),
            StoredMask::Compressed(mask) => MaskRef::Compressed(mask),
        }
    }
}

/// Converts every annotation's segmentation to an RLE for mask IoU, as pycocotools' `annToRLE`.
/// A box result without a segmentation is rasterized from its box, as `loadRes` does.
pub(crate) fn masks_for<'a>(
    dataset: &'a CocoDataset,
    iou_type: IouType,
    role: &str,
) -> Result<Vec<StoredMask<'a>>> {
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
                (Some(Segmentation::Rle(rle)), _) => Ok(StoredMask::Runs(Cow::Borrowed(rle))),
                (Some(Segmentation::Compressed(mask)), _) => Ok(StoredMask::Compressed(mask)),
                (Some(segmentation), _) => {
                    let (height, width) = size.ok_or_else(|| {
                        at(format!(
                            "image {} has no height and width, which polygons need",
                            annotation.image_id
                        ))
                    })?;
                    segmentation
                        .to_rle(height, width)
                        .map(|rle| StoredMask::Runs(Cow::Owned(rle)))
                        .map_err(|e| at(e.to_string()))
                }
                (None, Some(bbox)) if role == "results" => {
                    let (height, width) = size.ok_or_else(|| {
                        at(format!(
                            "image {} has no height and width, which box masks need",
                            annotation.image_id
                        ))
                    })?;
                    Ok(StoredMask::Runs(Cow::Owned(box_to_rle(
                        bbox, height, width,
                    ))))
                }
                (None, _) => Err(at(
                    "missing field `segmentation`, which segm evaluation needs".to_owned(),
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(annotations: &str, sized: bool) -> CocoDataset {
        let image = if sized {
            r#"{"id": 1, "height": 10, "width": 10}"#
        } else {
            r#"{"id": 1}"#
        };
        CocoDataset::from_json_str(&format!(
            r#"{{"images": [{image}], "categories": [{{"id": 1}}],
                "annotations": [{annotations}]}}"#
        ))
        .unwrap()
    }

    fn error(truth: &CocoDataset, results: &str, iou_type: IouType) -> String {
        let results = truth.load_results_str(results).unwrap();
        evaluate(truth, &results, iou_type, &Params::default())
            .unwrap_err()
            .to_string()
    }

    const BOX_RESULT: &str =
        r#"[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "score": 0.5}]"#;

    #[test]
    fn evaluate_rejects_missing_shapes() {
        let no_box = dataset(
            r#"{"id": 1, "image_id": 1, "category_id": 1, "area": 4,
                "segmentation": [[0, 0, 0, 2, 2, 2, 2, 0]]}"#,
            true,
        );
        let message = error(&no_box, BOX_RESULT, IouType::Bbox);
        assert!(message.contains("missing field `bbox`"), "{message}");

        let no_mask = dataset(
            r#"{"id": 1, "image_id": 1, "category_id": 1, "area": 4, "bbox": [0, 0, 2, 2]}"#,
            true,
        );
        let message = error(&no_mask, BOX_RESULT, IouType::Segm);
        assert!(
            message.contains("missing field `segmentation`"),
            "{message}"
        );
    }

    #[test]
    fn evaluate_rejects_unsized_images_for_masks() {
        let polygon = dataset(
            r#"{"id": 1, "image_id": 1, "category_id": 1, "area": 4,
                "segmentation": [[0, 0, 0, 2, 2, 2, 2, 0]]}"#,
            false,
        );
        let message = error(&polygon, BOX_RESULT, IouType::Segm);
        assert!(message.contains("no height and width"), "{message}");
        assert!(message.contains("ground truth"), "{message}");

        let rle = dataset(
            r#"{"id": 1, "image_id": 1, "category_id": 1, "area": 4,
                "segmentation": {"size": [2, 2], "counts": [0, 4]}}"#,
            false,
        );
        let message = error(&rle, BOX_RESULT, IouType::Segm);
        assert!(message.contains("box masks"), "{message}");
        assert!(message.contains("results"), "{message}");
    }

    #[test]
    fn id_positions_table_and_search_agree() {
        let dense = [-3, -1, 0, 4, 9];
        let sparse = [-5_000_000_000, 2, 7_000_000_000];
        for ids in [&dense[..], &sparse[..], &[]] {
            let positions = IdPositions::new(ids);
            for probe in [
                -5_000_000_001,
                -5_000_000_000,
                -3,
                -2,
                -1,
                0,
                1,
                2,
                4,
                9,
                10,
            ] {
                assert_eq!(
                    positions.get(probe),
                    ids.binary_search(&probe).ok(),
                    "{ids:?} {probe}"
                );
            }
        }
        assert!(matches!(
            IdPositions::new(&dense),
            IdPositions::Table { .. }
        ));
        assert!(matches!(IdPositions::new(&sparse), IdPositions::Search(_)));
    }

    #[test]
    fn evaluate_rejects_nan_score() {
        let truth = dataset(
            r#"{"id": 1, "image_id": 1, "category_id": 1, "area": 4, "bbox": [0, 0, 2, 2]}"#,
            true,
        );
        let mut results = truth.load_results_str(BOX_RESULT).unwrap();
        results.annotations[0].score = f64::NAN;
        let error = evaluate(&truth, &results, IouType::Bbox, &Params::default()).unwrap_err();
        assert!(matches!(error, Error::NonFinite { .. }), "{error}");
    }

    #[test]
    fn evaluate_rejects_invalid_params() {
        let truth = dataset(
            r#"{"id": 1, "image_id": 1, "category_id": 1, "area": 4, "bbox": [0, 0, 2, 2]}"#,
            true,
        );
        let results = truth.load_results_str(BOX_RESULT).unwrap();
        let params = Params {
            max_detections: vec![],
            ..Params::default()
        };
        let error = evaluate(&truth, &results, IouType::Bbox, &params).unwrap_err();
        assert!(matches!(error, Error::InvalidArgument { .. }));
    }
}
