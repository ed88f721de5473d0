//! The Davies-Bouldin score.

use std::fmt;
use std::marker::PhantomData;

use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::geometry::{cluster_centroids, has_avx2, squared_deviation, CompensatedSum};
use super::stored::StoredRows;
use super::validation::{
    check_label_count, check_shape, contiguous, rows_per_chunk, standard_layout, ClusterIndex, Rows,
};
use crate::error::Result;
use crate::inputs::DataLabels;
use crate::metric::{Input, Metric, MetricInfo};
use crate::numerics::Real;

const NAME: &str = "DaviesBouldinScore";

/// Computes the Davies-Bouldin score of a clustering, as scikit-learn's `davies_bouldin_score`.
///
/// For `k` clusters with centroids `m_c`, let `s_c` be the mean euclidean distance of the rows
/// of cluster `c` to `m_c` and `M_ij = |m_i - m_j|` the distance between two centroids. Then
///
/// ```text
/// DB = (1 / k) * sum_i max_{j != i} (s_i + s_j) / M_ij
/// ```
///
/// as scikit-learn 1.9 computes it. Lower is better, and 0 is the minimum. A pair of
/// coincident centroids (`M_ij = 0`) contributes 0, as in scikit-learn, which replaces zero
/// centroid distances by infinity. scikit-learn also returns 0 when every `s_c` or every
/// `M_ij` is within 1e-8 of 0. Here the formula applies to such small nonzero values too, so
/// data on a scale below about 1e-8 gets its true score.
///
/// For `f32` input, scikit-learn 1.9 computes the distances in float32, so its value can differ
/// from this one by about 1e-6 relative. On the same numbers in `f64` the two agree to 1e-9.
///
/// The computation reads the data twice (centroids, then distances to them) in parallel chunks
/// whose boundaries do not depend on the number of threads, and sums distances with
/// compensation.
///
/// # Errors
///
/// - [`Error::LengthMismatch`](crate::Error::LengthMismatch) if `data` has a different number of
///   rows than `labels`.
/// - [`Error::InvalidInput`](crate::Error::InvalidInput) if `data` has no columns, or if the
///   number of distinct labels is not between 2 and `n - 1`.
/// - [`Error::NonFinite`](crate::Error::NonFinite) naming the row and column of the first NaN or
///   infinity.
/// - [`Error::NotEnoughData`](crate::Error::NotEnoughData) if `data` has no rows.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::davies_bouldin_score;
/// use ndarray::array;
///
/// let data = array![[0.0, 0.0], [0.0, 2.0], [4.0, 0.0], [4.0, 2.0]];
/// let labels = array![0, 0, 1, 1];
/// // s_0 = s_1 = 1 and M_01 = 4, so DB = (1 + 1) / 4.
/// let score = davies_bouldin_score(data.view(), labels.view())?;
/// assert!((score - 0.5).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
pub fn davies_bouldin_score<F: Real>(
    data: ArrayView2<'_, F>,
    labels: ArrayView1<'_, i64>,
) -> Result<f64> {
    check_shape(&data, &labels, None)?;

    let clusters = ClusterIndex::new(&labels);
    check_label_count(NAME, clusters.n_clusters(), labels.len())?;

    let standard = standard_layout(&data);
    let rows = contiguous(&standard);
    let centroids = cluster_centroids(&rows, &clusters)?;

    // Distance of every row to its centroid, computed in parallel and summed per cluster in row
    // order, so the sums do not depend on the number of threads.
    let chunk_rows = rows_per_chunk(rows.n_features);
    let mut distances = vec![0.0f64; rows.len()];
    distances
        .par_chunks_mut(chunk_rows)
        .enumerate()
        .for_each(|(chunk, out)| {
            let start = chunk * chunk_rows;
            if has_avx2() {
                // SAFETY: the CPU supports AVX2, as checked on the line above.
                unsafe { row_distances_avx2(&rows, &centroids, &clusters.of_row, start, out) }
            } else {
                row_distances(&rows, &centroids, &clusters.of_row, start, out)
            }
        });

    let mut spread_sums = vec![CompensatedSum::default(); clusters.n_clusters()];
    for (distance, &cluster) in distances.iter().zip(&clusters.of_row) {
        spread_sums[cluster as usize].add(*distance);
    }
    let spreads: Vec<f64> = spread_sums
        .iter()
        .zip(&clusters.counts)
        .map(|(sum, &count)| sum.value() / count as f64)
        .collect();

    let worst_ratios: Vec<f64> = (0..centroids.len())
        .into_par_iter()
        .map(|i| {
            let mut worst = 0.0f64;
            for j in (0..centroids.len()).filter(|&j| j != i) {
                let separation = squared_deviation(&centroids[i], &centroids[j]).sqrt();
                if separation > 0.0 {
                    worst = worst.max((spreads[i] + spreads[j]) / separation);
                }
            }
            worst
        })
        .collect();

    Ok(CompensatedSum::of(worst_ratios) / centroids.len() as f64)
}

/// [`row_distances`] compiled for AVX2.
///
/// # Safety
///
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn row_distances_avx2<F: Real>(
    rows: &Rows<'_, F>,
    centroids: &[Vec<f64>],
    of_row: &[u32],
    start: usize,
    out: &mut [f64],
) {
    row_distances(rows, centroids, of_row, start, out)
}

/// Writes the euclidean distance of rows `start..start + out.len()` to their centroids.
#[inline(always)]
fn row_distances<F: Real>(
    rows: &Rows<'_, F>,
    centroids: &[Vec<f64>],
    of_row: &[u32],
    start: usize,
    out: &mut [f64],
) {
    for (offset, distance) in out.iter_mut().enumerate() {
        let index = start + offset;
        let centroid = &centroids[of_row[index] as usize];
        *distance = squared_deviation(rows.row(index), centroid).sqrt();
    }
}

/// The Davies-Bouldin score accumulated over batches; see [`davies_bouldin_score`] for the
/// formula. Lower is better.
///
/// The mean distance of a cluster's rows to its centroid changes whenever the centroid moves,
/// so no bounded summary gives the exact value. The state keeps every row, converted to f64,
/// and its label (8 * (d + 1) bytes per row). `compute` runs [`davies_bouldin_score`] on them.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::DaviesBouldinScore;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = DaviesBouldinScore::<f64>::new();
/// metric.update((array![[0.0, 0.0], [0.0, 2.0]].view(), array![0, 0].view()))?;
/// metric.update((array![[4.0, 0.0], [4.0, 2.0]].view(), array![1, 1].view()))?;
/// assert!((metric.compute()? - 0.5).abs() < 1e-12);
/// assert_eq!(metric.info().higher_is_better, Some(false));
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct DaviesBouldinScore<F: Real = f64> {
    rows: StoredRows,
    #[serde(skip)]
    element: PhantomData<fn() -> F>,
}

impl<F: Real> DaviesBouldinScore<F> {
    /// Creates the metric with an empty state.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::clustering::DaviesBouldinScore;
    /// use ferrometrics::Metric;
    ///
    /// let metric = DaviesBouldinScore::<f32>::new();
    /// assert_eq!(metric.info().name, "DaviesBouldinScore");
    /// ```
    pub fn new() -> Self {
        DaviesBouldinScore {
            rows: StoredRows::default(),
            element: PhantomData,
        }
    }
}

impl<F: Real> Default for DaviesBouldinScore<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Real> Clone for DaviesBouldinScore<F> {
    fn clone(&self) -> Self {
        DaviesBouldinScore {
            rows: self.rows.clone(),
            element: PhantomData,
        }
    }
}

impl<F: Real> fmt::Debug for DaviesBouldinScore<F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct(NAME)
            .field("rows", &self.rows)
            .finish()
    }
}

impl<F: Real> Metric for DaviesBouldinScore<F> {
    type Kind = DataLabels<F>;
    type Output = f64;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: NAME,
            higher_is_better: Some(false),
            is_differentiable: true,
            lower_bound: 0.0,
            upper_bound: f64::INFINITY,
        }
    }

    fn update(&mut self, (data, labels): Input<'_, Self>) -> Result<()> {
        self.rows.append(&data, &labels)
    }

    fn compute(&self) -> Result<f64> {
        let (data, labels) = self.rows.views();
        davies_bouldin_score(data, labels)
    }

    fn reset(&mut self) {
        self.rows.clear();
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        self.rows.merge(&other.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn avx2_distances_bit_identical() {
        if !has_avx2() {
            return;
        }
        let values: Vec<f32> = (0..29 * 11)
            .map(|i| ((i * 7919) % 1000) as f32 * 0.37)
            .collect();
        let rows = Rows {
            values: &values,
            n_features: 11,
        };
        let centroids = vec![vec![1.5; 11], vec![-20.25; 11]];
        let of_row: Vec<u32> = (0..29).map(|i| i % 2).collect();
        let mut portable = vec![0.0; 20];
        let mut wide = vec![0.0; 20];
        row_distances(&rows, &centroids, &of_row, 9, &mut portable);
        // SAFETY: the CPU supports AVX2, as checked above.
        unsafe { row_distances_avx2(&rows, &centroids, &of_row, 9, &mut wide) };
        assert_eq!(portable, wide);
    }
}
