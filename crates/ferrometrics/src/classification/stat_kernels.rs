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
    // A prediction above 1 marks the batch invalid. It comes from a label other than 0 and 1,
    // or from a score outside [0, 1] (NaN, or a logit, which the general path passes through
    // the sigmoid). Checking the range while counting keeps to one pass.
    let sums = match preds {
        Preds::Labels(view) => {
            let labels = view.as_slice()?;
            // A negative label wraps to a value above 1, which marks the batch invalid.
            sum_binary(labels, target, ignore_index, |&label| label as u64)?
        }
        Preds::F32(view) => {
            let scores = view.as_slice()?;
            // Compares in f32, so no score is widened: `x >= cut` is `f64::from(x) > threshold`.
            let cut = f32_cut(threshold);
            sum_binary(scores, target, ignore_index, |&x| {
                u64::from(x >= cut) | u64::from(!(0.0..=1.0).contains(&x)) << 1
            })?
        }
        Preds::F64(view) => {
            let scores = view.as_slice()?;
            sum_binary(scores, target, ignore_index, |&x| {
                u64::from(x > threshold) | u64::from(!(0.0..=1.0).contains(&x)) << 1
            })?
        }
    };
    let (kept, positives, predicted, tp) = sums;
    let fp = predicted - tp;
    let fn_ = positives - tp;
    Some([tp, fp, kept - tp - fp - fn_, fn_])
}

/// Returns the smallest `f32` `cut` such that `x >= cut` exactly when `f64::from(x) >
/// threshold`, for every `f32` `x`.
fn f32_cut(threshold: f64) -> f32 {
    let nearest = threshold as f32;
    // `nearest` is the closest f32, so no f32 lies strictly between it and `threshold`.
    if f64::from(nearest) > threshold {
        nearest
    } else {
        next_f32_up(nearest)
    }
}

/// Returns the smallest `f32` above `x`, or `x` itself for NaN and +infinity (as
/// `f32::next_up`, which is newer than the minimum supported Rust version).
fn next_f32_up(x: f32) -> f32 {
    if x.is_nan() || x == f32::INFINITY {
        return x;
    }
    if x == 0.0 {
        // Both zeros step to the smallest positive subnormal.
        return f32::from_bits(1);
    }
    let bits = x.to_bits();
    if x > 0.0 {
        f32::from_bits(bits + 1)
    } else {
        f32::from_bits(bits - 1)
    }
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
    let chunk_sums: Vec<Option<[u64; 4]>> = preds
        .par_chunks(CHUNK)
        .zip(target.par_chunks(CHUNK))
        .map(|(preds, target)| match ignore_index {
            // Two instances, so the loop without `ignore_index` has no comparison for it.
            Some(ignore) => sum_chunk::<P, true>(preds, target, ignore, &predict),
            None => sum_chunk::<P, false>(preds, target, 0, &predict),
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

/// Sums one chunk as [`sum_binary`] does, leaving out targets equal to `ignore` when
/// `IGNORE` is set.
fn sum_chunk<P, const IGNORE: bool>(
    preds: &[P],
    target: &[i64],
    ignore: i64,
    predict: &impl Fn(&P) -> u64,
) -> Option<[u64; 4]> {
    let mut sums = [0u64; 4];
    // Bits above the lowest of kept targets and of predictions, so nonzero means invalid.
    let mut invalid = 0u64;
    for (pred, &label) in preds.iter().zip(target) {
        let keep = if IGNORE {
            u64::from(label != ignore)
        } else {
            1
        };
        let label = label as u64;
        let pred = predict(pred);
        // `keep.wrapping_neg()` is all ones for a kept position and zero otherwise.
        invalid |= keep.wrapping_neg() & label & !1 | pred & !1;
        let positive = keep & label;
        sums[0] += keep;
        sums[1] += positive;
        sums[2] += keep & pred;
        sums[3] += positive & pred;
    }
    (invalid == 0).then_some(sums)
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

#[cfg(test)]
mod tests {
    use ndarray::ArrayD;

    use super::*;

    #[test]
    fn f32_cut_agrees_with_widened_comparison() {
        let thresholds = [0.0, 0.1, 0.5, 1.0 / 3.0, 0.7, 1.0, f64::from(0.1f32), 1e-40];
        for &threshold in &thresholds {
            let cut = f32_cut(threshold);
            let nearest = threshold as f32;
            // Every f32 near the threshold, both zeros and the ends of [0, 1].
            // The thresholds are not negative, so neighbouring bit patterns are neighbouring
            // values.
            let mut candidates = vec![0.0f32, -0.0, 1.0, nearest];
            for step in 1..5 {
                candidates.push(f32::from_bits(nearest.to_bits().saturating_sub(step)));
                candidates.push(f32::from_bits(nearest.to_bits() + step));
            }
            for x in candidates {
                assert_eq!(
                    x >= cut,
                    f64::from(x) > threshold,
                    "x = {x:e}, threshold = {threshold:e}"
                );
            }
        }
    }

    #[test]
    fn next_f32_up_steps_one_value() {
        assert_eq!(next_f32_up(0.0), f32::from_bits(1));
        assert_eq!(next_f32_up(-0.0), f32::from_bits(1));
        assert_eq!(next_f32_up(1.0), 1.0 + f32::EPSILON);
        assert_eq!(next_f32_up(-f32::from_bits(1)), -0.0);
        assert_eq!(next_f32_up(f32::MAX), f32::INFINITY);
        assert_eq!(next_f32_up(f32::INFINITY), f32::INFINITY);
        assert!(next_f32_up(f32::NAN).is_nan());
    }

    #[test]
    fn binary_labels_count_and_reject_others() {
        let target = [1i64, 0, 1, 0, 7];
        let labels = ArrayD::from_shape_vec(vec![5], vec![1i64, 1, 0, 0, 1]).unwrap();
        // The target 7 is ignored, so its prediction is not counted.
        assert_eq!(
            count_binary(&Preds::Labels(labels.view()), &target, 0.5, Some(7)),
            Some([1, 1, 1, 1])
        );
        for bad in [2i64, -1] {
            let labels = ArrayD::from_shape_vec(vec![5], vec![1, 1, bad, 0, 1]).unwrap();
            assert_eq!(
                count_binary(&Preds::Labels(labels.view()), &target, 0.5, Some(7)),
                None,
                "prediction {bad}"
            );
        }
    }

    #[test]
    fn binary_scores_count_and_reject_out_of_range() {
        let target = [1i64, 0, 1, 0, -1, 1];
        let scores =
            ArrayD::from_shape_vec(vec![6], vec![0.9f32, 0.2, 0.1, 0.8, 0.5, 0.5]).unwrap();
        let counts = count_binary(&Preds::F32(scores.view()), &target, 0.5, Some(-1));
        // tp from 0.9, fp from 0.8, tn from 0.2, fn from 0.1 and 0.5 (not above 0.5). The
        // target -1 is ignored.
        assert_eq!(counts, Some([1, 1, 1, 2]));
        let without_ignore = count_binary(&Preds::F32(scores.view()), &target, 0.5, None);
        assert_eq!(without_ignore, None, "target -1 without ignore_index");

        let logits =
            ArrayD::from_shape_vec(vec![6], vec![0.9f32, 0.2, 1.5, 0.8, 0.5, 0.5]).unwrap();
        assert_eq!(
            count_binary(&Preds::F32(logits.view()), &target, 0.5, Some(-1)),
            None,
            "a score above 1 goes to the sigmoid path"
        );
        let nan = ArrayD::from_shape_vec(vec![6], vec![0.9, 0.2, f64::NAN, 0.8, 0.5, 0.5]).unwrap();
        assert_eq!(
            count_binary(&Preds::F64(nan.view()), &target, 0.5, Some(-1)),
            None,
            "NaN goes to the general path"
        );
    }
}
