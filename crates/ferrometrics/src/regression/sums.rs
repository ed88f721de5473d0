//! Per-output compensated sums, the running state of the regression metrics.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::metric::check_same_config;
pub(crate) use crate::numerics::CompensatedSum;
use crate::numerics::{sum_paired, sum_paired_checked, Real};
use crate::wrappers::TermSums;

/// Per-output compensated sums.
pub(crate) type Sums = Vec<CompensatedSum>;

/// Adds `other` into `sums` position by position.
pub(crate) fn merge_sums(sums: &mut Sums, other: &Sums) {
    for (sum, other) in sums.iter_mut().zip(other) {
        sum.merge(other);
    }
}

/// Per-output sums of a pointwise error term and the number of rows they cover: the state of
/// every metric that is a mean of per-sample errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ErrorSums {
    num_outputs: usize,
    sums: Sums,
    count: u64,
}

impl ErrorSums {
    pub(crate) fn new(num_outputs: usize) -> Self {
        Self {
            num_outputs,
            sums: vec![CompensatedSum::default(); num_outputs],
            count: 0,
        }
    }

    /// Sums `term(pred, target)` over the rows of each column of a validated batch.
    pub(crate) fn of_batch(
        preds: &Array2<f64>,
        target: &Array2<f64>,
        term: impl Fn(f64, f64) -> f64,
    ) -> Self {
        let sums = preds
            .columns()
            .into_iter()
            .zip(target.columns())
            .map(|(p, t)| p.iter().zip(&t).map(|(p, t)| term(*p, *t)).collect())
            .collect();
        Self {
            num_outputs: preds.ncols(),
            sums,
            count: preds.nrows() as u64,
        }
    }

    /// Sums `term(pred, target)` over the values of a validated one-output batch.
    pub(crate) fn of_flat<F: Real>(
        preds: &[F],
        target: &[F],
        term: impl Fn(f64, f64) -> f64,
    ) -> Self {
        let sum = sum_paired(preds, target, |p, t| term(p.to_f64(), t.to_f64()));
        Self {
            num_outputs: 1,
            sums: vec![sum],
            count: preds.len() as u64,
        }
    }

    /// As [`ErrorSums::of_flat`] over batches that are not yet checked for NaN and infinity,
    /// and also returns whether every value is finite, found in the same pass.
    pub(crate) fn of_flat_checked<F: Real>(
        preds: &[F],
        target: &[F],
        term: impl Fn(f64, f64) -> f64 + Sync,
    ) -> (Self, bool) {
        let (sum, finite) = sum_paired_checked(preds, target, term);
        let sums = Self {
            num_outputs: 1,
            sums: vec![sum],
            count: preds.len() as u64,
        };
        (sums, finite)
    }

    pub(crate) fn num_outputs(&self) -> usize {
        self.num_outputs
    }

    /// Adds `other`'s sums and count, after checking that both have the same `num_outputs`.
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`](crate::Error::IncompatibleState) naming
    /// `num_outputs` if the two differ.
    pub(crate) fn merge(&mut self, metric: &str, other: &ErrorSums) -> Result<()> {
        check_same_config(metric, "num_outputs", &self.num_outputs, &other.num_outputs)?;
        merge_sums(&mut self.sums, &other.sums);
        // Saturating, so that a corrupted serialized count cannot overflow and panic.
        self.count = self.count.saturating_add(other.count);
        Ok(())
    }

    /// Adds count-weighted sums of per-sample terms, one column per output, and the drawn
    /// samples' units to the count.
    ///
    /// # Errors
    ///
    /// Returns [`Error::IncompatibleState`](crate::Error::IncompatibleState) naming
    /// `num_outputs`, and changes nothing, if `sums` has another number of columns.
    pub(crate) fn add_term_sums(&mut self, metric: &str, sums: &TermSums) -> Result<()> {
        check_same_config(metric, "num_outputs", &self.num_outputs, &sums.sums.len())?;
        merge_sums(&mut self.sums, &sums.sums);
        self.count = self.count.saturating_add(sums.units());
        Ok(())
    }

    /// Returns the per-output totals.
    pub(crate) fn totals(&self) -> Vec<f64> {
        self.sums.iter().map(CompensatedSum::value).collect()
    }

    /// Returns the per-output means of the error term.
    ///
    /// # Errors
    ///
    /// Returns [`Error::NotEnoughData`](crate::Error::NotEnoughData) if no row was seen.
    pub(crate) fn means(&self, metric: &str) -> Result<Vec<f64>> {
        check_not_empty(metric, self.count)?;
        let n = self.count as f64;
        Ok(self.totals().into_iter().map(|sum| sum / n).collect())
    }
}

/// Returns [`Error::NotEnoughData`](crate::Error::NotEnoughData) if `count` is 0.
pub(crate) fn check_not_empty(metric: &str, count: u64) -> Result<()> {
    if count == 0 {
        return Err(Error::not_enough_data(
            metric,
            "no samples were seen; call update with at least one sample before compute",
        ));
    }
    Ok(())
}
