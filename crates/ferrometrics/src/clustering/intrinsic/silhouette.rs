//! The mean silhouette coefficient, exact or on a seeded sample of rows.

use std::fmt;
use std::marker::PhantomData;

use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::geometry::{has_avx2, CompensatedSum};
use super::stored::StoredRows;
use super::validation::{check_batch, check_label_count, ClusterIndex, Rows};
use crate::error::{Error, Result};
use crate::inputs::DataLabels;
use crate::metric::{check_same_config, Input, Metric, MetricInfo};
use crate::numerics::Real;

const NAME: &str = "SilhouetteScore";

/// Rows whose silhouettes one parallel task computes. Fixed, so that results do not depend on
/// the number of threads.
const ROWS_PER_TASK: usize = 32;

/// Computes the mean silhouette coefficient with the euclidean distance, as scikit-learn's
/// `silhouette_score(data, labels, metric="euclidean")`.
///
/// For row `i` of cluster `A`, let `a(i)` be its mean distance to the other rows of `A` and
/// `b(i)` the smallest mean distance from `i` to the rows of another cluster. Its silhouette is
///
/// ```text
/// s(i) = (b(i) - a(i)) / max(a(i), b(i))
/// ```
///
/// and the score is the mean of `s(i)` over the rows. As in scikit-learn 1.9,
/// rows of singleton clusters get `s(i) = 0`, and so does a row with `a(i) = b(i) = 0`. Higher is
/// better, and the score lies in [-1, 1].
///
/// With `sample_size = None` the score is exact and takes `O(n^2 * d)` time, in parallel blocks
/// whose boundaries do not depend on the number of threads. With `Some(m)` and `m < n`, the
/// score is computed on `m` rows drawn without replacement by a SplitMix64 generator seeded with
/// `seed`. The draw depends only on `n`, `m` and `seed`, but it is not the sample that
/// scikit-learn draws for `random_state = seed`. With `m >= n` every row is used.
///
/// # Errors
///
/// - [`Error::InvalidArgument`] on `sample_size` if it is below 3 (a silhouette needs 2
///   clusters and a cluster of 2 rows).
/// - [`Error::LengthMismatch`] if `data` has a different number of rows than `labels`.
/// - [`Error::InvalidInput`] if `data` has no columns, or if the number of distinct labels among
///   the rows used is not between 2 and their number minus 1.
/// - [`Error::NonFinite`] naming the row and column of the first NaN or infinity.
/// - [`Error::NotEnoughData`] if `data` has no rows.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::silhouette_score;
/// use ndarray::array;
///
/// let data = array![[0.0], [1.0], [4.0]];
/// let labels = array![0, 0, 1];
/// // a = 1 for both rows of cluster 0, b = 4 and 3, and s = 0 for the singleton.
/// let score = silhouette_score(data.view(), labels.view(), None, 0)?;
/// assert!((score - (0.75 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
pub fn silhouette_score<F: Real>(
    data: ArrayView2<'_, F>,
    labels: ArrayView1<'_, i64>,
    sample_size: Option<usize>,
    seed: u64,
) -> Result<f64> {
    check_sample_size(sample_size)?;
    check_batch(&data, &labels, None)?;

    let n_rows = data.nrows();
    let selected: Vec<usize> = match sample_size {
        Some(size) if size < n_rows => sample_without_replacement(n_rows, size, seed),
        _ => (0..n_rows).collect(),
    };

    let n_features = data.ncols();
    let mut values = Vec::with_capacity(selected.len() * n_features);
    let mut selected_labels = Vec::with_capacity(selected.len());
    for &index in &selected {
        values.extend(data.row(index).iter().map(|value| value.to_f64()));
        selected_labels.push(labels[index]);
    }

    rescale_extreme_values(&mut values);

    let clusters = ClusterIndex::new(&ArrayView1::from(&selected_labels[..]));
    check_label_count(NAME, clusters.n_clusters(), selected.len())?;
    Ok(mean_silhouette(&values, n_features, &clusters))
}

/// Divides `values` by a power of two near their largest magnitude when that is above 2^400 or
/// below 2^-400. Squared differences of such values overflow (at 1e308 even the difference does)
/// or lose precision as subnormal numbers, and the silhouette, a ratio of distances, does not
/// change when every feature is scaled by one factor. Dividing by a power of two is exact.
fn rescale_extreme_values(values: &mut [f64]) {
    const LIMIT: i32 = 400;
    let largest = values
        .iter()
        .fold(0.0f64, |largest, value| largest.max(value.abs()));
    if largest == 0.0 || !largest.is_finite() {
        return;
    }
    let exponent = largest.log2().floor() as i32;
    if exponent.abs() <= LIMIT {
        return;
    }
    // Two steps keep each factor a normal double, also for subnormal inputs near 2^-1074.
    let half = -exponent / 2;
    let (first, second) = (2f64.powi(half), 2f64.powi(-exponent - half));
    for value in values.iter_mut() {
        *value = *value * first * second;
    }
}

fn check_sample_size(sample_size: Option<usize>) -> Result<()> {
    match sample_size {
        Some(size) if size < 3 => Err(Error::invalid_argument(
            "sample_size",
            format!(
                "{size} rows cannot form 2 clusters with a silhouette; pass None for the exact \
                 score or a sample size of at least 3"
            ),
        )),
        _ => Ok(()),
    }
}

/// Computes the mean silhouette of rows `values` (row-major, `n_features` per row).
fn mean_silhouette(values: &[f64], n_features: usize, clusters: &ClusterIndex) -> f64 {
    let n_rows = clusters.of_row.len();
    let n_clusters = clusters.n_clusters();

    let mut silhouettes = vec![0.0f64; n_rows];
    silhouettes
        .par_chunks_mut(ROWS_PER_TASK)
        .enumerate()
        .for_each(|(task, out)| {
            let start = task * ROWS_PER_TASK;
            let task_rows = Rows {
                values: &values[start * n_features..(start + out.len()) * n_features],
                n_features,
            };
            let all_rows = Rows { values, n_features };
            let sums = if has_avx2() {
                // SAFETY: the CPU supports AVX2, as checked on the line above.
                unsafe { distance_sums_avx2(&task_rows, &all_rows, clusters) }
            } else {
                distance_sums(&task_rows, &all_rows, clusters)
            };

            for (offset, silhouette) in out.iter_mut().enumerate() {
                let own = clusters.of_row[start + offset] as usize;
                let row_sums = &sums[offset * n_clusters..(offset + 1) * n_clusters];
                *silhouette = row_silhouette(row_sums, &clusters.counts, own);
            }
        });

    CompensatedSum::of(silhouettes) / n_rows as f64
}

/// [`distance_sums`] compiled for AVX2.
///
/// # Safety
///
/// The CPU must support AVX2.
#[cfg_attr(target_arch = "x86_64", target_feature(enable = "avx2"))]
unsafe fn distance_sums_avx2(
    task_rows: &Rows<'_, f64>,
    all_rows: &Rows<'_, f64>,
    clusters: &ClusterIndex,
) -> Vec<CompensatedSum> {
    distance_sums(task_rows, all_rows, clusters)
}

/// Returns, for each row of `task_rows` and each cluster, the sum of euclidean distances from
/// the row to the rows of `all_rows` in that cluster, laid out row after row.
///
/// The task rows are transposed so that one pass over the features of a row of `all_rows`
/// updates the squared distances to all task rows at once, in vector registers. Each sum adds its
/// terms in increasing row order of `all_rows`.
#[inline(always)]
fn distance_sums(
    task_rows: &Rows<'_, f64>,
    all_rows: &Rows<'_, f64>,
    clusters: &ClusterIndex,
) -> Vec<CompensatedSum> {
    let n_clusters = clusters.n_clusters();
    let n_task_rows = task_rows.len();
    let n_features = task_rows.n_features;

    let mut transposed = vec![[0.0f64; ROWS_PER_TASK]; n_features];
    for (offset, row) in task_rows.values.chunks_exact(n_features).enumerate() {
        for (lanes, &value) in transposed.iter_mut().zip(row) {
            lanes[offset] = value;
        }
    }

    let mut sums = vec![CompensatedSum::default(); n_task_rows * n_clusters];
    for (column, &cluster) in clusters.of_row.iter().enumerate() {
        let mut squared = [0.0f64; ROWS_PER_TASK];
        for (&value, task_values) in all_rows.row(column).iter().zip(&transposed) {
            for (total, &task_value) in squared.iter_mut().zip(task_values) {
                let delta = task_value - value;
                *total += delta * delta;
            }
        }

        for (offset, &total) in squared[..n_task_rows].iter().enumerate() {
            sums[offset * n_clusters + cluster as usize].add(total.sqrt());
        }
    }
    sums
}

/// Silhouette of a row from its per-cluster distance sums.
fn row_silhouette(sums: &[CompensatedSum], counts: &[u64], own: usize) -> f64 {
    if counts[own] <= 1 {
        return 0.0;
    }
    let within = sums[own].value() / (counts[own] - 1) as f64;
    let nearest = sums
        .iter()
        .zip(counts)
        .enumerate()
        .filter(|&(cluster, _)| cluster != own)
        .map(|(_, (sum, &count))| sum.value() / count as f64)
        .fold(f64::INFINITY, f64::min);

    let scale = within.max(nearest);
    if scale == 0.0 {
        // Both mean distances are 0: scikit-learn maps the 0/0 to 0.
        return 0.0;
    }
    (nearest - within) / scale
}

/// The SplitMix64 pseudorandom generator: a Weyl sequence passed through a 64-bit mixing
/// function. Small, fast and good enough to pick a sample of rows.
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Returns a uniform integer in `0..bound` without modulo bias, by Lemire's
    /// multiply-and-reject method. `bound` must be positive.
    fn below(&mut self, bound: u64) -> u64 {
        let threshold = bound.wrapping_neg() % bound;
        loop {
            let product = u128::from(self.next_u64()) * u128::from(bound);
            if (product as u64) >= threshold {
                return (product >> 64) as u64;
            }
        }
    }
}

/// Draws `size` distinct indices of `0..n` uniformly (a partial Fisher-Yates shuffle) and
/// returns them in increasing order.
fn sample_without_replacement(n: usize, size: usize, seed: u64) -> Vec<usize> {
    let mut generator = SplitMix64 { state: seed };
    let mut indices: Vec<usize> = (0..n).collect();
    for position in 0..size.min(n) {
        let remaining = (n - position) as u64;
        let pick = position + generator.below(remaining) as usize;
        indices.swap(position, pick);
    }
    indices.truncate(size.min(n));
    indices.sort_unstable();
    indices
}

/// The mean silhouette coefficient accumulated over batches; see [`silhouette_score`] for the
/// formula and the sampling.
///
/// Every silhouette depends on the distances to all rows, so the state keeps every row,
/// converted to f64, and its label (8 * (d + 1) bytes per row). `compute` runs
/// [`silhouette_score`] on them. With a `sample_size`, the sample is drawn from the rows in the
/// order they were added or merged, so states merged in a different order can give a different
/// sample and value.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::SilhouetteScore;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = SilhouetteScore::<f64>::new(None, 0)?;
/// metric.update((array![[0.0], [1.0]].view(), array![0, 0].view()))?;
/// metric.update((array![[4.0]].view(), array![1].view()))?;
/// assert!((metric.compute()? - (0.75 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct SilhouetteScore<F: Real = f64> {
    sample_size: Option<usize>,
    seed: u64,
    rows: StoredRows,
    #[serde(skip)]
    element: PhantomData<fn() -> F>,
}

impl<F: Real> SilhouetteScore<F> {
    /// Creates the metric, exact for `sample_size = None`, else on a sample of that many rows
    /// drawn with `seed`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] on `sample_size` if it is below 3.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::clustering::SilhouetteScore;
    ///
    /// assert!(SilhouetteScore::<f32>::new(Some(1000), 42).is_ok());
    /// assert!(SilhouetteScore::<f32>::new(Some(1), 42).is_err());
    /// ```
    pub fn new(sample_size: Option<usize>, seed: u64) -> Result<Self> {
        check_sample_size(sample_size)?;
        Ok(SilhouetteScore {
            sample_size,
            seed,
            rows: StoredRows::default(),
            element: PhantomData,
        })
    }
}

impl<F: Real> Default for SilhouetteScore<F> {
    /// Creates the metric for the exact score, without sampling.
    fn default() -> Self {
        SilhouetteScore {
            sample_size: None,
            seed: 0,
            rows: StoredRows::default(),
            element: PhantomData,
        }
    }
}

impl<F: Real> Clone for SilhouetteScore<F> {
    fn clone(&self) -> Self {
        SilhouetteScore {
            sample_size: self.sample_size,
            seed: self.seed,
            rows: self.rows.clone(),
            element: PhantomData,
        }
    }
}

impl<F: Real> fmt::Debug for SilhouetteScore<F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct(NAME)
            .field("sample_size", &self.sample_size)
            .field("seed", &self.seed)
            .field("rows", &self.rows)
            .finish()
    }
}

impl<F: Real> Metric for SilhouetteScore<F> {
    type Kind = DataLabels<F>;
    type Output = f64;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: NAME,
            higher_is_better: Some(true),
            is_differentiable: true,
            lower_bound: -1.0,
            upper_bound: 1.0,
        }
    }

    fn update(&mut self, (data, labels): Input<'_, Self>) -> Result<()> {
        self.rows.append(&data, &labels)
    }

    fn compute(&self) -> Result<f64> {
        let (data, labels) = self.rows.views();
        silhouette_score(data, labels, self.sample_size, self.seed)
    }

    fn reset(&mut self) {
        self.rows.clear();
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_config(NAME, "sample_size", &self.sample_size, &other.sample_size)?;
        check_same_config(NAME, "seed", &self.seed, &other.seed)?;
        self.rows.merge(&other.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_is_distinct_sorted_and_seeded() {
        let sample = sample_without_replacement(100, 10, 7);
        assert_eq!(sample.len(), 10);
        assert!(sample.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(sample, sample_without_replacement(100, 10, 7));
        assert_ne!(sample, sample_without_replacement(100, 10, 8));
    }

    #[test]
    fn splitmix_first_output() {
        // Reference first output of SplitMix64 seeded with 0.
        let mut generator = SplitMix64 { state: 0 };
        assert_eq!(generator.next_u64(), 0xE220_A839_7B1D_CDAF);
    }
}
