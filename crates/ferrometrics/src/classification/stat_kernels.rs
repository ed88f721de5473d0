//! Single-pass counting kernels for the common stat-score inputs: contiguous binary labels or
//! probabilities, and contiguous multiclass labels with `top_k = 1`, counted globally.
//!
//! Each kernel validates while it counts and returns `None` for anything it does not handle
//! (an invalid value included), so the caller falls back to the general path, which raises the
//! detailed error. Counts are integers summed per fixed-size chunk, so they do not depend on
//! the number of threads.

use rayon::prelude::*;

use super::format::Preds;

/// Positions per parallel chunk; fixed so that the chunking does not follow the thread count.
const CHUNK: usize = 1 << 16;

/// Counts the binary task as `[tp, fp, tn, fn]`.
pub(crate) fn count_binary(
    preds: &Preds<'_>,
    target: &[i64],
    threshold: f64,
    ignore_index: Option<i64>,
) -> Option<[u64; 4]> {
    // `sums` are (non-ignored positions, positive targets, positive predictions, true positives).
    let sums = match preds {
        Preds::Labels(view) => {
            let labels = view.as_slice()?;
            sum_binary(labels, target, ignore_index, |&label| {
                // Labels other than 0 and 1 map to 2, which marks the batch invalid.
                if label == 0 || label == 1 {
                    label as u64
                } else {
                    2
                }
            })?
        }
        Preds::F32(view) => {
            let scores = view.as_slice()?;
            // Logits (any score outside [0, 1]) go through the sigmoid on the general path.
            if !scores.iter().all(|&x| (0.0..=1.0).contains(&x)) {
                return None;
            }
            sum_binary(scores, target, ignore_index, |&x| {
                u64::from(f64::from(x) > threshold)
            })?
        }
        Preds::F64(view) => {
            let scores = view.as_slice()?;
            if !scores.iter().all(|&x| (0.0..=1.0).contains(&x)) {
                return None;
            }
            sum_binary(scores, target, ignore_index, |&x| u64::from(x > threshold))?
        }
    };
    let (kept, positives, predicted, tp) = sums;
    let fp = predicted - tp;
    let fn_ = positives - tp;
    Some([tp, fp, kept - tp - fp - fn_, fn_])
}

/// Sums the non-ignored positions, positive targets, positive predictions and true positives,
/// branch-free within each chunk. Returns `None` if a target or a mapped prediction is not 0
/// or 1.
fn sum_binary<P: Sync>(
    preds: &[P],
    target: &[i64],
    ignore_index: Option<i64>,
    predict: impl Fn(&P) -> u64 + Sync,
) -> Option<(u64, u64, u64, u64)> {
    if preds.len() != target.len() {
        return None;
    }
    let (has_ignore, ignore) = (ignore_index.is_some(), ignore_index.unwrap_or(0));
    let chunk_sums: Vec<Option<[u64; 4]>> = preds
        .par_chunks(CHUNK)
        .zip(target.par_chunks(CHUNK))
        .map(|(preds, target)| {
            let mut sums = [0u64; 4];
            let mut invalid = 0u64;
            for (pred, &label) in preds.iter().zip(target) {
                let keep = u64::from(!(has_ignore & (label == ignore)));
                let label = label as u64;
                let pred = predict(pred);
                invalid |= keep & u64::from(label > 1) | u64::from(pred > 1);
                let positive = keep & label;
                sums[0] += keep;
                sums[1] += positive;
                sums[2] += keep & pred;
                sums[3] += positive & pred;
            }
            (invalid == 0).then_some(sums)
        })
        .collect();
    let mut total = [0u64; 4];
    for sums in chunk_sums {
        for (sum, part) in total.iter_mut().zip(sums?) {
            *sum += part;
        }
    }
    Some((total[0], total[1], total[2], total[3]))
}

/// Per-class counts of the multiclass task with `top_k = 1`.
pub(crate) struct MulticlassCounts {
    /// Positions whose prediction equals the target, per class.
    pub tp: Vec<u64>,
    /// Non-ignored positions per predicted class.
    pub predicted: Vec<u64>,
    /// Non-ignored positions per target class.
    pub actual: Vec<u64>,
    /// Non-ignored positions.
    pub kept: u64,
}

/// Counts contiguous class labels with per-chunk histograms merged in chunk order; `None` if a
/// prediction or a non-ignored target is outside `[0, classes)`.
pub(crate) fn count_multiclass(
    preds: &[i64],
    target: &[i64],
    classes: usize,
    ignore_index: Option<i64>,
) -> Option<MulticlassCounts> {
    if preds.len() != target.len() {
        return None;
    }
    let classes_u64 = classes as u64;
    let chunk_counts: Vec<Option<MulticlassCounts>> = preds
        .par_chunks(CHUNK)
        .zip(target.par_chunks(CHUNK))
        .map(|(preds, target)| {
            let mut counts = MulticlassCounts {
                tp: vec![0; classes],
                predicted: vec![0; classes],
                actual: vec![0; classes],
                kept: 0,
            };
            for (&pred, &label) in preds.iter().zip(target) {
                // Negative labels wrap to values above any class count. Predictions are
                // checked at ignored positions too, as the general path does.
                let pred = pred as u64;
                if pred >= classes_u64 {
                    return None;
                }
                if Some(label) == ignore_index {
                    continue;
                }
                let label = label as u64;
                if label >= classes_u64 {
                    return None;
                }
                counts.predicted[pred as usize] += 1;
                counts.actual[label as usize] += 1;
                counts.tp[label as usize] += u64::from(pred == label);
                counts.kept += 1;
            }
            Some(counts)
        })
        .collect();
    let mut total = MulticlassCounts {
        tp: vec![0; classes],
        predicted: vec![0; classes],
        actual: vec![0; classes],
        kept: 0,
    };
    for counts in chunk_counts {
        let counts = counts?;
        for (sum, part) in [
            (&mut total.tp, &counts.tp),
            (&mut total.predicted, &counts.predicted),
            (&mut total.actual, &counts.actual),
        ] {
            for (a, b) in sum.iter_mut().zip(part) {
                *a += b;
            }
        }
        total.kept += counts.kept;
    }
    Some(total)
}
