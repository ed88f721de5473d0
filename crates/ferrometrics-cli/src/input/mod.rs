//! Readers for the input formats: CSV with a header row, and NumPy `.npy` arrays.

pub mod csv_reader;
pub mod npy_reader;

use ndarray::Array2;

/// A feature matrix of shape (n_samples, n_features), in the precision it was stored in.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Features {
    F32(Array2<f32>),
    F64(Array2<f64>),
}

impl Features {
    /// Number of samples (rows).
    pub fn nrows(&self) -> usize {
        match self {
            Features::F32(data) => data.nrows(),
            Features::F64(data) => data.nrows(),
        }
    }

    /// Number of features (columns).
    pub fn ncols(&self) -> usize {
        match self {
            Features::F32(data) => data.ncols(),
            Features::F64(data) => data.ncols(),
        }
    }
}

/// Converts a label read as a float to an integer, if it has an exact integer value.
///
/// CSV writers such as pandas store an integer column with a missing value as floats (`2.0`),
/// so integral floats are accepted and everything else is rejected.
pub fn integral_label(value: f64) -> Option<i64> {
    // i64::MIN is -2^63 and exact in f64, but i64::MAX rounds up to 2^63, which is out of range.
    let in_range = value >= i64::MIN as f64 && value < i64::MAX as f64;
    if value.is_finite() && value.fract() == 0.0 && in_range {
        Some(value as i64)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integral_label_accepts_whole_floats() {
        assert_eq!(integral_label(2.0), Some(2));
        assert_eq!(integral_label(-3.0), Some(-3));
        assert_eq!(integral_label(i64::MIN as f64), Some(i64::MIN));
    }

    #[test]
    fn integral_label_rejects_fractions_and_non_finite() {
        assert_eq!(integral_label(2.5), None);
        assert_eq!(integral_label(f64::NAN), None);
        assert_eq!(integral_label(f64::INFINITY), None);
        assert_eq!(integral_label(9.3e18), None);
    }
}
