//! Running first and second moments of paired values, merged with the pairwise formulas of
//! Chan, Golub and LeVeque, "Updating formulae and a pairwise algorithm for computing sample
//! variances" (1979).

use ndarray::ArrayView1;
use serde::{Deserialize, Serialize};

use super::sums::CompensatedSum;

/// Count, means, sums of squared deviations (M2) and sum of co-deviations of paired values
/// `(x, y)`.
///
/// Means are stored relative to a shift, the first value seen, so that data with a large offset
/// and a small spread (values near 1e6 that differ by 1e-3) keep their deviations at full
/// precision: the difference of two batch means, which the merge squares, is then computed from
/// small numbers instead of from two rounded values near the offset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Comoments {
    count: u64,
    shift_x: f64,
    shift_y: f64,
    /// Mean of `x - shift_x`.
    mean_x: f64,
    /// Mean of `y - shift_y`.
    mean_y: f64,
    /// Sum of `(x - mean(x))^2`.
    m2_x: f64,
    /// Sum of `(y - mean(y))^2`.
    m2_y: f64,
    /// Sum of `(x - mean(x)) * (y - mean(y))`.
    c_xy: f64,
}

impl Comoments {
    /// Computes the moments of one batch with two passes: the means first, then the deviations
    /// from them.
    pub(crate) fn of_batch(x: ArrayView1<'_, f64>, y: ArrayView1<'_, f64>) -> Self {
        let count = x.len();
        if count == 0 {
            return Self::default();
        }

        let (shift_x, shift_y) = (x[0], y[0]);
        let n = count as f64;
        let mean_x = x
            .iter()
            .map(|v| v - shift_x)
            .collect::<CompensatedSum>()
            .value()
            / n;
        let mean_y = y
            .iter()
            .map(|v| v - shift_y)
            .collect::<CompensatedSum>()
            .value()
            / n;

        let mut m2_x = CompensatedSum::default();
        let mut m2_y = CompensatedSum::default();
        let mut c_xy = CompensatedSum::default();
        for (xi, yi) in x.iter().zip(&y) {
            let dx = (xi - shift_x) - mean_x;
            let dy = (yi - shift_y) - mean_y;
            m2_x.add(dx * dx);
            m2_y.add(dy * dy);
            c_xy.add(dx * dy);
        }

        Self {
            count: count as u64,
            shift_x,
            shift_y,
            mean_x,
            mean_y,
            m2_x: m2_x.value(),
            m2_y: m2_y.value(),
            c_xy: c_xy.value(),
        }
    }

    /// Folds `other` in with Chan et al.'s update: for `n = n_a + n_b` and `d` the difference
    /// of the means, `mean = mean_a + d * n_b / n` and `M2 = M2_a + M2_b + d^2 * n_a * n_b / n`,
    /// and the co-moment likewise with `d_x * d_y`.
    pub(crate) fn merge(&mut self, other: &Comoments) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }

        // The other means, moved to this state's shift.
        let other_mean_x = other.mean_x + (other.shift_x - self.shift_x);
        let other_mean_y = other.mean_y + (other.shift_y - self.shift_y);
        let dx = other_mean_x - self.mean_x;
        let dy = other_mean_y - self.mean_y;

        let (n_a, n_b) = (self.count as f64, other.count as f64);
        let n = n_a + n_b;
        let weight = n_a * n_b / n;

        self.mean_x += dx * n_b / n;
        self.mean_y += dy * n_b / n;
        self.m2_x += other.m2_x + dx * dx * weight;
        self.m2_y += other.m2_y + dy * dy * weight;
        self.c_xy += other.c_xy + dx * dy * weight;
        self.count = self.count.saturating_add(other.count);
    }

    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    pub(crate) fn m2_x(&self) -> f64 {
        self.m2_x
    }

    pub(crate) fn m2_y(&self) -> f64 {
        self.m2_y
    }

    pub(crate) fn c_xy(&self) -> f64 {
        self.c_xy
    }

    /// Returns `mean(x) - mean(y)`, taking the difference of the shifts before adding the small
    /// relative means.
    pub(crate) fn mean_difference(&self) -> f64 {
        (self.shift_x - self.shift_y) + (self.mean_x - self.mean_y)
    }

    /// Returns the mean of `x`.
    pub(crate) fn mean_x(&self) -> f64 {
        self.shift_x + self.mean_x
    }

    /// Returns the mean of `y`.
    pub(crate) fn mean_y(&self) -> f64 {
        self.shift_y + self.mean_y
    }

    /// Returns Pearson's `r = C_xy / sqrt(M2_x * M2_y)`, clamped to `[-1, 1]` against rounding,
    /// and NaN when either variable has zero variance.
    pub(crate) fn pearson(&self) -> f64 {
        if self.m2_x == 0.0 || self.m2_y == 0.0 {
            return f64::NAN;
        }
        // Two square roots instead of one of the product, which can overflow or underflow.
        let r = self.c_xy / (self.m2_x.sqrt() * self.m2_y.sqrt());
        r.clamp(-1.0, 1.0)
    }
}
