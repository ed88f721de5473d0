//! Precision and recall over all images, per category, area range and max detection, as
//! pycocotools' `COCOeval.accumulate`.

use ndarray::{Array4, Array5};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::evaluate::{Evaluation, ImageEvaluation, Outcome};
use super::params::Params;

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

/// The curves of one category, indexed `[area][max_det][threshold]` and then recall threshold.
struct CategoryCurves {
    precision: Vec<f64>,
    recall: Vec<f64>,
    scores: Vec<f64>,
}

/// Accumulates per-image evaluations given per category, each list in image order.
pub(crate) fn accumulate(
    params: &Params,
    category_ids: Vec<i64>,
    categories: &[Vec<&ImageEvaluation>],
) -> Accumulation {
    let t_count = params.iou_thresholds.len();
    let r_count = params.rec_thresholds.len();
    let k_count = categories.len();
    let a_count = params.area_ranges.len();
    let m_count = params.max_detections.len();

    let curves: Vec<CategoryCurves> = categories
        .par_iter()
        .map(|images| accumulate_category(params, images))
        .collect();

    let mut precision = Array5::from_elem((t_count, r_count, k_count, a_count, m_count), -1.0);
    let mut scores = Array5::from_elem((t_count, r_count, k_count, a_count, m_count), -1.0);
    let mut recall = Array4::from_elem((t_count, k_count, a_count, m_count), -1.0);
    for (k, curve) in curves.iter().enumerate() {
        for a in 0..a_count {
            for m in 0..m_count {
                for t in 0..t_count {
                    let block = (a * m_count + m) * t_count + t;
                    recall[[t, k, a, m]] = curve.recall[block];
                    for r in 0..r_count {
                        precision[[t, r, k, a, m]] = curve.precision[block * r_count + r];
                        scores[[t, r, k, a, m]] = curve.scores[block * r_count + r];
                    }
                }
            }
        }
    }
    Accumulation {
        params: params.clone(),
        category_ids,
        precision,
        recall,
        scores,
    }
}

fn accumulate_category(params: &Params, images: &[&ImageEvaluation]) -> CategoryCurves {
    let t_count = params.iou_thresholds.len();
    let r_count = params.rec_thresholds.len();
    let blocks = params.area_ranges.len() * params.max_detections.len() * t_count;
    let mut curves = CategoryCurves {
        precision: vec![-1.0; blocks * r_count],
        recall: vec![-1.0; blocks],
        scores: vec![-1.0; blocks * r_count],
    };
    if images.is_empty() {
        return curves;
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

    let mut true_positives = Vec::with_capacity(detections.len());
    let mut false_positives = Vec::with_capacity(detections.len());
    for a in 0..params.area_ranges.len() {
        let positives: usize = images.iter().map(|e| e.areas[a].positives).sum();
        if positives == 0 {
            continue;
        }
        for (m, &max_detections) in params.max_detections.iter().enumerate() {
            let kept: Vec<&(f64, u32, u32)> = detections
                .iter()
                .filter(|(_, _, rank)| (*rank as usize) < max_detections)
                .collect();
            for t in 0..t_count {
                true_positives.clear();
                false_positives.clear();
                let (mut tp, mut fp) = (0u64, 0u64);
                for &&(_, image, rank) in &kept {
                    let evaluation = images[image as usize];
                    let count = evaluation.scores.len();
                    match evaluation.areas[a].outcomes[t * count + rank as usize] {
                        Outcome::TruePositive => tp += 1,
                        Outcome::FalsePositive => fp += 1,
                        Outcome::Ignored => {}
                    }
                    true_positives.push(tp as f64);
                    false_positives.push(fp as f64);
                }

                let block = (a * params.max_detections.len() + m) * t_count + t;
                let (recall, precision, scores) = interpolate(
                    &true_positives,
                    &false_positives,
                    positives,
                    &params.rec_thresholds,
                    |i| kept[i].0,
                );
                curves.recall[block] = recall;
                curves.precision[block * r_count..(block + 1) * r_count]
                    .copy_from_slice(&precision);
                curves.scores[block * r_count..(block + 1) * r_count].copy_from_slice(&scores);
            }
        }
    }
    curves
}

/// Computes the max recall and the precision sampled at each recall threshold from cumulative
/// true and false positive counts, with pycocotools' arithmetic.
///
/// Recall is `tp / positives` and precision `tp / ((fp + tp) + eps)` with `eps = 2^-52`. The
/// precision is made non-increasing from the right, and each recall threshold reads the first
/// position whose recall reaches it (`searchsorted(side='left')`), or 0 past the end.
fn interpolate(
    true_positives: &[f64],
    false_positives: &[f64],
    positives: usize,
    rec_thresholds: &[f64],
    score_at: impl Fn(usize) -> f64,
) -> (f64, Vec<f64>, Vec<f64>) {
    let count = true_positives.len();
    let positives = positives as f64;
    let recall: Vec<f64> = true_positives.iter().map(|&tp| tp / positives).collect();
    let mut precision: Vec<f64> = true_positives
        .iter()
        .zip(false_positives)
        .map(|(&tp, &fp)| tp / (fp + tp + f64::EPSILON))
        .collect();
    for i in (1..count).rev() {
        if precision[i] > precision[i - 1] {
            precision[i - 1] = precision[i];
        }
    }

    let mut sampled = vec![0.0; rec_thresholds.len()];
    let mut sampled_scores = vec![0.0; rec_thresholds.len()];
    for (r, &threshold) in rec_thresholds.iter().enumerate() {
        let position = recall.partition_point(|&value| value < threshold);
        if position >= count {
            // pycocotools stops at the first threshold past the end, leaving the rest at 0; the
            // thresholds after an unreachable one are unreachable too when they ascend.
            break;
        }
        sampled[r] = precision[position];
        sampled_scores[r] = score_at(position);
    }
    let max_recall = recall.last().copied().unwrap_or(0.0);
    (max_recall, sampled, sampled_scores)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolate_envelope_and_tail() {
        // Two positives; detections TP, FP, TP.
        let (recall, precision, _) = interpolate(
            &[1.0, 1.0, 2.0],
            &[0.0, 1.0, 1.0],
            2,
            &[0.0, 0.5, 0.6, 1.0],
            |_| 0.0,
        );
        assert_eq!(recall, 1.0);
        assert_eq!(
            precision,
            vec![
                1.0 / (1.0 + f64::EPSILON),
                1.0 / (1.0 + f64::EPSILON),
                2.0 / 3.0,
                2.0 / 3.0
            ]
        );
    }

    #[test]
    fn interpolate_unreached_recall_is_zero() {
        let (recall, precision, _) = interpolate(&[1.0], &[0.0], 4, &[0.0, 0.5], |_| 0.0);
        assert_eq!(recall, 0.25);
        assert_eq!(precision[1], 0.0);
    }
}
