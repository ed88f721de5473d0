//! Kernels of the curve metrics over one class's cumulative counts: the precision-recall curve,
//! the ROC curve, the areas under them, and the operating points read off them.

use rayon::prelude::*;

use super::curve_state::ClassCurve;
use super::sorted_scores::SortedScores;
use crate::large_buffer::column_with_capacity;
use crate::numerics::{compensated_sum, divide_all, exact_ratio, CompensatedSum};

/// A precision-recall curve with thresholds in increasing order; `precision` and `recall` have
/// one more entry than `thresholds`, the final point (1, 0).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PrCurve {
    pub precision: Vec<f64>,
    pub recall: Vec<f64>,
    pub thresholds: Vec<f64>,
}

/// An ROC curve with false positive rates in increasing order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RocCurve {
    pub fpr: Vec<f64>,
    pub tpr: Vec<f64>,
    pub thresholds: Vec<f64>,
}

fn divide_or(numerator: f64, denominator: f64, zero_division: f64) -> f64 {
    if denominator == 0.0 {
        zero_division
    } else {
        numerator / denominator
    }
}

/// Computes the precision-recall curve.
///
/// Exact curves follow scikit-learn's `precision_recall_curve`: recall is 1 at every threshold
/// when there is no positive. Binned curves follow TorchMetrics: precision is 1 and recall 0
/// where their denominators are 0.
pub(crate) fn pr_curve(curve: &ClassCurve) -> PrCurve {
    let n = curve.thresholds.len();
    let mut precision = Vec::with_capacity(n + 1);
    let mut recall = Vec::with_capacity(n + 1);
    if curve.binned {
        for t in 0..n {
            precision.push(divide_or(curve.tps[t], curve.tps[t] + curve.fps[t], 1.0));
            recall.push(divide_or(curve.tps[t], curve.tps[t] + curve.fns[t], 0.0));
        }
        precision.push(1.0);
        recall.push(0.0);
        return PrCurve {
            precision,
            recall,
            thresholds: curve.thresholds.clone(),
        };
    }

    let total_positives = curve.tps.last().copied().unwrap_or(0.0);
    for t in (0..n).rev() {
        precision.push(divide_or(curve.tps[t], curve.tps[t] + curve.fps[t], 0.0));
        recall.push(if total_positives == 0.0 {
            1.0
        } else {
            curve.tps[t] / total_positives
        });
    }
    precision.push(1.0);
    recall.push(0.0);
    PrCurve {
        precision,
        recall,
        thresholds: curve.thresholds.iter().rev().copied().collect(),
    }
}

/// Computes the ROC curve.
///
/// Exact curves follow scikit-learn's `roc_curve(drop_intermediate=False)`: a first point
/// (0, 0) at threshold +inf, then one point per distinct score; the rates are NaN when there is
/// no negative (fpr) or no positive (tpr). Binned curves follow TorchMetrics: one point per
/// threshold, from the highest threshold down, with 0 for a 0/0 rate.
pub(crate) fn roc_curve(curve: &ClassCurve) -> RocCurve {
    let n = curve.thresholds.len();
    if curve.binned {
        let mut roc = RocCurve {
            fpr: Vec::with_capacity(n),
            tpr: Vec::with_capacity(n),
            thresholds: Vec::with_capacity(n),
        };
        for t in (0..n).rev() {
            roc.fpr
                .push(divide_or(curve.fps[t], curve.fps[t] + curve.tns[t], 0.0));
            roc.tpr
                .push(divide_or(curve.tps[t], curve.tps[t] + curve.fns[t], 0.0));
            roc.thresholds.push(curve.thresholds[t]);
        }
        return roc;
    }

    let total_negatives = curve.fps.last().copied().unwrap_or(0.0);
    let total_positives = curve.tps.last().copied().unwrap_or(0.0);
    let mut roc = RocCurve {
        fpr: vec![0.0],
        tpr: vec![0.0],
        thresholds: vec![f64::INFINITY],
    };
    for t in 0..n {
        roc.fpr.push(curve.fps[t]);
        roc.tpr.push(curve.tps[t]);
        roc.thresholds.push(curve.thresholds[t]);
    }
    // 0/0 is NaN here, as scikit-learn returns with its warning.
    roc.fpr.iter_mut().for_each(|x| *x /= total_negatives);
    roc.tpr.iter_mut().for_each(|x| *x /= total_positives);
    roc
}

/// Integrates `y` over increasing `x` with the trapezoidal rule, summing with compensation so
/// that curves of millions of points lose no more than a rounding or two.
fn trapezoid(x: &[f64], y: &[f64]) -> f64 {
    compensated_sum(
        x.windows(2)
            .zip(y.windows(2))
            .map(|(x, y)| (x[1] - x[0]) * (y[0] + y[1]) / 2.0),
    )
}

/// Computes the area under the ROC curve, as scikit-learn's `roc_auc_score`: NaN when the class
/// has no positive or no negative. With `max_fpr` below 1 it is the standardized partial area
/// up to `max_fpr` with the McClish correction, `(1 + (A - m^2/2) / (m - m^2/2)) / 2`, the ROC
/// interpolated linearly at `max_fpr`.
pub(crate) fn auroc(curve: &ClassCurve, max_fpr: Option<f64>) -> f64 {
    let (positives, negatives) = totals(curve);
    if positives == 0.0 || negatives == 0.0 {
        return f64::NAN;
    }
    let Some(max_fpr) = max_fpr.filter(|&m| m < 1.0) else {
        if !curve.binned {
            return exact_roc_area(curve, positives, negatives);
        }
        let roc = roc_curve(curve);
        return trapezoid(&roc.fpr, &roc.tpr);
    };
    let roc = roc_curve(curve);

    let stop = roc.fpr.partition_point(|&f| f <= max_fpr);
    let mut fpr = roc.fpr[..stop].to_vec();
    let mut tpr = roc.tpr[..stop].to_vec();
    if stop > 0 && stop < roc.fpr.len() {
        let (x0, x1) = (roc.fpr[stop - 1], roc.fpr[stop]);
        let (y0, y1) = (roc.tpr[stop - 1], roc.tpr[stop]);
        fpr.push(max_fpr);
        tpr.push(y0 + (y1 - y0) * (max_fpr - x0) / (x1 - x0));
    }
    let partial = trapezoid(&fpr, &tpr);
    let min_area = 0.5 * max_fpr * max_fpr;
    0.5 * (1.0 + (partial - min_area) / (max_fpr - min_area))
}

/// Computes the area under the exact ROC curve from its integer counts: each tie group of `p`
/// positives and `n` negatives below `tp` positives adds the trapezoid `n * (2 tp + p)`, in units
/// of `1 / (2 P N)`. The sum is exact, so the area is the true area rounded once. scikit-learn
/// sums the same trapezoids in floating point, which can differ in the last few bits.
fn exact_roc_area(curve: &ClassCurve, positives: f64, negatives: f64) -> f64 {
    let mut twice_area = 0u128;
    let (mut tp, mut fp) = (0u64, 0u64);
    for (&next_fp, &next_tp) in curve.fps.iter().zip(&curve.tps) {
        let (next_tp, next_fp) = (next_tp as u64, next_fp as u64);
        twice_area += roc_trapezoid(tp, next_tp - tp, next_fp - fp);
        (tp, fp) = (next_tp, next_fp);
    }
    roc_area_value(twice_area, positives as u64, negatives as u64)
}

/// Returns the trapezoid of one tie group of `positives` and `negatives` below `tp` positives,
/// in units of `1 / (2 P N)`.
fn roc_trapezoid(tp: u64, positives: u64, negatives: u64) -> u128 {
    u128::from(negatives) * u128::from(2 * tp + positives)
}

/// Divides a sum of [`roc_trapezoid`]s by `2 P N`, rounding once.
fn roc_area_value(twice_area: u128, positives: u64, negatives: u64) -> f64 {
    exact_ratio(
        twice_area,
        2 * u128::from(positives) * u128::from(negatives),
    )
}

/// Computes the full-range AUROC of sorted binary scores as [`exact_roc_area`] does, without
/// building the curve: each bucket sums its trapezoids in parallel, starting from the positives
/// before it, and the integer sums are added.
pub(crate) fn sorted_auroc(sorted: &SortedScores) -> f64 {
    let (positives, negatives) = sorted.totals();
    if positives == 0 || negatives == 0 {
        return f64::NAN;
    }
    let twice_area: u128 = sorted
        .buckets()
        .into_par_iter()
        .map(|bucket| {
            let mut tp = bucket.positives_before;
            let mut twice_area = 0u128;
            bucket.for_each(|_, group_positives, group_negatives| {
                twice_area += roc_trapezoid(tp, group_positives, group_negatives);
                tp += group_positives;
            });
            twice_area
        })
        .sum();
    roc_area_value(twice_area, positives, negatives)
}

/// Computes the ROC curve of sorted binary scores, the points [`roc_curve`] gives for the
/// curve of the same scores, with the columns filled bucket by bucket in parallel.
pub(crate) fn sorted_roc_curve(sorted: &SortedScores) -> RocCurve {
    let (positives, negatives) = sorted.totals();
    let (positives, negatives) = (positives as f64, negatives as f64);
    let count = sorted.group_count() + 1;
    let mut roc = RocCurve {
        fpr: column_with_capacity(count),
        tpr: column_with_capacity(count),
        thresholds: column_with_capacity(count),
    };
    // 0/0 is NaN here, as scikit-learn returns with its warning.
    roc.fpr.push(0.0 / negatives);
    roc.tpr.push(0.0 / positives);
    roc.thresholds.push(f64::INFINITY);
    sorted.extend_per_group(
        [&mut roc.fpr, &mut roc.tpr, &mut roc.thresholds],
        |bucket, rows| {
            let (mut tp, mut fp) = (bucket.positives_before, bucket.negatives_before);
            bucket.for_each(|score, group_positives, group_negatives| {
                tp += group_positives;
                fp += group_negatives;
                rows.push([fp as f64, tp as f64, f64::from(score)]);
            });
            // The counts become rates in vector registers, with the bits of one division each.
            divide_all(rows.column_mut(0), negatives);
            divide_all(rows.column_mut(1), positives);
        },
    );
    roc
}

/// Returns the numbers of positive and negative positions of a curve.
fn totals(curve: &ClassCurve) -> (f64, f64) {
    if curve.binned {
        // Every binned threshold counts all positions, so tp + fn and fp + tn are the totals.
        return match curve.tps.first() {
            Some(&tp) => (tp + curve.fns[0], curve.fps[0] + curve.tns[0]),
            None => (0.0, 0.0),
        };
    }
    (
        curve.tps.last().copied().unwrap_or(0.0),
        curve.fps.last().copied().unwrap_or(0.0),
    )
}

/// Computes the average precision, `-sum_i (R_{i+1} - R_i) P_i` over the precision-recall
/// curve, as scikit-learn's `average_precision_score` (exact) and TorchMetrics (binned).
pub(crate) fn average_precision(curve: &ClassCurve) -> f64 {
    if !curve.binned {
        return exact_average_precision(curve);
    }
    let pr = pr_curve(curve);
    -compensated_sum(
        pr.recall
            .windows(2)
            .zip(&pr.precision)
            .map(|(r, p)| (r[1] - r[0]) * p),
    )
}

/// Computes `average_precision` over an exact curve without building the precision-recall
/// curve. Each threshold adds its recall step times its precision, `p / P * tp / (tp + fp)` for
/// a tie group of `p` positives. The terms `p * tp / (tp + fp)` are summed and divided by `P`
/// once, so each term is rounded once where scikit-learn rounds three times.
fn exact_average_precision(curve: &ClassCurve) -> f64 {
    let total_positives = curve.tps.last().copied().unwrap_or(0.0);
    let mut sum = CompensatedSum::new();
    let mut above_tp = 0.0;
    for (&tp, &fp) in curve.tps.iter().zip(&curve.fps) {
        sum.add(precision_step(tp - above_tp, tp, fp));
        above_tp = tp;
    }
    average_precision_value(sum, total_positives)
}

/// Returns the term of a tie group of `positives` at a threshold that keeps `tp` positives and
/// `fp` negatives: its recall step `positives / P` times its precision `tp / (tp + fp)`, times
/// `P`.
fn precision_step(positives: f64, tp: f64, fp: f64) -> f64 {
    positives * tp / (tp + fp)
}

/// Divides a sum of [`precision_step`]s by the positives; 0 without positives, as scikit-learn
/// gives.
fn average_precision_value(sum: CompensatedSum, positives: f64) -> f64 {
    if positives == 0.0 {
        return 0.0;
    }
    clip_at_zero(sum.value() / positives)
}

/// Returns `value`, or 0.0 unless it is above 0.0, as scikit-learn's `max(0.0, ap)` turns the
/// -0.0 of a sum of zero terms (no positive target) into 0.0.
fn clip_at_zero(value: f64) -> f64 {
    if value > 0.0 {
        value
    } else {
        0.0
    }
}

/// Computes the average precision of sorted binary scores as [`exact_average_precision`] does,
/// without building the curve: each bucket sums its terms in parallel with compensation, and
/// the bucket sums are merged in decreasing score order. The buckets follow from the scores
/// alone, so the value does not depend on the thread count.
pub(crate) fn sorted_average_precision(sorted: &SortedScores) -> f64 {
    let (total_positives, _) = sorted.totals();
    let sums: Vec<CompensatedSum> = sorted
        .buckets()
        .into_par_iter()
        .map(|bucket| {
            let mut sum = CompensatedSum::new();
            let (mut tp, mut fp) = (bucket.positives_before, bucket.negatives_before);
            bucket.for_each(|_, group_positives, group_negatives| {
                tp += group_positives;
                fp += group_negatives;
                sum.add(precision_step(group_positives as f64, tp as f64, fp as f64));
            });
            sum
        })
        .collect();
    let mut sum = CompensatedSum::new();
    for bucket_sum in &sums {
        sum.merge(bucket_sum);
    }
    average_precision_value(sum, total_positives as f64)
}

/// An operating point: the value reached and the threshold that reaches it, NaN where no
/// threshold reaches the constraint.
pub(crate) type OperatingPoint = (f64, f64);

/// Returns the point that maximizes `key` among the first `len(thresholds)` points of the
/// precision-recall curve satisfying `admissible`; ties go to the larger of the remaining
/// components, as TorchMetrics' `max` over `(value, other, threshold)` tuples.
fn best_pr_point(
    pr: &PrCurve,
    admissible: impl Fn(f64, f64) -> bool,
    key: impl Fn(f64, f64) -> (f64, f64),
) -> OperatingPoint {
    let mut best: Option<(f64, f64, f64)> = None;
    for (i, &threshold) in pr.thresholds.iter().enumerate() {
        let (p, r) = (pr.precision[i], pr.recall[i]);
        if !admissible(p, r) {
            continue;
        }
        let (value, other) = key(p, r);
        let candidate = (value, other, threshold);
        let better = best.is_none_or(|b| {
            candidate
                .0
                .total_cmp(&b.0)
                .then(candidate.1.total_cmp(&b.1))
                .then(candidate.2.total_cmp(&b.2))
                .is_gt()
        });
        if better {
            best = Some(candidate);
        }
    }
    match best {
        Some((value, _, threshold)) if value > 0.0 => (value, threshold),
        _ => (0.0, f64::NAN),
    }
}

/// Computes the highest recall whose precision is at least `min_precision`, and its threshold.
pub(crate) fn recall_at_precision(curve: &ClassCurve, min_precision: f64) -> OperatingPoint {
    best_pr_point(&pr_curve(curve), |p, _| p >= min_precision, |p, r| (r, p))
}

/// Computes the highest precision whose recall is at least `min_recall`, and its threshold.
pub(crate) fn precision_at_recall(curve: &ClassCurve, min_recall: f64) -> OperatingPoint {
    best_pr_point(&pr_curve(curve), |_, r| r >= min_recall, |p, r| (p, r))
}

/// Returns the first ROC point maximizing `value` among those satisfying `admissible`, as
/// `argmax` over the ROC points ordered by increasing false positive rate.
fn best_roc_point(
    roc: &RocCurve,
    admissible: impl Fn(f64, f64) -> bool,
    value: impl Fn(f64, f64) -> f64,
) -> OperatingPoint {
    let mut best: Option<(f64, f64)> = None;
    for (i, &threshold) in roc.thresholds.iter().enumerate() {
        let (fpr, tpr) = (roc.fpr[i], roc.tpr[i]);
        if !admissible(fpr, tpr) {
            continue;
        }
        let v = value(fpr, tpr);
        if best.is_none_or(|b| v > b.0) {
            best = Some((v, threshold));
        }
    }
    match best {
        Some((v, threshold)) if v > 0.0 && threshold.is_finite() => (v, threshold),
        Some((v, _)) if v > 0.0 => (v, f64::NAN),
        _ => (0.0, f64::NAN),
    }
}

/// Computes the highest sensitivity (true positive rate) whose specificity (`1 - fpr`) is at
/// least `min_specificity`, and its threshold.
pub(crate) fn sensitivity_at_specificity(
    curve: &ClassCurve,
    min_specificity: f64,
) -> OperatingPoint {
    best_roc_point(
        &roc_curve(curve),
        |fpr, _| 1.0 - fpr >= min_specificity,
        |_, tpr| tpr,
    )
}

/// Computes the highest specificity whose sensitivity is at least `min_sensitivity`, and its
/// threshold.
pub(crate) fn specificity_at_sensitivity(
    curve: &ClassCurve,
    min_sensitivity: f64,
) -> OperatingPoint {
    best_roc_point(
        &roc_curve(curve),
        |_, tpr| tpr >= min_sensitivity,
        |fpr, _| 1.0 - fpr,
    )
}

/// Interpolates the ROC's true positive rate linearly at false positive rate `x`.
fn tpr_at(roc: &RocCurve, x: f64) -> f64 {
    let after = roc.fpr.partition_point(|&f| f <= x);
    if after == 0 {
        return roc.tpr[0];
    }
    if after == roc.fpr.len() {
        return roc.tpr[after - 1];
    }
    let (x0, x1) = (roc.fpr[after - 1], roc.fpr[after]);
    let (y0, y1) = (roc.tpr[after - 1], roc.tpr[after]);
    y0 + (y1 - y0) * (x - x0) / (x1 - x0)
}

/// Computes the area under the ROC curve over `log10(fpr)` between `low` and `high`, divided by
/// `log10(high) - log10(low)`, with the curve interpolated linearly in fpr at both ends. It is
/// NaN when the class has no positive or no negative.
pub(crate) fn log_auc(curve: &ClassCurve, low: f64, high: f64) -> f64 {
    let (positives, negatives) = totals(curve);
    if positives == 0.0 || negatives == 0.0 {
        return f64::NAN;
    }
    let roc = roc_curve(curve);
    let mut x = vec![low.log10()];
    let mut y = vec![tpr_at(&roc, low)];
    for (&fpr, &tpr) in roc.fpr.iter().zip(&roc.tpr) {
        if fpr > low && fpr < high {
            x.push(fpr.log10());
            y.push(tpr);
        }
    }
    x.push(high.log10());
    y.push(tpr_at(&roc, high));
    trapezoid(&x, &y) / (high.log10() - low.log10())
}

/// Computes the equal error rate: at the ROC point where the false negative rate `1 - tpr` is
/// closest to the false positive rate (the first such point), their mean. NaN when the class
/// has no positive or no negative.
pub(crate) fn equal_error_rate(curve: &ClassCurve) -> f64 {
    let (positives, negatives) = totals(curve);
    if positives == 0.0 || negatives == 0.0 {
        return f64::NAN;
    }
    let roc = roc_curve(curve);
    let mut best: Option<(f64, f64)> = None;
    for (&fpr, &tpr) in roc.fpr.iter().zip(&roc.tpr) {
        let fnr = 1.0 - tpr;
        let gap = (fnr - fpr).abs();
        if best.is_none_or(|b| gap < b.0) {
            best = Some((gap, (fpr + fnr) / 2.0));
        }
    }
    best.map_or(f64::NAN, |b| b.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds an exact curve from (positives, negatives) per tie group in decreasing score order.
    fn exact_curve(groups: &[(u64, u64)]) -> ClassCurve {
        let mut curve = ClassCurve::default();
        let (mut tp, mut fp) = (0u64, 0u64);
        for (index, &(positives, negatives)) in groups.iter().enumerate() {
            tp += positives;
            fp += negatives;
            curve.tps.push(tp as f64);
            curve.fps.push(fp as f64);
            curve
                .thresholds
                .push(1.0 - index as f64 / groups.len() as f64);
        }
        curve
    }

    /// Tie groups of 1 to 3 positions from a fixed linear congruential sequence.
    fn random_groups(count: usize, seed: u64) -> Vec<(u64, u64)> {
        let mut state = seed;
        let mut next = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            state >> 33
        };
        (0..count)
            .map(|_| {
                let size = 1 + next() % 3;
                let positives = next() % (size + 1);
                (positives, size - positives)
            })
            .collect()
    }

    #[test]
    fn roc_area_is_the_exact_fraction_rounded_once() {
        // Positive, negative, positive, negative: 3 of the 4 pairs are ordered, area 3/4.
        let curve = exact_curve(&[(1, 0), (0, 1), (1, 0), (0, 1)]);
        assert_eq!(auroc(&curve, None), 0.75);
        // One positive tied with one of three negatives and above another: (1 + 0.5) / 3.
        let curve = exact_curve(&[(0, 1), (1, 1), (0, 1)]);
        assert_eq!(auroc(&curve, None), 0.5);
        let curve = exact_curve(&[(0, 1), (1, 0), (0, 2)]);
        assert_eq!(auroc(&curve, None), 2.0 / 3.0);
        // Without negatives or positives the area is undefined.
        assert!(auroc(&exact_curve(&[(2, 0)]), None).is_nan());
        assert!(auroc(&exact_curve(&[(0, 2)]), None).is_nan());
    }

    #[test]
    fn roc_area_matches_the_trapezoids_of_the_curve() {
        for seed in [1, 2, 3] {
            let curve = exact_curve(&random_groups(20_000, seed));
            let roc = roc_curve(&curve);
            let trapezoids = trapezoid(&roc.fpr, &roc.tpr);
            let exact = auroc(&curve, None);
            assert!(
                (exact - trapezoids).abs() <= 2.0 * f64::EPSILON * exact,
                "{exact} against {trapezoids}"
            );
        }
    }

    #[test]
    fn average_precision_matches_the_precision_recall_steps() {
        for seed in [4, 5, 6] {
            let curve = exact_curve(&random_groups(20_000, seed));
            let pr = pr_curve(&curve);
            // scikit-learn's sum over the precision-recall curve, from the lowest threshold up.
            let steps = -compensated_sum(
                pr.recall
                    .windows(2)
                    .zip(&pr.precision)
                    .map(|(r, p)| (r[1] - r[0]) * p),
            );
            let value = average_precision(&curve);
            assert!(
                (value - steps).abs() <= 4.0 * f64::EPSILON * value,
                "{value} against {steps}"
            );
        }
        // Two positives at precision 1 and 2/3: (1 + 2/3) / 2.
        let curve = exact_curve(&[(1, 0), (0, 1), (1, 0)]);
        assert!((average_precision(&curve) - 5.0 / 6.0).abs() <= f64::EPSILON);
    }

    #[test]
    fn average_precision_without_positives_is_zero() {
        let value = average_precision(&exact_curve(&[(0, 3), (0, 1)]));
        assert_eq!(value.to_bits(), 0.0f64.to_bits());
        assert_eq!(average_precision(&ClassCurve::default()).to_bits(), 0);
    }
}
