//! Compensated summation for the running sums of the regression states.

use serde::{Deserialize, Serialize};

/// A running sum with a Neumaier compensation term that collects the rounding error of each
/// addition, so that a sum merged from batches agrees with the one-pass sum to about 1e-15
/// relative unless its terms cancel almost exactly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    /// Adds one term.
    pub(crate) fn add(&mut self, term: f64) {
        let total = self.sum + term;
        // The low-order bits lost in `total` come from the addend of smaller magnitude.
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

    /// Returns the compensated total, or the plain IEEE sum once it is infinite or NaN.
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

/// Per-output compensated sums.
pub(crate) type Sums = Vec<CompensatedSum>;

/// Adds `other` into `sums` position by position.
pub(crate) fn merge_sums(sums: &mut Sums, other: &Sums) {
    for (sum, other) in sums.iter_mut().zip(other) {
        sum.merge(other);
    }
}
