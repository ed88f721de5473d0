//! Cosine similarity between predicted and true vectors, row by row.

use std::marker::PhantomData;

use ndarray::{ArrayView, ArrayView1, ArrayViewD, Dimension};
use serde::{Deserialize, Serialize};

use super::options::Reduction;
use super::row_scores::{to_rows, RowScores};
use super::sums::CompensatedSum;
use super::{PredsTarget, Real};
use crate::error::Result;
use crate::metric::{Input, Metric, MetricInfo};
use crate::Value;

/// Returns the cosine similarity of two vectors. Each is divided by its largest magnitude first,
/// which leaves the cosine unchanged and keeps the squares from overflowing or underflowing.
fn cosine(p: ArrayView1<'_, f64>, t: ArrayView1<'_, f64>) -> f64 {
    let scale_of = |v: &ArrayView1<'_, f64>| v.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
    let (p_scale, t_scale) = (scale_of(&p), scale_of(&t));
    if p_scale == 0.0 || t_scale == 0.0 {
        // A zero vector has no direction: 0 / 0.
        return f64::NAN;
    }

    let mut dot = CompensatedSum::default();
    let mut p_squares = CompensatedSum::default();
    let mut t_squares = CompensatedSum::default();
    for (p, t) in p.iter().zip(&t) {
        let (p, t) = (p / p_scale, t / t_scale);
        dot.add(p * t);
        p_squares.add(p * p);
        t_squares.add(t * t);
    }
    dot.value() / (p_squares.value().sqrt() * t_squares.value().sqrt())
}

/// Returns the cosine similarity of each row of a batch.
fn row_similarities<F: Real>(
    preds: &ArrayViewD<'_, F>,
    target: &ArrayViewD<'_, F>,
) -> Result<Vec<f64>> {
    let (preds, target) = to_rows(("preds", preds), ("target", target), false)?;
    let similarities = preds
        .rows()
        .into_iter()
        .zip(target.rows())
        .map(|(p, t)| cosine(p, t))
        .collect();
    Ok(similarities)
}

/// Computes the cosine similarity `<p, t> / (||p|| ||t||)` of each row of `(N, d)` inputs,
/// reduced over rows by `reduction`, as TorchMetrics' `cosine_similarity`.
///
/// A row where either vector is all zeros has no direction, so its similarity is 0 / 0, NaN, as
/// `1 - scipy.spatial.distance.cosine` gives.
///
/// # Example
///
/// TorchMetrics' documented example, 0.8536 and 1.0 per row:
///
/// ```
/// use ferrometrics::regression::{cosine_similarity, Reduction};
/// use ndarray::array;
///
/// let target = array![[1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]];
/// let preds = array![[1.0, 2.0, 3.0, 4.0], [-1.0, -2.0, -3.0, -4.0]];
/// let sum = cosine_similarity(preds.view(), target.view(), Reduction::Sum)?;
/// assert_eq!(sum.as_scalar(), Some(0.0));
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// Returns an error naming the argument if the shapes differ or are not `(N, d)`, or if a value
/// is NaN or infinite, and [`Error::NotEnoughData`](crate::Error::NotEnoughData) for the mean of
/// no rows.
pub fn cosine_similarity<F: Real, D: Dimension>(
    preds: ArrayView<'_, F, D>,
    target: ArrayView<'_, F, D>,
    reduction: Reduction,
) -> Result<Value> {
    let mut scores = RowScores::new(reduction);
    scores.extend(&row_similarities(&preds.into_dyn(), &target.into_dyn())?);
    scores.value("CosineSimilarity")
}

/// Cosine similarity of every row seen, as TorchMetrics' `CosineSimilarity`. See
/// [`cosine_similarity`]. The default reduction is [`Reduction::Sum`], as TorchMetrics'.
///
/// Under [`Reduction::None`] the state keeps one score per row, in the order seen, and merging
/// appends the other state's rows.
///
/// # Example
///
/// ```
/// use ferrometrics::regression::{CosineSimilarity, Reduction};
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = CosineSimilarity::<f64>::new(Reduction::Mean);
/// let preds = array![[1.0, 0.0], [1.0, 1.0]].into_dyn();
/// let target = array![[0.0, 1.0], [2.0, 2.0]].into_dyn();
/// metric.update((preds.view(), target.view()))?;
/// assert!((metric.compute()?.as_scalar().unwrap() - 0.5).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct CosineSimilarity<F: Real = f64> {
    scores: RowScores,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> CosineSimilarity<F> {
    /// Creates an empty metric that reduces the row similarities by `reduction`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::{CosineSimilarity, Reduction};
    /// use ferrometrics::Metric;
    ///
    /// let metric = CosineSimilarity::<f32>::new(Reduction::Sum);
    /// assert_eq!(metric.compute()?.as_scalar(), Some(0.0));
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    pub fn new(reduction: Reduction) -> Self {
        Self {
            scores: RowScores::new(reduction),
            element: PhantomData,
        }
    }
}

impl<F: Real> Default for CosineSimilarity<F> {
    fn default() -> Self {
        Self::new(Reduction::Sum)
    }
}

impl<F: Real> Metric for CosineSimilarity<F> {
    type Kind = PredsTarget<F>;
    type Output = Value;

    fn info(&self) -> MetricInfo {
        let rows_bound = match self.scores.reduction() {
            Reduction::Sum => f64::INFINITY,
            Reduction::Mean | Reduction::None => 1.0,
        };
        MetricInfo {
            name: "CosineSimilarity",
            higher_is_better: Some(true),
            is_differentiable: true,
            lower_bound: -rows_bound,
            upper_bound: rows_bound,
        }
    }

    /// Adds the similarity of each row of the batch.
    ///
    /// # Errors
    ///
    /// Returns an error naming the argument, and changes nothing, if the shapes differ or are
    /// not `(N, d)`, or if a value is NaN or infinite.
    fn update(&mut self, (preds, target): Input<'_, Self>) -> Result<()> {
        let similarities = row_similarities(&preds, &target)?;
        self.scores.extend(&similarities);
        Ok(())
    }

    fn compute(&self) -> Result<Value> {
        self.scores.value("CosineSimilarity")
    }

    fn reset(&mut self) {
        self.scores = RowScores::new(self.scores.reduction());
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        self.scores.merge("CosineSimilarity", &other.scores)
    }
}
