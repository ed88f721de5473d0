//! The confusion matrix and the agreement coefficients computed from it: Cohen's kappa and the
//! Matthews correlation coefficient.

use std::any::Any;

use ndarray::{Array2, Array3, ArrayViewD};
use serde::{Deserialize, Serialize};

use super::config::{check_restored, MultidimAverage, Task, TaskConfig};
use super::format::{format_batch_kept_scores, Formatted, Preds};
use super::ClassificationBatch;
use crate::error::{Error, Result};
use crate::metric::{check_same_config, Input, Metric, MetricInfo};
use crate::value::Value;

/// A confusion matrix indexed `[true class][predicted class]`: `(C, C)` for the multiclass
/// task, `(2, 2)` for the binary task, and one `(2, 2)` matrix per label, `(L, 2, 2)`, for the
/// multilabel task. Positions whose target equals `ignore_index` are left out.
///
/// [`ConfusionMatrix`], [`CohenKappa`] and [`MatthewsCorrCoef`] read this state, so metrics with
/// equal configurations share it in a [`MetricCollection`](crate::MetricCollection).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfusionCounts {
    config: TaskConfig,
    matrix: Vec<u64>,
    positions: u64,
}

/// Largest multiclass `num_classes` of a confusion matrix: 2^14, so that its 2^28 counts take
/// at most 2 GiB.
const MAX_MATRIX_CLASSES: usize = 1 << 14;

impl ConfusionCounts {
    fn new(config: TaskConfig) -> Result<Self> {
        config.validate()?;
        if config.top_k() != 1 {
            return Err(Error::invalid_argument(
                "top_k",
                format!(
                    "{} does not apply to a confusion matrix; pass 1",
                    config.top_k()
                ),
            ));
        }
        if config.multidim_average() != MultidimAverage::Global {
            return Err(Error::invalid_argument(
                "multidim_average",
                "\"samplewise\" does not apply to a confusion matrix; pass \"global\"",
            ));
        }
        if config.task() == Task::Multiclass && config.num_classes() > MAX_MATRIX_CLASSES {
            return Err(Error::invalid_argument(
                "num_classes",
                format!(
                    "{} is more than the {MAX_MATRIX_CLASSES} supported by a confusion matrix, \
                     whose num_classes^2 counts must fit in memory; pass the number of classes \
                     in the data",
                    config.num_classes()
                ),
            ));
        }
        Ok(Self {
            config,
            matrix: vec![0; Self::cells(&config)],
            positions: 0,
        })
    }

    fn cells(config: &TaskConfig) -> usize {
        match config.task() {
            Task::Binary => 4,
            Task::Multiclass => config.num_classes() * config.num_classes(),
            Task::Multilabel => config.num_classes() * 4,
        }
    }

    /// Returns the configuration the counts were built with.
    pub fn config(&self) -> &TaskConfig {
        &self.config
    }

    /// Returns an error if the matrix does not fit the configuration, as in a corrupted state.
    fn check_consistent(&self) -> Result<()> {
        check_restored(&self.config, self.matrix.len() == Self::cells(&self.config))
    }

    fn update(&mut self, preds: Preds<'_>, target: ArrayViewD<'_, i64>) -> Result<()> {
        self.check_consistent()?;
        let formatted = format_batch_kept_scores(&self.config, &preds, &target)?;

        match formatted {
            Formatted::Binary(batch) => {
                let per_label = batch.n_positions.max(1);
                for (index, (&pred, &target)) in batch.preds.iter().zip(&batch.target).enumerate() {
                    let Some(target) = target else { continue };
                    let label = (index / per_label) % batch.n_labels;
                    self.matrix[label * 4 + usize::from(target) * 2 + usize::from(pred)] += 1;
                }
                self.positions += batch.target.len() as u64;
            }
            Formatted::Multiclass(batch) => {
                let classes = self.config.num_classes();
                for (&pred, &target) in batch.preds.iter().zip(&batch.target) {
                    let Some(target) = target else { continue };
                    self.matrix[target as usize * classes + pred as usize] += 1;
                }
                self.positions += batch.target.len() as u64;
            }
        }
        Ok(())
    }

    fn merge(&mut self, metric: &str, other: &Self) -> Result<()> {
        check_same_config(metric, "config", &self.config, &other.config)?;
        self.check_consistent()?;
        other.check_consistent()?;
        for (mine, theirs) in self.matrix.iter_mut().zip(&other.matrix) {
            *mine += theirs;
        }
        self.positions += other.positions;
        Ok(())
    }

    fn clear(&mut self) {
        self.matrix.fill(0);
        self.positions = 0;
    }

    fn check_not_empty(&self, metric: &str) -> Result<()> {
        self.check_consistent()?;
        if self.positions == 0 {
            return Err(Error::not_enough_data(
                metric,
                "no samples were seen; call update with at least one sample before compute",
            ));
        }
        Ok(())
    }

    /// Returns the `(C, C)` matrix of the binary or multiclass task, or the sum of the per-label
    /// `(2, 2)` matrices of the multilabel task.
    fn square(&self) -> Array2<u64> {
        match self.config.task() {
            Task::Multiclass => {
                let classes = self.config.num_classes();
                Array2::from_shape_vec((classes, classes), self.matrix.clone())
                    .expect("matrix has C * C cells")
            }
            _ => {
                let mut summed = Array2::zeros((2, 2));
                for block in self.matrix.chunks(4) {
                    for (cell, &count) in block.iter().enumerate() {
                        summed[[cell / 2, cell % 2]] += count;
                    }
                }
                summed
            }
        }
    }

    fn shared_key(&self) -> String {
        format!("classification.confusion {:?}", self.config)
    }
}

fn downcast_confusion<'a>(name: &str, state: &'a dyn Any) -> Result<&'a ConfusionCounts> {
    state.downcast_ref::<ConfusionCounts>().ok_or_else(|| {
        Error::incompatible_state(format!(
            "{name} reads ConfusionCounts, but the shared state is another type"
        ))
    })
}

/// Implements [`Metric`] for a struct with a `counts: ConfusionCounts` field, a
/// `fn name(&self) -> &'static str`, `fn option(&self) -> impl PartialEq + Debug` and a
/// `fn value_of(&self, &ConfusionCounts) -> Value`.
macro_rules! impl_confusion_metric {
    ($metric:ident, $higher:expr, $lower:expr, $upper:expr) => {
        impl Metric for $metric {
            type Kind = ClassificationBatch;
            type Output = Value;

            fn info(&self) -> MetricInfo {
                MetricInfo {
                    name: self.name(),
                    higher_is_better: $higher,
                    is_differentiable: false,
                    lower_bound: $lower,
                    upper_bound: $upper,
                }
            }

            fn update(&mut self, input: Input<'_, Self>) -> Result<()> {
                let (preds, target) = input;
                self.counts.update(preds, target)
            }

            fn compute(&self) -> Result<Value> {
                self.compute_shared(&self.counts)
            }

            fn reset(&mut self) {
                self.counts.clear();
            }

            fn merge(&mut self, other: &Self) -> Result<()> {
                check_same_config(self.name(), "options", &self.option(), &other.option())?;
                self.counts.merge(self.name(), &other.counts)
            }

            fn shared_state_key(&self) -> Option<String> {
                Some(self.counts.shared_key())
            }

            fn shared_state(&self) -> Option<&dyn Any> {
                Some(&self.counts)
            }

            fn compute_shared(&self, state: &dyn Any) -> Result<Value> {
                let counts = downcast_confusion(self.name(), state)?;
                counts.check_not_empty(self.name())?;
                if counts.config != self.counts.config {
                    return Err(Error::incompatible_state(format!(
                        "{} cannot read counts built with another configuration",
                        self.name()
                    )));
                }
                Ok(self.value_of(counts))
            }

            fn merge_shared(&mut self, state: &dyn Any) -> Result<()> {
                let counts = downcast_confusion(self.name(), state)?;
                self.counts.merge(self.name(), counts)
            }
        }
    };
}

/// The normalization of a confusion matrix, as TorchMetrics' and scikit-learn's `normalize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Normalize {
    /// Raw counts.
    None,
    /// Each row (true class) sums to 1.
    True,
    /// Each column (predicted class) sums to 1.
    Pred,
    /// The whole matrix sums to 1.
    All,
}

impl Normalize {
    /// Parses `"none"`, `"true"`, `"pred"` or `"all"`.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] naming `normalize` for any other string.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::classification::Normalize;
    ///
    /// assert_eq!(Normalize::parse("pred")?, Normalize::Pred);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "none" => Ok(Normalize::None),
            "true" => Ok(Normalize::True),
            "pred" => Ok(Normalize::Pred),
            "all" => Ok(Normalize::All),
            other => Err(Error::invalid_argument(
                "normalize",
                format!("{other:?} is not one of \"none\", \"true\", \"pred\", \"all\""),
            )),
        }
    }
}

/// Normalizes one square matrix; a row, column or matrix that sums to 0 stays 0, as
/// scikit-learn's `confusion_matrix` returns.
fn normalize_square(matrix: &mut Array2<f64>, normalize: Normalize) {
    match normalize {
        Normalize::None => {}
        Normalize::True => {
            for mut row in matrix.rows_mut() {
                let total: f64 = row.sum();
                if total > 0.0 {
                    row.mapv_inplace(|x| x / total);
                }
            }
        }
        Normalize::Pred => {
            for mut column in matrix.columns_mut() {
                let total: f64 = column.sum();
                if total > 0.0 {
                    column.mapv_inplace(|x| x / total);
                }
            }
        }
        Normalize::All => {
            let total: f64 = matrix.sum();
            if total > 0.0 {
                matrix.mapv_inplace(|x| x / total);
            }
        }
    }
}

/// The confusion matrix, as scikit-learn's `confusion_matrix` and TorchMetrics'
/// `ConfusionMatrix`: entry `[i, j]` counts positions of true class `i` predicted as `j`.
///
/// The value has shape `(2, 2)` (binary), `(C, C)` (multiclass) or `(L, 2, 2)` (multilabel,
/// one matrix per label).
///
/// # Example
///
/// ```
/// use ferrometrics::classification::{ConfusionMatrix, Normalize, Preds, TaskConfig};
/// use ferrometrics::{Metric, Value};
/// use ndarray::array;
///
/// let mut metric = ConfusionMatrix::new(TaskConfig::multiclass(3), Normalize::None)?;
/// let (preds, target) = (array![2_i64, 0, 2, 1].into_dyn(), array![2_i64, 0, 1, 1].into_dyn());
/// metric.update((Preds::Labels(preds.view()), target.view()))?;
/// let Value::Array(matrix) = metric.compute()? else { unreachable!() };
/// assert_eq!(matrix.as_slice().unwrap(), &[1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0]);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    counts: ConfusionCounts,
    normalize: Normalize,
}

impl ConfusionMatrix {
    /// Creates the metric.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `config` is invalid, has `top_k > 1`, or counts
    /// samplewise.
    pub fn new(config: TaskConfig, normalize: Normalize) -> Result<Self> {
        Ok(Self {
            counts: ConfusionCounts::new(config)?,
            normalize,
        })
    }

    fn name(&self) -> &'static str {
        match self.counts.config.task() {
            Task::Binary => "BinaryConfusionMatrix",
            Task::Multiclass => "MulticlassConfusionMatrix",
            Task::Multilabel => "MultilabelConfusionMatrix",
        }
    }

    fn option(&self) -> Normalize {
        self.normalize
    }

    fn value_of(&self, counts: &ConfusionCounts) -> Value {
        if counts.config.task() != Task::Multilabel {
            let mut matrix = counts.square().mapv(|x| x as f64);
            normalize_square(&mut matrix, self.normalize);
            return Value::from(matrix);
        }
        let labels = counts.config.num_classes();
        let mut blocks = Array3::zeros((labels, 2, 2));
        for (label, block) in counts.matrix.chunks(4).enumerate() {
            let mut matrix = Array2::from_shape_fn((2, 2), |(t, p)| block[t * 2 + p] as f64);
            normalize_square(&mut matrix, self.normalize);
            blocks
                .index_axis_mut(ndarray::Axis(0), label)
                .assign(&matrix);
        }
        Value::Array(blocks.into_dyn())
    }
}

impl_confusion_metric!(ConfusionMatrix, None, 0.0, f64::INFINITY);

/// The weights of disagreement in Cohen's kappa, as scikit-learn's `weights`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KappaWeights {
    /// Every disagreement weighs 1.
    None,
    /// A disagreement between classes `i` and `j` weighs `|i - j|`.
    Linear,
    /// A disagreement between classes `i` and `j` weighs `(i - j)^2`.
    Quadratic,
}

/// Computes Cohen's kappa of a square confusion matrix as scikit-learn's `cohen_kappa_score`:
/// `1 - sum(w * C) / sum(w * E)` with `E` the outer product of the marginals over the total.
/// It is NaN where `sum(w * E) = 0` (for example a single class in both labelings), as
/// scikit-learn returns.
fn cohen_kappa_of(matrix: &Array2<u64>, weights: KappaWeights) -> f64 {
    let classes = matrix.nrows();
    let total: f64 = matrix.iter().map(|&x| x as f64).sum();
    let row_sums: Vec<f64> = matrix.rows().into_iter().map(|r| r.sum() as f64).collect();
    let col_sums: Vec<f64> = matrix
        .columns()
        .into_iter()
        .map(|c| c.sum() as f64)
        .collect();

    let mut observed = 0.0;
    let mut expected = 0.0;
    for i in 0..classes {
        for j in 0..classes {
            let distance = i.abs_diff(j) as f64;
            let weight = match weights {
                KappaWeights::None => f64::from(u8::from(i != j)),
                KappaWeights::Linear => distance,
                KappaWeights::Quadratic => distance * distance,
            };
            observed += weight * matrix[[i, j]] as f64;
            expected += weight * row_sums[i] * col_sums[j] / total;
        }
    }
    1.0 - observed / expected
}

/// Cohen's kappa, the agreement between predictions and targets corrected for chance, as
/// scikit-learn's `cohen_kappa_score` over the labels `0..num_classes` and TorchMetrics'
/// `CohenKappa`. It is NaN where chance agreement is complete (for example a single class in
/// both predictions and targets), as both references return.
///
/// # Example
///
/// ```
/// use ferrometrics::classification::{CohenKappa, KappaWeights, Preds, TaskConfig};
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = CohenKappa::new(TaskConfig::binary(), KappaWeights::None)?;
/// let (preds, target) = (array![1_i64, 1, 0, 0].into_dyn(), array![1_i64, 0, 1, 0].into_dyn());
/// metric.update((Preds::Labels(preds.view()), target.view()))?;
/// assert_eq!(metric.compute()?.as_scalar(), Some(0.0));
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohenKappa {
    counts: ConfusionCounts,
    weights: KappaWeights,
}

impl CohenKappa {
    /// Creates the metric for the binary or multiclass task.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `config` is invalid or multilabel.
    pub fn new(config: TaskConfig, weights: KappaWeights) -> Result<Self> {
        if config.task() == Task::Multilabel {
            return Err(Error::invalid_argument(
                "task",
                "Cohen's kappa is defined for the binary and multiclass tasks; pass one of them",
            ));
        }
        Ok(Self {
            counts: ConfusionCounts::new(config)?,
            weights,
        })
    }

    fn name(&self) -> &'static str {
        match self.counts.config.task() {
            Task::Binary => "BinaryCohenKappa",
            _ => "MulticlassCohenKappa",
        }
    }

    fn option(&self) -> KappaWeights {
        self.weights
    }

    fn value_of(&self, counts: &ConfusionCounts) -> Value {
        Value::Scalar(cohen_kappa_of(&counts.square(), self.weights))
    }
}

impl_confusion_metric!(CohenKappa, Some(true), -1.0, 1.0);

/// Computes the Matthews correlation coefficient of a square confusion matrix as scikit-learn's
/// `matthews_corrcoef`:
/// `(c s - sum_k p_k t_k) / sqrt((s^2 - sum_k p_k^2)(s^2 - sum_k t_k^2))`, with `c` the correct
/// count, `s` the total, `t` the true and `p` the predicted class counts; 0 where either factor
/// of the denominator is 0.
fn matthews_of(matrix: &Array2<u64>) -> f64 {
    // Products of counts overflow u64 past 2^32 samples, so the sums are exact in i128.
    let total: i128 = matrix.iter().map(|&x| i128::from(x)).sum();
    let correct: i128 = matrix.diag().iter().map(|&x| i128::from(x)).sum();
    let true_counts: Vec<i128> = matrix
        .rows()
        .into_iter()
        .map(|r| i128::from(r.sum()))
        .collect();
    let pred_counts: Vec<i128> = matrix
        .columns()
        .into_iter()
        .map(|c| i128::from(c.sum()))
        .collect();

    let dot = |a: &[i128], b: &[i128]| a.iter().zip(b).map(|(x, y)| x * y).sum::<i128>();
    let cov_true_pred = correct * total - dot(&true_counts, &pred_counts);
    let cov_pred_pred = total * total - dot(&pred_counts, &pred_counts);
    let cov_true_true = total * total - dot(&true_counts, &true_counts);
    if cov_pred_pred == 0 || cov_true_true == 0 {
        return 0.0;
    }
    cov_true_pred as f64 / (cov_true_true as f64 * cov_pred_pred as f64).sqrt()
}

/// The Matthews correlation coefficient, as scikit-learn's `matthews_corrcoef` and
/// TorchMetrics' `MatthewsCorrCoef`. The multilabel task sums the per-label `(2, 2)` matrices,
/// as TorchMetrics does. It is 0 when the predictions or the targets hold a single class, as
/// scikit-learn returns.
///
/// # Example
///
/// ```
/// use ferrometrics::classification::{MatthewsCorrCoef, Preds, TaskConfig};
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = MatthewsCorrCoef::new(TaskConfig::binary())?;
/// let (preds, target) = (array![1_i64, 1, 0, 0].into_dyn(), array![1_i64, 1, 0, 0].into_dyn());
/// metric.update((Preds::Labels(preds.view()), target.view()))?;
/// assert_eq!(metric.compute()?.as_scalar(), Some(1.0));
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatthewsCorrCoef {
    counts: ConfusionCounts,
}

impl MatthewsCorrCoef {
    /// Creates the metric.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `config` is invalid, has `top_k > 1`, or counts
    /// samplewise.
    pub fn new(config: TaskConfig) -> Result<Self> {
        Ok(Self {
            counts: ConfusionCounts::new(config)?,
        })
    }

    fn name(&self) -> &'static str {
        match self.counts.config.task() {
            Task::Binary => "BinaryMatthewsCorrCoef",
            Task::Multiclass => "MulticlassMatthewsCorrCoef",
            Task::Multilabel => "MultilabelMatthewsCorrCoef",
        }
    }

    fn option(&self) {}

    fn value_of(&self, counts: &ConfusionCounts) -> Value {
        Value::Scalar(matthews_of(&counts.square()))
    }
}

impl_confusion_metric!(MatthewsCorrCoef, Some(true), -1.0, 1.0);
