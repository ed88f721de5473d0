//! The Davies-Bouldin score.

use std::fmt;
use std::marker::PhantomData;

use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::geometry::{cluster_moments, squared_deviation, CompensatedSum};
use super::stored::StoredRows;
use super::validation::{
    check_batch, check_label_count, contiguous, rows_per_chunk, standard_layout, ClusterIndex,
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
/// from Davies and Bouldin, "A cluster separation measure" (1979). Lower is better, and 0 is
/// the minimum. A pair of coincident centroids (`M_ij = 0`) contributes 0, as in scikit-learn,
/// which replaces zero centroid distances by infinity.
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
    check_batch(&data, &labels, None)?;

    let clusters = ClusterIndex::new(&labels);
    check_label_count(NAME, clusters.n_clusters(), labels.len())?;

    let standard = standard_layout(&data);
    let rows = contiguous(&standard);
    let centroids: Vec<Vec<f64>> = cluster_moments(&rows, &clusters)
        .into_iter()
        .map(|moments| moments.mean)
        .collect();

    // Distance of every row to its centroid, computed in parallel and summed per cluster in row
    // order, so the sums do not depend on the number of threads.
    let chunk_rows = rows_per_chunk(rows.n_features);
    let mut distances = vec![0.0f64; rows.len()];
    distances
        .par_chunks_mut(chunk_rows)
        .enumerate()
        .for_each(|(chunk, out)| {
            for (offset, distance) in out.iter_mut().enumerate() {
                let index = chunk * chunk_rows + offset;
                let centroid = &centroids[clusters.of_row[index] as usize];
                *distance = squared_deviation(rows.row(index), centroid).sqrt();
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

/// The Davies-Bouldin score accumulated over batches; see [`davies_bouldin_score`] for the
/// formula. Lower is better.
///
/// The mean distance of a cluster's rows to its centroid changes whenever the centroid moves,
/// so no bounded summary gives the exact value: the state keeps every row, converted to f64,
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
