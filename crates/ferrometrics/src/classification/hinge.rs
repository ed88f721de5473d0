//! The hinge loss of decision values.

use ndarray::{Array1, ArrayViewD};
use serde::{Deserialize, Serialize};

use super::config::{check_restored, MultidimAverage, Task, TaskConfig};
use super::format::{
    binary_targets, check_no_nan, check_same_shape, multiclass_targets, shape_text, Preds,
};
use super::ClassificationBatch;
use crate::error::{Error, Result};
use crate::metric::{check_same_config, Input, Metric, MetricInfo};
use crate::numerics::CompensatedSum;
use crate::value::Value;

/// The multiclass form of the hinge loss, as TorchMetrics' `multiclass_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MulticlassMode {
    /// Crammer and Singer's loss, `max(0, 1 - (s_target - max_{j != target} s_j))`, as
    /// scikit-learn's multiclass `hinge_loss`.
    CrammerSinger,
    /// One binary hinge loss per class against the rest, one value per class.
    OneVsAll,
}

/// The mean hinge loss, `max(0, 1 - y s)` with `y = +1` for positives and `-1` for negatives,
/// optionally squared, as scikit-learn's `hinge_loss` and TorchMetrics' `HingeLoss`.
///
/// The scores are decision values and are used as given: unlike TorchMetrics, no sigmoid or
/// softmax is applied to scores outside [0, 1], so the loss of logits is scikit-learn's.
///
/// # Example
///
/// ```
/// use ferrometrics::classification::{HingeLoss, MulticlassMode, Preds, TaskConfig};
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = HingeLoss::new(TaskConfig::binary(), false, MulticlassMode::CrammerSinger)?;
/// let (preds, target) = (array![2.0, -0.5, 0.3].into_dyn(), array![1_i64, 0, 0].into_dyn());
/// metric.update((Preds::F64(preds.view()), target.view()))?;
/// // Losses: max(0, 1 - 2) = 0, max(0, 1 - 0.5) = 0.5, max(0, 1 + 0.3) = 1.3.
/// assert!((metric.compute()?.as_scalar().unwrap() - 0.6).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HingeLoss {
    config: TaskConfig,
    squared: bool,
    mode: MulticlassMode,
    sums: Vec<CompensatedSum>,
    count: u64,
}

impl HingeLoss {
    /// Creates the metric for the binary or multiclass task; `mode` applies to multiclass.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `config` is invalid, multilabel, or sets `top_k`
    /// or samplewise counting.
    pub fn new(config: TaskConfig, squared: bool, mode: MulticlassMode) -> Result<Self> {
        config.validate()?;
        if config.task() == Task::Multilabel {
            return Err(Error::invalid_argument(
                "task",
                "the hinge loss is defined for the binary and multiclass tasks; pass one of them",
            ));
        }
        if config.top_k() != 1 {
            return Err(Error::invalid_argument(
                "top_k",
                format!(
                    "{} does not apply to the hinge loss; pass 1",
                    config.top_k()
                ),
            ));
        }
        if config.multidim_average() != MultidimAverage::Global {
            return Err(Error::invalid_argument(
                "multidim_average",
                "\"samplewise\" does not apply to the hinge loss; pass \"global\"",
            ));
        }
        let outputs = match (config.task(), mode) {
            (Task::Multiclass, MulticlassMode::OneVsAll) => config.num_classes(),
            _ => 1,
        };
        Ok(Self {
            config,
            squared,
            mode,
            sums: vec![CompensatedSum::new(); outputs],
            count: 0,
        })
    }

    fn name(&self) -> &'static str {
        match self.config.task() {
            Task::Binary => "BinaryHingeLoss",
            _ => "MulticlassHingeLoss",
        }
    }

    /// Returns an error if the sums do not fit the mode, as in a corrupted state.
    fn check_consistent(&self) -> Result<()> {
        let outputs = match (self.config.task(), self.mode) {
            (Task::Multiclass, MulticlassMode::OneVsAll) => self.config.num_classes(),
            _ => 1,
        };
        check_restored(&self.config, self.sums.len() == outputs)
    }

    fn loss(&self, margin: f64) -> f64 {
        let hinge = (1.0 - margin).max(0.0);
        if self.squared {
            hinge * hinge
        } else {
            hinge
        }
    }

    /// Returns the losses of the batch, one row of `sums.len()` values per counted sample.
    fn losses(&self, preds: &Preds<'_>, target: &ArrayViewD<'_, i64>) -> Result<Vec<f64>> {
        let Some(scores) = preds.scores() else {
            return Err(Error::invalid_input(
                "preds",
                "the hinge loss needs float decision values, but preds holds integer labels; \
                 pass the scores",
            ));
        };
        check_no_nan(&scores, preds.shape())?;

        if self.config.task() == Task::Binary {
            check_same_shape(preds.shape(), target.shape())?;
            let labels = binary_targets(&self.config, target)?;
            return Ok(scores
                .iter()
                .zip(&labels)
                .filter_map(|(&s, label)| label.map(|t| self.loss(if t { s } else { -s })))
                .collect());
        }

        let classes = self.config.num_classes();
        let (preds_shape, target_shape) = (preds.shape(), target.shape());
        if preds_shape.len() != 2
            || target_shape.len() != 1
            || preds_shape[0] != target_shape[0]
            || preds_shape[1] != classes
        {
            return Err(Error::invalid_input(
                "preds",
                format!(
                    "scores of shape {} do not fit targets of shape {}; pass scores of shape \
                     (N, {classes}) for targets of shape (N,)",
                    shape_text(preds_shape),
                    shape_text(target_shape)
                ),
            ));
        }
        let labels = multiclass_targets(&self.config, target)?;
        let mut losses = Vec::new();
        for (row, label) in scores.chunks(classes).zip(&labels) {
            let Some(label) = label.map(|l| l as usize) else {
                continue;
            };
            match self.mode {
                MulticlassMode::CrammerSinger => {
                    let runner_up = (0..classes)
                        .filter(|&c| c != label)
                        .map(|c| row[c])
                        .fold(f64::NEG_INFINITY, f64::max);
                    losses.push(self.loss(row[label] - runner_up));
                }
                MulticlassMode::OneVsAll => {
                    for (class, &s) in row.iter().enumerate() {
                        losses.push(self.loss(if class == label { s } else { -s }));
                    }
                }
            }
        }
        Ok(losses)
    }
}

impl Metric for HingeLoss {
    type Kind = ClassificationBatch;
    type Output = Value;

    fn info(&self) -> MetricInfo {
        MetricInfo {
            name: self.name(),
            higher_is_better: Some(false),
            is_differentiable: true,
            lower_bound: 0.0,
            upper_bound: f64::INFINITY,
        }
    }

    fn update(&mut self, input: Input<'_, Self>) -> Result<()> {
        let (preds, target) = input;
        self.check_consistent()?;
        let losses = self.losses(&preds, &target)?;

        let outputs = self.sums.len();
        for row in losses.chunks(outputs) {
            for (sum, &loss) in self.sums.iter_mut().zip(row) {
                sum.add(loss);
            }
        }
        self.count += (losses.len() / outputs) as u64;
        Ok(())
    }

    fn compute(&self) -> Result<Value> {
        self.check_consistent()?;
        if self.count == 0 {
            return Err(Error::not_enough_data(
                self.name(),
                "no samples were seen; call update with at least one sample before compute",
            ));
        }
        let means: Array1<f64> = self
            .sums
            .iter()
            .map(|sum| sum.value() / self.count as f64)
            .collect();
        Ok(if means.len() == 1 {
            Value::Scalar(means[0])
        } else {
            Value::from(means)
        })
    }

    fn reset(&mut self) {
        self.sums.fill(CompensatedSum::new());
        self.count = 0;
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        check_same_config(self.name(), "config", &self.config, &other.config)?;
        check_same_config(self.name(), "squared", &self.squared, &other.squared)?;
        check_same_config(self.name(), "multiclass_mode", &self.mode, &other.mode)?;
        self.check_consistent()?;
        other.check_consistent()?;
        for (mine, theirs) in self.sums.iter_mut().zip(&other.sums) {
            mine.merge(theirs);
        }
        self.count += other.count;
        Ok(())
    }
}
