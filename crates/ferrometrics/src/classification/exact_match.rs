//! Exact match: the fraction of samples whose every position is predicted correctly.

use ndarray::Array1;
use serde::{Deserialize, Serialize};

use super::config::{check_restored, MultidimAverage, Task, TaskConfig};
use super::format::{format_batch, Formatted};
use super::ClassificationBatch;
use crate::error::{Error, Result};
use crate::metric::{check_same_config, Input, Metric, MetricInfo};
use crate::value::Value;

/// The fraction of samples whose labels (multilabel) or positions (multiclass with extra
/// dimensions) are all predicted correctly, as scikit-learn's `accuracy_score` on multilabel
/// indicators and TorchMetrics' `ExactMatch`. Positions whose target equals `ignore_index`
/// count as correct, as in TorchMetrics. `Samplewise` returns 1 or 0 per sample.
///
/// # Example
///
/// ```
/// use ferrometrics::classification::{ExactMatch, Preds, TaskConfig};
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = ExactMatch::new(TaskConfig::multilabel(3))?;
/// let preds = array![[0_i64, 1, 0], [1, 0, 1]].into_dyn();
/// let target = array![[0_i64, 1, 0], [1, 1, 1]].into_dyn();
/// metric.update((Preds::Labels(preds.view()), target.view()))?;
/// assert_eq!(metric.compute()?.as_scalar(), Some(0.5));
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExactMatch {
    config: TaskConfig,
    /// Whether each sample matched, kept only for samplewise output.
    matched: Vec<bool>,
    correct: u64,
    total: u64,
}

impl ExactMatch {
    /// Creates the metric for the multiclass or multilabel task.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `config` is invalid, binary, or has `top_k > 1`.
    pub fn new(config: TaskConfig) -> Result<Self> {
        config.validate()?;
        if config.task() == Task::Binary {
            return Err(Error::invalid_argument(
                "task",
                "exact match is defined for the multiclass and multilabel tasks; pass one of \
                 them",
            ));
        }
        if config.top_k() != 1 {
            return Err(Error::invalid_argument(
                "top_k",
                format!("{} does not apply to exact match; pass 1", config.top_k()),
            ));
        }
        Ok(Self {
            config,
            matched: Vec::new(),
            correct: 0,
            total: 0,
        })
    }

    /// Returns the configuration the metric was built with.
    pub fn config(&self) -> &TaskConfig {
        &self.config
    }

    fn name(&self) -> &'static str {
        match self.config.task() {
            Task::Multilabel => "MultilabelExactMatch",
            _ => "MulticlassExactMatch",
        }
    }
}

impl Metric for ExactMatch {
    type Kind = ClassificationBatch;
    type Output = Value;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: self.name(),
            higher_is_better: Some(true),
            is_differentiable: false,
            lower_bound: 0.0,
            upper_bound: 1.0,
        }
    }

    fn update(&mut self, input: Input<'_, Self>) -> Result<()> {
        let (preds, target) = input;
        check_restored(&self.config, true)?;
        let formatted = format_batch(&self.config, &preds, &target)?;

        let matched: Vec<bool> = match &formatted {
            Formatted::Binary(batch) => {
                let per_sample = batch.target.len() / batch.n_samples.max(1);
                (0..batch.n_samples)
                    .map(|sample| {
                        let range = sample * per_sample..(sample + 1) * per_sample;
                        batch.target[range.clone()]
                            .iter()
                            .zip(&batch.preds[range])
                            .all(|(target, &pred)| target.is_none_or(|t| t == pred))
                    })
                    .collect()
            }
            Formatted::Multiclass(batch) => {
                let per_sample = batch.n_positions;
                (0..batch.n_samples)
                    .map(|sample| {
                        let range = sample * per_sample..(sample + 1) * per_sample;
                        batch.target[range.clone()]
                            .iter()
                            .zip(&batch.preds[range])
                            .all(|(target, &pred)| target.is_none_or(|t| t == pred))
                    })
                    .collect()
            }
        };
        self.correct += matched.iter().filter(|&&m| m).count() as u64;
        self.total += matched.len() as u64;
        if self.config.multidim_average() == MultidimAverage::Samplewise {
            self.matched.extend(matched);
        }
        Ok(())
    }

    fn compute(&self) -> Result<Value> {
        if self.total == 0 {
            return Err(Error::not_enough_data(
                self.name(),
                "no samples were seen; call update with at least one sample before compute",
            ));
        }
        Ok(match self.config.multidim_average() {
            MultidimAverage::Global => Value::Scalar(self.correct as f64 / self.total as f64),
            MultidimAverage::Samplewise => Value::from(
                self.matched
                    .iter()
                    .map(|&m| f64::from(u8::from(m)))
                    .collect::<Array1<f64>>(),
            ),
        })
    }

    fn reset(&mut self) {
        self.matched.clear();
        self.correct = 0;
        self.total = 0;
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_config(self.name(), "config", &self.config, &other.config)?;
        self.matched.extend_from_slice(&other.matched);
        self.correct += other.correct;
        self.total += other.total;
        Ok(())
    }
}
