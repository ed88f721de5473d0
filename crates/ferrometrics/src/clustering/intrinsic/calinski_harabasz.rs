//! The Calinski-Harabasz score (variance ratio criterion).

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use ndarray::{ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use super::geometry::{cluster_moments, total_moments, CompensatedSum, Moments};
use super::validation::{
    check_label_count, check_shape, contiguous, standard_layout, ClusterIndex, Rows,
};
use crate::error::{Error, Result};
use crate::inputs::DataLabels;
use crate::metric::{Input, Metric, MetricInfo};
use crate::numerics::Real;

const NAME: &str = "CalinskiHarabaszScore";

/// Computes the Calinski-Harabasz score of a clustering, as scikit-learn's
/// `calinski_harabasz_score`.
///
/// For `n` rows in `k` clusters with sizes `n_c`, centroids `m_c` and overall mean `m`,
///
/// ```text
/// B = sum_c n_c * |m_c - m|^2                     (between-cluster dispersion)
/// W = sum_c sum_{x in c} |x - m_c|^2              (within-cluster dispersion)
/// CH = (B / (k - 1)) / (W / (n - k))
/// ```
///
/// as scikit-learn 1.9 computes it. When `W = 0` (every row equals its centroid) the score is
/// 1.0, scikit-learn's convention. Higher is better. Values are accumulated in f64 for f32 and f64 input, with one parallel pass over the
/// data whose chunking does not depend on the number of threads.
///
/// # Errors
///
/// - [`Error::LengthMismatch`] if `data` has a different number of rows than `labels`.
/// - [`Error::InvalidInput`] if `data` has no columns, or if the number of distinct labels is
///   not between 2 and `n - 1`.
/// - [`Error::NonFinite`] naming the row and column of the first NaN or infinity.
/// - [`Error::NotEnoughData`] if `data` has no rows.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::calinski_harabasz_score;
/// use ndarray::array;
///
/// let data = array![[0.0, 0.0], [0.0, 2.0], [4.0, 0.0], [4.0, 2.0]];
/// let labels = array![0, 0, 1, 1];
/// // B = 4 * 2^2 = 16, W = 4 * 1^2 = 4, CH = (16 / 1) / (4 / 2) = 8.
/// let score = calinski_harabasz_score(data.view(), labels.view())?;
/// assert!((score - 8.0).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
pub fn calinski_harabasz_score<F: Real>(
    data: ArrayView2<'_, F>,
    labels: ArrayView1<'_, i64>,
) -> Result<f64> {
    check_shape(&data, &labels, None)?;

    let clusters = ClusterIndex::new(&labels);
    check_label_count(NAME, clusters.n_clusters(), labels.len())?;

    let standard = standard_layout(&data);
    let (moments, _) = scaled_cluster_moments(&contiguous(&standard), &clusters)?;
    let total = total_moments(&moments, data.ncols());
    score_from_moments(&moments, &total)
}

/// Binary exponent of the largest magnitude of the data whose squares, and sums of up to 2^64
/// of them, stay finite and normal in f64. Its negation bounds the smallest magnitude.
const SAFE_EXPONENT: i32 = 448;

/// Computes the moments of every cluster of `rows`, of the data times `2^-exponent`, and
/// returns them with `exponent`.
///
/// The exponent is 0 unless a value is so large (beyond about 1e135) that squares would
/// overflow, or every value is so small (below about 1e-135) that squares would underflow. The
/// data is then scaled by a power of two to a maximum magnitude in `[1, 2)`, which is exact, and
/// the score does not change because it is a ratio of sums of squares.
///
/// # Errors
///
/// [`Error::NonFinite`] for the first NaN or infinity of `rows`.
fn scaled_cluster_moments<F: Real>(
    rows: &Rows<'_, F>,
    clusters: &ClusterIndex,
) -> Result<(Vec<Moments>, i32)> {
    let moments = cluster_moments(rows, clusters)?;
    let finite = moments.iter().all(|cluster| {
        cluster.sum_squares.is_finite() && cluster.mean.iter().all(|mean| mean.is_finite())
    });
    // Every row lies within sqrt(sum_squares) of its centroid, so this bounds the data.
    let magnitude = moments
        .iter()
        .flat_map(|cluster| {
            let spread = cluster.sum_squares.sqrt();
            cluster.mean.iter().map(move |mean| mean.abs() + spread)
        })
        .fold(0.0, f64::max);
    let safe_range =
        scale_by_power_of_two(1.0, -SAFE_EXPONENT)..=scale_by_power_of_two(1.0, SAFE_EXPONENT);
    if finite && (magnitude == 0.0 || safe_range.contains(&magnitude)) {
        return Ok((moments, 0));
    }

    // `cluster_moments` found every value finite, so the overflow or underflow came from the
    // squares.
    let largest = rows
        .values
        .iter()
        .map(|value| value.to_f64().abs())
        .fold(0.0, f64::max);
    if largest == 0.0 {
        return Ok((moments, 0));
    }
    let exponent = binary_exponent(largest);
    let scaled: Vec<f64> = rows
        .values
        .iter()
        .map(|value| scale_by_power_of_two(value.to_f64(), -exponent))
        .collect();
    let scaled_rows = Rows {
        values: &scaled,
        n_features: rows.n_features,
    };
    let moments = cluster_moments(&scaled_rows, clusters)?;
    Ok((moments, exponent))
}

/// Returns `e` such that `2^e <= value < 2^(e + 1)` for a finite positive `value`.
fn binary_exponent(value: f64) -> i32 {
    let biased = ((value.to_bits() >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // A subnormal: its exponent is that of its leading bit.
        let leading = 63 - value.to_bits().leading_zeros() as i32;
        leading - 1074
    } else {
        biased - 1023
    }
}

/// Returns `value * 2^exponent`, in steps that keep each factor a normal float, so that only
/// the result can overflow or underflow.
fn scale_by_power_of_two(mut value: f64, mut exponent: i32) -> f64 {
    const STEP: i32 = 1000;
    let power = |exponent: i32| f64::from_bits(((exponent + 1023) as u64) << 52);
    while exponent > STEP {
        value *= power(STEP);
        exponent -= STEP;
    }
    while exponent < -STEP {
        value *= power(-STEP);
        exponent += STEP;
    }
    value * power(exponent)
}

/// Returns `moments` of data times `2^-from` as moments of data times `2^-to`.
fn rescale_moments(moments: &mut Moments, from: i32, to: i32) {
    if from == to {
        return;
    }
    let shift = from - to;
    for mean in &mut moments.mean {
        *mean = scale_by_power_of_two(*mean, shift);
    }
    let sum_squares = scale_by_power_of_two(moments.sum_squares, shift);
    moments.sum_squares = scale_by_power_of_two(sum_squares, shift);
}

/// Computes the score from per-cluster moments and the moments of all rows.
///
/// # Errors
///
/// [`Error::InvalidInput`] if the score is finite in exact arithmetic but above the largest
/// f64, which takes a between-cluster dispersion some 1e300 times the within-cluster one.
fn score_from_moments(clusters: &[Moments], total: &Moments) -> Result<f64> {
    let mut between = CompensatedSum::default();
    let mut within = CompensatedSum::default();
    for cluster in clusters {
        let squared_offset: f64 = cluster
            .mean
            .iter()
            .zip(&total.mean)
            .map(|(center, overall)| (center - overall) * (center - overall))
            .sum();
        between.add(cluster.count as f64 * squared_offset);
        within.add(cluster.sum_squares);
    }

    let within = within.value();
    if within == 0.0 {
        return Ok(1.0);
    }
    let n_samples = total.count as f64;
    let n_clusters = clusters.len() as f64;
    let score = between.value() * (n_samples - n_clusters) / (within * (n_clusters - 1.0));
    if score.is_finite() {
        return Ok(score);
    }
    // The product above can overflow where the score itself does not.
    let score = (between.value() / within) * ((n_samples - n_clusters) / (n_clusters - 1.0));
    if score.is_finite() {
        return Ok(score);
    }
    Err(Error::invalid_input(
        "data",
        format!(
            "the {NAME} of this data exceeds the largest float64 ({:e}), because the \
             between-cluster dispersion is over 1e300 times the within-cluster dispersion",
            f64::MAX
        ),
    ))
}

/// The Calinski-Harabasz score accumulated over batches; see [`calinski_harabasz_score`] for the
/// formula.
///
/// The state is bounded. It keeps, per label, the row count, the centroid and the
/// within-cluster sum of squares, plus the count and mean of all rows. So it takes `O(k * d)`
/// memory for `k` labels and `d` features, whatever the number of rows. Batches and merged states are combined with Chan
/// et al.'s pairwise formulas, which never subtract large sums of squares, so
/// any split of the data gives the one-batch value within about 1e-12 relative.
///
/// # Example
///
/// ```
/// use ferrometrics::clustering::CalinskiHarabaszScore;
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = CalinskiHarabaszScore::<f64>::new();
/// metric.update((array![[0.0, 0.0], [0.0, 2.0]].view(), array![0, 0].view()))?;
/// metric.update((array![[4.0, 0.0], [4.0, 2.0]].view(), array![1, 1].view()))?;
/// assert!((metric.compute()? - 8.0).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct CalinskiHarabaszScore<F: Real = f64> {
    /// Moments of each label's rows.
    clusters: BTreeMap<i64, Moments>,
    /// Moments of all rows, for the overall mean.
    total: Option<Moments>,
    /// The moments are of the data times `2^-scale_exponent`, a power of two that keeps the
    /// squares of very large or very small data finite and normal.
    scale_exponent: i32,
    #[serde(skip)]
    element: PhantomData<fn() -> F>,
}

impl<F: Real> CalinskiHarabaszScore<F> {
    /// Creates the metric with an empty state.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::clustering::CalinskiHarabaszScore;
    /// use ferrometrics::Metric;
    ///
    /// let metric = CalinskiHarabaszScore::<f32>::new();
    /// assert_eq!(metric.info().name, "CalinskiHarabaszScore");
    /// ```
    pub fn new() -> Self {
        CalinskiHarabaszScore {
            clusters: BTreeMap::new(),
            total: None,
            scale_exponent: 0,
            element: PhantomData,
        }
    }
}

impl<F: Real> Default for CalinskiHarabaszScore<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Real> Clone for CalinskiHarabaszScore<F> {
    fn clone(&self) -> Self {
        CalinskiHarabaszScore {
            clusters: self.clusters.clone(),
            total: self.total.clone(),
            scale_exponent: self.scale_exponent,
            element: PhantomData,
        }
    }
}

impl<F: Real> fmt::Debug for CalinskiHarabaszScore<F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct(NAME)
            .field("clusters", &self.clusters)
            .field("total", &self.total)
            .field("scale_exponent", &self.scale_exponent)
            .finish()
    }
}

impl<F: Real> Metric for CalinskiHarabaszScore<F> {
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
        let n_features = self.total.as_ref().map(|total| total.mean.len());
        check_shape(&data, &labels, n_features)?;
        if data.nrows() == 0 {
            return Ok(());
        }

        let clusters = ClusterIndex::new(&labels);
        let standard = standard_layout(&data);
        // Computing the moments also checks finiteness, before the state changes.
        let (mut moments, batch_exponent) =
            scaled_cluster_moments(&contiguous(&standard), &clusters)?;
        let exponent = self.common_exponent(batch_exponent);
        self.rescale(exponent);
        for cluster in &mut moments {
            rescale_moments(cluster, batch_exponent, exponent);
        }
        let batch_total = total_moments(&moments, data.ncols());

        for (label, cluster) in clusters.labels.iter().zip(&moments) {
            self.clusters
                .entry(*label)
                .or_insert_with(|| Moments::empty(data.ncols()))
                .merge(cluster);
        }
        self.total
            .get_or_insert_with(|| Moments::empty(data.ncols()))
            .merge(&batch_total);
        Ok(())
    }

    fn compute(&self) -> Result<f64> {
        let total = self.total.as_ref().ok_or_else(|| {
            Error::not_enough_data(NAME, "no samples; call update with at least 3 rows first")
        })?;
        check_label_count(NAME, self.clusters.len(), total.count as usize)?;

        let clusters: Vec<Moments> = self.clusters.values().cloned().collect();
        score_from_moments(&clusters, total)
    }

    fn reset(&mut self) {
        self.clusters.clear();
        self.total = None;
        self.scale_exponent = 0;
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        if let (Some(ours), Some(theirs)) = (&self.total, &other.total) {
            if ours.mean.len() != theirs.mean.len() {
                return Err(Error::incompatible_state(format!(
                    "cannot merge {NAME} states of rows with {} and {} features",
                    ours.mean.len(),
                    theirs.mean.len()
                )));
            }
        }

        let exponent = self.common_exponent(other.scale_exponent);
        self.rescale(exponent);
        let rescaled = |moments: &Moments| {
            let mut moments = moments.clone();
            rescale_moments(&mut moments, other.scale_exponent, exponent);
            moments
        };
        for (label, cluster) in &other.clusters {
            let cluster = rescaled(cluster);
            match self.clusters.get_mut(label) {
                Some(ours) => ours.merge(&cluster),
                None => {
                    self.clusters.insert(*label, cluster);
                }
            }
        }
        if let Some(theirs) = &other.total {
            let theirs = rescaled(theirs);
            match &mut self.total {
                Some(ours) => ours.merge(&theirs),
                None => self.total = Some(theirs),
            }
        }
        Ok(())
    }
}

impl<F: Real> CalinskiHarabaszScore<F> {
    /// Returns the scale exponent for the state and moments scaled by `2^-incoming`: the larger
    /// of the two, so that the largest values keep their precision, or `incoming` for an empty
    /// state.
    fn common_exponent(&self, incoming: i32) -> i32 {
        if self.total.is_none() {
            incoming
        } else {
            self.scale_exponent.max(incoming)
        }
    }

    /// Rescales the state's moments to data times `2^-exponent`.
    fn rescale(&mut self, exponent: i32) {
        let from = self.scale_exponent;
        for cluster in self.clusters.values_mut() {
            rescale_moments(cluster, from, exponent);
        }
        if let Some(total) = &mut self.total {
            rescale_moments(total, from, exponent);
        }
        self.scale_exponent = exponent;
    }
}
