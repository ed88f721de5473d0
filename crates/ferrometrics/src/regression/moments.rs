//! Running first and second moments of paired values, merged with the pairwise formulas of
//! Chan, Golub and LeVeque, "Updating formulae and a pairwise algorithm for computing sample
//! variances" (1979).

use ndarray::ArrayView1;
use serde::{Deserialize, Serialize};

use super::sums::CompensatedSum;
use crate::numerics::{LaneSum, LANES};

/// A mean as an unevaluated sum `high + low` of two doubles.
#[derive(Debug, Clone, Copy)]
struct PreciseMean {
    high: f64,
    low: f64,
}

impl PreciseMean {
    /// Divides a compensated sum by `weight` to about twice double precision: the remainder of
    /// the first quotient is exact by a fused multiply-add and gives the second.
    fn of(sum: &CompensatedSum, weight: f64) -> Self {
        let (sum_high, sum_low) = sum.parts();
        let high = sum_high / weight;
        let remainder = (-high).mul_add(weight, sum_high) + sum_low;
        Self {
            high,
            low: remainder / weight,
        }
    }

    fn value(self) -> f64 {
        self.high + self.low
    }

    /// Returns `self - other`. The high parts are subtracted first, which is exact when they are
    /// within a factor 2 of each other (Sterbenz), so close means keep their difference.
    fn minus(self, other: PreciseMean) -> f64 {
        (self.high - other.high) + (self.low - other.low)
    }
}

/// Adds `w * x` to `sum` together with the rounding error of the product, so that weighted sums
/// keep the precision of unweighted ones.
fn add_product(sum: &mut CompensatedSum, w: f64, x: f64) {
    let product = w * x;
    sum.add(product);
    if w != 1.0 && product.is_finite() {
        sum.add(w.mul_add(x, -product));
    }
}

/// Magnitudes from `2^-MODERATE_EXPONENT` to `2^MODERATE_EXPONENT` keep a scale of 1: their squared
/// deviations and the sums of them stay far from overflow and from subnormal numbers.
const MODERATE_EXPONENT: i32 = 256;

/// Bound of the scale exponents, so that `2^-scale` is a normal or exact subnormal double.
const MAX_SCALE_EXPONENT: i32 = 1000;

/// Returns `x * 2^exponent` for any `exponent`, in steps that keep the factor representable.
/// Multiplying by a power of two is exact unless the result overflows or becomes subnormal.
pub(crate) fn scale_by_power_of_two(mut x: f64, mut exponent: i32) -> f64 {
    while exponent != 0 {
        let step = exponent.clamp(-MAX_SCALE_EXPONENT, MAX_SCALE_EXPONENT);
        x *= 2f64.powi(step);
        exponent -= step;
    }
    x
}

/// Returns the scale exponent of values from `min` to `max`: 0 for moderate magnitudes, else
/// the binary exponent of the largest magnitude, so that deviations divided by `2^exponent` are
/// near 1 and their squares neither overflow nor lose precision as subnormal numbers.
pub(crate) fn scale_exponent(min: f64, max: f64) -> i32 {
    let magnitude = min.abs().max(max.abs());
    if !magnitude.is_finite() || magnitude == 0.0 {
        return 0;
    }
    let exponent = magnitude.log2().floor() as i32;
    if exponent.abs() <= MODERATE_EXPONENT {
        0
    } else {
        exponent.clamp(-MAX_SCALE_EXPONENT, MAX_SCALE_EXPONENT)
    }
}

/// Count, total weight, weighted sums, weighted sums of squared deviations (M2) and weighted sum
/// of co-deviations of paired values `(x, y)`. Unweighted samples have weight 1 each, so the
/// total weight equals the count.
///
/// The sums are compensated and the means derived from them carry about twice double precision.
/// The ranges of `x` and `y` are kept too, so that a constant variable has a variance of exactly
/// 0 whatever the rounding of its means.
/// Data with a large offset and a small spread (values near 1e6 that differ by 1e-3) therefore
/// keep their deviations, and a mean that nearly cancels (values of both signs) keeps its
/// relative precision after any number of merges. The merge squares the difference of two
/// means, which is accurate because it is taken from those precise means.
///
/// Data of extreme magnitude (1e200, or 1e-160) would overflow or underflow when squared, so the
/// deviations of `x` are divided by `2^scale_x` before they are squared, and those of `y` by
/// `2^scale_y`. The scales are 0 for moderate data, so that the sums there are plain ones, and a
/// merge brings both sides to the larger scale by exact multiplications by powers of two.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct Comoments {
    count: u64,
    /// Smallest and largest `x` and `y` of positive weight.
    min_x: f64,
    max_x: f64,
    min_y: f64,
    max_y: f64,
    /// Sum of the sample weights.
    weight: CompensatedSum,
    /// Sum of `w * x`.
    sum_x: CompensatedSum,
    /// Sum of `w * y`.
    sum_y: CompensatedSum,
    /// Sum of `w * (x - mean(x))^2`.
    m2_x: f64,
    /// Sum of `w * (y - mean(y))^2`.
    m2_y: f64,
    /// Sum of `w * (x - mean(x)) * (y - mean(y))`.
    c_xy: f64,
    /// `m2_x` is kept divided by `2^(2 * scale_x)`, `m2_y` by `2^(2 * scale_y)` and `c_xy` by
    /// `2^(scale_x + scale_y)`.
    scale_x: i32,
    scale_y: i32,
}

impl Default for Comoments {
    fn default() -> Self {
        Self {
            count: 0,
            min_x: f64::INFINITY,
            max_x: f64::NEG_INFINITY,
            min_y: f64::INFINITY,
            max_y: f64::NEG_INFINITY,
            weight: CompensatedSum::default(),
            sum_x: CompensatedSum::default(),
            sum_y: CompensatedSum::default(),
            m2_x: 0.0,
            m2_y: 0.0,
            c_xy: 0.0,
            scale_x: 0,
            scale_y: 0,
        }
    }
}

impl Comoments {
    /// Computes the moments of one batch with two passes: the means first, then the deviations
    /// from them.
    pub(crate) fn of_batch(x: ArrayView1<'_, f64>, y: ArrayView1<'_, f64>) -> Self {
        Self::of_weighted_batch(x, y, None)
    }

    /// Computes the unweighted moments of the pairs `map(a[i], b[i])` over slices of equal
    /// length, with the same two passes as [`Comoments::of_batch`]. Each pass keeps [`LANES`]
    /// compensated sums per quantity, so the compiler can vectorize it, and the second pass
    /// computes all three second moments at once.
    pub(crate) fn of_mapped<A: Copy, B: Copy>(
        a: &[A],
        b: &[B],
        map: impl Fn(A, B) -> (f64, f64),
    ) -> Self {
        debug_assert_eq!(a.len(), b.len());
        let mut moments = Self {
            count: a.len() as u64,
            ..Self::default()
        };
        if a.is_empty() {
            return moments;
        }
        // Unit weights add up exactly to the count below 2^53 samples.
        moments.weight.add(a.len() as f64);

        let pairs = || {
            let a_chunks = a.chunks_exact(LANES);
            let b_chunks = b.chunks_exact(LANES);
            let tail = a_chunks.remainder().iter().zip(b_chunks.remainder());
            (a_chunks.zip(b_chunks), tail)
        };

        let (chunks, tail) = pairs();
        let (mut sum_x, mut sum_y) = (LaneSum::default(), LaneSum::default());
        let (mut min_x, mut max_x) = ([f64::INFINITY; LANES], [f64::NEG_INFINITY; LANES]);
        let (mut min_y, mut max_y) = ([f64::INFINITY; LANES], [f64::NEG_INFINITY; LANES]);
        for (a, b) in chunks {
            let xy: [(f64, f64); LANES] = std::array::from_fn(|lane| map(a[lane], b[lane]));
            let x = xy.map(|(x, _)| x);
            let y = xy.map(|(_, y)| y);
            sum_x.add(x);
            sum_y.add(y);
            for lane in 0..LANES {
                min_x[lane] = min_x[lane].min(x[lane]);
                max_x[lane] = max_x[lane].max(x[lane]);
                min_y[lane] = min_y[lane].min(y[lane]);
                max_y[lane] = max_y[lane].max(y[lane]);
            }
        }
        moments.sum_x = sum_x.total();
        moments.sum_y = sum_y.total();
        for (a, b) in tail {
            let (x, y) = map(*a, *b);
            moments.sum_x.add(x);
            moments.sum_y.add(y);
            min_x[0] = min_x[0].min(x);
            max_x[0] = max_x[0].max(x);
            min_y[0] = min_y[0].min(y);
            max_y[0] = max_y[0].max(y);
        }
        let fold_min = |values: [f64; LANES]| values.into_iter().fold(f64::INFINITY, f64::min);
        let fold_max = |values: [f64; LANES]| values.into_iter().fold(f64::NEG_INFINITY, f64::max);
        moments.min_x = fold_min(min_x);
        moments.max_x = fold_max(max_x);
        moments.min_y = fold_min(min_y);
        moments.max_y = fold_max(max_y);

        let weight = moments.weight.value();
        // NOTE: the sums overflow for values whose total exceeds the float64 maximum (about
        // 1.8e308), and the means and the correlations are then NaN, as scipy's pearsonr gives.
        let mean_x = PreciseMean::of(&moments.sum_x, weight);
        let mean_y = PreciseMean::of(&moments.sum_y, weight);
        moments.scale_x = scale_exponent(moments.min_x, moments.max_x);
        moments.scale_y = scale_exponent(moments.min_y, moments.max_y);
        let (unit_x, unit_y) = (
            scale_by_power_of_two(1.0, -moments.scale_x),
            scale_by_power_of_two(1.0, -moments.scale_y),
        );
        let deviations = |(x, y): (f64, f64)| {
            let dx = ((x - mean_x.high) - mean_x.low) * unit_x;
            let dy = ((y - mean_y.high) - mean_y.low) * unit_y;
            (dx * dx, dy * dy, dx * dy)
        };

        let (chunks, tail) = pairs();
        let (mut m2_x, mut m2_y, mut c_xy) =
            (LaneSum::default(), LaneSum::default(), LaneSum::default());
        for (a, b) in chunks {
            let terms: [(f64, f64, f64); LANES] =
                std::array::from_fn(|lane| deviations(map(a[lane], b[lane])));
            m2_x.add(terms.map(|(xx, _, _)| xx));
            m2_y.add(terms.map(|(_, yy, _)| yy));
            c_xy.add(terms.map(|(_, _, xy)| xy));
        }
        let (mut m2_x, mut m2_y, mut c_xy) = (m2_x.total(), m2_y.total(), c_xy.total());
        for (a, b) in tail {
            let (xx, yy, xy) = deviations(map(*a, *b));
            m2_x.add(xx);
            m2_y.add(yy);
            c_xy.add(xy);
        }
        moments.m2_x = m2_x.value();
        moments.m2_y = m2_y.value();
        moments.c_xy = c_xy.value();
        moments.zero_constant_variances();
        moments
    }

    /// Builds the moments of `count` unweighted pairs from the sums `sum_x` and `sum_y` and from
    /// `sums`, the sums of `dx`, `dy`, `dx^2`, `dy^2` and `dx * dy` for the deviations `dx` and
    /// `dy` from two shifts. The second moments are
    /// `sum(dx^2) - sum(dx)^2 / count` (and likewise), which loses little when the shifts are
    /// close to the means. The caller guarantees finite sums and ranges of moderate magnitude,
    /// so the scales are 0.
    pub(crate) fn of_shifted_sums(
        count: usize,
        (sum_x, sum_y): (CompensatedSum, CompensatedSum),
        [sum_dx, sum_dy, sum_xx, sum_yy, sum_xy]: [f64; 5],
        ([min_x, max_x], [min_y, max_y]): ([f64; 2], [f64; 2]),
    ) -> Self {
        let weight = count as f64;
        let mut moments = Self {
            count: count as u64,
            min_x,
            max_x,
            min_y,
            max_y,
            m2_x: (sum_xx - sum_dx * sum_dx / weight).max(0.0),
            m2_y: (sum_yy - sum_dy * sum_dy / weight).max(0.0),
            c_xy: sum_xy - sum_dx * sum_dy / weight,
            sum_x,
            sum_y,
            ..Self::default()
        };
        debug_assert_eq!(scale_exponent(min_x, max_x), 0);
        debug_assert_eq!(scale_exponent(min_y, max_y), 0);
        moments.weight.add(weight);
        moments.zero_constant_variances();
        moments
    }

    /// Computes the moments of one batch with weights `w` (1 each if `None`), with two passes.
    /// A batch of total weight 0 has no defined mean and counts its samples only.
    pub(crate) fn of_weighted_batch(
        x: ArrayView1<'_, f64>,
        y: ArrayView1<'_, f64>,
        w: Option<ArrayView1<'_, f64>>,
    ) -> Self {
        let weight_of = |i: usize| w.as_ref().map_or(1.0, |w| w[i]);
        let mut moments = Self {
            count: x.len() as u64,
            ..Self::default()
        };
        for (i, (xi, yi)) in x.iter().zip(&y).enumerate() {
            let wi = weight_of(i);
            moments.weight.add(wi);
            add_product(&mut moments.sum_x, wi, *xi);
            add_product(&mut moments.sum_y, wi, *yi);
            if wi > 0.0 {
                moments.min_x = moments.min_x.min(*xi);
                moments.max_x = moments.max_x.max(*xi);
                moments.min_y = moments.min_y.min(*yi);
                moments.max_y = moments.max_y.max(*yi);
            }
        }
        let weight = moments.weight.value();
        if weight == 0.0 {
            return moments;
        }

        // NOTE: the sums overflow for values whose total exceeds the float64 maximum (about
        // 1.8e308), and the means and the correlations are then NaN, as scipy's pearsonr gives.
        let mean_x = PreciseMean::of(&moments.sum_x, weight);
        let mean_y = PreciseMean::of(&moments.sum_y, weight);
        moments.scale_x = scale_exponent(moments.min_x, moments.max_x);
        moments.scale_y = scale_exponent(moments.min_y, moments.max_y);
        let (unit_x, unit_y) = (
            scale_by_power_of_two(1.0, -moments.scale_x),
            scale_by_power_of_two(1.0, -moments.scale_y),
        );
        let mut m2_x = CompensatedSum::default();
        let mut m2_y = CompensatedSum::default();
        let mut c_xy = CompensatedSum::default();
        for (i, (xi, yi)) in x.iter().zip(&y).enumerate() {
            let dx = ((xi - mean_x.high) - mean_x.low) * unit_x;
            let dy = ((yi - mean_y.high) - mean_y.low) * unit_y;
            let wi = weight_of(i);
            m2_x.add(wi * dx * dx);
            m2_y.add(wi * dy * dy);
            c_xy.add(wi * dx * dy);
        }
        moments.m2_x = m2_x.value();
        moments.m2_y = m2_y.value();
        moments.c_xy = c_xy.value();
        moments.zero_constant_variances();
        moments
    }

    /// Sets the second moments of a constant variable to exactly 0, which rounding in the means
    /// could otherwise leave at a tiny positive value.
    fn zero_constant_variances(&mut self) {
        if self.min_x == self.max_x {
            self.m2_x = 0.0;
            self.c_xy = 0.0;
        }
        if self.min_y == self.max_y {
            self.m2_y = 0.0;
            self.c_xy = 0.0;
        }
    }

    /// Folds `other` in with Chan et al.'s update: for total weights `W = W_a + W_b` (counts
    /// without weights) and `d` the difference of the means,
    /// `M2 = M2_a + M2_b + d^2 * W_a * W_b / W`, and the co-moment likewise with `d_x * d_y`.
    /// The sums, and with them the means, add directly.
    pub(crate) fn merge(&mut self, other: &Comoments) {
        let (w_a, w_b) = (self.weight.value(), other.weight.value());
        if w_b == 0.0 {
            // Nothing but the count to add: no samples, or samples of weight 0.
            self.count = self.count.saturating_add(other.count);
            return;
        }
        if w_a == 0.0 {
            let count = self.count.saturating_add(other.count);
            *self = *other;
            self.count = count;
            return;
        }

        // Both sides move to the larger scale; the smaller side's moments only shrink.
        let scale_x = self.scale_x.max(other.scale_x);
        let scale_y = self.scale_y.max(other.scale_y);
        let other = other.rescaled(scale_x, scale_y);
        *self = self.rescaled(scale_x, scale_y);
        let dx = PreciseMean::of(&other.sum_x, w_b).minus(PreciseMean::of(&self.sum_x, w_a));
        let dy = PreciseMean::of(&other.sum_y, w_b).minus(PreciseMean::of(&self.sum_y, w_a));
        let dx = scale_by_power_of_two(dx, -scale_x);
        let dy = scale_by_power_of_two(dy, -scale_y);
        let spread_weight = w_a * w_b / (w_a + w_b);

        self.m2_x += other.m2_x + dx * dx * spread_weight;
        self.m2_y += other.m2_y + dy * dy * spread_weight;
        self.c_xy += other.c_xy + dx * dy * spread_weight;
        self.weight.merge(&other.weight);
        self.sum_x.merge(&other.sum_x);
        self.sum_y.merge(&other.sum_y);
        self.count = self.count.saturating_add(other.count);
        self.min_x = self.min_x.min(other.min_x);
        self.max_x = self.max_x.max(other.max_x);
        self.min_y = self.min_y.min(other.min_y);
        self.max_y = self.max_y.max(other.max_y);
        self.zero_constant_variances();
    }

    /// Returns the smallest and largest `y` of positive weight.
    pub(crate) fn range_y(&self) -> (f64, f64) {
        (self.min_y, self.max_y)
    }

    /// Returns these moments with the scales `scale_x` and `scale_y`, no smaller than the
    /// current ones.
    fn rescaled(&self, scale_x: i32, scale_y: i32) -> Self {
        let (shift_x, shift_y) = (self.scale_x - scale_x, self.scale_y - scale_y);
        Self {
            m2_x: scale_by_power_of_two(self.m2_x, 2 * shift_x),
            m2_y: scale_by_power_of_two(self.m2_y, 2 * shift_y),
            c_xy: scale_by_power_of_two(self.c_xy, shift_x + shift_y),
            scale_x,
            scale_y,
            ..*self
        }
    }

    /// Returns the larger of the two scale exponents: 0 unless the data is of extreme magnitude.
    pub(crate) fn scale_exponent(&self) -> i32 {
        self.scale_x.max(self.scale_y)
    }

    /// Returns `M2_x / 2^(2 * exponent)`.
    pub(crate) fn m2_x_in(&self, exponent: i32) -> f64 {
        scale_by_power_of_two(self.m2_x, 2 * (self.scale_x - exponent))
    }

    /// Returns `M2_y / 2^(2 * exponent)`.
    pub(crate) fn m2_y_in(&self, exponent: i32) -> f64 {
        scale_by_power_of_two(self.m2_y, 2 * (self.scale_y - exponent))
    }

    /// Returns `C_xy / 2^(2 * exponent)`.
    pub(crate) fn c_xy_in(&self, exponent: i32) -> f64 {
        scale_by_power_of_two(self.c_xy, self.scale_x + self.scale_y - 2 * exponent)
    }

    /// Returns `(mean(x) - mean(y)) / 2^exponent`, from the precise means.
    pub(crate) fn mean_difference_in(&self, exponent: i32) -> f64 {
        scale_by_power_of_two(self.mean_difference(), -exponent)
    }

    /// Returns `mean(y) / 2^exponent`.
    pub(crate) fn mean_y_in(&self, exponent: i32) -> f64 {
        scale_by_power_of_two(self.mean_y(), -exponent)
    }

    /// Returns `mean(x) / 2^exponent`.
    pub(crate) fn mean_x_in(&self, exponent: i32) -> f64 {
        scale_by_power_of_two(self.mean_x(), -exponent)
    }

    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    #[cfg(test)]
    pub(crate) fn m2_x(&self) -> f64 {
        scale_by_power_of_two(self.m2_x, 2 * self.scale_x)
    }

    #[cfg(test)]
    pub(crate) fn m2_y(&self) -> f64 {
        scale_by_power_of_two(self.m2_y, 2 * self.scale_y)
    }

    #[cfg(test)]
    pub(crate) fn c_xy(&self) -> f64 {
        scale_by_power_of_two(self.c_xy, self.scale_x + self.scale_y)
    }

    fn precise_mean_x(&self) -> PreciseMean {
        PreciseMean::of(&self.sum_x, self.weight.value())
    }

    fn precise_mean_y(&self) -> PreciseMean {
        PreciseMean::of(&self.sum_y, self.weight.value())
    }

    /// Returns `mean(x) - mean(y)`, from the precise means.
    pub(crate) fn mean_difference(&self) -> f64 {
        self.precise_mean_x().minus(self.precise_mean_y())
    }

    /// Returns the mean of `x`.
    pub(crate) fn mean_x(&self) -> f64 {
        self.precise_mean_x().value()
    }

    /// Returns the mean of `y`.
    pub(crate) fn mean_y(&self) -> f64 {
        self.precise_mean_y().value()
    }

    /// Returns Pearson's `r = C_xy / sqrt(M2_x * M2_y)`, clamped to `[-1, 1]` against rounding,
    /// and NaN when either variable has zero variance. The scales cancel in the ratio, so it is
    /// taken from the scaled moments.
    pub(crate) fn pearson(&self) -> f64 {
        if self.m2_x == 0.0 || self.m2_y == 0.0 {
            return f64::NAN;
        }
        // Two square roots instead of one of the product, which can overflow or underflow.
        let r = self.c_xy / (self.m2_x.sqrt() * self.m2_y.sqrt());
        r.clamp(-1.0, 1.0)
    }
}
