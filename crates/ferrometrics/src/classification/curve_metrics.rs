//! The curve metrics: precision-recall and ROC curves, the areas under them, and the operating
//! points read off them, for the three tasks.
//!
//! Multiclass curves are one class against the rest, multilabel curves one label at a time.

use std::any::Any;

use ndarray::Array1;
use serde::{Deserialize, Serialize};

use super::config::{Average, Task, TaskConfig};
use super::curve_state::{ClassCurve, CurveState, Thresholds};
use super::curves::{
    auroc, average_precision, equal_error_rate, log_auc, pr_curve, precision_at_recall,
    recall_at_precision, roc_curve, sensitivity_at_specificity, sorted_auroc,
    sorted_average_precision, sorted_roc_curve, specificity_at_sensitivity, OperatingPoint,
};
use super::sorted_scores::SortedScores;
use super::ClassificationBatch;
use crate::error::{Error, Result};
use crate::metric::{check_same_config, Input, Metric, MetricInfo};
use crate::value::Value;

fn task_name(state: &CurveState, names: [&'static str; 3]) -> &'static str {
    match state.config().task() {
        Task::Binary => names[0],
        Task::Multiclass => names[1],
        Task::Multilabel => names[2],
    }
}

fn class_curves(state: &CurveState) -> Vec<ClassCurve> {
    (0..state.classes())
        .map(|class| state.class_curve(Some(class)))
        .collect()
}

/// Returns per-class curves keyed by class index, or the one binary curve.
fn curve_value(
    state: &CurveState,
    curve: impl Fn(&ClassCurve) -> [(&'static str, Vec<f64>); 3],
) -> Value {
    if state.config().task() == Task::Binary {
        let parts = curve(&state.class_curve(Some(0)));
        return Value::Map(
            parts
                .into_iter()
                .map(|(key, values)| (key.to_owned(), Value::from(Array1::from(values))))
                .collect(),
        );
    }
    let per_class: Vec<[(&'static str, Vec<f64>); 3]> =
        class_curves(state).iter().map(&curve).collect();
    let keys = per_class
        .first()
        .map(|parts| parts.clone().map(|(key, _)| key))
        .unwrap_or(["", "", ""]);
    let mut entries = Vec::new();
    for (k, key) in keys.into_iter().enumerate() {
        let classes = per_class
            .iter()
            .enumerate()
            .map(|(class, parts)| {
                (
                    class.to_string(),
                    Value::from(Array1::from(parts[k].1.clone())),
                )
            })
            .collect();
        entries.push((key.to_owned(), Value::Map(classes)));
    }
    Value::Map(entries)
}

/// Reduces a per-class score: the score itself for the binary task, otherwise `Micro` scores
/// the pooled positions, `Macro` and `Weighted` (by positives) take the mean with NaN
/// propagating as in numpy's `average`, and `None` returns one value per class.
fn averaged_score(
    state: &CurveState,
    average: Average,
    score: impl Fn(&ClassCurve) -> f64,
) -> Value {
    if state.config().task() == Task::Binary {
        return Value::Scalar(score(&state.class_curve(Some(0))));
    }
    if average == Average::Micro {
        return Value::Scalar(score(&state.class_curve(None)));
    }
    let values: Vec<f64> = class_curves(state).iter().map(&score).collect();
    match average {
        Average::None => Value::from(Array1::from(values)),
        Average::Macro => Value::Scalar(values.iter().sum::<f64>() / values.len() as f64),
        _ => {
            let weights: Vec<f64> = (0..state.classes())
                .map(|class| state.support(class) as f64)
                .collect();
            let total: f64 = weights.iter().sum();
            if total == 0.0 {
                return Value::Scalar(0.0);
            }
            let weighted: f64 = values.iter().zip(&weights).map(|(v, w)| v * w).sum();
            Value::Scalar(weighted / total)
        }
    }
}

/// Returns `(value, threshold)` named by `keys`: scalars for the binary task, one entry per
/// class otherwise.
fn operating_value(
    state: &CurveState,
    keys: [&str; 2],
    point: impl Fn(&ClassCurve) -> OperatingPoint,
) -> Value {
    if state.config().task() == Task::Binary {
        let (value, threshold) = point(&state.class_curve(Some(0)));
        return Value::Map(vec![
            (keys[0].to_owned(), Value::Scalar(value)),
            (keys[1].to_owned(), Value::Scalar(threshold)),
        ]);
    }
    let points: Vec<OperatingPoint> = class_curves(state).iter().map(&point).collect();
    Value::Map(vec![
        (
            keys[0].to_owned(),
            Value::from(points.iter().map(|p| p.0).collect::<Array1<f64>>()),
        ),
        (
            keys[1].to_owned(),
            Value::from(points.iter().map(|p| p.1).collect::<Array1<f64>>()),
        ),
    ])
}

/// A value that exact binary curves compute from the sorted scores without building the
/// cumulative counts.
#[derive(Debug, Clone, Copy)]
enum SortedKernel {
    Roc,
    Auroc,
    AveragePrecision,
}

impl SortedKernel {
    fn value(self, sorted: &SortedScores) -> Value {
        match self {
            SortedKernel::Roc => {
                let roc = sorted_roc_curve(sorted);
                Value::Map(vec![
                    ("fpr".to_owned(), Value::from(Array1::from(roc.fpr))),
                    ("tpr".to_owned(), Value::from(Array1::from(roc.tpr))),
                    (
                        "thresholds".to_owned(),
                        Value::from(Array1::from(roc.thresholds)),
                    ),
                ])
            }
            SortedKernel::Auroc => Value::Scalar(sorted_auroc(sorted)),
            SortedKernel::AveragePrecision => Value::Scalar(sorted_average_precision(sorted)),
        }
    }
}

/// A curve metric's choice of [`SortedKernel`].
trait SortedValue {
    /// Returns the kernel that computes this metric's exact binary value from sorted scores,
    /// or `None` when the value needs the cumulative counts.
    fn sorted_kernel(&self) -> Option<SortedKernel> {
        None
    }

    /// Computes the value of an exact binary state through the sorted scores, or `None` when
    /// the kernel or the state does not allow it.
    fn sorted_state_value(&self, state: &CurveState) -> Option<Value> {
        let kernel = self.sorted_kernel()?;
        let sorted = state.sorted_binary_scores()?;
        Some(kernel.value(&sorted))
    }
}

/// Implements [`Metric`] for a struct with a `state: CurveState` field, a `NAMES` constant, a
/// `fn options(&self) -> String`, a `fn value_of(&self, &CurveState) -> Value` and an
/// implementation of [`SortedValue`].
macro_rules! impl_curve_metric {
    ($metric:ident, $higher:expr, $lower:expr, $upper:expr) => {
        impl $metric {
            /// Returns the task configuration.
            pub fn config(&self) -> &TaskConfig {
                self.state.config()
            }
        }

        impl Metric for $metric {
            type Kind = ClassificationBatch;
            type Output = Value;

            fn info(&self) -> MetricInfo {
                MetricInfo {
                    name: task_name(&self.state, Self::NAMES),
                    higher_is_better: $higher,
                    is_differentiable: false,
                    lower_bound: $lower,
                    upper_bound: $upper,
                }
            }

            fn update(&mut self, input: Input<'_, Self>) -> Result<()> {
                let (preds, target) = input;
                self.state.update(&preds, &target)
            }

            fn compute(&self) -> Result<Value> {
                self.compute_shared(&self.state)
            }

            fn reset(&mut self) {
                self.state.clear();
            }

            fn evaluate(&self, input: Input<'_, Self>) -> Result<Value> {
                // A valid exact binary float32 batch is sorted in place, without the copy
                // into a state.
                let (preds, target) = input;
                if let Some(kernel) = self.sorted_kernel() {
                    if let Some(sorted) = self.state.sorted_binary_batch(&preds, &target) {
                        return Ok(kernel.value(&sorted));
                    }
                }
                let mut batch = self.empty();
                batch.update((preds, target))?;
                batch.compute()
            }

            fn merge(&mut self, other: &Self) -> Result<()> {
                let name = task_name(&self.state, Self::NAMES);
                check_same_config(name, "options", &self.options(), &other.options())?;
                self.state.merge(name, &other.state)
            }

            fn shared_state_key(&self) -> Option<String> {
                Some(self.state.shared_key())
            }

            fn shared_state(&self) -> Option<&dyn Any> {
                Some(&self.state)
            }

            fn compute_shared(&self, state: &dyn Any) -> Result<Value> {
                let name = task_name(&self.state, Self::NAMES);
                let Some(state) = state.downcast_ref::<CurveState>() else {
                    return Err(Error::incompatible_state(format!(
                        "{name} reads CurveState, but the shared state is another type"
                    )));
                };
                if state.shared_key() != self.state.shared_key() {
                    return Err(Error::incompatible_state(format!(
                        "{name} cannot read a curve state built with another configuration"
                    )));
                }
                state.check_not_empty(name)?;
                Ok(self.value_of(state))
            }

            fn merge_shared(&mut self, state: &dyn Any) -> Result<()> {
                let name = task_name(&self.state, Self::NAMES);
                let Some(state) = state.downcast_ref::<CurveState>() else {
                    return Err(Error::incompatible_state(format!(
                        "{name} merges a CurveState, but the shared state is another type"
                    )));
                };
                if state.shared_key() != self.state.shared_key() {
                    return Err(Error::incompatible_state(format!(
                        "{name} cannot merge a curve state built with another configuration"
                    )));
                }
                self.state.merge(name, state)
            }
        }
    };
}

/// The precision-recall curve, as scikit-learn's `precision_recall_curve` (exact thresholds)
/// and TorchMetrics' `PrecisionRecallCurve` (binned thresholds).
///
/// The value maps `precision`, `recall` and `thresholds` to arrays (binary) or to maps from
/// class index to arrays (multiclass one-vs-rest, multilabel per label). Thresholds increase,
/// and precision and recall end with the point (1, 0).
///
/// # Example
///
/// ```
/// use ferrometrics::classification::{PrecisionRecallCurve, Preds, TaskConfig, Thresholds};
/// use ferrometrics::{Metric, Value};
/// use ndarray::array;
///
/// let mut metric = PrecisionRecallCurve::new(TaskConfig::binary(), Thresholds::Exact)?;
/// let (preds, target) = (array![0.1, 0.4, 0.35, 0.8].into_dyn(), array![0_i64, 0, 1, 1].into_dyn());
/// metric.update((Preds::F64(preds.view()), target.view()))?;
/// let Value::Map(parts) = metric.compute()? else { unreachable!() };
/// let Value::Array(precision) = &parts[0].1 else { unreachable!() };
/// assert_eq!(precision.as_slice().unwrap(), &[0.5, 2.0 / 3.0, 0.5, 1.0, 1.0]);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrecisionRecallCurve {
    state: CurveState,
}

impl PrecisionRecallCurve {
    const NAMES: [&'static str; 3] = [
        "BinaryPrecisionRecallCurve",
        "MulticlassPrecisionRecallCurve",
        "MultilabelPrecisionRecallCurve",
    ];

    /// Creates the metric.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `config` or `thresholds` is invalid, or `config`
    /// sets `top_k` or samplewise counting.
    pub fn new(config: TaskConfig, thresholds: Thresholds) -> Result<Self> {
        Ok(Self {
            state: CurveState::new(config, &thresholds)?,
        })
    }

    fn options(&self) -> String {
        String::new()
    }

    fn value_of(&self, state: &CurveState) -> Value {
        curve_value(state, |curve| {
            let pr = pr_curve(curve);
            [
                ("precision", pr.precision),
                ("recall", pr.recall),
                ("thresholds", pr.thresholds),
            ]
        })
    }
}

impl SortedValue for PrecisionRecallCurve {}

impl_curve_metric!(PrecisionRecallCurve, None, 0.0, 1.0);

/// The receiver operating characteristic curve, as scikit-learn's
/// `roc_curve(drop_intermediate=False)` (exact thresholds, with a first point (0, 0) at
/// threshold +inf) and TorchMetrics' `ROC` (binned thresholds).
///
/// The value maps `fpr`, `tpr` and `thresholds` to arrays (binary) or to maps from class index
/// to arrays. False positive rates increase and thresholds decrease.
///
/// # Example
///
/// ```
/// use ferrometrics::classification::{Preds, Roc, TaskConfig, Thresholds};
/// use ferrometrics::{Metric, Value};
/// use ndarray::array;
///
/// let mut metric = Roc::new(TaskConfig::binary(), Thresholds::Exact)?;
/// let (preds, target) = (array![0.1, 0.4, 0.35, 0.8].into_dyn(), array![0_i64, 0, 1, 1].into_dyn());
/// metric.update((Preds::F64(preds.view()), target.view()))?;
/// let Value::Map(parts) = metric.compute()? else { unreachable!() };
/// let Value::Array(tpr) = &parts[1].1 else { unreachable!() };
/// assert_eq!(tpr.as_slice().unwrap(), &[0.0, 0.5, 0.5, 1.0, 1.0]);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Roc {
    state: CurveState,
}

impl Roc {
    const NAMES: [&'static str; 3] = ["BinaryROC", "MulticlassROC", "MultilabelROC"];

    /// Creates the metric.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `config` or `thresholds` is invalid, or `config`
    /// sets `top_k` or samplewise counting.
    pub fn new(config: TaskConfig, thresholds: Thresholds) -> Result<Self> {
        Ok(Self {
            state: CurveState::new(config, &thresholds)?,
        })
    }

    fn options(&self) -> String {
        String::new()
    }

    fn value_of(&self, state: &CurveState) -> Value {
        // Exact binary curves fill the rates straight from the sorted scores.
        if let Some(value) = self.sorted_state_value(state) {
            return value;
        }
        curve_value(state, |curve| {
            let roc = roc_curve(curve);
            [
                ("fpr", roc.fpr),
                ("tpr", roc.tpr),
                ("thresholds", roc.thresholds),
            ]
        })
    }
}

impl SortedValue for Roc {
    fn sorted_kernel(&self) -> Option<SortedKernel> {
        Some(SortedKernel::Roc)
    }
}

impl_curve_metric!(Roc, None, 0.0, 1.0);

/// The area under the ROC curve, as scikit-learn's `roc_auc_score` (one-vs-rest for the
/// multiclass task) and TorchMetrics' `AUROC`.
///
/// It is NaN for a class without positives or without negatives, as scikit-learn returns, and
/// a macro or weighted average containing such a class is NaN. With `max_fpr` below 1 it is
/// the standardized partial area with the McClish correction, as scikit-learn.
///
/// # Example
///
/// ```
/// use ferrometrics::classification::{Auroc, Average, Preds, TaskConfig, Thresholds};
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = Auroc::new(TaskConfig::binary(), Thresholds::Exact, Average::Macro, None)?;
/// let (preds, target) = (array![0.1, 0.4, 0.35, 0.8].into_dyn(), array![0_i64, 0, 1, 1].into_dyn());
/// metric.update((Preds::F64(preds.view()), target.view()))?;
/// assert_eq!(metric.compute()?.as_scalar(), Some(0.75));
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Auroc {
    state: CurveState,
    average: Average,
    max_fpr: Option<f64>,
}

impl Auroc {
    const NAMES: [&'static str; 3] = ["BinaryAUROC", "MulticlassAUROC", "MultilabelAUROC"];

    /// Creates the metric. `average` is ignored by the binary task, and `max_fpr` applies to
    /// the binary task only, as in scikit-learn.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `config` or `thresholds` is invalid, or `max_fpr`
    /// is outside (0, 1] or set for a task other than binary.
    pub fn new(
        config: TaskConfig,
        thresholds: Thresholds,
        average: Average,
        max_fpr: Option<f64>,
    ) -> Result<Self> {
        if let Some(max_fpr) = max_fpr {
            if !(max_fpr > 0.0 && max_fpr <= 1.0) {
                return Err(Error::invalid_argument(
                    "max_fpr",
                    format!("{max_fpr} is outside (0, 1]; pass a false positive rate"),
                ));
            }
            if config.task() != Task::Binary {
                return Err(Error::invalid_argument(
                    "max_fpr",
                    "a partial area applies to the binary task only; pass None",
                ));
            }
        }
        Ok(Self {
            state: CurveState::new(config, &thresholds)?,
            average,
            max_fpr,
        })
    }

    fn options(&self) -> String {
        format!("{:?} {:?}", self.average, self.max_fpr)
    }

    fn value_of(&self, state: &CurveState) -> Value {
        // The full-range area of exact binary curves sums over the sorted scores directly.
        if let Some(value) = self.sorted_state_value(state) {
            return value;
        }
        averaged_score(state, self.average, |curve| auroc(curve, self.max_fpr))
    }
}

impl SortedValue for Auroc {
    fn sorted_kernel(&self) -> Option<SortedKernel> {
        // A partial area interpolates the ROC curve at `max_fpr`, so it needs the curve.
        self.max_fpr
            .is_none_or(|max_fpr| max_fpr >= 1.0)
            .then_some(SortedKernel::Auroc)
    }
}

impl_curve_metric!(Auroc, Some(true), 0.0, 1.0);

/// The average precision, the precision averaged over the recall steps of the
/// precision-recall curve, as scikit-learn's `average_precision_score` and TorchMetrics'
/// `AveragePrecision`. Macro and weighted averages propagate NaN as [`Auroc`] does.
///
/// # Example
///
/// ```
/// use ferrometrics::classification::{AveragePrecision, Average, Preds, TaskConfig, Thresholds};
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = AveragePrecision::new(TaskConfig::binary(), Thresholds::Exact, Average::Macro)?;
/// let (preds, target) = (array![0.1, 0.4, 0.35, 0.8].into_dyn(), array![0_i64, 0, 1, 1].into_dyn());
/// metric.update((Preds::F64(preds.view()), target.view()))?;
/// let ap = metric.compute()?.as_scalar().unwrap();
/// assert!((ap - 5.0 / 6.0).abs() < 1e-15);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AveragePrecision {
    state: CurveState,
    average: Average,
}

impl AveragePrecision {
    const NAMES: [&'static str; 3] = [
        "BinaryAveragePrecision",
        "MulticlassAveragePrecision",
        "MultilabelAveragePrecision",
    ];

    /// Creates the metric. `average` is ignored by the binary task.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `config` or `thresholds` is invalid.
    pub fn new(config: TaskConfig, thresholds: Thresholds, average: Average) -> Result<Self> {
        Ok(Self {
            state: CurveState::new(config, &thresholds)?,
            average,
        })
    }

    fn options(&self) -> String {
        format!("{:?}", self.average)
    }

    fn value_of(&self, state: &CurveState) -> Value {
        if let Some(value) = self.sorted_state_value(state) {
            return value;
        }
        averaged_score(state, self.average, average_precision)
    }
}

impl SortedValue for AveragePrecision {
    fn sorted_kernel(&self) -> Option<SortedKernel> {
        Some(SortedKernel::AveragePrecision)
    }
}

impl_curve_metric!(AveragePrecision, Some(true), 0.0, 1.0);

fn check_fraction(argument: &str, value: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&value) {
        return Err(Error::invalid_argument(
            argument,
            format!("{value} is outside [0, 1]; pass a rate"),
        ));
    }
    Ok(())
}

/// Declares an operating-point metric: the best value of one rate under a minimum on another.
macro_rules! operating_point_metric {
    (
        $(#[$doc:meta])*
        $metric:ident, $names:expr, $argument:literal, $keys:expr, $kernel:path
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub struct $metric {
            state: CurveState,
            minimum: f64,
        }

        impl $metric {
            const NAMES: [&'static str; 3] = $names;

            #[doc = concat!("Creates the metric with the minimum `", $argument, "`.")]
            ///
            /// # Errors
            ///
            /// Returns [`Error::InvalidArgument`] if `config` or `thresholds` is invalid, or the
            /// minimum is outside [0, 1].
            pub fn new(config: TaskConfig, thresholds: Thresholds, minimum: f64) -> Result<Self> {
                check_fraction($argument, minimum)?;
                Ok(Self {
                    state: CurveState::new(config, &thresholds)?,
                    minimum,
                })
            }

            fn options(&self) -> String {
                format!("{:?}", self.minimum)
            }

            fn value_of(&self, state: &CurveState) -> Value {
                operating_value(state, $keys, |curve| $kernel(curve, self.minimum))
            }
        }

        impl SortedValue for $metric {}

        impl_curve_metric!($metric, Some(true), 0.0, 1.0);
    };
}

operating_point_metric!(
    /// The highest recall whose precision is at least `min_precision`, and the threshold that
    /// reaches it, as TorchMetrics' `RecallAtFixedPrecision`. Where no threshold reaches the
    /// precision, or only with recall 0, the value is 0 and the threshold NaN.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::classification::{Preds, RecallAtFixedPrecision, TaskConfig, Thresholds};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = RecallAtFixedPrecision::new(TaskConfig::binary(), Thresholds::Exact, 0.6)?;
    /// let (preds, target) = (array![0.1, 0.4, 0.35, 0.8].into_dyn(), array![0_i64, 0, 1, 1].into_dyn());
    /// metric.update((Preds::F64(preds.view()), target.view()))?;
    /// let result = metric.compute()?;
    /// let parts = result.as_map().unwrap();
    /// assert_eq!(parts[0].1.as_scalar(), Some(1.0));
    /// assert_eq!(parts[1].1.as_scalar(), Some(0.35));
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    RecallAtFixedPrecision,
    [
        "BinaryRecallAtFixedPrecision",
        "MulticlassRecallAtFixedPrecision",
        "MultilabelRecallAtFixedPrecision"
    ],
    "min_precision",
    ["recall", "threshold"],
    recall_at_precision
);

operating_point_metric!(
    /// The highest precision whose recall is at least `min_recall`, and the threshold that
    /// reaches it, as TorchMetrics' `PrecisionAtFixedRecall`. Where no threshold reaches the
    /// recall, or only with precision 0, the value is 0 and the threshold NaN.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::classification::{PrecisionAtFixedRecall, Preds, TaskConfig, Thresholds};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = PrecisionAtFixedRecall::new(TaskConfig::binary(), Thresholds::Exact, 0.5)?;
    /// let (preds, target) = (array![0.1, 0.4, 0.35, 0.8].into_dyn(), array![0_i64, 0, 1, 1].into_dyn());
    /// metric.update((Preds::F64(preds.view()), target.view()))?;
    /// let result = metric.compute()?;
    /// let parts = result.as_map().unwrap();
    /// assert_eq!(parts[0].1.as_scalar(), Some(1.0));
    /// assert_eq!(parts[1].1.as_scalar(), Some(0.8));
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    PrecisionAtFixedRecall,
    [
        "BinaryPrecisionAtFixedRecall",
        "MulticlassPrecisionAtFixedRecall",
        "MultilabelPrecisionAtFixedRecall"
    ],
    "min_recall",
    ["precision", "threshold"],
    precision_at_recall
);

operating_point_metric!(
    /// The highest sensitivity (true positive rate) whose specificity is at least
    /// `min_specificity`, and the threshold that reaches it, as TorchMetrics'
    /// `SensitivityAtSpecificity`. Where no threshold reaches the specificity with a positive
    /// sensitivity, the value is 0 and the threshold NaN.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::classification::{Preds, SensitivityAtSpecificity, TaskConfig, Thresholds};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = SensitivityAtSpecificity::new(TaskConfig::binary(), Thresholds::Exact, 0.5)?;
    /// let (preds, target) = (array![0.1, 0.4, 0.35, 0.8].into_dyn(), array![0_i64, 0, 1, 1].into_dyn());
    /// metric.update((Preds::F64(preds.view()), target.view()))?;
    /// let result = metric.compute()?;
    /// let parts = result.as_map().unwrap();
    /// assert_eq!(parts[0].1.as_scalar(), Some(1.0));
    /// assert_eq!(parts[1].1.as_scalar(), Some(0.35));
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    SensitivityAtSpecificity,
    [
        "BinarySensitivityAtSpecificity",
        "MulticlassSensitivityAtSpecificity",
        "MultilabelSensitivityAtSpecificity"
    ],
    "min_specificity",
    ["sensitivity", "threshold"],
    sensitivity_at_specificity
);

operating_point_metric!(
    /// The highest specificity whose sensitivity is at least `min_sensitivity`, and the
    /// threshold that reaches it, as TorchMetrics' `SpecificityAtSensitivity`. Where no
    /// threshold reaches the sensitivity with a positive specificity, the value is 0 and the
    /// threshold NaN.
    ///
    /// # Example
    ///
    /// ```
    /// use ferrometrics::classification::{Preds, SpecificityAtSensitivity, TaskConfig, Thresholds};
    /// use ferrometrics::Metric;
    /// use ndarray::array;
    ///
    /// let mut metric = SpecificityAtSensitivity::new(TaskConfig::binary(), Thresholds::Exact, 0.5)?;
    /// let (preds, target) = (array![0.1, 0.4, 0.35, 0.8].into_dyn(), array![0_i64, 0, 1, 1].into_dyn());
    /// metric.update((Preds::F64(preds.view()), target.view()))?;
    /// let result = metric.compute()?;
    /// let parts = result.as_map().unwrap();
    /// assert_eq!(parts[0].1.as_scalar(), Some(1.0));
    /// assert_eq!(parts[1].1.as_scalar(), Some(0.8));
    /// # Ok::<(), ferrometrics::Error>(())
    /// ```
    SpecificityAtSensitivity,
    [
        "BinarySpecificityAtSensitivity",
        "MulticlassSpecificityAtSensitivity",
        "MultilabelSpecificityAtSensitivity"
    ],
    "min_sensitivity",
    ["specificity", "threshold"],
    specificity_at_sensitivity
);

/// The area under the ROC curve on a logarithmic false positive rate axis between the bounds
/// of `fpr_range` (TorchMetrics' default is (0.001, 0.1)), normalized by the width of the range
/// in decades, as TorchMetrics' `LogAUC`. The ROC is interpolated linearly in fpr at both
/// bounds. Multiclass and multilabel values are per class, or their mean under `Macro`.
///
/// # Example
///
/// ```
/// use ferrometrics::classification::{Average, LogAuc, Preds, TaskConfig, Thresholds};
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = LogAuc::new(TaskConfig::binary(), Thresholds::Exact, (0.1, 1.0), Average::Macro)?;
/// let (preds, target) = (array![0.1, 0.4, 0.35, 0.8].into_dyn(), array![0_i64, 0, 1, 1].into_dyn());
/// metric.update((Preds::F64(preds.view()), target.view()))?;
/// // The tpr is 0.5 for fpr in (0, 0.5) and 1 beyond; the range spans one decade.
/// let expected = 0.5 * (0.5_f64.log10() + 1.0) - 0.5_f64.log10();
/// assert!((metric.compute()?.as_scalar().unwrap() - expected).abs() < 1e-12);
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogAuc {
    state: CurveState,
    fpr_range: (f64, f64),
    average: Average,
}

impl LogAuc {
    const NAMES: [&'static str; 3] = ["BinaryLogAUC", "MulticlassLogAUC", "MultilabelLogAUC"];

    /// Creates the metric. `average` is `Macro` or `None`, and ignored by the binary task.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `config` or `thresholds` is invalid, `fpr_range` is
    /// not `0 < low < high <= 1`, or `average` is `Micro` or `Weighted`.
    pub fn new(
        config: TaskConfig,
        thresholds: Thresholds,
        fpr_range: (f64, f64),
        average: Average,
    ) -> Result<Self> {
        let (low, high) = fpr_range;
        if !(low > 0.0 && low < high && high <= 1.0) {
            return Err(Error::invalid_argument(
                "fpr_range",
                format!("({low}, {high}) is not an interval with 0 < low < high <= 1"),
            ));
        }
        if matches!(average, Average::Micro | Average::Weighted) {
            return Err(Error::invalid_argument(
                "average",
                format!("{average:?} is not supported by LogAUC; pass macro or none"),
            ));
        }
        Ok(Self {
            state: CurveState::new(config, &thresholds)?,
            fpr_range,
            average,
        })
    }

    fn options(&self) -> String {
        format!("{:?} {:?}", self.fpr_range, self.average)
    }

    fn value_of(&self, state: &CurveState) -> Value {
        let (low, high) = self.fpr_range;
        averaged_score(state, self.average, |curve| log_auc(curve, low, high))
    }
}

impl SortedValue for LogAuc {}

impl_curve_metric!(LogAuc, Some(true), 0.0, 1.0);

/// The equal error rate: where the false negative rate `1 - tpr` is closest to the false
/// positive rate on the ROC curve, their mean, as TorchMetrics' `EER`. Multiclass and
/// multilabel values are per class, or their mean under `Macro`.
///
/// # Example
///
/// ```
/// use ferrometrics::classification::{Average, Eer, Preds, TaskConfig, Thresholds};
/// use ferrometrics::Metric;
/// use ndarray::array;
///
/// let mut metric = Eer::new(TaskConfig::binary(), Thresholds::Exact, Average::Macro)?;
/// let (preds, target) = (array![0.1, 0.4, 0.35, 0.8].into_dyn(), array![0_i64, 0, 1, 1].into_dyn());
/// metric.update((Preds::F64(preds.view()), target.view()))?;
/// assert_eq!(metric.compute()?.as_scalar(), Some(0.5));
/// # Ok::<(), ferrometrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Eer {
    state: CurveState,
    average: Average,
}

impl Eer {
    const NAMES: [&'static str; 3] = ["BinaryEER", "MulticlassEER", "MultilabelEER"];

    /// Creates the metric. `average` is `Macro` or `None`, and ignored by the binary task.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidArgument`] if `config` or `thresholds` is invalid or `average`
    /// is `Micro` or `Weighted`.
    pub fn new(config: TaskConfig, thresholds: Thresholds, average: Average) -> Result<Self> {
        if matches!(average, Average::Micro | Average::Weighted) {
            return Err(Error::invalid_argument(
                "average",
                format!("{average:?} is not supported by EER; pass macro or none"),
            ));
        }
        Ok(Self {
            state: CurveState::new(config, &thresholds)?,
            average,
        })
    }

    fn options(&self) -> String {
        format!("{:?}", self.average)
    }

    fn value_of(&self, state: &CurveState) -> Value {
        averaged_score(state, self.average, equal_error_rate)
    }
}

impl SortedValue for Eer {}

impl_curve_metric!(Eer, Some(false), 0.0, 1.0);
