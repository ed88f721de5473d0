//! Divergences between discrete distributions, row by row: Kullback-Leibler and Jensen-Shannon.

use std::marker::PhantomData;

use ndarray::{Array2, ArrayView, ArrayView1, ArrayViewD, Dimension};
use serde::{Deserialize, Serialize};

use super::options::Reduction;
use super::row_scores::{to_rows, RowScores};
use super::sums::CompensatedSum;
use super::{PredsTarget, Real};
use crate::error::{Error, Result};
use crate::metric::{check_same_config, Input, Metric, MetricInfo};
use crate::Value;

/// Checks that every value is `>= 0` and every row has a positive sum, then divides each row by
/// its sum.
fn normalize_rows(argument: &str, mut rows: Array2<f64>) -> Result<Array2<f64>> {
    if let Some(((row, column), value)) = rows.indexed_iter().find(|(_, x)| **x < 0.0) {
        return Err(Error::invalid_input(
            argument,
            format!(
                "value {value:?} at row {row}, column {column} is negative; probabilities must be \
                 >= 0, or pass log_prob = true for log-probabilities"
            ),
        ));
    }
    for (index, mut row) in rows.rows_mut().into_iter().enumerate() {
        let total = row.iter().copied().collect::<CompensatedSum>().value();
        if total <= 0.0 {
            return Err(Error::invalid_input(
                argument,
                format!("row {index} sums to 0, so it cannot be normalized to a distribution"),
            ));
        }
        row.mapv_inplace(|x| x / total);
    }
    Ok(rows)
}

/// Checks that every log-probability is `<= 0`, the log of a probability of at most 1.
fn check_log_probabilities(argument: &str, rows: &Array2<f64>) -> Result<()> {
    if let Some(((row, column), value)) = rows.indexed_iter().find(|(_, x)| **x > 0.0) {
        return Err(Error::invalid_input(
            argument,
            format!(
                "value {value:?} at row {row}, column {column} is positive; log-probabilities must \
                 be <= 0, or pass log_prob = false for probabilities"
            ),
        ));
    }
    Ok(())
}

/// Validates `(p, q)` and returns them as probabilities, or as log-probabilities if `log_prob`.
fn distributions<F: Real>(
    p: &ArrayViewD<'_, F>,
    q: &ArrayViewD<'_, F>,
    log_prob: bool,
) -> Result<(Array2<f64>, Array2<f64>)> {
    // A log-probability of -inf is a probability of 0, which is valid.
    let (p, q) = to_rows(("p", p), ("q", q), log_prob)?;
    if log_prob {
        check_log_probabilities("p", &p)?;
        check_log_probabilities("q", &q)?;
        return Ok((p, q));
    }
    Ok((normalize_rows("p", p)?, normalize_rows("q", q)?))
}

/// Returns `sum(p_i ln(p_i / q_i))`, taking `0 ln(0 / q) = 0` and `p ln(p / 0) = inf` for
/// `p > 0`, as `scipy.special.rel_entr`.
fn kl_of_probabilities(p: ArrayView1<'_, f64>, q: ArrayView1<'_, f64>) -> f64 {
    let mut sum = CompensatedSum::default();
    for (p, q) in p.iter().zip(&q) {
        if *p > 0.0 {
            sum.add(p * (p / q).ln());
        }
    }
    sum.value()
}

/// Returns `sum(exp(p_i) (p_i - q_i))` for log-probabilities `p` and `q`, with the limits of
/// [`kl_of_probabilities`] where `p_i` or `q_i` is `-inf`.
fn kl_of_log_probabilities(p: ArrayView1<'_, f64>, q: ArrayView1<'_, f64>) -> f64 {
    let mut sum = CompensatedSum::default();
    for (p, q) in p.iter().zip(&q) {
        if *p == f64::NEG_INFINITY {
            continue;
        }
        if *q == f64::NEG_INFINITY {
            return f64::INFINITY;
        }
        sum.add(p.exp() * (p - q));
    }
    sum.value()
}

fn kl_rows<F: Real>(
    p: &ArrayViewD<'_, F>,
    q: &ArrayViewD<'_, F>,
    log_prob: bool,
) -> Result<Vec<f64>> {
    let (p, q) = distributions(p, q, log_prob)?;
    let divergence = if log_prob {
        kl_of_log_probabilities
    } else {
        kl_of_probabilities
    };
    Ok(p.rows()
        .into_iter()
        .zip(q.rows())
        .map(|(p, q)| divergence(p, q))
        .collect())
}

fn js_rows<F: Real>(
    p: &ArrayViewD<'_, F>,
    q: &ArrayViewD<'_, F>,
    log_prob: bool,
) -> Result<Vec<f64>> {
    let (p, q) = distributions(p, q, log_prob)?;
    let mixture = if log_prob {
        // ln((e^p + e^q) / 2), shifted by the larger term so that exp cannot overflow.
        ndarray::Zip::from(&p).and(&q).map_collect(|p, q| {
            let high = p.max(*q);
            if high == f64::NEG_INFINITY {
                return f64::NEG_INFINITY;
            }
            high + ((p - high).exp() + (q - high).exp()).ln() - std::f64::consts::LN_2
        })
    } else {
        (&p + &q) / 2.0
    };
    let divergence = if log_prob {
        kl_of_log_probabilities
    } else {
        kl_of_probabilities
    };

    let scores = p
        .rows()
        .into_iter()
        .zip(q.rows())
        .zip(mixture.rows())
        .map(|((p, q), m)| 0.5 * divergence(p, m) + 0.5 * divergence(q, m))
        .collect();
    Ok(scores)
}

/// Computes the Kullback-Leibler divergence `D_KL(P || Q) = sum(p_i ln(p_i / q_i))` of each row
/// of `(N, d)` inputs, reduced over rows by `reduction`, as TorchMetrics' `kl_divergence` and
/// `scipy.stats.entropy(p, q)`.
///
/// Without `log_prob`, each row of `p` and `q` must be non-negative with a positive sum and is
/// divided by its sum. With `log_prob`, the inputs are natural-log probabilities and are used as
/// given, `D_KL = sum(exp(p_i) (p_i - q_i))`, and `-inf` stands for a probability of 0. A
/// category with `p_i > 0` and `q_i = 0` gives an infinite divergence.
///
/// # Example
///
/// TorchMetrics' documented example, 0.0853:
///
/// ```
/// use ferrometrics::regression::{kl_divergence, Reduction};
/// use ndarray::array;
///
/// let p = array![[0.36, 0.48, 0.16]];
/// let q = array![[1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0]];
/// let kl = kl_divergence(p.view(), q.view(), false, Reduction::Mean)?;
/// assert!((kl.as_scalar().unwrap() - 0.085_299_601_318_370_57).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// Returns an error naming `p` or `q` if the shapes differ or are not `(N, d)`, or if a value is
/// NaN or infinite (`-inf` is valid with `log_prob`). Without `log_prob`, a negative value or a
/// row summing to 0 is an error too.
/// Returns [`Error::NotEnoughData`] for the mean of no rows.
pub fn kl_divergence<F: Real, D: Dimension>(
    p: ArrayView<'_, F, D>,
    q: ArrayView<'_, F, D>,
    log_prob: bool,
    reduction: Reduction,
) -> Result<Value> {
    let mut scores = RowScores::new(reduction);
    scores.extend(&kl_rows(&p.into_dyn(), &q.into_dyn(), log_prob)?);
    scores.value("KLDivergence")
}

/// Computes the Jensen-Shannon divergence `D_JS = (D_KL(P || M) + D_KL(Q || M)) / 2` with
/// `M = (P + Q) / 2` of each row of `(N, d)` inputs, reduced over rows by `reduction`, as
/// TorchMetrics' `jensen_shannon_divergence`. It is the square of
/// `scipy.spatial.distance.jensenshannon(p, q)` and lies in `[0, ln 2]`.
///
/// Inputs are read as in [`kl_divergence`].
///
/// # Example
///
/// TorchMetrics' documented example, 0.0225:
///
/// ```
/// use ferrometrics::regression::{jensen_shannon_divergence, Reduction};
/// use ndarray::array;
///
/// let p = array![[0.36, 0.48, 0.16]];
/// let q = array![[1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0]];
/// let js = jensen_shannon_divergence(p.view(), q.view(), false, Reduction::Mean)?;
/// assert!((js.as_scalar().unwrap() - 0.022_459_860_429_714_602).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
///
/// # Errors
///
/// As [`kl_divergence`].
pub fn jensen_shannon_divergence<F: Real, D: Dimension>(
    p: ArrayView<'_, F, D>,
    q: ArrayView<'_, F, D>,
    log_prob: bool,
    reduction: Reduction,
) -> Result<Value> {
    let mut scores = RowScores::new(reduction);
    scores.extend(&js_rows(&p.into_dyn(), &q.into_dyn(), log_prob)?);
    scores.value("JensenShannonDivergence")
}

/// Kullback-Leibler divergence of every row seen, as TorchMetrics' `KLDivergence`. See
/// [`kl_divergence`]. The batch is `(p, q)`. The default reduction is [`Reduction::Mean`].
///
/// # Example
///
/// ```
/// use ferrometrics::regression::{KLDivergence, Reduction};
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = KLDivergence::<f64>::new(false, Reduction::Sum);
/// let p = array![[1.0, 1.0], [1.0, 0.0]].into_dyn();
/// let q = array![[1.0, 1.0], [1.0, 1.0]].into_dyn();
/// metric.update((p.view(), q.view()))?;
/// assert!((metric.compute()?.as_scalar().unwrap() - std::f64::consts::LN_2).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct KLDivergence<F: Real = f64> {
    log_prob: bool,
    scores: RowScores,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> KLDivergence<F> {
    /// Creates an empty metric that reads log-probabilities if `log_prob` and reduces the row
    /// divergences by `reduction`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::{KLDivergence, Reduction};
    /// use ferrometrics::Metric;
    ///
    /// assert!(KLDivergence::<f64>::new(true, Reduction::Mean).compute().is_err());
    /// ```
    pub fn new(log_prob: bool, reduction: Reduction) -> Self {
        Self {
            log_prob,
            scores: RowScores::new(reduction),
            element: PhantomData,
        }
    }
}

impl<F: Real> Default for KLDivergence<F> {
    fn default() -> Self {
        Self::new(false, Reduction::Mean)
    }
}

impl<F: Real> Metric for KLDivergence<F> {
    type Kind = PredsTarget<F>;
    type Output = Value;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: "KLDivergence",
            higher_is_better: Some(false),
            is_differentiable: true,
            lower_bound: 0.0,
            upper_bound: f64::INFINITY,
        }
    }

    /// Adds the divergence of each row of the batch `(p, q)`.
    ///
    /// # Errors
    ///
    /// As [`kl_divergence`], and a rejected batch changes nothing.
    fn update(&mut self, (p, q): Input<'_, Self>) -> Result<()> {
        let divergences = kl_rows(&p, &q, self.log_prob)?;
        self.scores.extend(&divergences);
        Ok(())
    }

    fn compute(&self) -> Result<Value> {
        self.scores.value("KLDivergence")
    }

    fn reset(&mut self) {
        self.scores = RowScores::new(self.scores.reduction());
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_config("KLDivergence", "log_prob", &self.log_prob, &other.log_prob)?;
        self.scores.merge("KLDivergence", &other.scores)
    }
}

/// Jensen-Shannon divergence of every row seen, as TorchMetrics' `JensenShannonDivergence`. See
/// [`jensen_shannon_divergence`]. The batch is `(p, q)`. The default reduction is
/// [`Reduction::Mean`].
///
/// # Example
///
/// ```
/// use ferrometrics::regression::{JensenShannonDivergence, Reduction};
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// // Disjoint supports give the maximum, ln 2.
/// let mut metric = JensenShannonDivergence::<f64>::new(false, Reduction::Mean);
/// let p = array![[1.0, 0.0]].into_dyn();
/// let q = array![[0.0, 1.0]].into_dyn();
/// metric.update((p.view(), q.view()))?;
/// assert!((metric.compute()?.as_scalar().unwrap() - std::f64::consts::LN_2).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct JensenShannonDivergence<F: Real = f64> {
    log_prob: bool,
    scores: RowScores,
    #[serde(skip)]
    element: PhantomData<F>,
}

impl<F: Real> JensenShannonDivergence<F> {
    /// Creates an empty metric that reads log-probabilities if `log_prob` and reduces the row
    /// divergences by `reduction`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::regression::{JensenShannonDivergence, Reduction};
    /// use ferrometrics::Metric;
    ///
    /// let metric = JensenShannonDivergence::<f64>::new(false, Reduction::None);
    /// assert_eq!(metric.info().upper_bound, std::f64::consts::LN_2);
    /// ```
    pub fn new(log_prob: bool, reduction: Reduction) -> Self {
        Self {
            log_prob,
            scores: RowScores::new(reduction),
            element: PhantomData,
        }
    }
}

impl<F: Real> Default for JensenShannonDivergence<F> {
    fn default() -> Self {
        Self::new(false, Reduction::Mean)
    }
}

impl<F: Real> Metric for JensenShannonDivergence<F> {
    type Kind = PredsTarget<F>;
    type Output = Value;

    fn info(&self) -> MetricInfo {
        let upper_bound = match self.scores.reduction() {
            Reduction::Sum => f64::INFINITY,
            Reduction::Mean | Reduction::None => std::f64::consts::LN_2,
        };
        MetricInfo {
            name: "JensenShannonDivergence",
            higher_is_better: Some(false),
            is_differentiable: true,
            lower_bound: 0.0,
            upper_bound,
        }
    }

    /// Adds the divergence of each row of the batch `(p, q)`.
    ///
    /// # Errors
    ///
    /// As [`kl_divergence`], and a rejected batch changes nothing.
    fn update(&mut self, (p, q): Input<'_, Self>) -> Result<()> {
        let divergences = js_rows(&p, &q, self.log_prob)?;
        self.scores.extend(&divergences);
        Ok(())
    }

    fn compute(&self) -> Result<Value> {
        self.scores.value("JensenShannonDivergence")
    }

    fn reset(&mut self) {
        self.scores = RowScores::new(self.scores.reduction());
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_config(
            "JensenShannonDivergence",
            "log_prob",
            &self.log_prob,
            &other.log_prob,
        )?;
        self.scores.merge("JensenShannonDivergence", &other.scores)
    }
}
