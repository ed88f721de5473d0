//! Precision and recall over all images, per category, area range and max detection, as
//! pycocotools' `COCOeval.accumulate`.

use ndarray::{Array4, Array5, ArrayViewMut3, ArrayViewMut4, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::coco::CocoDataset;
use super::evaluate::{
    evaluated_category_ids, match_categories, Evaluation, ImageEvaluation, IouType, Outcome,
};
use super::params::Params;
use crate::error::Result;

/// Precision, recall and scores of a COCO evaluation.
///
/// Entries that are undefined (a category with no ground truth that counts at that area range)
/// are -1, as in pycocotools.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accumulation {
    /// The parameters the evaluation used.
    pub params: Params,
    /// The category ids, the `K` axis.
    pub category_ids: Vec<i64>,
    /// Interpolated precision, shape `(T, R, K, A, M)`: IoU thresholds, recall thresholds,
    /// categories, area ranges, max detections.
    pub precision: Array5<f64>,
    /// Max recall, shape `(T, K, A, M)`.
    pub recall: Array4<f64>,
    /// The score of the detection at which each precision value is read, shape `(T, R, K, A, M)`.
    pub scores: Array5<f64>,
}

impl Evaluation {
    /// Accumulates the per-image evaluations into precision and recall.
    pub fn accumulate(&self) -> Accumulation {
        let categories: Vec<Vec<&ImageEvaluation>> = self
            .images
            .iter()
            .map(|images| images.iter().collect())
            .collect();
        accumulate(&self.params, self.category_ids.clone(), &categories)
    }
}

/// The curves of one category, views into the output arrays: precision and scores indexed
/// `[threshold, recall, area, max_det]`, recall indexed `[threshold, area, max_det]`.
struct CategoryCurves<'a> {
    precision: ArrayViewMut4<'a, f64>,
    recall: ArrayViewMut3<'a, f64>,
    scores: ArrayViewMut4<'a, f64>,
}

/// Evaluates and accumulates a COCO dataset in one pass, with the values of
/// `evaluate(truth, results, iou_type, params)?.accumulate()`.
///
/// Each category's per-image evaluations are accumulated as soon as they are matched and then
/// freed, so at most one category per thread is held at a time. On 80 categories that is a
/// small part of the memory that a whole [`Evaluation`] takes.
///
/// # Errors
///
/// Returns the errors of [`evaluate`](super::evaluate): [`Error::InvalidArgument`] for invalid
/// parameters, and [`Error::InvalidInput`] naming the annotation if an object lacks the box or
/// segmentation the IoU type needs, or a polygon belongs to an image without a height and width.
///
/// [`Error::InvalidArgument`]: crate::Error::InvalidArgument
/// [`Error::InvalidInput`]: crate::Error::InvalidInput
///
/// # Example
///
/// ```
/// use ferrometrics::detection::{evaluate, evaluate_accumulated, CocoDataset, IouType, Params};
///
/// let truth = CocoDataset::from_json_str(
///     r#"{"images": [{"id": 1}], "categories": [{"id": 1}, {"id": 2}],
///         "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
///                          "bbox": [0, 0, 10, 10], "area": 100}]}"#,
/// )?;
/// let results = truth.load_results_str(
///     r#"[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 9], "score": 0.8}]"#,
/// )?;
/// let params = Params::default();
/// let accumulation = evaluate_accumulated(&truth, &results, IouType::Bbox, &params)?;
/// assert_eq!(accumulation, evaluate(&truth, &results, IouType::Bbox, &params)?.accumulate());
/// // AP at IoU 0.50; precision is 1 / (1 + 2^-52), as pycocotools computes it.
/// assert_eq!(accumulation.summarize().stats[1], 0.9999999999999999);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
pub fn evaluate_accumulated(
    truth: &CocoDataset,
    results: &CocoDataset,
    iou_type: IouType,
    params: &Params,
) -> Result<Accumulation> {
    let mut params = params.clone();
    params.validate()?;
    let category_ids = evaluated_category_ids(truth, &params);

    let mut arrays = CurveArrays::new(&params, category_ids.len());
    match_categories(
        truth,
        results,
        iou_type,
        &params,
        arrays.category_curves(),
        |curves, evaluations| {
            let images: Vec<&ImageEvaluation> = evaluations.iter().collect();
            accumulate_category(&params, &images, curves);
        },
    )?;
    Ok(arrays.into_accumulation(params, category_ids))
}

/// The output arrays of an accumulation, every entry -1 (undefined, as in pycocotools) until a
/// category writes it.
struct CurveArrays {
    precision: Array5<f64>,
    recall: Array4<f64>,
    scores: Array5<f64>,
}

impl CurveArrays {
    fn new(params: &Params, category_count: usize) -> Self {
        let t_count = params.iou_thresholds.len();
        let r_count = params.rec_thresholds.len();
        let a_count = params.area_ranges.len();
        let m_count = params.max_detections.len();
        let shape = (t_count, r_count, category_count, a_count, m_count);
        Self {
            precision: Array5::from_elem(shape, -1.0),
            recall: Array4::from_elem((t_count, category_count, a_count, m_count), -1.0),
            scores: Array5::from_elem(shape, -1.0),
        }
    }

    /// Returns the views of each category's slice of the `K` axis, in category order.
    ///
    /// Each category writes its slice in place, because building its curves apart and copying
    /// them in would hold the arrays twice at the peak.
    fn category_curves(&mut self) -> Vec<CategoryCurves<'_>> {
        self.precision
            .axis_iter_mut(Axis(2))
            .zip(self.recall.axis_iter_mut(Axis(1)))
            .zip(self.scores.axis_iter_mut(Axis(2)))
            .map(|((precision, recall), scores)| CategoryCurves {
                precision,
                recall,
                scores,
            })
            .collect()
    }

    fn into_accumulation(self, params: Params, category_ids: Vec<i64>) -> Accumulation {
        Accumulation {
            params,
            category_ids,
            precision: self.precision,
            recall: self.recall,
            scores: self.scores,
        }
    }
}

/// Accumulates per-image evaluations given per category, each list in image order.
pub(crate) fn accumulate(
    params: &Params,
    category_ids: Vec<i64>,
    categories: &[Vec<&ImageEvaluation>],
) -> Accumulation {
    let mut arrays = CurveArrays::new(params, categories.len());
    arrays
        .category_curves()
        .into_par_iter()
        .zip(categories)
        .for_each(|(mut curves, images)| accumulate_category(params, images, &mut curves));
    arrays.into_accumulation(params.clone(), category_ids)
}

fn accumulate_category(params: &Params, images: &[&ImageEvaluation], curves: &mut CategoryCurves) {
    let t_count = params.iou_thresholds.len();
    let r_count = params.rec_thresholds.len();
    if images.is_empty() {
        return;
    }

    // Every detection of the category as (score, image, rank within its image), sorted highest
    // score first with ties in image order then rank order: numpy's stable
    // `argsort(-scores, kind='mergesort')` over the per-image lists concatenated. Cutting a
    // stably sorted list to the ranks below a max detection gives the order that sorting the
    // cut lists would give, so one sort serves every max detection.
    let mut detections: Vec<(f64, u32, u32)> = images
        .iter()
        .enumerate()
        .flat_map(|(image, evaluation)| {
            evaluation
                .scores
                .iter()
                .enumerate()
                .map(move |(rank, &score)| (score, image as u32, rank as u32))
        })
        .collect();
    detections.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));

    let count = detections.len();
    let words = count.div_ceil(64);
    let a_count = params.area_ranges.len();

    // For each max detection, the bit set of the positions in the sorted list whose rank is
    // below it, with their number and the first of them.
    let within_max: Vec<Subset> = params
        .max_detections
        .iter()
        .map(|&max_detections| {
            let mut mask = vec![0u64; words];
            let mut first = None;
            let mut size = 0;
            for (i, detection) in detections.iter().enumerate() {
                if (detection.2 as usize) < max_detections {
                    mask[i / 64] |= 1 << (i % 64);
                    first.get_or_insert(i);
                    size += 1;
                }
            }
            Subset { mask, size, first }
        })
        .collect();

    // The outcomes in sorted order as two bit sets per area range and threshold, true positives
    // and false positives, so the scans below visit 64 detections per step. One pass reads each
    // detection's outcomes at every area range together, because they sit close in its image's
    // evaluation.
    let rows = a_count * t_count;
    let mut true_bits = vec![0u64; rows * words];
    let mut false_bits = vec![0u64; rows * words];
    for (i, &(_, image, rank)) in detections.iter().enumerate() {
        let evaluation = images[image as usize];
        let detections_in_image = evaluation.scores.len();
        let (word, shift) = (i / 64, i % 64);
        for a in 0..a_count {
            let source = evaluation.area_outcomes(a, t_count);
            for t in 0..t_count {
                let at = (a * t_count + t) * words + word;
                // Branch-free, because outcomes follow no pattern a predictor could learn.
                let outcome = source[t * detections_in_image + rank as usize];
                true_bits[at] |= u64::from(outcome == Outcome::TruePositive) << shift;
                false_bits[at] |= u64::from(outcome == Outcome::FalsePositive) << shift;
            }
        }
    }

    let mut scan = Scan::default();
    for a in 0..a_count {
        let positives: usize = images.iter().map(|e| e.positives[a]).sum();
        if positives == 0 {
            continue;
        }
        let targets = RecallTargets::new(&params.rec_thresholds, positives);
        for (m, subset) in within_max.iter().enumerate() {
            for t in 0..t_count {
                let row = (a * t_count + t) * words..(a * t_count + t + 1) * words;
                for r in 0..r_count {
                    curves.precision[[t, r, a, m]] = 0.0;
                    curves.scores[[t, r, a, m]] = 0.0;
                }
                scan.run(&true_bits[row.clone()], &false_bits[row], subset);
                curves.recall[[t, a, m]] =
                    scan.sample(&targets, positives, |r, precision, position| {
                        curves.precision[[t, r, a, m]] = precision;
                        curves.scores[[t, r, a, m]] = detections[position].0;
                    });
            }
        }
    }
}

/// The detections of a category that one max detection keeps, as positions in the sorted list.
struct Subset {
    /// Bit `i % 64` of word `i / 64` is set for each kept position `i`.
    mask: Vec<u64>,
    size: usize,
    first: Option<usize>,
}

/// For each recall threshold, where pycocotools' `searchsorted(recall, threshold, 'left')`
/// lands, expressed so that it does not depend on the detections.
///
/// Recall after detection `i` is `tp_i / positives`, so it only rises at true positives, and the
/// first position whose recall reaches a threshold `x > 0` is the `k`-th true positive for the
/// smallest `k` with `k / positives >= x` (in float64, as numpy compares). A threshold `x <= 0`
/// is reached at position 0.
enum RecallTarget {
    First,
    TruePositive(usize),
    Never,
}

struct RecallTargets(Vec<RecallTarget>);

impl RecallTargets {
    fn new(rec_thresholds: &[f64], positives: usize) -> Self {
        let denominator = positives as f64;
        let targets = rec_thresholds
            .iter()
            .map(|&threshold| {
                if threshold <= 0.0 {
                    return RecallTarget::First;
                }
                let k = (1..=positives).find(|&k| k as f64 / denominator >= threshold);
                match k {
                    Some(k) => RecallTarget::TruePositive(k),
                    None => RecallTarget::Never,
                }
            })
            .collect();
        Self(targets)
    }
}

/// One pass over the outcomes of a score-sorted list of detections, keeping what pycocotools'
/// precision and recall arrays need.
#[derive(Default)]
struct Scan {
    /// Position of each true positive in the list.
    positions: Vec<usize>,
    /// Precision at each true positive, then its running max from the right.
    precision: Vec<f64>,
    /// The number of kept detections.
    count: usize,
    /// The position of the first kept detection.
    first: usize,
}

impl Scan {
    /// Records the position and precision `tp / ((fp + tp) + eps)`, `eps = 2^-52`, of every true
    /// positive among the kept detections, as pycocotools computes precision from its cumulative
    /// sums. Bit `i` of `true_bits` and `false_bits` marks detection `i` as a true or a false
    /// positive; a detection with neither bit is ignored.
    fn run(&mut self, true_bits: &[u64], false_bits: &[u64], subset: &Subset) {
        self.positions.clear();
        self.precision.clear();
        let (mut tp, mut fp) = (0u64, 0u64);
        for (word, ((&truths, &falses), &kept)) in true_bits
            .iter()
            .zip(false_bits)
            .zip(&subset.mask)
            .enumerate()
        {
            let falses = falses & kept;
            let mut truths = truths & kept;
            while truths != 0 {
                let bit = truths.trailing_zeros();
                let fp_before = fp + u64::from((falses & ((1u64 << bit) - 1)).count_ones());
                tp += 1;
                self.positions.push(word * 64 + bit as usize);
                self.precision
                    .push(tp as f64 / (fp_before as f64 + tp as f64 + f64::EPSILON));
                truths &= truths - 1;
            }
            fp += u64::from(falses.count_ones());
        }
        self.count = subset.size;
        self.first = subset.first.unwrap_or(0);
    }

    /// Writes the interpolated precision at each recall threshold and the score there, and
    /// returns the max recall, as pycocotools' `accumulate`.
    ///
    /// pycocotools makes the precision non-increasing from the right and reads it where each
    /// threshold lands. Between two true positives precision only falls (false positives grow
    /// the denominator), so that running max is always attained at a true positive, and only
    /// true positives need a precision. A threshold past the largest recall gives 0, as do all
    /// thresholds after it, because pycocotools stops at the first one.
    fn sample(
        &mut self,
        targets: &RecallTargets,
        positives: usize,
        mut write: impl FnMut(usize, f64, usize),
    ) -> f64 {
        for i in (1..self.precision.len()).rev() {
            if self.precision[i] > self.precision[i - 1] {
                self.precision[i - 1] = self.precision[i];
            }
        }

        let true_positives = self.positions.len();
        for (r, target) in targets.0.iter().enumerate() {
            match *target {
                RecallTarget::First if self.count > 0 => {
                    write(
                        r,
                        self.precision.first().copied().unwrap_or(0.0),
                        self.first,
                    );
                }
                RecallTarget::TruePositive(k) if k <= true_positives => {
                    write(r, self.precision[k - 1], self.positions[k - 1]);
                }
                _ => break,
            }
        }

        if self.count == 0 {
            return 0.0;
        }
        true_positives as f64 / positives as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interpolate(
        outcomes: &[Outcome],
        positives: usize,
        rec_thresholds: &[f64],
    ) -> (f64, Vec<f64>) {
        let words = outcomes.len().div_ceil(64);
        let mut true_bits = vec![0u64; words];
        let mut false_bits = vec![0u64; words];
        for (i, outcome) in outcomes.iter().enumerate() {
            match outcome {
                Outcome::TruePositive => true_bits[i / 64] |= 1 << (i % 64),
                Outcome::FalsePositive => false_bits[i / 64] |= 1 << (i % 64),
                Outcome::Ignored => {}
            }
        }
        let subset = Subset {
            mask: vec![u64::MAX; words],
            size: outcomes.len(),
            first: (!outcomes.is_empty()).then_some(0),
        };
        let mut scan = Scan::default();
        scan.run(&true_bits, &false_bits, &subset);
        let targets = RecallTargets::new(rec_thresholds, positives);
        let mut sampled = vec![0.0; rec_thresholds.len()];
        let recall = scan.sample(&targets, positives, |r, precision, _| {
            sampled[r] = precision
        });
        (recall, sampled)
    }

    #[test]
    fn interpolate_envelope_and_tail() {
        use Outcome::{FalsePositive, TruePositive};
        let (recall, precision) = interpolate(
            &[TruePositive, FalsePositive, TruePositive],
            2,
            &[0.0, 0.5, 0.6, 1.0],
        );
        assert_eq!(recall, 1.0);
        let first = 1.0 / (1.0 + f64::EPSILON);
        assert_eq!(precision, vec![first, first, 2.0 / 3.0, 2.0 / 3.0]);
    }

    #[test]
    fn interpolate_later_higher_precision_wins() {
        use Outcome::{FalsePositive, Ignored, TruePositive};
        let outcomes = [
            FalsePositive,
            TruePositive,
            Ignored,
            TruePositive,
            TruePositive,
        ];
        let (recall, precision) = interpolate(&outcomes, 4, &[0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(recall, 0.75);
        let best = 3.0 / (4.0 + f64::EPSILON);
        assert_eq!(precision, vec![best, best, best, best, 0.0]);
    }

    #[test]
    fn interpolate_unreached_recall_is_zero() {
        let (recall, precision) = interpolate(&[Outcome::TruePositive], 4, &[0.0, 0.5]);
        assert_eq!(recall, 0.25);
        assert_eq!(precision[1], 0.0);
    }

    #[test]
    fn interpolate_no_detections() {
        let (recall, precision) = interpolate(&[], 3, &[0.0, 0.5]);
        assert_eq!(recall, 0.0);
        assert_eq!(precision, vec![0.0, 0.0]);
    }

    #[test]
    fn interpolate_only_false_positives() {
        let outcomes = [Outcome::FalsePositive, Outcome::Ignored];
        let (recall, precision) = interpolate(&outcomes, 2, &[0.0, 0.5]);
        assert_eq!(recall, 0.0);
        assert_eq!(precision, vec![0.0, 0.0]);
    }
}
