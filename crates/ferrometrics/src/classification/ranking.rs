//! Multilabel ranking metrics: coverage error, label ranking average precision and ranking
//! loss, each a mean over samples of a per-sample value, as scikit-learn defines them.

use ndarray::ArrayViewD;
use serde::{Deserialize, Serialize};

use super::config::{check_restored, MultidimAverage, Task, TaskConfig};
use super::format::{binary_targets, check_no_nan, check_same_shape, shape_text, Preds};
use super::ClassificationBatch;
use crate::error::{Error, Result};
use crate::metric::{check_same_config, Input, Metric, MetricInfo};
use crate::numerics::CompensatedSum;
use crate::value::Value;

/// Computes how far down the ranking by score one must go to cover every true label: the
/// number of labels scoring at or above the lowest-scoring true label, 0 without true labels,
/// as scikit-learn's `coverage_error`.
fn coverage(scores: &[f64], relevant: &[bool]) -> f64 {
    let lowest = scores
        .iter()
        .zip(relevant)
        .filter(|(_, &r)| r)
        .map(|(&s, _)| s)
        .fold(f64::INFINITY, f64::min);
    if lowest == f64::INFINITY {
        return 0.0;
    }
    scores.iter().filter(|&&s| s >= lowest).count() as f64
}

/// Computes the label ranking average precision of one sample: for each true label, the share
/// of true labels among the labels scoring at or above it, averaged; 1 when no label or every
/// label is true, as scikit-learn's `label_ranking_average_precision_score`.
fn ranking_average_precision(scores: &[f64], relevant: &[bool]) -> f64 {
    let n_relevant = relevant.iter().filter(|&&r| r).count();
    if n_relevant == 0 || n_relevant == scores.len() {
        return 1.0;
    }
    let mut total = 0.0;
    for (&score, _) in scores.iter().zip(relevant).filter(|(_, &r)| r) {
        let rank = scores.iter().filter(|&&s| s >= score).count() as f64;
        let relevant_rank = scores
            .iter()
            .zip(relevant)
            .filter(|(&s, &r)| r && s >= score)
            .count() as f64;
        total += relevant_rank / rank;
    }
    total / n_relevant as f64
}

/// Computes the ranking loss of one sample: the share of (true, false) label pairs whose false
/// label scores at or above the true one; 0 when no label or every label is true, as
/// scikit-learn's `label_ranking_loss`.
fn ranking_loss(scores: &[f64], relevant: &[bool]) -> f64 {
    let n_relevant = relevant.iter().filter(|&&r| r).count();
    let n_irrelevant = scores.len() - n_relevant;
    if n_relevant == 0 || n_irrelevant == 0 {
        return 0.0;
    }
    let mut wrong = 0_u64;
    for (&true_score, _) in scores.iter().zip(relevant).filter(|(_, &r)| r) {
        wrong += scores
            .iter()
            .zip(relevant)
            .filter(|(&s, &r)| !r && s >= true_score)
            .count() as u64;
    }
    wrong as f64 / (n_relevant * n_irrelevant) as f64
}

/// Validates a multilabel batch and returns the per-sample values of `value`.
fn sample_values(
    config: &TaskConfig,
    preds: &Preds<'_>,
    target: &ArrayViewD<'_, i64>,
    value: fn(&[f64], &[bool]) -> f64,
) -> Result<Vec<f64>> {
    let Some(scores) = preds.scores() else {
        return Err(Error::invalid_input(
            "preds",
            "ranking metrics need float scores, but preds holds integer labels; pass the scores",
        ));
    };
    check_no_nan(&scores, preds.shape())?;
    check_same_shape(preds.shape(), target.shape())?;
    let labels = config.num_classes();
    let shape = target.shape();
    if shape.len() != 2 || shape[1] != labels {
        return Err(Error::invalid_input(
            "target",
            format!(
                "shape {} is not (N, num_labels = {labels}); pass arrays of shape (N, {labels})",
                shape_text(shape)
            ),
        ));
    }
    let relevant: Vec<bool> = binary_targets(config, target)?
        .into_iter()
        .map(|label| label.unwrap_or(false))
        .collect();
    Ok(scores
        .chunks(labels)
        .zip(relevant.chunks(labels))
        .map(|(s, r)| value(s, r))
        .collect())
}

/// Declares a ranking metric: a mean over samples of a per-sample kernel.
macro_rules! ranking_metric {
    (
        $(#[$doc:meta])*
        $metric:ident, $name:literal, $kernel:path, $higher:expr, $upper:expr
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub struct $metric {
            config: TaskConfig,
            sum: CompensatedSum,
            count: u64,
        }

        impl $metric {
            /// Creates the metric for the multilabel task with `num_labels` labels.
            ///
            /// # Errors
            ///
            /// Returns [`Error::InvalidArgument`] if `config` is invalid, not multilabel, sets
            /// samplewise counting, or sets `ignore_index` (ranking metrics score whole rows).
            pub fn new(config: TaskConfig) -> Result<Self> {
                config.validate()?;
                if config.task() != Task::Multilabel {
                    return Err(Error::invalid_argument(
                        "task",
                        "ranking metrics are defined for the multilabel task; pass it",
                    ));
                }
                if config.multidim_average() != MultidimAverage::Global {
                    return Err(Error::invalid_argument(
                        "multidim_average",
                        "\"samplewise\" does not apply to ranking metrics; pass \"global\"",
                    ));
                }
                if let Some(ignore_index) = config.ignore_index() {
                    return Err(Error::invalid_argument(
                        "ignore_index",
                        format!(
                            "{ignore_index} cannot apply to ranking metrics, which rank whole \
                             rows; pass None"
                        ),
                    ));
                }
                Ok(Self {
                    config,
                    sum: CompensatedSum::new(),
                    count: 0,
                })
            }
        }

        impl Metric for $metric {
            type Kind = ClassificationBatch;
            type Output = Value;

            fn info(&self) -> MetricInfo {
                MetricInfo {
                    name: $name,
                    higher_is_better: $higher,
                    is_differentiable: false,
                    lower_bound: 0.0,
                    upper_bound: $upper,
                }
            }

            fn update(&mut self, input: Input<'_, Self>) -> Result<()> {
                let (preds, target) = input;
                check_restored(&self.config, true)?;
                let values = sample_values(&self.config, &preds, &target, $kernel)?;

                for value in &values {
                    self.sum.add(*value);
                }
                self.count += values.len() as u64;
                Ok(())
            }

            fn compute(&self) -> Result<Value> {
                if self.count == 0 {
                    return Err(Error::not_enough_data(
                        $name,
                        "no samples were seen; call update with at least one sample before \
                         compute",
                    ));
                }
                Ok(Value::Scalar(self.sum.value() / self.count as f64))
            }

            fn reset(&mut self) {
                self.sum = CompensatedSum::new();
                self.count = 0;
            }

            fn merge(&mut self, other: &Self) -> Result<()> {
                check_same_config($name, "config", &self.config, &other.config)?;
                self.sum.merge(&other.sum);
                self.count += other.count;
                Ok(())
            }
        }
    };
}

ranking_metric!(
    /// The mean coverage error, as scikit-learn's `coverage_error` and TorchMetrics'
    /// `MultilabelCoverageError`: how many top-ranked labels cover every true label.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::classification::{CoverageError, Preds, TaskConfig};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = CoverageError::new(TaskConfig::multilabel(3))?;
    /// let preds = array![[0.75, 0.5, 1.0], [1.0, 0.2, 0.1]].into_dyn();
    /// let target = array![[1_i64, 0, 0], [0, 0, 1]].into_dyn();
    /// metric.update((Preds::F64(preds.view()), target.view()))?;
    /// assert_eq!(metric.compute()?.as_scalar(), Some(2.5));
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    CoverageError,
    "MultilabelCoverageError",
    coverage,
    Some(false),
    f64::INFINITY
);

ranking_metric!(
    /// The mean label ranking average precision, as scikit-learn's
    /// `label_ranking_average_precision_score` and TorchMetrics'
    /// `MultilabelRankingAveragePrecision`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::classification::{Preds, RankingAveragePrecision, TaskConfig};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = RankingAveragePrecision::new(TaskConfig::multilabel(3))?;
    /// let preds = array![[0.75, 0.5, 1.0], [1.0, 0.2, 0.1]].into_dyn();
    /// let target = array![[1_i64, 0, 0], [0, 0, 1]].into_dyn();
    /// metric.update((Preds::F64(preds.view()), target.view()))?;
    /// let lrap = metric.compute()?.as_scalar().unwrap();
    /// assert!((lrap - 5.0 / 12.0).abs() < 1e-15);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    RankingAveragePrecision,
    "MultilabelRankingAveragePrecision",
    ranking_average_precision,
    Some(true),
    1.0
);

ranking_metric!(
    /// The mean ranking loss, as scikit-learn's `label_ranking_loss` and TorchMetrics'
    /// `MultilabelRankingLoss`: the share of label pairs ordered wrongly, ties counting as
    /// wrong.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::classification::{Preds, RankingLoss, TaskConfig};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = RankingLoss::new(TaskConfig::multilabel(3))?;
    /// let preds = array![[0.75, 0.5, 1.0], [1.0, 0.2, 0.1]].into_dyn();
    /// let target = array![[1_i64, 0, 0], [0, 0, 1]].into_dyn();
    /// metric.update((Preds::F64(preds.view()), target.view()))?;
    /// assert_eq!(metric.compute()?.as_scalar(), Some(0.75));
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    RankingLoss,
    "MultilabelRankingLoss",
    ranking_loss,
    Some(false),
    1.0
);
