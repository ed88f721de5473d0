//! Input checks and label indexing shared by the intrinsic clustering metrics.

use ndarray::{ArrayView1, ArrayView2, CowArray, Ix2};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::numerics::Real;

/// Number of values that one parallel task reads. Chunk boundaries depend only on this constant
/// and the number of columns, never on the number of threads, so results are reproducible.
pub(crate) const CHUNK_VALUES: usize = 1 << 16;

/// Returns the number of rows that one parallel task processes for rows of `n_features` values.
pub(crate) fn rows_per_chunk(n_features: usize) -> usize {
    (CHUNK_VALUES / n_features.max(1)).max(1)
}

/// Feature rows in row-major order, borrowed from the caller or copied once into that layout.
pub(crate) struct Rows<'a, F> {
    /// All values, row after row.
    pub values: &'a [F],
    /// Number of columns.
    pub n_features: usize,
}

impl<'a, F: Real> Rows<'a, F> {
    /// Number of rows.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.values.len() / self.n_features
    }

    /// Returns row `index`.
    #[inline(always)]
    pub fn row(&self, index: usize) -> &'a [F] {
        &self.values[index * self.n_features..(index + 1) * self.n_features]
    }
}

/// Returns `data` in standard (row-major, contiguous) layout, copying only if it is not already.
pub(crate) fn standard_layout<'a, F: Real>(data: &'a ArrayView2<'a, F>) -> CowArray<'a, F, Ix2> {
    data.as_standard_layout()
}

/// Returns the contiguous values of an array in standard layout.
pub(crate) fn contiguous<'a, F: Real>(data: &'a CowArray<'a, F, Ix2>) -> Rows<'a, F> {
    let n_features = data.ncols();
    // `as_standard_layout` guarantees a contiguous row-major array, so `as_slice` succeeds.
    let values = data
        .as_slice()
        .expect("an array in standard layout is contiguous");
    Rows { values, n_features }
}

/// Checks one batch with [`check_shape`] and [`check_finite`].
///
/// # Errors
///
/// The errors of [`check_shape`] and [`check_finite`].
pub(crate) fn check_batch<F: Real>(
    data: &ArrayView2<'_, F>,
    labels: &ArrayView1<'_, i64>,
    expected_features: Option<usize>,
) -> Result<()> {
    check_shape(data, labels, expected_features)?;
    let standard = standard_layout(data);
    check_finite(&contiguous(&standard))
}

/// Checks the shape of one batch: equal lengths, at least one column, and the column count of
/// earlier batches.
///
/// # Errors
///
/// [`Error::LengthMismatch`] for `data` and `labels` of different lengths, and
/// [`Error::InvalidInput`] for zero columns or a column count that differs from
/// `expected_features`.
pub(crate) fn check_shape<F: Real>(
    data: &ArrayView2<'_, F>,
    labels: &ArrayView1<'_, i64>,
    expected_features: Option<usize>,
) -> Result<()> {
    let (n_rows, n_features) = data.dim();
    crate::check_same_length("data", n_rows, "labels", labels.len())?;

    if n_features == 0 {
        return Err(Error::invalid_input(
            "data",
            format!("has shape ({n_rows}, 0); pass an (N, d) array with d >= 1 feature columns"),
        ));
    }
    if let Some(expected) = expected_features {
        if n_features != expected && n_rows > 0 {
            return Err(Error::invalid_input(
                "data",
                format!(
                    "has {n_features} feature columns but earlier batches had {expected}; \
                     pass rows with {expected} features or reset the metric"
                ),
            ));
        }
    }
    Ok(())
}

/// Returns [`Error::NonFinite`] for the first NaN or infinity of `rows`, in row-major order. It
/// reads the data once, in parallel.
///
/// # Errors
///
/// [`Error::NonFinite`] naming the first row and column that hold NaN or an infinity.
pub(crate) fn check_finite<F: Real>(rows: &Rows<'_, F>) -> Result<()> {
    let chunk_len = rows_per_chunk(rows.n_features) * rows.n_features;

    let first_bad = rows
        .values
        .par_chunks(chunk_len)
        .enumerate()
        .find_map_first(|(chunk, values)| {
            let offset = values.iter().position(|x| !x.is_finite_value())?;
            Some((chunk * chunk_len + offset, values[offset].to_f64()))
        });

    match first_bad {
        None => Ok(()),
        Some((position, value)) => Err(Error::NonFinite {
            argument: "data".to_owned(),
            location: format!(
                "row {}, column {}",
                position / rows.n_features,
                position % rows.n_features
            ),
            value,
        }),
    }
}

/// Checks that a clustering of `n_samples` rows into `n_clusters` clusters is in the domain of
/// scikit-learn's `check_number_of_labels`: 2 <= `n_clusters` <= `n_samples` - 1.
///
/// # Errors
///
/// [`Error::NotEnoughData`] without samples, [`Error::InvalidInput`] on `labels` otherwise.
pub(crate) fn check_label_count(metric: &str, n_clusters: usize, n_samples: usize) -> Result<()> {
    if n_samples == 0 {
        return Err(Error::not_enough_data(
            metric,
            "no samples; pass at least 3 rows with 2 or more distinct labels",
        ));
    }
    if n_clusters < 2 || n_clusters >= n_samples {
        return Err(Error::invalid_input(
            "labels",
            format!(
                "has {n_clusters} distinct {} for {n_samples} samples, but {metric} needs \
                 between 2 and n_samples - 1 distinct labels; pass more samples or merge or split \
                 clusters",
                if n_clusters == 1 { "label" } else { "labels" }
            ),
        ));
    }
    Ok(())
}

/// Checks that there are at least two clusters, for metrics that accept singleton clusters
/// everywhere.
///
/// # Errors
///
/// [`Error::NotEnoughData`] without samples, [`Error::InvalidInput`] on `labels` for one cluster.
pub(crate) fn check_two_clusters(metric: &str, n_clusters: usize, n_samples: usize) -> Result<()> {
    if n_samples == 0 {
        return Err(Error::not_enough_data(
            metric,
            "no samples; pass at least 2 rows with 2 distinct labels",
        ));
    }
    if n_clusters < 2 {
        return Err(Error::invalid_input(
            "labels",
            format!(
                "has {n_clusters} distinct label for {n_samples} samples, but {metric} needs at \
                 least 2 clusters; pass samples of another cluster"
            ),
        ));
    }
    Ok(())
}

/// Dense cluster indices for arbitrary `i64` labels.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClusterIndex {
    /// Distinct labels in increasing order. Cluster `c` has label `labels[c]`.
    pub labels: Vec<i64>,
    /// Cluster index of each row.
    pub of_row: Vec<u32>,
    /// Number of rows in each cluster.
    pub counts: Vec<u64>,
}

impl ClusterIndex {
    /// Indexes `labels`, numbering clusters by increasing label value.
    ///
    /// A lookup table serves labels whose range is at most a few times the number of rows, and a
    /// sorted list of distinct labels with binary search serves sparse labels such as hashes.
    pub fn new(labels: &ArrayView1<'_, i64>) -> Self {
        let labels = labels.as_standard_layout();
        let labels = labels
            .as_slice()
            .expect("an array in standard layout is contiguous");
        let min = labels.par_iter().copied().min();
        let max = labels.par_iter().copied().max();
        let (Some(min), Some(max)) = (min, max) else {
            return ClusterIndex {
                labels: Vec::new(),
                of_row: Vec::new(),
                counts: Vec::new(),
            };
        };

        // The span fits in u128 for any pair of i64 values.
        let span = (i128::from(max) - i128::from(min)) as u128;
        if span <= 4 * labels.len() as u128 + 1024 {
            Self::from_table(labels, min, span as usize + 1)
        } else {
            Self::from_sorted(labels)
        }
    }

    fn from_table(labels: &[i64], min: i64, table_len: usize) -> Self {
        let offset = |label: i64| (i128::from(label) - i128::from(min)) as usize;
        let mut table = vec![u32::MAX; table_len];
        for &label in labels {
            table[offset(label)] = 0;
        }

        let mut distinct = Vec::new();
        for (slot, entry) in table.iter_mut().enumerate() {
            if *entry == 0 {
                *entry = distinct.len() as u32;
                distinct.push((i128::from(min) + slot as i128) as i64);
            }
        }

        let of_row: Vec<u32> = labels
            .par_iter()
            .map(|&label| table[offset(label)])
            .collect();
        Self::with_counts(distinct, of_row)
    }

    fn from_sorted(labels: &[i64]) -> Self {
        let mut distinct = labels.to_vec();
        distinct.sort_unstable();
        distinct.dedup();

        let of_row: Vec<u32> = labels
            .par_iter()
            .map(|label| {
                // Every label is in `distinct`, so the search finds it.
                distinct.binary_search(label).unwrap_or_default() as u32
            })
            .collect();
        Self::with_counts(distinct, of_row)
    }

    fn with_counts(labels: Vec<i64>, of_row: Vec<u32>) -> Self {
        let mut counts = vec![0u64; labels.len()];
        for &cluster in &of_row {
            counts[cluster as usize] += 1;
        }
        ClusterIndex {
            labels,
            of_row,
            counts,
        }
    }

    /// Number of clusters.
    pub fn n_clusters(&self) -> usize {
        self.labels.len()
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn cluster_index_dense_labels() {
        let index = ClusterIndex::new(&array![5, -2, 5, 7].view());
        assert_eq!(index.labels, vec![-2, 5, 7]);
        assert_eq!(index.of_row, vec![1, 0, 1, 2]);
        assert_eq!(index.counts, vec![1, 2, 1]);
    }

    #[test]
    fn cluster_index_sparse_labels() {
        let index = ClusterIndex::new(&array![i64::MAX, i64::MIN, 0, i64::MAX].view());
        assert_eq!(index.labels, vec![i64::MIN, 0, i64::MAX]);
        assert_eq!(index.of_row, vec![2, 0, 1, 2]);
        assert_eq!(index.counts, vec![1, 1, 2]);
    }

    #[test]
    fn check_batch_names_row_and_column() {
        let data = array![[0.0, 1.0], [2.0, f64::NAN]];
        let error = check_batch(&data.view(), &array![0, 1].view(), None).unwrap_err();
        let Error::NonFinite {
            argument, location, ..
        } = error
        else {
            panic!("expected a NonFinite error, got {error:?}");
        };
        assert_eq!(argument, "data");
        assert_eq!(location, "row 1, column 1");
    }
}
