//! Cluster moments (count, centroid, within-cluster sum of squares) accumulated in parallel in
//! a fixed order, compensated sums and Minkowski distances.

pub(crate) use crate::numerics::has_avx2;
use std::ops::Range;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::validation::{check_finite, rows_per_chunk, ClusterIndex, Rows};
use crate::error::{Error, Result};
use crate::numerics::Real;

/// Bytes of chunk summaries computed in parallel before they are folded into the running
/// totals. It bounds the memory held by summaries, and a wave of many chunks keeps every thread
/// busy between two folds.
const WAVE_BYTES: usize = 32 << 20;

/// Count, mean and sum of squared deviations from the mean of a set of rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Moments {
    /// Number of rows.
    pub count: u64,
    /// Mean of the rows (the centroid), one value per feature.
    pub mean: Vec<f64>,
    /// Sum over rows of the squared euclidean distance to `mean`.
    pub sum_squares: f64,
}

impl Moments {
    /// Moments of no rows with `n_features` features.
    pub fn empty(n_features: usize) -> Self {
        Moments {
            count: 0,
            mean: vec![0.0; n_features],
            sum_squares: 0.0,
        }
    }

    /// Folds `other` into `self` with Chan et al.'s pairwise update. For counts a and b and
    /// mean difference delta, the merged mean is
    /// `mean_a + delta * b / (a + b)` and the merged sum of squares is
    /// `ss_a + ss_b + |delta|^2 * a * b / (a + b)`. It never subtracts large sums of squares.
    pub fn merge(&mut self, other: &Moments) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            self.clone_from(other);
            return;
        }

        let count_a = self.count as f64;
        let count_b = other.count as f64;
        let total = count_a + count_b;
        let weight_b = count_b / total;

        let mut delta_squared = 0.0;
        for (mean, &other_mean) in self.mean.iter_mut().zip(&other.mean) {
            let delta = other_mean - *mean;
            delta_squared += delta * delta;
            *mean += delta * weight_b;
        }

        self.sum_squares += other.sum_squares + delta_squared * count_a * weight_b;
        self.count += other.count;
    }
}

/// Computes the moments of every cluster of `rows`, indexed like `clusters`, and checks that
/// every value is finite.
///
/// # Errors
///
/// [`Error::NonFinite`] for the first NaN or infinity of `rows`.
pub(crate) fn cluster_moments<F: Real>(
    rows: &Rows<'_, F>,
    clusters: &ClusterIndex,
) -> Result<Vec<Moments>> {
    let moments = accumulate_moments(rows, clusters, true);
    ensure_finite(rows, &moments)?;
    Ok(moments)
}

/// Computes the centroid of every cluster of `rows`, indexed like `clusters`, and checks that
/// every value is finite.
///
/// # Errors
///
/// [`Error::NonFinite`] for the first NaN or infinity of `rows`.
pub(crate) fn cluster_centroids<F: Real>(
    rows: &Rows<'_, F>,
    clusters: &ClusterIndex,
) -> Result<Vec<Vec<f64>>> {
    let moments = accumulate_moments(rows, clusters, false);
    ensure_finite(rows, &moments)?;
    Ok(moments.into_iter().map(|moments| moments.mean).collect())
}

/// Checks finiteness from the moments, so that the data is read once for both. A NaN or an
/// infinity in the data always makes a mean or a sum of squares non-finite, and only then is
/// the data scanned again to locate the first bad value.
///
/// NOTE: finite f64 data beyond about 1e154 in magnitude overflows the sums of squares. The scan
/// then finds no bad value. `CalinskiHarabaszScore` rescales such data by a power of two, and
/// the other metrics return an infinite or NaN score.
fn ensure_finite<F: Real>(rows: &Rows<'_, F>, moments: &[Moments]) -> Result<()> {
    let finite = moments.iter().all(|moments| {
        moments.sum_squares.is_finite() && moments.mean.iter().all(|mean| mean.is_finite())
    });
    if finite {
        return Ok(());
    }
    check_finite(rows)
}

/// Accumulates the moments of every cluster, with sums of squares if `with_sum_squares`.
///
/// The rows are cut into chunks whose size depends only on the number of features. Each chunk
/// computes, per cluster present in it, the sum, the mean and then the squared deviations from
/// that chunk mean (two passes over a chunk that sits in cache). Chunk moments are folded into
/// the totals with [`Moments::merge`] in chunk order, so the result does not depend on the number
/// of threads.
fn accumulate_moments<F: Real>(
    rows: &Rows<'_, F>,
    clusters: &ClusterIndex,
    with_sum_squares: bool,
) -> Vec<Moments> {
    let n_features = rows.n_features;
    let n_clusters = clusters.n_clusters();
    let chunk_rows = rows_per_chunk(n_features);
    let n_rows = rows.len();
    let n_chunks = n_rows.div_ceil(chunk_rows);

    // A chunk summary contains at most one mean per cluster present in the chunk.
    let summary_bytes = n_clusters.min(chunk_rows) * n_features * size_of::<f64>();
    let chunks_per_wave = (WAVE_BYTES / summary_bytes.max(1)).max(16);

    let mut totals = vec![Moments::empty(n_features); n_clusters];
    let mut wave_start = 0;
    while wave_start < n_chunks {
        let wave_end = (wave_start + chunks_per_wave).min(n_chunks);
        let summaries: Vec<Vec<(u32, Moments)>> = (wave_start..wave_end)
            .into_par_iter()
            .map(|chunk| {
                let start = chunk * chunk_rows;
                let end = (start + chunk_rows).min(n_rows);
                let of_row = &clusters.of_row;
                if n_clusters <= end - start {
                    if has_avx2() {
                        // SAFETY: the CPU supports AVX2, as checked on the line above.
                        unsafe {
                            dense_chunk_moments_avx2(
                                rows,
                                of_row,
                                n_clusters,
                                start..end,
                                with_sum_squares,
                            )
                        }
                    } else {
                        dense_chunk_moments(rows, of_row, n_clusters, start..end, with_sum_squares)
                    }
                } else {
                    sparse_chunk_moments(rows, of_row, start..end, with_sum_squares)
                }
            })
            .collect();

        for summary in &summaries {
            for (cluster, moments) in summary {
                totals[*cluster as usize].merge(moments);
            }
        }
        wave_start = wave_end;
    }
    totals
}

/// [`dense_chunk_moments`] compiled for AVX2.
///
/// # Safety
///
/// The CPU must support AVX2.
#[cfg_attr(target_arch = "x86_64", target_feature(enable = "avx2"))]
unsafe fn dense_chunk_moments_avx2<F: Real>(
    rows: &Rows<'_, F>,
    of_row: &[u32],
    n_clusters: usize,
    range: Range<usize>,
    with_sum_squares: bool,
) -> Vec<(u32, Moments)> {
    dense_chunk_moments(rows, of_row, n_clusters, range, with_sum_squares)
}

/// Moments of the clusters present in rows `range`, in increasing cluster order, with one
/// accumulator per cluster, for few clusters.
#[inline(always)]
fn dense_chunk_moments<F: Real>(
    rows: &Rows<'_, F>,
    of_row: &[u32],
    n_clusters: usize,
    range: Range<usize>,
    with_sum_squares: bool,
) -> Vec<(u32, Moments)> {
    let (start, end) = (range.start, range.end);
    let n_features = rows.n_features;
    let mut counts = vec![0u64; n_clusters];
    let mut means = vec![0.0f64; n_clusters * n_features];
    for (index, &cluster) in (start..end).zip(&of_row[start..end]) {
        let cluster = cluster as usize;
        counts[cluster] += 1;
        let sum = &mut means[cluster * n_features..(cluster + 1) * n_features];
        for (total, &value) in sum.iter_mut().zip(rows.row(index)) {
            *total += value.to_f64();
        }
    }

    for (cluster, &count) in counts.iter().enumerate() {
        if count > 0 {
            let mean = &mut means[cluster * n_features..(cluster + 1) * n_features];
            mean.iter_mut().for_each(|total| *total /= count as f64);
        }
    }

    let mut sum_squares = vec![0.0f64; n_clusters];
    let squared_rows = if with_sum_squares {
        start..end
    } else {
        start..start
    };
    for (index, &cluster) in squared_rows.clone().zip(&of_row[squared_rows]) {
        let cluster = cluster as usize;
        let mean = &means[cluster * n_features..(cluster + 1) * n_features];
        sum_squares[cluster] += squared_deviation(rows.row(index), mean);
    }

    counts
        .iter()
        .enumerate()
        .filter(|(_, &count)| count > 0)
        .map(|(cluster, &count)| {
            let mean = means[cluster * n_features..(cluster + 1) * n_features].to_vec();
            let moments = Moments {
                count,
                mean,
                sum_squares: sum_squares[cluster],
            };
            (cluster as u32, moments)
        })
        .collect()
}

/// Moments of the clusters present in rows `range` after grouping the rows by cluster, for many
/// clusters. Rows of one cluster are visited in increasing order, as in
/// [`dense_chunk_moments`], so both paths give identical values.
fn sparse_chunk_moments<F: Real>(
    rows: &Rows<'_, F>,
    of_row: &[u32],
    range: Range<usize>,
    with_sum_squares: bool,
) -> Vec<(u32, Moments)> {
    let mut order: Vec<(u32, usize)> = range.map(|index| (of_row[index], index)).collect();
    order.sort_unstable();

    let mut summary = Vec::new();
    for group in order.chunk_by(|a, b| a.0 == b.0) {
        let mut mean = vec![0.0f64; rows.n_features];
        for &(_, index) in group {
            for (total, &value) in mean.iter_mut().zip(rows.row(index)) {
                *total += value.to_f64();
            }
        }
        let count = group.len() as f64;
        mean.iter_mut().for_each(|total| *total /= count);

        let mut sum_squares = 0.0;
        if with_sum_squares {
            for &(_, index) in group {
                sum_squares += squared_deviation(rows.row(index), &mean);
            }
        }
        let moments = Moments {
            count: group.len() as u64,
            mean,
            sum_squares,
        };
        summary.push((group[0].0, moments));
    }
    summary
}

/// Squared euclidean distance between two points.
///
/// Eight partial sums, added in a fixed order at the end, break the dependency chain of one
/// running sum so that the loop vectorizes.
#[inline(always)]
pub(crate) fn squared_deviation<F: Real, G: Real>(row: &[F], center: &[G]) -> f64 {
    let mut lanes = [0.0f64; LANES];
    let row_blocks = row.chunks_exact(LANES);
    let center_blocks = center.chunks_exact(LANES);
    let mut tail = 0.0;
    for (&value, &center) in row_blocks.remainder().iter().zip(center_blocks.remainder()) {
        let delta = value.to_f64() - center.to_f64();
        tail += delta * delta;
    }

    for (values, centers) in row_blocks.zip(center_blocks) {
        for ((lane, &value), &center) in lanes.iter_mut().zip(values).zip(centers) {
            let delta = value.to_f64() - center.to_f64();
            *lane += delta * delta;
        }
    }
    lanes.iter().sum::<f64>() + tail
}

/// Number of partial sums in [`squared_deviation`].
const LANES: usize = 8;

/// Folds the moments of all clusters, in cluster order, into the moments of the whole data set.
pub(crate) fn total_moments(clusters: &[Moments], n_features: usize) -> Moments {
    let mut total = Moments::empty(n_features);
    for moments in clusters {
        total.merge(moments);
    }
    total
}

/// A sum with Neumaier's compensation, whose error does not grow with the number of terms.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    /// Adds one term.
    #[inline(always)]
    pub fn add(&mut self, value: f64) {
        let sum = self.sum + value;
        if self.sum.abs() >= value.abs() {
            self.compensation += (self.sum - sum) + value;
        } else {
            self.compensation += (value - sum) + self.sum;
        }
        self.sum = sum;
    }

    /// Returns the compensated total.
    pub fn value(&self) -> f64 {
        self.sum + self.compensation
    }

    /// Sums `values` in order.
    pub fn of(values: impl IntoIterator<Item = f64>) -> f64 {
        let mut sum = CompensatedSum::default();
        values.into_iter().for_each(|value| sum.add(value));
        sum.value()
    }
}

/// The Minkowski distance `(sum_i |x_i - y_i|^p)^(1/p)` for `p >= 1`, and for `p = inf` the
/// Chebyshev distance `max_i |x_i - y_i|`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Minkowski {
    Manhattan,
    Euclidean,
    Chebyshev,
    General(f64),
}

impl Minkowski {
    /// Checks `p` and picks the distance. `p` must be finite and at least 1, or `+inf`, because
    /// smaller `p` do not define a norm (the triangle inequality fails).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] on `p` for NaN, `p < 1` and `-inf`.
    pub fn new(p: f64) -> Result<Self> {
        if p.is_nan() || p < 1.0 {
            return Err(Error::invalid_argument(
                "p",
                format!(
                    "{p} is not a valid Minkowski norm order; pass a finite p >= 1 or infinity"
                ),
            ));
        }
        let distance = if p == 1.0 {
            Minkowski::Manhattan
        } else if p == 2.0 {
            Minkowski::Euclidean
        } else if p == f64::INFINITY {
            Minkowski::Chebyshev
        } else {
            Minkowski::General(p)
        };
        Ok(distance)
    }

    /// Returns a monotone transform of the distance between `row` and `center` (the sum of
    /// `|x_i - y_i|^p`, or the max for `p = inf`). Comparing reduced values orders distances
    /// the same way, and [`Minkowski::finish`] turns a reduced value into the distance.
    #[inline(always)]
    pub fn reduced<F: Real, G: Real>(&self, row: &[F], center: &[G]) -> f64 {
        let deltas = || {
            row.iter()
                .zip(center)
                .map(|(&x, &y)| (x.to_f64() - y.to_f64()).abs())
        };
        match *self {
            Minkowski::Manhattan => deltas().sum(),
            Minkowski::Euclidean => squared_deviation(row, center),
            Minkowski::Chebyshev => deltas().fold(0.0, f64::max),
            Minkowski::General(p) => deltas().map(|delta| delta.powf(p)).sum(),
        }
    }

    /// Turns a value of [`Minkowski::reduced`] into the distance.
    pub fn finish(&self, reduced: f64) -> f64 {
        match *self {
            Minkowski::Manhattan | Minkowski::Chebyshev => reduced,
            Minkowski::Euclidean => reduced.sqrt(),
            Minkowski::General(p) => reduced.powf(1.0 / p),
        }
    }

    /// Returns the distance between `row` and `center`.
    #[cfg(test)]
    pub fn distance<F: Real, G: Real>(&self, row: &[F], center: &[G]) -> f64 {
        self.finish(self.reduced(row, center))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_merge_matches_direct() {
        let mut left = Moments {
            count: 2,
            mean: vec![1.0],
            sum_squares: 2.0,
        };
        let right = Moments {
            count: 1,
            mean: vec![4.0],
            sum_squares: 0.0,
        };
        // Rows 0, 2 and 4: mean 2, squared deviations 4 + 0 + 4.
        left.merge(&right);
        assert_eq!(left.count, 3);
        assert!((left.mean[0] - 2.0).abs() < 1e-15);
        assert!((left.sum_squares - 8.0).abs() < 1e-15);
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn avx2_moments_bit_identical() {
        if !has_avx2() {
            return;
        }
        let values: Vec<f32> = (0..37 * 13)
            .map(|i| ((i * 7919) % 1000) as f32 * 0.37)
            .collect();
        let rows = Rows {
            values: &values,
            n_features: 13,
        };
        let of_row: Vec<u32> = (0..37).map(|i| (i * 5) % 3).collect();
        let portable = dense_chunk_moments(&rows, &of_row, 3, 2..37, true);
        // SAFETY: the CPU supports AVX2, as checked above.
        let wide = unsafe { dense_chunk_moments_avx2(&rows, &of_row, 3, 2..37, true) };
        assert_eq!(portable, wide);
    }

    #[test]
    fn minkowski_rejects_small_p() {
        assert!(Minkowski::new(0.5).is_err());
        assert!(Minkowski::new(f64::NAN).is_err());
        assert!(Minkowski::new(f64::NEG_INFINITY).is_err());
        assert_eq!(Minkowski::new(f64::INFINITY), Ok(Minkowski::Chebyshev));
    }

    #[test]
    fn minkowski_distances() {
        let x = [0.0f64, 0.0];
        let y = [3.0f64, 4.0];
        assert_eq!(Minkowski::new(1.0).unwrap().distance(&x, &y), 7.0);
        assert_eq!(Minkowski::new(2.0).unwrap().distance(&x, &y), 5.0);
        assert_eq!(Minkowski::new(f64::INFINITY).unwrap().distance(&x, &y), 4.0);
        let cubic = Minkowski::new(3.0).unwrap().distance(&x, &y);
        assert!((cubic - 91f64.powf(1.0 / 3.0)).abs() < 1e-12);
    }
}
