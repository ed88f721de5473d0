//! The stat-score family: metrics that are fractions of true and false positives and negatives.
//!
//! Each struct serves the three tasks, as TorchMetrics' `Accuracy(task=...)`: its
//! [`TaskConfig`] picks binary, multiclass or multilabel, and its name follows
//! (`BinaryAccuracy`, `MulticlassAccuracy`, `MultilabelAccuracy`).

use std::any::Any;

use serde::{Deserialize, Serialize};

use super::config::{check_zero_division, Average, Task, TaskConfig};
use super::stat_scores::{reduce, stat_scores_value, ClassCounts, StatCounts};
use super::ClassificationBatch;
use crate::error::{Error, Result};
use crate::metric::{Input, Metric, MetricInfo};
use crate::value::Value;

/// Averaging and undefined-value options of a stat-score metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct ScoreParams {
    average: Average,
    zero_division: f64,
    beta: f64,
}

fn info(name: &'static str, higher_is_better: Option<bool>, upper_bound: f64) -> MetricInfo {
    MetricInfo {
        name,
        higher_is_better,
        is_differentiable: false,
        lower_bound: 0.0,
        upper_bound,
    }
}

fn task_name(config: &TaskConfig, names: [&'static str; 3]) -> &'static str {
    match config.task() {
        Task::Binary => names[0],
        Task::Multiclass => names[1],
        Task::Multilabel => names[2],
    }
}

fn downcast_counts<'a>(name: &str, state: &'a dyn Any) -> Result<&'a StatCounts> {
    state.downcast_ref::<StatCounts>().ok_or_else(|| {
        Error::incompatible_state(format!(
            "{name} reads StatCounts, but the shared state is another type"
        ))
    })
}

/// Implements [`Metric`] for a struct with `counts: StatCounts` and `params: ScoreParams`
/// fields. `$value` maps `(&Self, &StatCounts)` to the metric's [`Value`].
macro_rules! impl_stat_metric {
    ($metric:ident, $names:expr, $higher:expr, $upper:expr, $value:expr) => {
        impl $metric {
            const NAMES: [&'static str; 3] = $names;

            /// Returns the configuration the metric was built with.
            pub fn config(&self) -> &TaskConfig {
                self.counts.config()
            }

            /// Returns the average that reduces per-class values.
            pub fn average(&self) -> Average {
                self.params.average
            }

            fn value_of(&self, counts: &StatCounts) -> Result<Value> {
                let name = task_name(counts.config(), Self::NAMES);
                counts.check_not_empty(name)?;
                if counts.config() != self.counts.config() {
                    return Err(Error::incompatible_state(format!(
                        "{name} cannot read counts built with another configuration"
                    )));
                }
                let value: fn(&Self, &StatCounts) -> Value = $value;
                Ok(value(self, counts))
            }
        }

        impl Metric for $metric {
            type Kind = ClassificationBatch;
            type Output = Value;

            fn info(&self) -> MetricInfo {
                info(
                    task_name(self.counts.config(), Self::NAMES),
                    $higher,
                    $upper,
                )
            }

            fn update(&mut self, input: Input<'_, Self>) -> Result<()> {
                let (preds, target) = input;
                self.counts.update(preds, target)
            }

            fn compute(&self) -> Result<Value> {
                self.value_of(&self.counts)
            }

            fn reset(&mut self) {
                self.counts.clear();
            }

            fn merge(&mut self, other: &Self) -> Result<()> {
                let name = task_name(self.counts.config(), Self::NAMES);
                crate::metric::check_same_config(name, "params", &self.params, &other.params)?;
                self.counts.merge(name, &other.counts)
            }

            fn shared_state_key(&self) -> Option<String> {
                Some(self.counts.shared_key())
            }

            fn shared_state(&self) -> Option<&dyn Any> {
                Some(&self.counts)
            }

            fn compute_shared(&self, state: &dyn Any) -> Result<Value> {
                let name = task_name(self.counts.config(), Self::NAMES);
                self.value_of(downcast_counts(name, state)?)
            }

            fn merge_shared(&mut self, state: &dyn Any) -> Result<()> {
                let name = task_name(self.counts.config(), Self::NAMES);
                self.counts.merge(name, downcast_counts(name, state)?)
            }
        }
    };
}

/// Declares a stat-score metric whose value is `numerator / denominator` of `$score`.
///
/// A macro or weighted average over no class is `zero_division`, unless `$empty_average` gives
/// another value.
macro_rules! fraction_metric {
    (
        $(#[$doc:meta])*
        $metric:ident, $names:expr, $higher:expr, $score:expr
    ) => {
        fraction_metric!(
            $(#[$doc])*
            $metric, $names, $higher, $score, |params: ScoreParams| params.zero_division
        );
    };
    (
        $(#[$doc:meta])*
        $metric:ident, $names:expr, $higher:expr, $score:expr, $empty_average:expr
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub struct $metric {
            counts: StatCounts,
            params: ScoreParams,
        }

        impl_stat_metric!($metric, $names, $higher, 1.0, |metric, counts| {
            let params = metric.params;
            let score: fn(Task, ClassCounts, f64) -> (f64, f64) = $score;
            let empty_average: fn(ScoreParams) -> f64 = $empty_average;
            reduce(
                counts,
                params.average,
                params.zero_division,
                empty_average(params),
                &|task, c| score(task, c, params.beta),
            )
        });
    };
}

fn build<T>(
    config: TaskConfig,
    average: Average,
    zero_division: f64,
    beta: f64,
    make: fn(StatCounts, ScoreParams) -> T,
) -> Result<T> {
    config.validate()?;
    check_zero_division(zero_division)?;
    let params = ScoreParams {
        average,
        zero_division,
        beta,
    };
    Ok(make(StatCounts::new(config), params))
}

/// Adds `with_zero_division` to a metric that takes TorchMetrics' `zero_division` argument.
macro_rules! zero_division_setter {
    ($metric:ident) => {
        impl $metric {
            /// Sets the value of a 0/0 score: 0 (the default), 1 or NaN, as scikit-learn's
            /// `zero_division`. Under NaN, undefined classes are left out of macro and
            /// weighted averages.
            ///
            /// # Errors
            ///
            /// Returns [`Error::InvalidArgument`] naming `zero_division` for any other value.
            pub fn with_zero_division(mut self, zero_division: f64) -> Result<Self> {
                check_zero_division(zero_division)?;
                self.params.zero_division = zero_division;
                Ok(self)
            }
        }
    };
}

fn accuracy_score(task: Task, c: ClassCounts, _beta: f64) -> (f64, f64) {
    match task {
        Task::Multiclass => (c.tp, c.tp + c.fn_),
        _ => (c.tp + c.tn, c.tp + c.tn + c.fp + c.fn_),
    }
}

fraction_metric!(
    /// The fraction of correct predictions, as TorchMetrics' `Accuracy`.
    ///
    /// Binary and multilabel: `(tp + tn) / (tp + tn + fp + fn)`, per label before averaging.
    /// Multiclass: `tp / (tp + fn)` per class, so that `Micro` gives scikit-learn's
    /// `accuracy_score` (or its top-k accuracy) and `Macro` gives the mean per-class recall.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::classification::{Accuracy, Average, Preds, TaskConfig};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = Accuracy::new(TaskConfig::multiclass(3), Average::Micro)?;
    /// let (preds, target) = (array![2_i64, 0, 2, 1].into_dyn(), array![2_i64, 0, 1, 1].into_dyn());
    /// metric.update((Preds::Labels(preds.view()), target.view()))?;
    /// assert_eq!(metric.compute()?.as_scalar(), Some(0.75));
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    Accuracy,
    ["BinaryAccuracy", "MulticlassAccuracy", "MultilabelAccuracy"],
    Some(true),
    accuracy_score
);

impl Accuracy {
    /// Creates the metric. `average` is ignored by the binary task.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `config` is invalid (see [`TaskConfig::validate`]).
    pub fn new(config: TaskConfig, average: Average) -> Result<Self> {
        build(config, average, 0.0, 1.0, |counts, params| Self {
            counts,
            params,
        })
    }
}

fraction_metric!(
    /// The fraction of predicted positives that are true, `tp / (tp + fp)`, as scikit-learn's
    /// `precision_score` and TorchMetrics' `Precision`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::classification::{Average, Precision, Preds, TaskConfig};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = Precision::new(TaskConfig::binary(), Average::Micro)?;
    /// let (preds, target) = (array![0.9, 0.8, 0.1].into_dyn(), array![1_i64, 0, 1].into_dyn());
    /// metric.update((Preds::F64(preds.view()), target.view()))?;
    /// assert_eq!(metric.compute()?.as_scalar(), Some(0.5));
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    Precision,
    ["BinaryPrecision", "MulticlassPrecision", "MultilabelPrecision"],
    Some(true),
    |_, c, _| (c.tp, c.tp + c.fp)
);

fraction_metric!(
    /// The fraction of true positives that are predicted, `tp / (tp + fn)`, as scikit-learn's
    /// `recall_score` and TorchMetrics' `Recall`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::classification::{Average, Preds, Recall, TaskConfig};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = Recall::new(TaskConfig::binary(), Average::Micro)?;
    /// let (preds, target) = (array![1_i64, 0, 0, 1].into_dyn(), array![1_i64, 1, 1, 0].into_dyn());
    /// metric.update((Preds::Labels(preds.view()), target.view()))?;
    /// let recall = metric.compute()?.as_scalar().unwrap();
    /// assert!((recall - 1.0 / 3.0).abs() < 1e-15);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    Recall,
    ["BinaryRecall", "MulticlassRecall", "MultilabelRecall"],
    Some(true),
    |_, c, _| (c.tp, c.tp + c.fn_)
);

fn fbeta(c: ClassCounts, beta: f64) -> (f64, f64) {
    let beta2 = beta * beta;
    (
        (1.0 + beta2) * c.tp,
        (1.0 + beta2) * c.tp + beta2 * c.fn_ + c.fp,
    )
}

fraction_metric!(
    /// The harmonic mean of precision and recall,
    /// `2 tp / (2 tp + fn + fp)`, as scikit-learn's `f1_score` and TorchMetrics' `F1Score`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::classification::{Average, F1Score, Preds, TaskConfig};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = F1Score::new(TaskConfig::binary(), Average::Micro)?;
    /// let (preds, target) = (array![1_i64, 1, 0, 0].into_dyn(), array![1_i64, 0, 1, 0].into_dyn());
    /// metric.update((Preds::Labels(preds.view()), target.view()))?;
    /// assert_eq!(metric.compute()?.as_scalar(), Some(0.5));
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    F1Score,
    ["BinaryF1Score", "MulticlassF1Score", "MultilabelF1Score"],
    Some(true),
    |_, c, _| fbeta(c, 1.0)
);

fraction_metric!(
    /// The weighted harmonic mean of precision and recall,
    /// `(1 + beta^2) tp / ((1 + beta^2) tp + beta^2 fn + fp)`, as scikit-learn's `fbeta_score`
    /// and TorchMetrics' `FBetaScore`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::classification::{Average, FBetaScore, Preds, TaskConfig};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = FBetaScore::new(TaskConfig::binary(), 2.0, Average::Micro)?;
    /// let (preds, target) = (array![1_i64, 1, 0, 0].into_dyn(), array![1_i64, 0, 1, 0].into_dyn());
    /// metric.update((Preds::Labels(preds.view()), target.view()))?;
    /// assert_eq!(metric.compute()?.as_scalar(), Some(0.5));
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    FBetaScore,
    ["BinaryFBetaScore", "MulticlassFBetaScore", "MultilabelFBetaScore"],
    Some(true),
    |_, c, beta| fbeta(c, beta)
);

impl FBetaScore {
    /// Creates the metric with weight `beta` on recall. `average` is ignored by the binary
    /// task.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `config` is invalid or `beta` is not a positive
    /// finite number.
    pub fn new(config: TaskConfig, beta: f64, average: Average) -> Result<Self> {
        if !(beta.is_finite() && beta > 0.0) {
            return Err(Error::invalid_argument(
                "beta",
                format!("{beta} is not a positive finite number; pass beta > 0"),
            ));
        }
        build(config, average, 0.0, beta, |counts, params| Self {
            counts,
            params,
        })
    }

    /// Returns the weight of recall.
    pub fn beta(&self) -> f64 {
        self.params.beta
    }
}

fraction_metric!(
    /// The fraction of true negatives that are predicted negative, `tn / (tn + fp)`, as
    /// TorchMetrics' `Specificity`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::classification::{Average, Preds, Specificity, TaskConfig};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = Specificity::new(TaskConfig::binary(), Average::Micro)?;
    /// let (preds, target) = (array![1_i64, 1, 0, 0].into_dyn(), array![1_i64, 0, 0, 0].into_dyn());
    /// metric.update((Preds::Labels(preds.view()), target.view()))?;
    /// let specificity = metric.compute()?.as_scalar().unwrap();
    /// assert!((specificity - 2.0 / 3.0).abs() < 1e-15);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    Specificity,
    ["BinarySpecificity", "MulticlassSpecificity", "MultilabelSpecificity"],
    Some(true),
    |_, c, _| (c.tn, c.tn + c.fp)
);

fraction_metric!(
    /// The fraction of predicted negatives that are true negatives, `tn / (tn + fn)`, as
    /// TorchMetrics' `NegativePredictiveValue`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::classification::{Average, NegativePredictiveValue, Preds, TaskConfig};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = NegativePredictiveValue::new(TaskConfig::binary(), Average::Micro)?;
    /// let (preds, target) = (array![0_i64, 0, 0, 1].into_dyn(), array![1_i64, 0, 0, 0].into_dyn());
    /// metric.update((Preds::Labels(preds.view()), target.view()))?;
    /// let npv = metric.compute()?.as_scalar().unwrap();
    /// assert!((npv - 2.0 / 3.0).abs() < 1e-15);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    NegativePredictiveValue,
    [
        "BinaryNegativePredictiveValue",
        "MulticlassNegativePredictiveValue",
        "MultilabelNegativePredictiveValue"
    ],
    Some(true),
    |_, c, _| (c.tn, c.tn + c.fn_)
);

fraction_metric!(
    /// The fraction of wrong predictions, `1 - accuracy` class by class, as TorchMetrics'
    /// `HammingDistance` and scikit-learn's `hamming_loss` (binary, multilabel micro).
    ///
    /// A class with no counted position has distance 1, as `1 - 0` in TorchMetrics. A macro or
    /// weighted average over no class (every target ignored, or no support under `Weighted`)
    /// is 0, as in TorchMetrics, where the weights sum to zero.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::classification::{Average, HammingDistance, Preds, TaskConfig};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = HammingDistance::new(TaskConfig::multilabel(2), Average::Micro)?;
    /// let (preds, target) = (array![[1_i64, 0], [1, 1]].into_dyn(), array![[1_i64, 1], [1, 1]].into_dyn());
    /// metric.update((Preds::Labels(preds.view()), target.view()))?;
    /// assert_eq!(metric.compute()?.as_scalar(), Some(0.25));
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    HammingDistance,
    ["BinaryHammingDistance", "MulticlassHammingDistance", "MultilabelHammingDistance"],
    Some(false),
    |task, c, _| match task {
        Task::Multiclass => (c.fn_, c.tp + c.fn_),
        _ => (c.fp + c.fn_, c.tp + c.tn + c.fp + c.fn_),
    },
    |_| 0.0
);

impl HammingDistance {
    /// Creates the metric. `average` is ignored by the binary task.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `config` is invalid (see [`TaskConfig::validate`]).
    pub fn new(config: TaskConfig, average: Average) -> Result<Self> {
        build(config, average, 1.0, 1.0, |counts, params| Self {
            counts,
            params,
        })
    }
}

fraction_metric!(
    /// The intersection over union of predicted and true positives, `tp / (tp + fp + fn)`, as
    /// scikit-learn's `jaccard_score` and TorchMetrics' `JaccardIndex`.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::classification::{Average, JaccardIndex, Preds, TaskConfig};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = JaccardIndex::new(TaskConfig::binary(), Average::Micro)?;
    /// let (preds, target) = (array![1_i64, 1, 0, 0].into_dyn(), array![1_i64, 0, 1, 0].into_dyn());
    /// metric.update((Preds::Labels(preds.view()), target.view()))?;
    /// let jaccard = metric.compute()?.as_scalar().unwrap();
    /// assert!((jaccard - 1.0 / 3.0).abs() < 1e-15);
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    JaccardIndex,
    ["BinaryJaccardIndex", "MulticlassJaccardIndex", "MultilabelJaccardIndex"],
    Some(true),
    |_, c, _| (c.tp, c.tp + c.fp + c.fn_)
);

/// Implements `new(config, average)` with `zero_division = 0` and the `zero_division` setter.
macro_rules! new_with_zero_division {
    ($($metric:ident),*) => {$(
        impl $metric {
            /// Creates the metric with `zero_division = 0`. `average` is ignored by the binary
            /// task.
            ///
            /// # Errors
            ///
            /// Returns [`Error::InvalidArgument`] if `config` is invalid (see
            /// [`TaskConfig::validate`]).
            pub fn new(config: TaskConfig, average: Average) -> Result<Self> {
                build(config, average, 0.0, 1.0, |counts, params| Self { counts, params })
            }
        }
        zero_division_setter!($metric);
    )*};
}

new_with_zero_division!(
    Precision,
    Recall,
    F1Score,
    Specificity,
    NegativePredictiveValue,
    JaccardIndex
);
zero_division_setter!(FBetaScore);

/// The counts themselves, as TorchMetrics' `StatScores`: `[tp, fp, tn, fn, support]`, per class
/// (shape `(C, 5)`) or summed under `Micro` and for the binary task (shape `(5,)`), with a
/// leading sample axis for samplewise counts.
///
/// # Example
///
/// ```
/// use ferrometrics::classification::{Average, Preds, StatScores, TaskConfig};
/// use ferrometrics::{Metric, Value};
/// use ndarray::array;
///
/// let mut metric = StatScores::new(TaskConfig::binary(), Average::Micro)?;
/// let (preds, target) = (array![1_i64, 1, 0, 0].into_dyn(), array![1_i64, 0, 1, 0].into_dyn());
/// metric.update((Preds::Labels(preds.view()), target.view()))?;
/// let Value::Array(counts) = metric.compute()? else { unreachable!() };
/// assert_eq!(counts.as_slice().unwrap(), &[1.0, 1.0, 1.0, 1.0, 2.0]);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatScores {
    counts: StatCounts,
    params: ScoreParams,
}

impl StatScores {
    /// Creates the metric. `average` is ignored by the binary task; `Macro` and `Weighted`
    /// give per-class counts as `None` does.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `config` is invalid (see [`TaskConfig::validate`]).
    pub fn new(config: TaskConfig, average: Average) -> Result<Self> {
        build(config, average, 0.0, 1.0, |counts, params| Self {
            counts,
            params,
        })
    }
}

impl_stat_metric!(
    StatScores,
    [
        "BinaryStatScores",
        "MulticlassStatScores",
        "MultilabelStatScores"
    ],
    None,
    f64::INFINITY,
    |metric, counts| stat_scores_value(counts, metric.params.average)
);
