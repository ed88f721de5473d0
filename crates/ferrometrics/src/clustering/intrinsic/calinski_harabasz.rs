//! The Calinski-Harabasz score (variance ratio criterion).

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use ndarray::{ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use super::geometry::{cluster_moments, total_moments, CompensatedSum, Moments};
use super::validation::{
    check_label_count, check_shape, contiguous, standard_layout, ClusterIndex,
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
    let moments = cluster_moments(&contiguous(&standard), &clusters)?;
    let total = total_moments(&moments, data.ncols());
    Ok(score_from_moments(&moments, &total))
}

/// Computes the score from per-cluster moments and the moments of all rows.
fn score_from_moments(clusters: &[Moments], total: &Moments) -> f64 {
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
        return 1.0;
    }
    let n_samples = total.count as f64;
    let n_clusters = clusters.len() as f64;
    between.value() * (n_samples - n_clusters) / (within * (n_clusters - 1.0))
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
        let moments = cluster_moments(&contiguous(&standard), &clusters)?;
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
        Ok(score_from_moments(&clusters, total))
    }

    fn reset(&mut self) {
        self.clusters.clear();
        self.total = None;
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

        for (label, cluster) in &other.clusters {
            match self.clusters.get_mut(label) {
                Some(ours) => ours.merge(cluster),
                None => {
                    self.clusters.insert(*label, cluster.clone());
                }
            }
        }
        if let Some(theirs) = &other.total {
            match &mut self.total {
                Some(ours) => ours.merge(theirs),
                None => self.total = Some(theirs.clone()),
            }
        }
        Ok(())
    }
}
