//! The Dunn index, in TorchMetrics' centroid form and in Dunn's original pairwise form.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;
use std::str::FromStr;

use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::geometry::{cluster_centroids, has_avx2, Minkowski};
use super::stored::StoredRows;
use super::validation::{
    check_finite, check_shape, check_two_clusters, contiguous, rows_per_chunk, standard_layout,
    ClusterIndex, Rows,
};
use crate::error::{Error, Result};
use crate::inputs::DataLabels;
use crate::metric::{check_same_setting, Input, Metric, MetricInfo};
use crate::numerics::Real;

const NAME: &str = "DunnIndex";

/// Rows per parallel task in the pairwise definition, whose cost per row grows with `n`.
const PAIRWISE_ROWS_PER_TASK: usize = 64;

/// The pair of distances that the Dunn index compares.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::DunnDefinition;
///
/// let definition: DunnDefinition = "pairwise".parse()?;
/// assert_eq!(definition, DunnDefinition::Pairwise);
/// assert_eq!(definition.to_string(), "pairwise");
/// assert_eq!(DunnDefinition::default(), DunnDefinition::Centroid);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DunnDefinition {
    /// TorchMetrics' definition: the minimum distance between two centroids over the maximum
    /// distance of a row to its own centroid. `O(n * d + k^2 * d)` time.
    #[default]
    Centroid,
    /// Dunn's original definition: the minimum distance between two rows of different clusters
    /// over the largest cluster diameter (the maximum distance between two rows of one cluster).
    /// `O(n^2 * d)` time.
    Pairwise,
}

impl fmt::Display for DunnDefinition {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            DunnDefinition::Centroid => "centroid",
            DunnDefinition::Pairwise => "pairwise",
        })
    }
}

impl FromStr for DunnDefinition {
    type Err = Error;

    /// Parses `"centroid"` or `"pairwise"`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] on `definition` for any other string.
    fn from_str(text: &str) -> Result<Self> {
        match text {
            "centroid" => Ok(DunnDefinition::Centroid),
            "pairwise" => Ok(DunnDefinition::Pairwise),
            _ => Err(Error::invalid_argument(
                "definition",
                format!(
                    "{text:?} is not a Dunn index definition; pass \"centroid\" or \"pairwise\""
                ),
            )),
        }
    }
}

/// Computes the Dunn index of a clustering with the Minkowski distance of order `p`.
///
/// With `d_p` the Minkowski distance `(sum_i |x_i - y_i|^p)^(1/p)` (the Chebyshev distance
/// `max_i |x_i - y_i|` for `p = inf`):
///
/// - [`DunnDefinition::Centroid`], TorchMetrics' `dunn_index`: for centroids `m_c`,
///   `DI = min_{i < j} d_p(m_i, m_j) / max_c max_{x in c} d_p(x, m_c)`.
/// - [`DunnDefinition::Pairwise`], Dunn's original definition:
///   `DI = min_{x, y in different clusters} d_p(x, y) / max_c max_{x, y in c} d_p(x, y)`. It
///   compares every pair of rows, in `O(n^2 * d)` time.
///
/// Higher is better. When the denominator is 0 (every cluster is a single point), the index is
/// infinite if the numerator is positive, and 0 if it is 0 too (all rows coincide). Singleton
/// clusters are allowed. Minima and maxima are exact, so the result does not depend on the
/// number of threads.
///
/// # Errors
///
/// - [`Error::InvalidArgument`] if `p` is NaN or below 1 (the Minkowski distance is a norm only
///   for `p >= 1`; `f64::INFINITY` is accepted).
/// - [`Error::LengthMismatch`] if `data` has a different number of rows than `labels`.
/// - [`Error::InvalidInput`] if `data` has no columns or `labels` has fewer than 2 distinct
///   values.
/// - [`Error::NonFinite`] naming the row and column of the first NaN or infinity.
/// - [`Error::NotEnoughData`] if `data` has no rows.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::{dunn_index, DunnDefinition};
/// use ndarray::array;
///
/// let data = array![[0.0, 0.0], [0.5, 0.0], [1.0, 0.0], [0.5, 1.0]];
/// let labels = array![0, 0, 0, 1];
/// let centroid = dunn_index(data.view(), labels.view(), 2.0, DunnDefinition::Centroid)?;
/// assert!((centroid - 2.0).abs() < 1e-12);
/// let pairwise = dunn_index(data.view(), labels.view(), 2.0, DunnDefinition::Pairwise)?;
/// assert!((pairwise - 1.0).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
pub fn dunn_index<F: Real>(
    data: ArrayView2<'_, F>,
    labels: ArrayView1<'_, i64>,
    p: f64,
    definition: DunnDefinition,
) -> Result<f64> {
    let distance = Minkowski::new(p)?;
    check_shape(&data, &labels, None)?;

    let clusters = ClusterIndex::new(&labels);
    check_two_clusters(NAME, clusters.n_clusters(), labels.len())?;

    let standard = standard_layout(&data);
    let rows = contiguous(&standard);
    let (separation, spread) = match definition {
        DunnDefinition::Centroid => centroid_extremes(&rows, &clusters, distance)?,
        DunnDefinition::Pairwise => {
            check_finite(&rows)?;
            pairwise_extremes(&rows, &clusters, distance)
        }
    };
    Ok(ratio(separation, spread))
}

/// Divides the separation by the spread, with 0/0 = 0 and x/0 = infinity for x > 0.
fn ratio(separation: f64, spread: f64) -> f64 {
    if spread > 0.0 {
        separation / spread
    } else if separation > 0.0 {
        f64::INFINITY
    } else {
        0.0
    }
}

/// Returns the minimum distance between two centroids and the maximum distance of a row to its
/// centroid.
fn centroid_extremes<F: Real>(
    rows: &Rows<'_, F>,
    clusters: &ClusterIndex,
    distance: Minkowski,
) -> Result<(f64, f64)> {
    let centroids = cluster_centroids(rows, clusters)?;

    let mut separation = f64::INFINITY;
    for (i, first) in centroids.iter().enumerate() {
        for second in &centroids[i + 1..] {
            separation = separation.min(distance.reduced(first, second));
        }
    }

    let chunk_rows = rows_per_chunk(rows.n_features);
    let spread = (0..rows.len().div_ceil(chunk_rows))
        .into_par_iter()
        .map(|chunk| {
            let start = chunk * chunk_rows;
            let end = (start + chunk_rows).min(rows.len());
            (start..end)
                .map(|index| {
                    let centroid = &centroids[clusters.of_row[index] as usize];
                    distance.reduced(rows.row(index), centroid)
                })
                .fold(0.0, f64::max)
        })
        .reduce(|| 0.0, f64::max);

    Ok((distance.finish(separation), distance.finish(spread)))
}

/// Returns the minimum distance between rows of different clusters and the maximum distance
/// between rows of the same cluster.
fn pairwise_extremes<F: Real>(
    rows: &Rows<'_, F>,
    clusters: &ClusterIndex,
    distance: Minkowski,
) -> (f64, f64) {
    let n_rows = rows.len();
    let (separation, diameter) = (0..n_rows.div_ceil(PAIRWISE_ROWS_PER_TASK))
        .into_par_iter()
        .map(|task| {
            let start = task * PAIRWISE_ROWS_PER_TASK;
            let end = (start + PAIRWISE_ROWS_PER_TASK).min(n_rows);
            if has_avx2() {
                // SAFETY: the CPU supports AVX2, as checked on the line above.
                unsafe { pairwise_task_avx2(rows, &clusters.of_row, distance, start..end) }
            } else {
                pairwise_task(rows, &clusters.of_row, distance, start..end)
            }
        })
        .reduce(
            || (f64::INFINITY, 0.0),
            |(sep_a, diam_a), (sep_b, diam_b)| (sep_a.min(sep_b), diam_a.max(diam_b)),
        );

    (distance.finish(separation), distance.finish(diameter))
}

/// [`pairwise_task`] compiled for AVX2.
///
/// # Safety
///
/// The CPU must support AVX2.
#[cfg_attr(target_arch = "x86_64", target_feature(enable = "avx2"))]
unsafe fn pairwise_task_avx2<F: Real>(
    rows: &Rows<'_, F>,
    of_row: &[u32],
    distance: Minkowski,
    range: Range<usize>,
) -> (f64, f64) {
    pairwise_task(rows, of_row, distance, range)
}

/// Returns the minimum reduced distance between a row of `range` and a later row of another
/// cluster, and the maximum between a row of `range` and a later row of its cluster.
#[inline(always)]
fn pairwise_task<F: Real>(
    rows: &Rows<'_, F>,
    of_row: &[u32],
    distance: Minkowski,
    range: Range<usize>,
) -> (f64, f64) {
    let mut separation = f64::INFINITY;
    let mut diameter = 0.0f64;
    for i in range {
        let first = rows.row(i);
        let cluster = of_row[i];
        for (j, &other_cluster) in of_row.iter().enumerate().skip(i + 1) {
            let reduced = distance.reduced(first, rows.row(j));
            if other_cluster == cluster {
                diameter = diameter.max(reduced);
            } else {
                separation = separation.min(reduced);
            }
        }
    }
    (separation, diameter)
}

/// The Dunn index accumulated over batches; see [`dunn_index`] for both definitions.
///
/// The centroids, and so every distance to them, depend on all rows, so the state keeps every
/// row, converted to f64, and its label (8 * (d + 1) bytes per row). `compute` runs
/// [`dunn_index`] on them; with [`DunnDefinition::Pairwise`] it takes `O(n^2 * d)` time.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::{DunnDefinition, DunnIndex};
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = DunnIndex::<f64>::new(2.0, DunnDefinition::Centroid)?;
/// metric.update((array![[0.0, 0.0], [0.5, 0.0]].view(), array![0, 0].view()))?;
/// metric.update((array![[1.0, 0.0], [0.5, 1.0]].view(), array![0, 1].view()))?;
/// assert!((metric.compute()? - 2.0).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct DunnIndex<F: Real = f64> {
    p: f64,
    definition: DunnDefinition,
    rows: StoredRows,
    #[serde(skip)]
    element: PhantomData<fn() -> F>,
}

impl<F: Real> DunnIndex<F> {
    /// Creates the metric for the Minkowski distance of order `p` (TorchMetrics' default is 2)
    /// and the given definition.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] on `p` if it is NaN or below 1; `f64::INFINITY` (Chebyshev
    /// distance) is accepted.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::clustering::{DunnDefinition, DunnIndex};
    ///
    /// assert!(DunnIndex::<f32>::new(1.0, DunnDefinition::Pairwise).is_ok());
    /// assert!(DunnIndex::<f32>::new(0.5, DunnDefinition::Centroid).is_err());
    /// ```
    pub fn new(p: f64, definition: DunnDefinition) -> Result<Self> {
        Minkowski::new(p)?;
        Ok(DunnIndex {
            p,
            definition,
            rows: StoredRows::default(),
            element: PhantomData,
        })
    }

    /// Returns the order of the Minkowski distance.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::clustering::DunnIndex;
    ///
    /// assert_eq!(DunnIndex::<f64>::default().p(), 2.0);
    /// ```
    pub fn p(&self) -> f64 {
        self.p
    }

    /// Returns the definition in use.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::clustering::{DunnDefinition, DunnIndex};
    ///
    /// assert_eq!(DunnIndex::<f64>::default().definition(), DunnDefinition::Centroid);
    /// ```
    pub fn definition(&self) -> DunnDefinition {
        self.definition
    }
}

impl<F: Real> Default for DunnIndex<F> {
    /// Creates the metric with TorchMetrics' defaults: `p = 2` and the centroid definition.
    fn default() -> Self {
        DunnIndex {
            p: 2.0,
            definition: DunnDefinition::Centroid,
            rows: StoredRows::default(),
            element: PhantomData,
        }
    }
}

impl<F: Real> Clone for DunnIndex<F> {
    fn clone(&self) -> Self {
        DunnIndex {
            p: self.p,
            definition: self.definition,
            rows: self.rows.clone(),
            element: PhantomData,
        }
    }
}

impl<F: Real> fmt::Debug for DunnIndex<F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct(NAME)
            .field("p", &self.p)
            .field("definition", &self.definition)
            .field("rows", &self.rows)
            .finish()
    }
}

impl<F: Real> Metric for DunnIndex<F> {
    type Kind = DataLabels<F>;
    type Output = f64;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: NAME,
            higher_is_better: Some(true),
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
        dunn_index(data, labels, self.p, self.definition)
    }

    fn reset(&mut self) {
        self.rows.clear();
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_setting(NAME, "p", &self.p, &other.p)?;
        check_same_setting(NAME, "definition", &self.definition, &other.definition)?;
        self.rows.merge(&other.rows)
    }
}
