//! The state of intrinsic metrics whose value depends on every row: the rows themselves.

use ndarray::{ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use super::validation::check_batch;
use crate::error::{Error, Result};
use crate::numerics::Real;

/// Every row seen so far, converted to f64 (exact for f32 input), with its label.
///
/// Memory grows as 8 * (d + 1) bytes per row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredRows {
    /// Number of feature columns, fixed by the first non-empty batch.
    n_features: Option<usize>,
    /// Feature values, row after row.
    values: Vec<f64>,
    /// Label of each row.
    labels: Vec<i64>,
}

impl StoredRows {
    /// Validates a batch and appends it. A rejected batch changes nothing.
    ///
    /// # Errors
    ///
    /// The errors of [`check_batch`].
    pub fn append<F: Real>(
        &mut self,
        data: &ArrayView2<'_, F>,
        labels: &ArrayView1<'_, i64>,
    ) -> Result<()> {
        check_batch(data, labels, self.n_features)?;
        if data.nrows() == 0 {
            return Ok(());
        }

        self.n_features = Some(data.ncols());
        self.values.reserve(data.len());
        for row in data.rows() {
            self.values.extend(row.iter().map(|value| value.to_f64()));
        }
        self.labels.extend(labels.iter().copied());
        Ok(())
    }

    /// Appends the rows of `other`.
    ///
    /// # Errors
    ///
    /// [`Error::IncompatibleState`] if both hold rows with different numbers of features.
    pub fn merge(&mut self, other: &StoredRows) -> Result<()> {
        if let (Some(ours), Some(theirs)) = (self.n_features, other.n_features) {
            if ours != theirs {
                return Err(Error::incompatible_state(format!(
                    "cannot merge states of rows with {ours} and {theirs} features"
                )));
            }
        }

        self.n_features = self.n_features.or(other.n_features);
        self.values.extend_from_slice(&other.values);
        self.labels.extend_from_slice(&other.labels);
        Ok(())
    }

    /// Clears the rows.
    pub fn clear(&mut self) {
        *self = StoredRows::default();
    }

    /// Returns the stored data as an (N, d) view and the labels. Without rows, it returns a
    /// (0, 1) view.
    pub fn views(&self) -> (ArrayView2<'_, f64>, ArrayView1<'_, i64>) {
        let n_features = self.n_features.unwrap_or(1);
        let shape = (self.labels.len(), n_features);
        // `append` and `merge` keep `values.len() == labels.len() * n_features`. A decoded state
        // that breaks this is replaced by an empty view, and compute then reports no samples.
        let data = ArrayView2::from_shape(shape, &self.values)
            .unwrap_or_else(|_| ArrayView2::from_shape((0, 1), &[]).expect("empty shape"));
        let labels = if data.nrows() == 0 {
            ArrayView1::from(&[][..])
        } else {
            ArrayView1::from(&self.labels[..])
        };
        (data, labels)
    }
}
