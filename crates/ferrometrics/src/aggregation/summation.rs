//! Compensated summation, so that a sum does not depend on how its terms were split into batches
//! beyond a few units in the last place.

use serde::{Deserialize, Serialize};

/// A running sum with a compensation term that collects the rounding error of each addition
/// (Neumaier's variant of Kahan summation).
///
/// The error of the total is about one rounding of the result plus `n * eps^2` times the sum of
/// the magnitudes, whatever the order of the terms. A sum merged from batches therefore agrees
/// with the one-pass sum to about 1e-15 relative, unless the terms cancel almost exactly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    /// Adds one term.
    pub(crate) fn add(&mut self, term: f64) {
        let total = self.sum + term;
        // The low-order bits lost in `total`, taken from the smaller of the two addends.
        if self.sum.abs() >= term.abs() {
            self.compensation += (self.sum - total) + term;
        } else {
            self.compensation += (term - total) + self.sum;
        }
        self.sum = total;
    }

    /// Adds another running sum, keeping both compensation terms.
    pub(crate) fn merge(&mut self, other: &CompensatedSum) {
        self.add(other.sum);
        self.compensation += other.compensation;
    }

    /// Returns the compensated total.
    ///
    /// Once an infinite or NaN term entered, the plain sum already is the IEEE result (`inf`,
    /// `-inf` or NaN) and the compensation term is meaningless, so the plain sum is returned.
    pub(crate) fn value(&self) -> f64 {
        if self.sum.is_finite() {
            self.sum + self.compensation
        } else {
            self.sum
        }
    }
}

impl FromIterator<f64> for CompensatedSum {
    fn from_iter<I: IntoIterator<Item = f64>>(terms: I) -> Self {
        let mut sum = CompensatedSum::default();
        for term in terms {
            sum.add(term);
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compensated_sum_keeps_small_terms() {
        let sum: CompensatedSum = [1.0, 1e100, 1.0, -1e100].into_iter().collect();
        assert_eq!(sum.value(), 2.0);
    }

    #[test]
    fn compensated_sum_merge_matches_one_pass() {
        let terms: Vec<f64> = (0..1000).map(|i| 0.1 * f64::from(i) - 3.3e7).collect();
        let whole: CompensatedSum = terms.iter().copied().collect();
        let mut left: CompensatedSum = terms[..377].iter().copied().collect();
        let right: CompensatedSum = terms[377..].iter().copied().collect();
        left.merge(&right);
        assert!((left.value() - whole.value()).abs() <= 1e-15 * whole.value().abs());
    }

    #[test]
    fn compensated_sum_propagates_infinity() {
        let sum: CompensatedSum = [1.0, f64::INFINITY, 2.0].into_iter().collect();
        assert_eq!(sum.value(), f64::INFINITY);
    }

    #[test]
    fn compensated_sum_opposite_infinities_give_nan() {
        let sum: CompensatedSum = [f64::INFINITY, f64::NEG_INFINITY].into_iter().collect();
        assert!(sum.value().is_nan());
    }
}
