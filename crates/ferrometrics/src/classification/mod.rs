//! Classification metrics, as TorchMetrics' `torchmetrics.classification`, for the binary,
//! multiclass and multilabel tasks.
//!
//! Every stateful metric takes [`ClassificationBatch`] batches, `(preds, target)`, where
//! `preds` are integer labels or `f32`/`f64` scores ([`Preds`]) and `target` contains integer
//! labels. A [`TaskConfig`] names the task and how a batch becomes labels, as TorchMetrics does:
//!
//! - binary and multilabel scores outside [0, 1] pass through the sigmoid, and probabilities
//!   above `threshold` are positive;
//! - multiclass scores of shape `(N, C, ...)` become the `top_k` highest-scoring classes (ties
//!   go to the lower index for `top_k = 1`, as `argmax`, and to the higher index for
//!   `top_k > 1`, as scikit-learn's `top_k_accuracy_score`);
//! - positions whose target equals `ignore_index` are left out;
//! - dimensions beyond the class axis are flattened (`Global`) or kept per sample
//!   (`Samplewise`).
//!
//! Every batch is validated, whatever TorchMetrics' `validate_args` would be. A class index out
//! of range, a score vector of the wrong width, a binary target other than 0 or 1, or a NaN
//! score is an error naming the argument, the index and the expected range. A rejected batch
//! leaves the state untouched.
//!
//! The stat-score family ([`StatScores`], [`Accuracy`], [`Precision`], [`Recall`], [`F1Score`],
//! [`FBetaScore`], [`Specificity`], [`NegativePredictiveValue`], [`HammingDistance`],
//! [`JaccardIndex`]) reads one [`StatCounts`] state, and [`ConfusionMatrix`], [`CohenKappa`] and
//! [`MatthewsCorrCoef`] read one [`ConfusionCounts`] state, so metrics with equal configurations
//! share their state in a [`MetricCollection`](crate::MetricCollection). The curve metrics
//! ([`PrecisionRecallCurve`], [`Roc`], [`Auroc`], [`AveragePrecision`], the four operating-point
//! metrics, [`LogAuc`], [`Eer`]) share one [`CurveState`]: every score for
//! [`Thresholds::Exact`], counts per threshold for binned curves. [`CalibrationError`],
//! [`HingeLoss`], the multilabel ranking metrics and the group fairness metrics (which take
//! [`GroupedBatch`] batches) keep their own states. Values follow
//! scikit-learn's conventions for undefined cases; the places where TorchMetrics returns
//! something else are listed in `docs/differences-from-torchmetrics.md`.
//!
//! # Example
//!
//! ```
//! use ferrometrics::classification::{Average, F1Score, Preds, TaskConfig};
//! use ferrometrics::Metric;
//! use ndarray::array;
//!
//! let mut metric = F1Score::new(TaskConfig::multiclass(3), Average::Macro)?;
//! let scores = array![[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.4, 0.1]];
//! let target = array![0_i64, 1, 2, 1];
//! metric.update((Preds::F64(scores.view().into_dyn()), target.view().into_dyn()))?;
//! let f1 = metric.compute()?.as_scalar().unwrap();
//! assert!((f1 - 7.0 / 9.0).abs() < 1e-12);
//! # Ok::<(), ferrometrics::Error>(())
//! ```

mod calibration;
mod config;
mod confusion;
mod curve_metrics;
mod curve_state;
mod curves;
mod exact_match;
mod fairness;
mod format;
mod hinge;
mod ranking;
mod scores;
mod sorted_scores;
mod stat_kernels;
mod stat_scores;

use ndarray::ArrayViewD;

use crate::metric::InputKind;

pub use calibration::{CalibrationError, CalibrationNorm};
pub use config::{Average, MultidimAverage, Task, TaskConfig, MAX_CLASSES};
pub use confusion::{
    CohenKappa, ConfusionCounts, ConfusionMatrix, KappaWeights, MatthewsCorrCoef, Normalize,
};
pub use curve_metrics::{
    Auroc, AveragePrecision, Eer, LogAuc, PrecisionAtFixedRecall, PrecisionRecallCurve,
    RecallAtFixedPrecision, Roc, SensitivityAtSpecificity, SpecificityAtSensitivity,
};
pub use curve_state::{CurveState, Thresholds};
pub use exact_match::ExactMatch;
pub use fairness::{BinaryFairness, BinaryGroupStatRates, FairnessTask, GroupedBatch};
pub use format::Preds;
pub use hinge::{HingeLoss, MulticlassMode};
pub use ranking::{CoverageError, RankingAveragePrecision, RankingLoss};
pub use scores::{
    Accuracy, F1Score, FBetaScore, HammingDistance, JaccardIndex, NegativePredictiveValue,
    Precision, Recall, Specificity, StatScores,
};
pub use stat_scores::StatCounts;

/// Predictions and true labels of the same samples: `(preds, target)`, the classification
/// input.
///
/// Binary: `preds` and `target` of one shape `(N, ...)`. Multiclass: `target` of shape
/// `(N, ...)` with class indices, and `preds` of the same shape with class indices or of shape
/// `(N, C, ...)` with class scores. Multilabel: `preds` and `target` of one shape
/// `(N, L, ...)`. Samplewise counting needs at least one dimension beyond these.
#[derive(Debug, Clone, Copy)]
pub struct ClassificationBatch;

impl InputKind for ClassificationBatch {
    type Input<'a> = (Preds<'a>, ArrayViewD<'a, i64>);
}

#[cfg(test)]
mod tests;
